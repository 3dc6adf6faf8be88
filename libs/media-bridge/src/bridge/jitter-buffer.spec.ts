import { JitterBuffer, type JitterPop } from './jitter-buffer';

const SSRC = 0x1234;

function payload(seq: number): Buffer {
  return Buffer.from([seq & 0xff, seq >> 8]);
}

function push(jb: JitterBuffer, seq: number, at: number, ssrc = SSRC): string {
  return jb.push(seq & 0xffff, (seq * 960) >>> 0, ssrc, payload(seq), at);
}

/** What a pop played: the sequence number, 'missing' or null (read at once: the frame object is reused). */
function played(p: JitterPop): number | 'missing' | null {
  return p === null || p === 'missing' ? p : p.sequenceNumber;
}

function popAt(jb: JitterBuffer, ...times: number[]): (number | 'missing' | null)[] {
  return times.map((t) => played(jb.pop(t)));
}

describe('JitterBuffer', () => {
  it('plays an in-order stream frame by frame after one frame of delay', () => {
    const jb = new JitterBuffer({ clockRate: 48000 });
    const out: (number | 'missing' | null)[] = [];
    for (let i = 0; i < 10; i++) {
      push(jb, 100 + i, i * 20);
      out.push(played(jb.pop(i * 20 + 1)));
    }
    expect(out).toEqual([100, 101, 102, 103, 104, 105, 106, 107, 108, 109]);
    expect(jb.stats()).toMatchObject({ played: 10, lost: 0, late: 0, concealed: 0, depth: 0, targetDelayMs: 20 });
  });

  it('reorders packets by sequence number', () => {
    const jb = new JitterBuffer({ clockRate: 48000 });
    push(jb, 11, 0);
    push(jb, 10, 1);
    push(jb, 13, 2);
    push(jb, 12, 3);
    expect(popAt(jb, 20, 40, 60, 80)).toEqual([10, 11, 12, 13]);
  });

  it('reports a missing packet as lost once later ones are queued, and drops it when it arrives late', () => {
    const jb = new JitterBuffer({ clockRate: 48000 });
    for (const s of [1, 2, 4, 5]) push(jb, s, s * 20);
    expect(popAt(jb, 100, 120, 140, 160, 180)).toEqual([1, 2, 'missing', 4, 5]);
    const targetBefore = jb.targetFrames;
    expect(push(jb, 3, 190)).toBe('late');
    expect(jb.stats()).toMatchObject({ lost: 1, late: 1, concealed: 1, played: 4 });
    expect(jb.targetFrames).toBeGreaterThan(targetBefore); // a late packet adds delay
  });

  it('steps over sequence numbers announced as non-audio (telephone-events) without loss', () => {
    const jb = new JitterBuffer({ clockRate: 48000 });
    push(jb, 1, 0);
    jb.skip(2, SSRC);
    jb.skip(3, SSRC);
    push(jb, 4, 20);
    push(jb, 5, 40);
    expect(popAt(jb, 20, 40, 60)).toEqual([1, 4, 5]);
    expect(jb.stats()).toMatchObject({ lost: 0, concealed: 0, played: 3 });
  });

  it('drops duplicates', () => {
    const jb = new JitterBuffer({ clockRate: 48000 });
    expect(push(jb, 7, 0)).toBe('queued');
    expect(push(jb, 7, 1)).toBe('duplicate');
    expect(jb.stats().duplicates).toBe(1);
  });

  it('conceals a few frames when it runs dry, then goes quiet, and resumes without loss', () => {
    const jb = new JitterBuffer({ clockRate: 48000, maxConcealFrames: 3 });
    push(jb, 1, 0);
    push(jb, 2, 20);
    expect(popAt(jb, 20, 40)).toEqual([1, 2]);
    const dry = popAt(jb, 60, 80, 100, 120, 140);
    expect(dry).toEqual(['missing', 'missing', 'missing', null, null]);
    push(jb, 3, 400); // the stream resumes in order (a DTX pause)
    expect(played(jb.pop(401))).toBe(3);
    expect(jb.stats()).toMatchObject({ underruns: 1, lost: 0, played: 3, concealed: 3 });
  });

  it('plays across the 16-bit sequence wrap', () => {
    const jb = new JitterBuffer({ clockRate: 48000 });
    const seqs = [65534, 65535, 65536, 65537];
    seqs.forEach((s, i) => push(jb, s, i * 20));
    expect(seqs.map((_, i) => played(jb.pop(100 + i * 20)))).toEqual([65534, 65535, 0, 1]);
    expect(jb.stats().lost).toBe(0);
  });

  it('stays bounded: a packet far ahead restarts the buffer', () => {
    const jb = new JitterBuffer({ clockRate: 48000, capacity: 16 });
    for (let s = 0; s < 16; s++) push(jb, s, s);
    expect(jb.stats().depth).toBe(16);
    push(jb, 1000, 20);
    expect(jb.stats()).toMatchObject({ depth: 1, resets: 1, dropped: 16 });
    expect(played(jb.pop(40))).toBe(1000);
  });

  it('restarts on a new SSRC', () => {
    const jb = new JitterBuffer({ clockRate: 48000 });
    push(jb, 10, 0);
    expect(played(jb.pop(20))).toBe(10);
    push(jb, 5000, 40, 0x9999);
    const p = jb.pop(60);
    expect(played(p)).toBe(5000);
    expect(p !== null && p !== 'missing' && p.ssrc).toBe(0x9999);
    expect(jb.stats().resets).toBe(1);
  });

  it('raises its target delay with arrival jitter, within 20..60 ms', () => {
    const steady = new JitterBuffer({ clockRate: 48000 });
    const jittery = new JitterBuffer({ clockRate: 48000 });
    for (let i = 0; i < 200; i++) {
      push(steady, i, i * 20);
      push(jittery, i, i * 20 + (i % 2 === 0 ? 0 : 25)); // every other packet 25 ms late
      steady.pop(i * 20 + 1);
      jittery.pop(i * 20 + 1);
    }
    expect(steady.stats().targetDelayMs).toBe(20);
    expect(jittery.stats().jitterMs).toBeGreaterThan(15);
    expect(jittery.stats().targetDelayMs).toBe(60);
  });

  it('shrinks an excess delay by dropping the oldest frame after a while', () => {
    const jb = new JitterBuffer({ clockRate: 48000 });
    for (let s = 0; s < 5; s++) push(jb, s, 0); // a burst: 5 frames queued, target 1
    jb.pop(0);
    let t = 20;
    for (let s = 5; s < 60; s++, t += 20) {
      push(jb, s, t);
      jb.pop(t + 1);
    }
    const st = jb.stats();
    expect(st.dropped).toBeGreaterThanOrEqual(1);
    expect(st.depth).toBeLessThanOrEqual(3);
    expect(st.lost).toBe(0);
  });

  describe('arrival playout', () => {
    it('plays each frame the moment it is next in sequence, stepping over telephone-event slots', () => {
      const jb = new JitterBuffer({ clockRate: 48000 });
      push(jb, 10, 0);
      expect(played(jb.popReady())).toBe(10);
      expect(jb.popReady()).toBeNull();
      jb.skip(11, SSRC); // an RFC 4733 packet in the audio's sequence space
      push(jb, 12, 20);
      expect(played(jb.popReady())).toBe(12);
      expect(jb.stats()).toMatchObject({ played: 2, lost: 0, concealed: 0, depth: 0 });
    });

    it('declares a missing frame lost only after a later one waited waitMs, and conceals at most maxConcealFrames of a long gap', () => {
      const jb = new JitterBuffer({ clockRate: 48000, maxConcealFrames: 3 });
      push(jb, 1, 0);
      expect(played(jb.popReady())).toBe(1);
      push(jb, 3, 40);
      expect(jb.popReady()).toBeNull();
      expect(jb.popOverdue(44, 5)).toBe(0); // 3 has waited 4 ms
      expect(jb.popOverdue(45, 5)).toBe(1); // 2 is lost: conceal one frame
      expect(played(jb.popReady())).toBe(3);
      push(jb, 14, 100); // 4..13 missing
      expect(jb.popOverdue(120, 5)).toBe(3);
      expect(played(jb.popReady())).toBe(14);
      expect(jb.stats()).toMatchObject({ played: 3, lost: 11, concealed: 4 });
      expect(push(jb, 10, 130)).toBe('late');
    });
  });
});
