import {
  ALAW_DECODE,
  alawDecodeSample,
  alawEncodeSample,
  decodeG711,
  encodeG711,
  encodeG711FromLe,
  MULAW_DECODE,
  mulawDecodeSample,
  mulawEncodeSample,
} from './g711';

/**
 * The ITU-T G.191 (STL) reference routines, transcribed loop for loop from g711.c, as the oracle for the
 * table-driven implementation.
 */
function refUlawCompress(lin: number): number {
  let absno = lin < 0 ? (~lin >> 2) + 33 : (lin >> 2) + 33;
  if (absno > 0x1fff) absno = 0x1fff;
  let i = absno >> 6;
  let segno = 1;
  while (i !== 0) {
    segno++;
    i >>= 1;
  }
  const high = 0x0008 - segno;
  let low = (absno >> segno) & 0x000f;
  low = 0x000f - low;
  let log = (high << 4) | low;
  if (lin >= 0) log |= 0x0080;
  return log;
}

function refUlawExpand(log: number): number {
  const sign = log < 0x0080 ? -1 : 1;
  let mantissa = ~log;
  const exponent = (mantissa >> 4) & 0x0007;
  const segment = exponent + 1;
  mantissa &= 0x000f;
  const step = 4 << segment;
  return (sign * ((0x0080 << exponent) + step * mantissa + step / 2 - 4 * 33)) | 0; // | 0: no -0
}

function refAlawCompress(lin: number): number {
  let ix = lin < 0 ? ~lin >> 4 : lin >> 4;
  if (ix > 15) {
    let iexp = 1;
    while (ix > 16 + 15) {
      ix >>= 1;
      iexp++;
    }
    ix -= 16;
    ix += iexp << 4;
  }
  if (lin >= 0) ix |= 0x0080;
  return ix ^ 0x0055;
}

function refAlawExpand(log: number): number {
  let ix = log ^ 0x0055;
  ix &= 0x007f;
  const iexp = ix >> 4;
  let mant = ix & 0x000f;
  if (iexp > 0) mant += 16;
  mant = (mant << 4) + 0x0008;
  if (iexp > 1) mant <<= iexp - 1;
  return log > 127 ? mant : -mant;
}

describe('G.711', () => {
  it('encodes every 16-bit sample exactly as the G.191 reference, µ-law and A-law', () => {
    let mismatches = 0;
    for (let s = -32768; s <= 32767; s++) {
      if (mulawEncodeSample(s) !== refUlawCompress(s)) mismatches++;
      if (alawEncodeSample(s) !== refAlawCompress(s)) mismatches++;
    }
    expect(mismatches).toBe(0);
  });

  it('decodes all 256 codes exactly as the G.191 reference', () => {
    for (let c = 0; c < 256; c++) {
      expect(mulawDecodeSample(c)).toBe(refUlawExpand(c));
      expect(alawDecodeSample(c)).toBe(refAlawExpand(c));
    }
  });

  it('maps the well-known code points', () => {
    // µ-law: zero is 0xFF, full scale 0x80/0x00; A-law: zero is 0xD5/0x55, full scale 0xAA/0x2A
    expect([mulawEncodeSample(0), mulawEncodeSample(-1), mulawEncodeSample(32767), mulawEncodeSample(-32768)]).toEqual([0xff, 0x7f, 0x80, 0x00]);
    expect([alawEncodeSample(0), alawEncodeSample(-1), alawEncodeSample(32767), alawEncodeSample(-32768)]).toEqual([0xd5, 0x55, 0xaa, 0x2a]);
    expect([MULAW_DECODE[0xff], MULAW_DECODE[0x80], MULAW_DECODE[0x00]]).toEqual([0, 32124, -32124]);
    expect([ALAW_DECODE[0xd5], ALAW_DECODE[0x55], ALAW_DECODE[0xaa], ALAW_DECODE[0x2a]]).toEqual([8, -8, 32256, -32256]);
  });

  it('decodes back within one quantisation step of the input', () => {
    for (const law of ['PCMU', 'PCMA'] as const) {
      const pcm = Int16Array.from({ length: 2000 }, (_, i) => Math.round(30000 * Math.sin(i / 7)));
      const codes = new Uint8Array(pcm.length);
      encodeG711(law, pcm, codes);
      const back = new Int16Array(pcm.length);
      decodeG711(law, codes, back);
      for (let i = 0; i < pcm.length; i++) {
        const x = Math.abs(pcm[i] as number);
        // G.711 steps double per segment: error <= half a step, at most 1024 at full scale (µ-law) / 512 (A-law)
        const bound = Math.max(16, x / 16);
        expect(Math.abs((back[i] as number) - (pcm[i] as number))).toBeLessThanOrEqual(bound);
      }
    }
  });

  it('encodes little-endian PCM bytes the same as an Int16Array', () => {
    const pcm = Int16Array.from({ length: 160 }, (_, i) => (i * 409 - 32768) | 0);
    const le = new Uint8Array(pcm.buffer.slice(0));
    for (const law of ['PCMU', 'PCMA'] as const) {
      const a = new Uint8Array(160);
      const b = new Uint8Array(160);
      encodeG711(law, pcm, a);
      expect(encodeG711FromLe(law, le, b)).toBe(160);
      expect(Buffer.from(b).equals(Buffer.from(a))).toBe(true);
    }
  });

  it('refuses an output buffer that is too small', () => {
    expect(() => encodeG711('PCMU', new Int16Array(160), new Uint8Array(80))).toThrow(RangeError);
    expect(() => decodeG711('PCMA', new Uint8Array(160), new Int16Array(80))).toThrow(RangeError);
  });
});
