import { formatSdesKeyParams, isSdesSuite, newSdesKey, parseSdesKeyParams, sameSdesKey, SdesKeyError, srtpProfileOf } from './sdes';
import { SRTP_AES128_CM_HMAC_SHA1_32, SRTP_AES128_CM_HMAC_SHA1_80 } from '../webrtc/srtp/srtp-session';

/** RFC 4568 §9.1's example key (30 bytes). */
const RFC_KEY = 'inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR';

describe('SDES key parameters (RFC 4568)', () => {
  it('reads key and salt from an inline key, with or without a lifetime', () => {
    const k = parseSdesKeyParams(RFC_KEY);
    expect(k.key.length).toBe(16);
    expect(k.salt.length).toBe(14);
    expect(Buffer.concat([k.key, k.salt]).toString('base64')).toBe('PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR');
    expect(sameSdesKey(parseSdesKeyParams(`${RFC_KEY}|2^20`), k)).toBe(true);
    expect(sameSdesKey(parseSdesKeyParams(`${RFC_KEY}|1048576`, ['WSH=64']), k)).toBe(true);
  });

  it('formats our key so that it parses back to the same', () => {
    const ours = newSdesKey();
    expect(formatSdesKeyParams(ours)).toMatch(/^inline:[A-Za-z0-9+/]{40}$/);
    expect(sameSdesKey(parseSdesKeyParams(formatSdesKeyParams(ours)), ours)).toBe(true);
    expect(sameSdesKey(newSdesKey(), ours)).toBe(false);
  });

  it.each([
    [`${RFC_KEY}|2^20|1:4`, 'MKI'],
    [`${RFC_KEY};inline:NzB4d1BINUAvLEw6UzF3WSJ+PSdFcGdUJShpX1Zj`, 'several keys'],
    ['inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0m', 'bytes, not 30'],
    ['uri:https://example.com/key', 'not of the form'],
  ])('refuses %s (%s)', (params, reason) => {
    expect(() => parseSdesKeyParams(params)).toThrow(SdesKeyError);
    expect(() => parseSdesKeyParams(params)).toThrow(reason);
  });

  it('refuses session parameters it does not implement', () => {
    expect(() => parseSdesKeyParams(RFC_KEY, ['UNENCRYPTED_SRTP'])).toThrow('UNENCRYPTED_SRTP is not supported');
    expect(() => parseSdesKeyParams(RFC_KEY, ['KDR=1'])).toThrow('KDR=1');
  });

  it('maps the two suites to their SRTP profiles and nothing else', () => {
    expect(srtpProfileOf('AES_CM_128_HMAC_SHA1_80')).toBe(SRTP_AES128_CM_HMAC_SHA1_80);
    expect(srtpProfileOf('AES_CM_128_HMAC_SHA1_32')).toBe(SRTP_AES128_CM_HMAC_SHA1_32);
    expect(isSdesSuite('AES_256_CM_HMAC_SHA1_80')).toBe(false);
    expect(isSdesSuite('F8_128_HMAC_SHA1_80')).toBe(false);
  });
});
