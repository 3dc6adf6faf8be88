import { createHmac, randomBytes } from 'node:crypto';
import { HmacSha1 } from './hmac-sha1';

describe('HmacSha1', () => {
  it('matches node:crypto HMAC-SHA1 for messages of every length from 0 to 300 bytes', () => {
    const key = randomBytes(20);
    const mac = new HmacSha1(key);
    for (let len = 0; len <= 300; len++) {
      const msg = randomBytes(len);
      expect(Buffer.from(mac.digest(msg)).toString('hex')).toBe(createHmac('sha1', key).update(msg).digest('hex'));
    }
  });

  it('RFC 2202 test case 2 ("Jefe")', () => {
    const mac = new HmacSha1(Buffer.from('Jefe'));
    expect(Buffer.from(mac.digest(Buffer.from('what do ya want for nothing?'))).toString('hex')).toBe('effcdf6ae5eb2fa2d27416d5f184df9c259a7c79');
  });

  it('tags a slice followed by a 32-bit suffix, truncated, as SRTP does (RFC 3711 §4.2)', () => {
    const key = randomBytes(20);
    const mac = new HmacSha1(key);
    const packet = randomBytes(200);
    for (const [start, end, roc] of [
      [0, 72, 0],
      [3, 199, 0xdeadbeef],
      [10, 10, 1],
    ] as const) {
      const out = Buffer.alloc(14, 0xee);
      mac.tagWithSuffix(packet, start, end, roc, out, 2, 10);
      const rocBytes = Buffer.alloc(4);
      rocBytes.writeUInt32BE(roc);
      const want = createHmac('sha1', key).update(packet.subarray(start, end)).update(rocBytes).digest().subarray(0, 10);
      expect(out.subarray(2, 12).toString('hex')).toBe(want.toString('hex'));
      expect(out[0]).toBe(0xee);
      expect(out[12]).toBe(0xee);
    }
  });

  it('refuses keys longer than a block', () => {
    expect(() => new HmacSha1(Buffer.alloc(65))).toThrow(RangeError);
  });
});
