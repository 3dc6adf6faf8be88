/**
 * SDES keys for SRTP toward a PBX (RFC 4568): the crypto suites we take, our master keys, and the
 * `inline:` key parameters of an `a=crypto` line. Pure: the SDP lines themselves are @wagw/sip's.
 *
 * What is taken (what PBXs and desk phones offer by default: Asterisk, FreeSWITCH, baresip, Cisco):
 * AES_CM_128_HMAC_SHA1_80 and AES_CM_128_HMAC_SHA1_32, one `inline:` key per line, an optional lifetime
 * (no call lives 2^31 packets), no MKI, and no session parameter but the window-size hint `WSH=`; a line
 * with anything else (UNENCRYPTED_SRTP, KDR, FEC, an MKI, several keys) is not chosen, so the next one
 * can be, and an offer with none left is refused with the reason.
 */
import { randomBytes } from 'node:crypto';
import { SRTP_AES128_CM_HMAC_SHA1_32, SRTP_AES128_CM_HMAC_SHA1_80, type SrtpMasterKey, type SrtpProfile } from '../webrtc/srtp/srtp-session';

export type SdesSuite = 'AES_CM_128_HMAC_SHA1_80' | 'AES_CM_128_HMAC_SHA1_32';

/** Our order of preference (and of our offer's lines). */
export const SDES_SUITES: readonly SdesSuite[] = ['AES_CM_128_HMAC_SHA1_80', 'AES_CM_128_HMAC_SHA1_32'];

const PROFILES: Record<SdesSuite, SrtpProfile> = {
  AES_CM_128_HMAC_SHA1_80: SRTP_AES128_CM_HMAC_SHA1_80,
  AES_CM_128_HMAC_SHA1_32: SRTP_AES128_CM_HMAC_SHA1_32,
};

const KEY_LENGTH = 16;
const SALT_LENGTH = 14;
const INLINE_RE = /^inline:([A-Za-z0-9+/]+={0,2})(?:\|(2\^\d{1,2}|\d{1,20}))?(?:\|(\d{1,10}:\d{1,3}))?$/i;

/** A line's keys or suite cannot be used (the reason says what). */
export class SdesKeyError extends Error {
  constructor(readonly reason: string) {
    super(`unusable SDES crypto line: ${reason}`);
    this.name = 'SdesKeyError';
  }
}

export function isSdesSuite(suite: string): suite is SdesSuite {
  return (SDES_SUITES as readonly string[]).includes(suite);
}

export function srtpProfileOf(suite: SdesSuite): SrtpProfile {
  return PROFILES[suite];
}

/** A fresh random master key and salt (16 + 14 bytes) for one direction of one call. */
export function newSdesKey(): SrtpMasterKey {
  const bytes = randomBytes(KEY_LENGTH + SALT_LENGTH);
  return { key: bytes.subarray(0, KEY_LENGTH), salt: bytes.subarray(KEY_LENGTH) };
}

/** `inline:<base64(key || salt)>` for our line. */
export function formatSdesKeyParams(master: SrtpMasterKey): string {
  return `inline:${Buffer.concat([master.key, master.salt]).toString('base64')}`;
}

/** Whether two master keys are the same (a re-offer that keeps its key, or one that changes it). */
export function sameSdesKey(a: SrtpMasterKey, b: SrtpMasterKey): boolean {
  return Buffer.from(a.key).equals(Buffer.from(b.key)) && Buffer.from(a.salt).equals(Buffer.from(b.salt));
}

/** The master key of one `a=crypto` line's key and session parameters; SdesKeyError when we cannot use it. */
export function parseSdesKeyParams(keyParams: string, sessionParams: readonly string[] = []): SrtpMasterKey {
  if (keyParams.includes(';')) throw new SdesKeyError('several keys in one line (needs MKI)');
  const m = INLINE_RE.exec(keyParams);
  if (!m) throw new SdesKeyError(`key parameters not of the form inline:<base64>[|lifetime] (${keyParams.slice(0, 24)}...)`);
  if (m[3] !== undefined) throw new SdesKeyError('MKI is not supported');
  const bytes = Buffer.from(m[1] as string, 'base64');
  if (bytes.length !== KEY_LENGTH + SALT_LENGTH) throw new SdesKeyError(`key and salt are ${bytes.length} bytes, not ${KEY_LENGTH + SALT_LENGTH}`);
  const other = sessionParams.filter((p) => !/^WSH=\d+$/i.test(p));
  if (other.length > 0) throw new SdesKeyError(`session parameter ${other[0]} is not supported`);
  return { key: bytes.subarray(0, KEY_LENGTH), salt: bytes.subarray(KEY_LENGTH) };
}
