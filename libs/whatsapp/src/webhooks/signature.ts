import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * X-Hub-Signature-256 (Graph API "Validating Payloads"): `sha256=<hex>` where hex is HMAC-SHA256 of the raw
 * request body keyed with the app secret. Always computed over the bytes as received, never re-serialised JSON.
 */
export function signWebhookBody(rawBody: Buffer | string, appSecret: string): string {
  return `sha256=${createHmac('sha256', appSecret).update(rawBody).digest('hex')}`;
}

export type SignatureCheck = { ok: true } | { ok: false; reason: 'missing' | 'malformed' | 'mismatch' };

/** Constant-time comparison of the header with the expected signature. */
export function verifyWebhookSignature(rawBody: Buffer, header: string | undefined, appSecret: string): SignatureCheck {
  if (header === undefined || header === '') return { ok: false, reason: 'missing' };
  const match = /^sha256=([0-9a-fA-F]{64})$/.exec(header.trim());
  if (!match?.[1]) return { ok: false, reason: 'malformed' };
  const given = Buffer.from(match[1].toLowerCase(), 'hex');
  const expected = createHmac('sha256', appSecret).update(rawBody).digest();
  return given.length === expected.length && timingSafeEqual(given, expected) ? { ok: true } : { ok: false, reason: 'mismatch' };
}

export type ChallengeResult = { ok: true; challenge: string } | { ok: false; reason: string };

/** The GET verification handshake: hub.mode=subscribe and a matching hub.verify_token echo hub.challenge. */
export function answerVerificationChallenge(query: Record<string, unknown>, verifyToken: string): ChallengeResult {
  const mode = query['hub.mode'];
  const token = query['hub.verify_token'];
  const challenge = query['hub.challenge'];
  if (mode !== 'subscribe') return { ok: false, reason: `hub.mode must be "subscribe", got ${JSON.stringify(mode)}` };
  if (typeof challenge !== 'string' || challenge === '') return { ok: false, reason: 'hub.challenge is missing' };
  if (typeof token !== 'string') return { ok: false, reason: 'hub.verify_token is missing' };
  const a = Buffer.from(token);
  const b = Buffer.from(verifyToken);
  if (a.length !== b.length || !timingSafeEqual(a, b)) return { ok: false, reason: 'hub.verify_token does not match' };
  return { ok: true, challenge };
}
