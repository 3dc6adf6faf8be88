import { alawToLinear, decodeG711, encodeG711, linearToAlaw, linearToUlaw, ulawToLinear } from './g711';

describe('G.711 conversion', () => {
  it('encodes silence to the standard idle codes', () => {
    expect(linearToAlaw(0)).toBe(0xd5);
    expect(linearToUlaw(0)).toBe(0xff);
    expect(ulawToLinear(0xff)).toBe(0);
    expect(alawToLinear(0xd5)).toBe(8);
  });

  it('saturates at full scale', () => {
    expect(linearToAlaw(32767)).toBe(0xaa);
    expect(linearToAlaw(-32768)).toBe(0x2a);
    expect(linearToUlaw(32767)).toBe(0x80);
    expect(linearToUlaw(-32768)).toBe(0x00);
  });

  it.each(['PCMA', 'PCMU'] as const)('%s round trip stays within the segment quantisation step', (codec) => {
    const input = new Int16Array(2001);
    for (let i = 0; i < input.length; i++) input[i] = Math.round(-30000 + i * 30);
    const output = decodeG711(encodeG711(input, codec), codec);
    for (let i = 0; i < input.length; i++) {
      const x = input[i] as number;
      expect(Math.abs((output[i] as number) - x)).toBeLessThanOrEqual(Math.max(16, Math.abs(x) / 16));
    }
  });

  it('decodes codes that differ only in the sign bit to opposite values', () => {
    for (let code = 0; code < 256; code++) {
      expect(alawToLinear(code ^ 0x80)).toBe(-alawToLinear(code));
      if (code !== 0x7f && code !== 0xff) expect(ulawToLinear(code ^ 0x80)).toBe(-ulawToLinear(code));
    }
  });
});
