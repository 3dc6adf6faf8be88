import { z } from 'zod';
import { InvalidPermissionRecordError } from './permissions.errors';
import { PERMISSION_STATES, REVOKED_BY, type PermissionSnapshot, type PermissionState } from './permission.machine';
import { DAY_MS } from './permission.rules';

/** A business phone number (Graph phone number id) and a WhatsApp user (wa_id): one permission record. */
export interface PermissionKey {
  phoneNumberId: string;
  waId: string;
}

/** A stored permission record: the machine's snapshot plus its key, CAS version and timestamps (epoch ms). */
export interface PermissionRecord extends PermissionKey, PermissionSnapshot {
  /** Bumped by every write; the compare-and-set token. A missing record is version 0. */
  version: number;
  createdAt: number;
  updatedAt: number;
}

/** How long a record outlives its last write, by state (STYLE §2: TTL chosen by state). */
export const PERMISSION_RETENTION_MS = 8 * DAY_MS;

/**
 * TTL of a record written now, in ms, or null for no expiry: `granted-always` and `declined` are kept until
 * the user changes them; a temporary grant until 8 days past its expiry; everything else 8 days (longer than
 * the 7-day request window, the last thing such a record still decides).
 */
export function permissionTtlMs(snapshot: Pick<PermissionSnapshot, 'state' | 'expiresAt'>, now: number): number | null {
  if (snapshot.state === 'granted-always' || snapshot.state === 'declined') return null;
  if (snapshot.state === 'granted-once' && snapshot.expiresAt !== undefined) return Math.max(snapshot.expiresAt + PERMISSION_RETENTION_MS - now, PERMISSION_RETENTION_MS);
  return PERMISSION_RETENTION_MS;
}

const storedInt = z
  .string()
  .regex(/^\d{1,16}$/, 'a non-negative decimal integer')
  .transform(Number);

function storedJson<T extends z.ZodType>(schema: T) {
  return z
    .string()
    .transform((text, ctx) => {
      try {
        return JSON.parse(text) as unknown;
      } catch {
        ctx.addIssue({ code: 'custom', message: 'valid JSON' });
        return z.NEVER;
      }
    })
    .pipe(schema);
}

const epochMs = z.number().int().nonnegative();

const replySchema = z.object({
  at: epochMs,
  response: z.enum(['accept', 'reject']),
  isPermanent: z.boolean(),
  source: z.enum(['user_action', 'automatic']),
  expiresAt: epochMs.optional(),
  contextId: z.string().optional(),
  contextKind: z.enum(['message', 'call']).optional(),
});

/**
 * One permission record as stored in its Redis hash: scalars as strings, lists and the last reply as JSON.
 * Read with `parsePermissionRecord` (validates; unknown fields are dropped), write with `toPermissionHash`.
 */
export const permissionHashSchema = z.object({
  phoneNumberId: z.string().min(1),
  waId: z.string().min(1),
  state: z.enum(PERMISSION_STATES),
  version: storedInt,
  createdAt: storedInt,
  updatedAt: storedInt,
  stateSince: storedInt,
  expiresAt: storedInt.optional(),
  revokedBy: z.enum(REVOKED_BY).optional(),
  requests: storedJson(z.array(z.object({ id: z.string().min(1), at: epochMs }))),
  lastReply: storedJson(replySchema).optional(),
  permissionAsOf: storedInt.optional(),
  reconciledAt: storedInt.optional(),
  lastConnectedAt: storedInt.optional(),
  connectedCalls: storedJson(z.array(epochMs)),
  missedInRow: storedInt,
  lastUnansweredAt: storedInt.optional(),
  requestBlockedUntil: storedInt.optional(),
  callBlockedUntil: storedInt.optional(),
});

type HashField = keyof z.input<typeof permissionHashSchema>;
const FIELDS = Object.keys(permissionHashSchema.shape) as HashField[];
const JSON_FIELDS = new Set<string>(['requests', 'lastReply', 'connectedCalls']);
const STRING_FIELDS = new Set<string>(['phoneNumberId', 'waId', 'state', 'revokedBy']);

/** Validates a hash read from Redis; throws `InvalidPermissionRecordError` naming the bad fields. */
export function parsePermissionRecord(key: PermissionKey, hash: Record<string, string>): PermissionRecord {
  const res = permissionHashSchema.safeParse(hash);
  if (!res.success) {
    throw new InvalidPermissionRecordError(key, res.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; '));
  }
  const record = res.data as PermissionRecord;
  if (record.phoneNumberId !== key.phoneNumberId || record.waId !== key.waId) {
    throw new InvalidPermissionRecordError(key, `it belongs to ${record.phoneNumberId}/${record.waId}`);
  }
  return record;
}

/**
 * Flattens a full record into hash field/value pairs; undefined fields are left out (the write replaces the
 * whole hash, so they disappear). Throws TypeError for a non-integer time or a wrong type: those are bugs.
 */
export function toPermissionHash(record: PermissionRecord): Record<string, string> {
  const out: Record<string, string> = {};
  for (const field of FIELDS) {
    const value: unknown = record[field];
    if (value === undefined) continue;
    if (JSON_FIELDS.has(field)) out[field] = JSON.stringify(value);
    else if (STRING_FIELDS.has(field)) {
      if (typeof value !== 'string' || value === '') throw new TypeError(`permission record field ${field} must be a non-empty string, got ${String(value)}`);
      out[field] = value;
    } else {
      if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) throw new TypeError(`permission record field ${field} must be a non-negative integer, got ${String(value)}`);
      out[field] = String(value);
    }
  }
  return out;
}

/** A record's snapshot part (what the machine reads). */
export function snapshotOf(record: PermissionRecord): PermissionSnapshot {
  const { phoneNumberId: _p, waId: _w, version: _v, createdAt: _c, updatedAt: _u, ...snapshot } = record;
  return snapshot;
}

/** Type guard for a state name (e.g. from a query string). */
export function isPermissionState(value: unknown): value is PermissionState {
  return typeof value === 'string' && (PERMISSION_STATES as readonly string[]).includes(value);
}
