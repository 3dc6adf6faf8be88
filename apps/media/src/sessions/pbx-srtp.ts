import type { SrtpPolicy } from '@wagw/contracts';
import { formatSdesKeyParams, isSdesSuite, newSdesKey, parseSdesKeyParams, SDES_SUITES, SdesKeyError, type SdesSuite, type SrtpMasterKey } from '@wagw/media-bridge';
import { audioProtocolOf, type AudioDescription, type SdpCrypto } from '@wagw/sip';
import { SdpNotAcceptableError } from './media.errors';

/**
 * SDES-SRTP (RFC 4568) toward the PBX, by the trunk's `srtp` policy:
 * - `off`: plain RTP/AVP; an RTP/SAVP offer is refused, crypto lines in an RTP/AVP offer are ignored.
 * - `optional`: our offers are RTP/AVP with crypto lines (the PBX takes SRTP by answering one, or stays
 *   plain); an offer's usable crypto line is taken, an RTP/AVP offer without one stays plain.
 * - `mandatory`: our offers are RTP/SAVP; an answer or offer without a usable crypto line is refused.
 * Each of our lines has its own key (one per suite, RFC 4568 §6.1 lets the answerer pick one); a call keeps
 * its suite, and a re-INVITE may bring the PBX's new key (§7.1.4), ours stays.
 */

/** What a leg negotiated: the chosen line's tag and suite, our key (we send with it) and the PBX's. */
export interface NegotiatedSrtp {
  suite: SdesSuite;
  tag: number;
  local: SrtpMasterKey;
  remote: SrtpMasterKey;
}

/** One crypto line of our offer, with our key for it. */
export interface OfferedCrypto {
  tag: number;
  suite: SdesSuite;
  local: SrtpMasterKey;
}

/** Our offer's crypto lines: none when SRTP is off, else one per suite, tags 1.. in our preference order. */
export function offerCrypto(policy: SrtpPolicy): OfferedCrypto[] {
  if (policy === 'off') return [];
  return SDES_SUITES.map((suite, i) => ({ tag: i + 1, suite, local: newSdesKey() }));
}

export function ourCryptoLine(tag: number, suite: SdesSuite, local: SrtpMasterKey): SdpCrypto {
  return { tag, suite, keyParams: formatSdesKeyParams(local), sessionParams: [] };
}

/** The PBX's key of one line, or the reason it cannot be used. */
function keyOf(line: SdpCrypto): SrtpMasterKey | string {
  if (!isSdesSuite(line.suite)) return `suite ${line.suite} is not supported`;
  try {
    return parseSdesKeyParams(line.keyParams, line.sessionParams);
  } catch (err) {
    if (err instanceof SdesKeyError) return err.reason;
    throw err;
  }
}

/**
 * The PBX offered: its first usable crypto line (its preference order), answered with a fresh key of ours;
 * undefined to stay plain (policy optional and an RTP/AVP offer without a usable line). Refused
 * (SdpNotAcceptableError, the caller answers 488) when SRTP is required and no line is usable.
 */
export function chooseOfferedCrypto(audio: AudioDescription, policy: SrtpPolicy): NegotiatedSrtp | undefined {
  const reasons: string[] = [];
  for (const line of audio.crypto) {
    const remote = keyOf(line);
    if (typeof remote === 'string') {
      reasons.push(`tag ${line.tag}: ${remote}`);
      continue;
    }
    return { tag: line.tag, suite: line.suite as SdesSuite, local: newSdesKey(), remote };
  }
  const savp = audioProtocolOf(audio.protocol) === 'RTP/SAVP';
  if (!savp && policy !== 'mandatory') return undefined;
  if (reasons.length === 0) throw new SdpNotAcceptableError(savp ? 'the offer asks for SRTP (RTP/SAVP) without an a=crypto line (only SDES keys are supported)' : "the trunk's srtp is mandatory and the offer has no a=crypto line");
  throw new SdpNotAcceptableError(`no usable a=crypto line in the offer (${reasons.join('; ')})`);
}

/** The PBX answered our offer: SRTP on the line it took, or plain when it took none and that is allowed. */
export function answeredSrtp(answer: AudioDescription, offered: readonly OfferedCrypto[], policy: SrtpPolicy): NegotiatedSrtp | undefined {
  const savp = audioProtocolOf(answer.protocol) === 'RTP/SAVP';
  if (offered.length === 0) {
    if (savp) throw new SdpNotAcceptableError('the answer turns on SRTP (RTP/SAVP), which was not offered');
    return undefined;
  }
  const line = answer.crypto[0];
  if (!line) {
    if (savp || policy === 'mandatory') throw new SdpNotAcceptableError("the answer has no a=crypto line and the trunk's srtp is mandatory");
    return undefined;
  }
  const ours = offered.find((c) => c.tag === line.tag);
  if (!ours || ours.suite !== line.suite) throw new SdpNotAcceptableError(`the answer's crypto line (tag ${line.tag}, ${line.suite}) is not one we offered`);
  const remote = keyOf(line);
  if (typeof remote === 'string') throw new SdpNotAcceptableError(`the answer's crypto line cannot be used: ${remote}`);
  return { tag: line.tag, suite: ours.suite, local: ours.local, remote };
}

/**
 * A mid-call SDP (re-offer, or the answer to our mid-call offer) on a leg: SRTP stays as it is. On an SRTP
 * leg the SDP needs a line of the call's suite (its key may be new: a re-key); a plain leg stays plain (an
 * RTP/SAVP SDP is refused, crypto lines in an RTP/AVP one are ignored).
 */
export function reofferedSrtp(audio: AudioDescription, current: NegotiatedSrtp | undefined, what: string): NegotiatedSrtp | undefined {
  if (!current) {
    if (audioProtocolOf(audio.protocol) === 'RTP/SAVP') throw new SdpNotAcceptableError(`the ${what} turns on SRTP (not supported mid-call)`);
    return undefined;
  }
  const lines = audio.crypto.filter((c) => c.suite === current.suite);
  const line = lines.find((c) => c.tag === current.tag) ?? lines[0];
  if (!line) throw new SdpNotAcceptableError(`the ${what} drops SRTP ${current.suite} (changing it mid-call is not supported)`);
  const remote = keyOf(line);
  if (typeof remote === 'string') throw new SdpNotAcceptableError(`the ${what}'s crypto line cannot be used: ${remote}`);
  return { ...current, tag: line.tag, remote };
}
