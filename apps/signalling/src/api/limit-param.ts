import { BadRequestException } from '@nestjs/common';

/**
 * A `limit` query parameter of a listing: absent gives `fallback`; otherwise a whole number from 1 to `max`
 * written as digits, else 400 saying what is expected and what came ("10abc", a repeated parameter).
 */
export function limitParam(raw: unknown, fallback: number, max: number): number {
  if (raw === undefined) return fallback;
  const n = typeof raw === 'string' && /^\d{1,7}$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isInteger(n) || n < 1 || n > max) {
    throw new BadRequestException(`limit must be an integer from 1 to ${max}, got ${JSON.stringify(typeof raw === 'string' ? raw.slice(0, 40) : raw)}`);
  }
  return n;
}
