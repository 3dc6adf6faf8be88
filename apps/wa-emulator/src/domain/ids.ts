import { randomBytes } from 'node:crypto';

/** `wacid.<base64url>`: WhatsApp call ids (REF-2511 samples). */
export function newCallId(): string {
  return `wacid.${randomBytes(24).toString('base64url')}`;
}

/** `wamid.<base64url>`: WhatsApp message ids. */
export function newMessageId(): string {
  return `wamid.${randomBytes(24).toString('base64url')}`;
}

/**
 * A media id as Graph writes them: 16 digits, no leading zero. The first digit is 1-8, so the id stays a safe
 * integer (below 2^53) when a client writes it as a JSON number, as Meta's settings sample writes
 * `announcement_media_id`.
 */
export function newMediaId(): string {
  const digits = Array.from(randomBytes(16), (b) => b % 10);
  digits[0] = 1 + ((digits[0] ?? 0) % 8);
  return digits.join('');
}

/** A Graph `fbtrace_id`-like token. */
export function newTraceId(): string {
  return randomBytes(8).toString('base64url');
}

/** A business-scoped user id (BSUID) shaped like Meta's samples: `US.<19 digits>`. */
export function newBsuid(): string {
  const digits = Array.from(randomBytes(19), (b) => String(b % 10)).join('');
  return `US.${digits}`;
}
