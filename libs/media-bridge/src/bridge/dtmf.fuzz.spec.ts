import { fuzz, type Prng } from '@wagw/testing';
import { DTMF_DIGITS, DtmfReceiver, DtmfSender, parseTelephoneEvent, type CompletedDigit, type DtmfPacketKind } from './dtmf';

/**
 * Robustness of RFC 4733 telephone-event decoding over RTP payloads from the network: parseTelephoneEvent
 * reads any payload into in-range fields (null under 4 bytes), and a DtmfReceiver fed a stream with packets
 * lost, repeated, reordered or corrupted reports only digits of that stream, each event at most once, with a
 * duration the 16-bit field can carry.
 */

const KINDS: readonly DtmfPacketKind[] = ['start', 'update', 'end', 'repeat', 'invalid'];

interface StreamPacket {
  timestamp: number;
  payload: Buffer;
  atMs: number;
}

/** Digits as a DtmfSender (the module's own writer) sends them, 20 ms apart. */
function sentStream(rng: Prng): { digits: string[]; durationsMs: number[]; packets: StreamPacket[] } {
  const tx = new DtmfSender(rng.int(64), 60);
  const digits = Array.from({ length: 1 + rng.int(4) }, () => rng.pick([...DTMF_DIGITS]));
  const durationsMs = digits.map(() => 40 + 20 * rng.int(20));
  digits.forEach((d, i) => void tx.enqueue(d, durationsMs[i] as number));
  const packets: StreamPacket[] = [];
  const base = rng.int(2 ** 32);
  for (let t = 0; tx.busy; t += 20) {
    for (const p of tx.tick(t, (base + t * 8) >>> 0) ?? []) packets.push({ timestamp: p.timestamp, payload: p.payload, atMs: t });
  }
  return { digits, durationsMs, packets };
}

/** 1-4 edits of a stream: packets lost, repeated or swapped; a payload cut or corrupted; a timestamp changed. */
function mutateStream(rng: Prng, input: readonly StreamPacket[]): StreamPacket[] {
  const s: StreamPacket[] = input.map((p) => ({ ...p, payload: Buffer.from(p.payload) }));
  const edits = 1 + rng.int(4);
  for (let i = 0; i < edits && s.length > 0; i++) {
    const at = rng.int(s.length);
    const p = s[at] as StreamPacket;
    switch (rng.int(6)) {
      case 0:
        s.splice(at, 1 + rng.int(3));
        break;
      case 1:
        s.splice(at, 0, { ...p, payload: Buffer.from(p.payload) });
        break;
      case 2: {
        const other = rng.int(s.length);
        [s[at], s[other]] = [s[other] as StreamPacket, p];
        break;
      }
      case 3:
        p.payload = p.payload.subarray(0, rng.int(p.payload.length + 2));
        break;
      case 4:
        p.payload[rng.int(4)] = rng.pick([0xff, 0x80, 16, 11, rng.int(256)]);
        break;
      default:
        p.timestamp = rng.pick([0, 0xffffffff, (p.timestamp + 1) >>> 0, rng.int(2 ** 32)]);
    }
  }
  return s;
}

function expectDigit(c: CompletedDigit | null, allowed: ReadonlySet<string>): void {
  if (c === null) return;
  if (!allowed.has(c.digit)) throw new Error(`digit ${JSON.stringify(c.digit)} not in the stream`);
  if (!(Number.isFinite(c.durationMs) && c.durationMs >= 0 && c.durationMs <= 0xffff / 8)) throw new Error(`duration ${c.durationMs} ms`);
}

/** Runs a stream through a receiver (polling as the bridge does); returns the digits it completed. */
function receive(stream: readonly StreamPacket[]): CompletedDigit[] {
  const allowed = new Set(stream.flatMap((p) => (p.payload.length >= 4 && (p.payload[0] as number) < 16 ? [DTMF_DIGITS[p.payload[0] as number] as string] : [])));
  const rx = new DtmfReceiver(500);
  const done: CompletedDigit[] = [];
  for (const p of stream) {
    const kind = rx.onPacket(p.timestamp, p.payload, p.atMs);
    if (!KINDS.includes(kind)) throw new Error(`kind ${String(kind)}`);
    if ((kind === 'invalid') !== p.payload.length < 4) throw new Error(`${kind} for a ${p.payload.length}-byte payload`);
    expectDigit(rx.completed, allowed);
    if (rx.completed) done.push(rx.completed);
    const polled = rx.poll(p.atMs + 10);
    expectDigit(polled, allowed);
    if (polled) done.push(polled);
  }
  const last = rx.poll(Number.MAX_SAFE_INTEGER);
  expectDigit(last, allowed);
  if (last) done.push(last);
  const events = new Set(stream.filter((p) => p.payload.length >= 4).map((p) => p.timestamp)).size;
  if (done.length > events) throw new Error(`${done.length} digits from ${events} events`);
  return done;
}

describe('RFC 4733 telephone-event decoding (fuzz)', () => {
  it('parseTelephoneEvent reads any payload into in-range fields, null under 4 bytes', () => {
    const failures = fuzz({
      seed: 0x5eed_7301,
      cases: 3000,
      make: (rng) => {
        const b = Buffer.alloc(rng.pick([0, 1, 3, 4, 5, 8, rng.int(40)]));
        for (let i = 0; i < b.length; i++) b[i] = rng.int(256);
        return b;
      },
      check: (payload) => {
        const e = parseTelephoneEvent(payload);
        if ((e === null) !== payload.length < 4) throw new Error(`${e === null ? 'null' : 'an event'} for ${payload.length} bytes`);
        if (e === null) return;
        const ok = e.event >= 0 && e.event <= 255 && e.volume >= 0 && e.volume <= 63 && e.duration >= 0 && e.duration <= 0xffff && typeof e.end === 'boolean';
        if (!ok || ![e.event, e.volume, e.duration].every(Number.isInteger)) throw new Error(`fields ${JSON.stringify(e)}`);
      },
    });
    expect(failures.map((f) => ({ ...f, input: f.input.toString('hex') }))).toEqual([]);
  });

  it('a DtmfReceiver reports the digits a DtmfSender sends, once each, with their durations', () => {
    const failures = fuzz({
      seed: 0x5eed_7302,
      cases: 500,
      make: (rng) => sentStream(rng),
      check: ({ digits, durationsMs, packets }) => {
        const got = receive(packets);
        const want = digits.map((digit, i) => ({ digit, durationMs: durationsMs[i] }));
        if (JSON.stringify(got) !== JSON.stringify(want)) throw new Error(`received ${JSON.stringify(got)}`);
      },
    });
    expect(failures).toEqual([]);
  });

  it('a DtmfReceiver fed a damaged stream reports only its digits, at most once per event', () => {
    const failures = fuzz({
      seed: 0x5eed_7303,
      cases: 3000,
      make: (rng) => mutateStream(rng, sentStream(rng).packets),
      check: (stream) => void receive(stream),
    });
    expect(failures.map((f) => ({ ...f, input: f.input.map((p) => `${p.timestamp}@${p.atMs}:${p.payload.toString('hex')}`) }))).toEqual([]);
  });
});
