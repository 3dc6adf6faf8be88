/**
 * What Meta checks on the SDPs a business sends (reference §3.2-§3.3, §6.1, §8 pitfalls 3-5, FAQ-2511).
 * Each check returns a readable problem (for `error_data.details` of a 100 error) or undefined.
 */

export type SdpKind = 'offer' | 'answer';

/**
 * `sdp_type` as the business wrote it. Meta's parameter tables say "offer" for pre_accept/accept and the
 * samples say "answer"; the new-call sample says "answer" where the guide says "offer" (reference §9). So
 * both spellings are accepted on every action, in any case, and the SDP text itself is what is judged.
 */
export function checkSdpType(sdpType: unknown): string | undefined {
  if (typeof sdpType !== 'string') return 'session.sdp_type is required ("offer" or "answer")';
  const t = sdpType.trim().toLowerCase();
  return t === 'offer' || t === 'answer' ? undefined : `session.sdp_type must be "offer" or "answer", got ${JSON.stringify(sdpType)}`;
}

function hasLine(sdp: string, pattern: RegExp): boolean {
  return sdp.split(/\r?\n/).some((line) => pattern.test(line.trim()));
}

/** Problems every SDP can have: empty, double-encoded line breaks (FAQ-2511), no audio m-line. */
function checkCommon(sdp: unknown, what: string): string | undefined {
  if (typeof sdp !== 'string' || sdp.trim() === '') return `session.sdp is required (the ${what} as a plain string)`;
  if (sdp.includes('\\r\\n') || sdp.includes('\\n')) {
    return `session.sdp contains escaped line breaks ("\\r\\n" as text): send real CRLF inside the JSON string, do not double-encode`;
  }
  if (!sdp.startsWith('v=0')) return 'session.sdp must start with "v=0"';
  if (!hasLine(sdp, /^m=audio\s/)) return 'session.sdp has no m=audio line';
  return undefined;
}

/**
 * The business's answer to WhatsApp's offer (pre_accept / accept). It must carry a DTLS fingerprint ("No
 * fingerprint found in SDP", FAQ-2511), must choose a DTLS role instead of echoing `a=setup:actpass`
 * (an answer may not say actpass, RFC 8842 §5.3), and must not say `a=ice-lite`: WhatsApp's relay is the
 * ICE-lite side, so the business must run full ICE as the controlling agent (reference §6.1, §8.3).
 */
export function checkAnswerSdp(sdp: unknown): string | undefined {
  const common = checkCommon(sdp, 'SDP answer');
  if (common) return common;
  const text = sdp as string;
  if (!hasLine(text, /^a=fingerprint:/i)) return 'SDP answer has no a=fingerprint line (No fingerprint found in SDP)';
  if (hasLine(text, /^a=setup:actpass$/i)) return 'SDP answer says a=setup:actpass: an answer must choose active or passive (this is an offer)';
  if (hasLine(text, /^a=ice-lite$/i)) return 'SDP answer says a=ice-lite: the business must run full ICE as the controlling agent';
  return undefined;
}

/** The business's offer on a business-initiated `connect` (reference §3.1, §6.1): DTLS-SRTP with ICE credentials. */
export function checkOfferSdp(sdp: unknown): string | undefined {
  const common = checkCommon(sdp, 'SDP offer');
  if (common) return common;
  const text = sdp as string;
  if (!hasLine(text, /^a=fingerprint:/i)) return 'SDP offer has no a=fingerprint line (No fingerprint found in SDP)';
  if (!hasLine(text, /^a=ice-ufrag:/i)) return 'SDP offer has no a=ice-ufrag line';
  if (!hasLine(text, /^a=ice-pwd:/i)) return 'SDP offer has no a=ice-pwd line';
  return undefined;
}
