import { setTimeout as delay } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import type { CallPermissions } from '@wagw/whatsapp';
import { redisKeys, type RedisKeys } from '@wagw/call-state';
import { silentLogger, type Logger } from '@wagw/logging';
import { PermissionVersionConflictError } from './permissions.errors';
import { decidePermission, type DecideOptions, type PermissionDecision } from './permission.decide';
import { reconciledInputOf } from './permission.inputs';
import { transition, type PermissionInput, type PermissionSignal, type PermissionState } from './permission.machine';
import {
  parsePermissionRecord,
  permissionTtlMs,
  snapshotOf,
  toPermissionHash,
  type PermissionKey,
  type PermissionRecord,
} from './permission-record.types';
import { REPLACE_PERMISSION } from './permission-repository.scripts';
import { META_PERMISSION_RULES, checkRules, type PermissionRules } from './permission.rules';

export interface PermissionRepositoryOptions {
  /** `redis.keyPrefix` from config; keys come from `redisKeys(prefix).permission(phoneNumberId, waId)`. */
  keyPrefix: string;
  /** Meta's limits (default `META_PERMISSION_RULES`). */
  rules?: Partial<PermissionRules>;
  /** Attempts of `apply` when the compare-and-set keeps losing. Default 10. */
  maxApplyAttempts?: number;
  logger?: Logger;
  /** Clock (epoch ms); tests pin it. */
  now?: () => number;
}

export type PermissionApplyResult =
  | { outcome: 'applied'; from: PermissionState; to: PermissionState; signal: PermissionSignal; record: PermissionRecord; note?: string }
  | { outcome: 'ignored'; reason: string; record: PermissionRecord | null };

function pairs(hash: Record<string, string>): string[] {
  return Object.entries(hash).flat();
}

/**
 * Call permission records in Redis (STYLE §2): one hash per (business phone number id, user wa_id), written
 * only by compare-and-set on `version` in Lua, TTL chosen by state (`permissionTtlMs`). The machine decides
 * every change; this class reads, transitions, writes, and answers `decide` before a business-initiated call.
 */
export class PermissionRepository {
  readonly #redis: Redis;
  readonly #keys: RedisKeys;
  readonly #rules: Readonly<PermissionRules>;
  readonly #maxAttempts: number;
  readonly #log: Logger;
  readonly #now: () => number;

  constructor(redis: Redis, options: PermissionRepositoryOptions) {
    this.#redis = redis;
    this.#keys = redisKeys(options.keyPrefix);
    this.#rules = checkRules({ ...META_PERMISSION_RULES, ...options.rules });
    const attempts = options.maxApplyAttempts ?? 10;
    if (!Number.isSafeInteger(attempts) || attempts <= 0) throw new TypeError(`maxApplyAttempts must be a positive integer, got ${String(attempts)}`);
    this.#maxAttempts = attempts;
    this.#log = options.logger ?? silentLogger();
    this.#now = options.now ?? Date.now;
  }

  get rules(): Readonly<PermissionRules> {
    return this.#rules;
  }

  /** The Redis key of a pair's record. */
  keyOf(key: PermissionKey): string {
    return this.#keys.permission(key.phoneNumberId, key.waId);
  }

  async get(key: PermissionKey): Promise<PermissionRecord | null> {
    const hash = await this.#redis.hgetall(this.keyOf(key));
    return Object.keys(hash).length === 0 ? null : parsePermissionRecord(key, hash);
  }

  /**
   * Reads the record, runs the machine on `input` with the repository clock and, if it applies, replaces the
   * record by compare-and-set with the TTL of its new state. On a lost CAS it re-reads and decides again, up
   * to `maxApplyAttempts` times with a short random back-off, so N concurrent identical inputs apply once and
   * N distinct ones each apply once. Throws `PermissionVersionConflictError` after the last attempt.
   */
  async apply(key: PermissionKey, input: PermissionInput): Promise<PermissionApplyResult> {
    for (let attempt = 1; attempt <= this.#maxAttempts; attempt++) {
      const current = await this.get(key);
      const now = this.#now();
      const decision = transition(current ? snapshotOf(current) : null, input, now, this.#rules);
      if (decision.kind === 'ignored') {
        this.#log.debug({ ...key, input: input.type, state: decision.state, reason: decision.reason }, 'permission input ignored');
        return { outcome: 'ignored', reason: decision.reason, record: current };
      }
      const version = current?.version ?? 0;
      const record: PermissionRecord = { ...key, ...decision.next, version: version + 1, createdAt: current?.createdAt ?? now, updatedAt: now };
      if (await this.#replace(record, version, now)) {
        // a change of state is the operator's business; counters and as-of times moving within one state
        // (every connected call resets the quota) are not news at info level
        const fields = { ...key, input: input.type, signal: decision.signal, from: decision.from, to: decision.to, note: decision.note };
        if (decision.from !== decision.to) this.#log.info(fields, 'call permission changed');
        else this.#log.debug(fields, 'call permission record updated (same state)');
        const out: PermissionApplyResult = { outcome: 'applied', from: decision.from, to: decision.to, signal: decision.signal, record };
        if (decision.note !== undefined) out.note = decision.note;
        return out;
      }
      this.#log.debug({ ...key, input: input.type, attempt }, 'permission record changed under us: deciding again');
      if (attempt < this.#maxAttempts) await delay(Math.floor(Math.random() * 3 * attempt));
    }
    throw new PermissionVersionConflictError(key, this.#maxAttempts);
  }

  /**
   * The decision before placing a business-initiated call (see `decidePermission`): `call`, `request`, or
   * `refuse` with a code and a sentence for the agent. Reads only.
   */
  async decide(key: PermissionKey, now: number = this.#now(), options: DecideOptions = {}): Promise<PermissionDecision> {
    const record = await this.get(key);
    return decidePermission(record ? snapshotOf(record) : null, now, checkRules({ ...this.#rules, ...options }));
  }

  /**
   * Applies Meta's view from `GET call_permissions` (read at `at`, default now): use it when the record is
   * missing or stale (`needsReconcile`). Replies newer than `at` win over it.
   */
  reconcile(key: PermissionKey, callPermissions: CallPermissions, at: number = this.#now()): Promise<PermissionApplyResult> {
    return this.apply(key, reconciledInputOf(callPermissions, at));
  }

  /** Replaces the stored record if its version is still `expectedVersion`; false when the CAS lost. */
  async #replace(record: PermissionRecord, expectedVersion: number, now: number): Promise<boolean> {
    const { version: _v, ...fields } = toPermissionHash(record);
    const ttl = permissionTtlMs(record, now) ?? 0;
    const res = (await REPLACE_PERMISSION.run(this.#redis, [this.keyOf(record)], [expectedVersion, ttl, ...pairs(fields)])) as unknown[];
    if (res[0] === 'OK') return true;
    if (res[0] === 'CONFLICT') return false;
    throw new Error(`unexpected reply from the permission replace script: ${JSON.stringify(res.slice(0, 2))}`);
  }
}

/**
 * Whether a pair's record should be refreshed from `GET call_permissions` before deciding: it is missing,
 * it holds no permission fact (only requests or counters), or its newest fact (a reply, a reconcile, a
 * revocation) is older than `maxAgeMs`.
 */
export function needsReconcile(record: Pick<PermissionRecord, 'permissionAsOf'> | null, now: number, maxAgeMs: number): boolean {
  if (!record || record.permissionAsOf === undefined) return true;
  return now - record.permissionAsOf > maxAgeMs;
}
