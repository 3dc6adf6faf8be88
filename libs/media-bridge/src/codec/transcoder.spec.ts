import { OpusCodec } from '../audio/opus';
import { analyseTone, concatSamples, meanAbs, ToneGenerator } from '../audio/tone';
import { decodeG711, encodeG711, type G711Law } from './g711';
import { G722Decoder, G722Encoder } from './g722';
import { PBX_FRAME_CODES, OpusPbxTranscoder } from './transcoder';

/** Opus packets as WhatsApp sends them: 48 kHz codec rate, 20 ms. */
function waOpusTone(frequencyHz: number, frames: number): Buffer[] {
  const codec = new OpusCodec(48000);
  const gen = new ToneGenerator(frequencyHz, 48000);
  return Array.from({ length: frames }, () => codec.encode(gen.next(960)));
}

function g711Tone(law: G711Law, frequencyHz: number, frames: number, samplesPerPacket = PBX_FRAME_CODES): Uint8Array[] {
  const gen = new ToneGenerator(frequencyHz, 8000);
  return Array.from({ length: frames }, () => {
    const codes = new Uint8Array(samplesPerPacket);
    encodeG711(law, gen.next(samplesPerPacket), codes);
    return codes;
  });
}


function toPcm(law: G711Law, codes: Uint8Array, n: number): Int16Array {
  const pcm = new Int16Array(n);
  decodeG711(law, codes, pcm, n);
  return pcm;
}

describe.each(['PCMU', 'PCMA'] as const)('OpusPbxTranscoder (%s)', (law) => {
  it('turns a 1 kHz Opus tone from WhatsApp into a 1 kHz G.711 tone', () => {
    const tc = new OpusPbxTranscoder({ codec: law });
    const out = new Uint8Array(PBX_FRAME_CODES);
    const heard = waOpusTone(1000, 50).map((p) => {
      expect(tc.opusToPbx(p, out)).toBe(160);
      return toPcm(law, out, 160);
    });
    const pcm = concatSamples(heard).subarray(1600); // skip the codec's start-up
    const rep = analyseTone(pcm, 1000, 8000);
    expect(rep.framesWithTone).toBe(rep.frames);
    expect(analyseTone(pcm, 400, 8000).framesWithTone).toBe(0);
    expect(tc.stats().framesDecoded).toBe(50);
  });

  it('turns a 400 Hz G.711 tone from the PBX into Opus that WhatsApp decodes as 400 Hz', () => {
    const tc = new OpusPbxTranscoder({ codec: law, opusComplexity: 3 });
    const wa = new OpusCodec(48000);
    const heard: Int16Array[] = [];
    for (const codes of g711Tone(law, 400, 50)) {
      expect(tc.writePbx(codes)).toBe(1);
      const opus = tc.takeOpus();
      expect(opus).toBeDefined();
      heard.push(wa.decode(opus as Buffer));
    }
    expect(tc.takeOpus()).toBeUndefined();
    const pcm = concatSamples(heard);
    expect(pcm.length).toBe(50 * 960);
    const rep = analyseTone(pcm.subarray(9600), 400, 48000);
    expect(rep.framesWithTone).toBe(rep.frames);
    expect(analyseTone(pcm.subarray(9600), 1000, 48000).framesWithTone).toBe(0);
    expect(tc.stats().framesEncoded).toBe(50);
    expect(tc.stats().encodeMeanUs).toBeGreaterThan(0);
  });

  it('conceals lost Opus frames with PLC that continues the tone', () => {
    const tc = new OpusPbxTranscoder({ codec: law });
    const out = new Uint8Array(PBX_FRAME_CODES);
    const heard: Int16Array[] = [];
    waOpusTone(1000, 60).forEach((p, i) => {
      const n = i > 20 && i % 5 === 0 ? tc.concealToPbx(out) : tc.opusToPbx(p, out);
      heard.push(toPcm(law, out, n));
    });
    const concealedFrames = heard.filter((_, i) => i > 20 && i % 5 === 0);
    expect(tc.stats().framesConcealed).toBe(concealedFrames.length);
    for (const frame of concealedFrames) expect(meanAbs(frame)).toBeGreaterThan(500); // not silence
    const rep = analyseTone(concatSamples(heard).subarray(1600), 1000, 8000);
    expect(rep.framesWithTone).toBeGreaterThanOrEqual(rep.frames - 1);
  });

  it('conceals as G.711 silence before any packet was decoded', () => {
    const tc = new OpusPbxTranscoder({ codec: law });
    const out = new Uint8Array(PBX_FRAME_CODES).fill(0x11);
    expect(tc.concealToPbx(out)).toBe(160);
    expect(out.every((c) => c === (law === 'PCMU' ? 0xff : 0xd5))).toBe(true);
  });

  it('conceals an undecodable Opus packet instead of throwing', () => {
    const tc = new OpusPbxTranscoder({ codec: law });
    const out = new Uint8Array(PBX_FRAME_CODES);
    const packets = waOpusTone(1000, 5);
    tc.opusToPbx(packets[0] as Buffer, out);
    // TOC code 3 (arbitrary frame count) with a frame count byte of 0: invalid per RFC 6716 §3.2.5
    expect(tc.opusToPbx(Uint8Array.of(0x0b, 0x00), out)).toBe(160);
    expect(tc.stats()).toMatchObject({ decodeErrors: 1, framesConcealed: 1, framesDecoded: 1 });
  });

  it('packs 10 ms and 30 ms G.711 packets into whole 20 ms Opus frames', () => {
    const tc = new OpusPbxTranscoder({ codec: law });
    const ready10 = g711Tone(law, 400, 4, 80).map((c) => tc.writePbx(c)); // 4 x 10 ms
    expect(ready10).toEqual([0, 1, 1, 2]);
    expect([tc.takeOpus(), tc.takeOpus(), tc.takeOpus()].map((b) => b !== undefined)).toEqual([true, true, false]);
    tc.writePbx(new Uint8Array(240)); // 30 ms: one frame and 10 ms pending
    expect(tc.pendingCodes).toBe(80);
    tc.dropPending();
    expect(tc.pendingCodes).toBe(0);
    expect(tc.stats().framesEncoded).toBe(3);
  });
});

/** G.722 codes of a tone as a desk phone sends them: 16 kHz audio, 160 codes per 20 ms. */
function g722Tone(frequencyHz: number, frames: number): Uint8Array[] {
  const gen = new ToneGenerator(frequencyHz, 16000);
  const enc = new G722Encoder();
  return Array.from({ length: frames }, () => {
    const codes = new Uint8Array(PBX_FRAME_CODES);
    enc.encode(gen.next(320), codes);
    return codes;
  });
}

describe('OpusPbxTranscoder (G722): wideband voice between WhatsApp and HD desk phones', () => {
  // 6 kHz exists only in wideband: G.711 (8 kHz sampling) cannot carry it at all
  it.each([1000, 6000])('turns a %i Hz Opus tone from WhatsApp into G.722 that decodes to the same tone', (hz) => {
    const tc = new OpusPbxTranscoder({ codec: 'G722' });
    const dec = new G722Decoder();
    const out = new Uint8Array(PBX_FRAME_CODES);
    const heard = waOpusTone(hz, 50).map((p) => {
      expect(tc.opusToPbx(p, out)).toBe(160);
      const pcm = new Int16Array(320);
      dec.decode(out, pcm);
      return pcm;
    });
    const pcm = concatSamples(heard).subarray(3200);
    expect(analyseTone(pcm, hz, 16000).framesWithTone).toBe(analyseTone(pcm, hz, 16000).frames);
    expect(analyseTone(pcm, hz === 1000 ? 6000 : 1000, 16000).framesWithTone).toBe(0);
  });

  it.each([400, 5000, 6000])('turns a %i Hz G.722 tone from the PBX into Opus that WhatsApp decodes as that tone', (hz) => {
    const tc = new OpusPbxTranscoder({ codec: 'G722' });
    const wa = new OpusCodec(48000);
    const heard: Int16Array[] = [];
    for (const codes of g722Tone(hz, 50)) {
      expect(tc.writePbx(codes)).toBe(1);
      heard.push(wa.decode(tc.takeOpus() as Buffer));
    }
    const pcm = concatSamples(heard).subarray(9600);
    const rep = analyseTone(pcm, hz, 48000);
    expect(rep.framesWithTone).toBe(rep.frames);
    expect(analyseTone(pcm, hz === 400 ? 6000 : 400, 48000).framesWithTone).toBe(0);
  });

  it('conceals lost frames with PLC and, before any packet, with encoded silence', () => {
    const tc = new OpusPbxTranscoder({ codec: 'G722' });
    const out = new Uint8Array(PBX_FRAME_CODES);
    expect(tc.concealToPbx(out)).toBe(160);
    const silent = new Int16Array(320);
    new G722Decoder().decode(out, silent);
    expect(meanAbs(silent)).toBeLessThan(10);
    const dec = new G722Decoder();
    const concealed: Int16Array[] = [];
    waOpusTone(1000, 40).forEach((p, i) => {
      const lost = i > 20 && i % 5 === 0;
      if (lost) tc.concealToPbx(out);
      else tc.opusToPbx(p, out);
      const pcm = new Int16Array(320);
      dec.decode(out, pcm);
      if (lost) concealed.push(pcm);
    });
    for (const frame of concealed) expect(meanAbs(frame)).toBeGreaterThan(500); // the tone goes on, not silence
  });
});
