import type { Redis } from 'ioredis';
import { silentLogger, type Logger } from '@wagw/logging';
import { deriveTransitionPatch } from './call-record.derive';
import {
  assertPatchable,
  parseCallRecord,
  parsePatch,
  toCallHash,
  type CallPatch,
  type CallRecord,
  type NewCallRecord,
} from './call-record.types';
import { CallExistsError, CallNotFoundError, InvalidStateError, VersionConflictError, WaCallIdConflictError } from './call-state.errors';
import { CALL_STATES, assertInitialState, isTerminal, transition, type CallEvent, type CallState } from './call-state.machine';
import { CREATE_CALL, RENEW_LIVE_CALL, UPDATE_CALL } from './call-repository.scripts';
import { redisKeys, type RedisKeys } from './keys';

const HOUR_MS = 3_600_000;

export interface CallRepositoryOptions {
  /** `redis.keyPrefix` from config. */
  keyPrefix: string;
  /** TTL of a record (and its wacall alias) in a live state, refreshed on every write. Default 6 h. */
  liveTtlMs?: number;
  /** TTL while `ending`. Default 10 min. */
  endingTtlMs?: number;
  /** CDR retention: TTL of an `ended` record and age limit of the ended index. Default 7 days. */
  endedTtlMs?: number;
  /** Most ended calls kept in the ended index (oldest dropped first). Default 10 000. */
  endedIndexMax?: number;
  /** Attempts of `apply`/`amend`/`linkWaCallId` when the compare-and-set keeps losing (jittered back-off between). Default 8. */
  /**
   * Live records remembered after this process read or wrote them, so a write that follows needs no read
   * first (the compare-and-set on `version` still decides). 0 turns it off. Default 5000.
   */
  recordCacheMax?: number;
  maxApplyAttempts?: number;
  /** This process's signalling instance id, written on every call it creates (`signallingInstance`). */
  instanceId?: string;
  logger?: Logger;
  /** Clock (epoch ms); tests may pin it. */
  now?: () => number;
}

/** A page of CDRs: see `CallRepository.listEnded`. */
export interface EndedQuery {
  /** Ended at or after (epoch ms). */
  since?: number;
  /** Ended before (epoch ms). */
  until?: number;
  /** Where the page before ended (its `next`). */
  after?: EndedCursor;
  limit: number;
}

/** The last CDR of a page: its end time as the ended index has it, and its id. */
export interface EndedCursor {
  endedAt: number;
  callId: string;
}

export interface EndedPage {
  records: CallRecord[];
  /** Present when more CDRs follow: pass it as `after`. */
  next?: EndedCursor;
}

export type ApplyResult =
  | { outcome: 'applied'; from: CallState; to: CallState; record: CallRecord }
  | { outcome: 'ignored'; reason: string; record: CallRecord };

/** A caller's extra fields for a transition: fixed, or computed from the record the transition applies to. */
export type PatchInput = Omit<CallPatch, 'state'> | ((current: CallRecord) => Omit<CallPatch, 'state'>);

function positiveInt(name: string, value: number | undefined, fallback: number): number {
  const v = value ?? fallback;
  if (!Number.isSafeInteger(v) || v <= 0) throw new TypeError(`CallRepository option ${name} must be a positive integer, got ${String(value)}`);
  return v;
}

function pairs(hash: Record<string, string>): string[] {
  return Object.entries(hash).flat();
}

function hashOf(flat: unknown[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) out[String(flat[i])] = String(flat[i + 1]);
  return out;
}

/**
 * Call records in Redis (STYLE §2): one hash per call, written only by compare-and-set on `version` in Lua,
 * TTL chosen by state, an index of live calls by creation time, a capped index of ended calls (CDRs) by end
 * time, and a waCallId -> callId alias whose TTL follows the record. Once a call has ended only its record,
 * its alias and its ended-index entry remain (the CDR, found by either id).
 */
export class CallRepository {
  readonly #redis: Redis;
  readonly #keys: RedisKeys;
  readonly #ttls: Readonly<Record<CallState, number>>;
  readonly #ttlsJson: string;
  readonly #endedIndexMax: number;
  readonly #maxAttempts: number;
  readonly #log: Logger;
  readonly #now: () => number;
  /** Last record this process read or wrote per live call (see `recordCacheMax`); ended calls leave it. */
  readonly #known = new Map<string, CallRecord>();
  readonly #knownMax: number;
  readonly #instanceId: string | undefined;
  /** Per call, the settling of the last write this process queued: its writes to one call go one at a time. */
  readonly #writing = new Map<string, Promise<void>>();

  constructor(redis: Redis, options: CallRepositoryOptions) {
    this.#redis = redis;
    this.#keys = redisKeys(options.keyPrefix);
    const live = positiveInt('liveTtlMs', options.liveTtlMs, 6 * HOUR_MS);
    const ending = positiveInt('endingTtlMs', options.endingTtlMs, 10 * 60_000);
    const ended = positiveInt('endedTtlMs', options.endedTtlMs, 7 * 24 * HOUR_MS);
    this.#ttls = Object.fromEntries(CALL_STATES.map((s) => [s, s === 'ending' ? ending : s === 'ended' ? ended : live])) as Record<CallState, number>;
    this.#ttlsJson = JSON.stringify(this.#ttls);
    this.#endedIndexMax = positiveInt('endedIndexMax', options.endedIndexMax, 10_000);
    this.#maxAttempts = positiveInt('maxApplyAttempts', options.maxApplyAttempts, 8);
    this.#log = options.logger ?? silentLogger();
    this.#now = options.now ?? Date.now;
    this.#knownMax = options.recordCacheMax ?? 5000;
    this.#instanceId = options.instanceId;
  }

  /** The key builder this repository uses (same prefix). */
  get keys(): RedisKeys {
    return this.#keys;
  }

  /** The TTL a record gets in `state`. */
  ttlMsFor(state: CallState): number {
    return this.#ttls[state];
  }

  /**
   * Stores a new call at version 0 in one of its direction's initial states. Throws `CallExistsError` if the
   * id is taken and `WaCallIdConflictError` if its waCallId maps to another call (claim it first).
   */
  async create(input: NewCallRecord): Promise<CallRecord> {
    assertInitialState(input.direction, input.state);
    if (input.version !== undefined && input.version !== 0) throw new TypeError('a new call record starts at version 0');
    const now = this.#now();
    const createdAt = input.createdAt ?? now;
    const owner = input.signallingInstance ?? this.#instanceId;
    const record = parseCallRecord(input.callId, toCallHash({ ...input, ...(owner ? { signallingInstance: owner } : {}), version: 0, createdAt, updatedAt: input.updatedAt ?? createdAt }));
    const keys = [this.#keys.call(record.callId), this.#keys.activeCalls];
    if (record.waCallId !== undefined) keys.push(this.#keys.waCall(record.waCallId));
    const res = (await CREATE_CALL.run(this.#redis, keys, [this.#ttls[record.state], record.callId, createdAt, ...pairs(toCallHash(record))])) as string[];
    if (res[0] === 'EXISTS') throw new CallExistsError(record.callId);
    if (res[0] === 'WA_TAKEN') throw new WaCallIdConflictError(record.waCallId ?? '', record.callId, `it belongs to ${res[1]}`);
    this.#remember(record);
    return record;
  }

  /** The stored record (always read from Redis). */
  async get(callId: string): Promise<CallRecord | null> {
    const hash = await this.#redis.hgetall(this.#keys.call(callId));
    if (Object.keys(hash).length === 0) {
      this.#known.delete(callId);
      return null;
    }
    const record = parseCallRecord(callId, hash);
    this.#remember(record);
    return record;
  }

  /** The call a WhatsApp call id maps to, while that call has not ended. */
  async getByWaCallId(waCallId: string): Promise<CallRecord | null> {
    const callId = await this.#redis.get(this.#keys.waCall(waCallId));
    return callId === null ? null : this.get(callId);
  }

  /**
   * Claims a WhatsApp call id for `callId` (SET NX, live TTL) before the call is created, so two concurrent
   * `connect` webhooks for one wacid create one call. True if `callId` owns it now (also when it already did).
   */
  async claimWaCallId(waCallId: string, callId: string): Promise<boolean> {
    const key = this.#keys.waCall(waCallId);
    const set = await this.#redis.set(key, callId, 'PX', this.#ttls.offered, 'NX');
    if (set === 'OK') return true;
    return (await this.#redis.get(key)) === callId;
  }

  /**
   * Records the WhatsApp call id of an existing call (e.g. the wacid our `connect` returned) and points the
   * alias at it. Idempotent; throws `WaCallIdConflictError` if the call has another one or the wacid is taken.
   */
  linkWaCallId(callId: string, waCallId: string): Promise<CallRecord> {
    return this.#inTurn(callId, () => this.#linkWaCallId(callId, waCallId));
  }

  async #linkWaCallId(callId: string, waCallId: string): Promise<CallRecord> {
    let lastConflict: VersionConflictError | undefined;
    for (let attempt = 1; attempt <= this.#maxAttempts; attempt++) {
      const current = await this.#require(callId);
      if (current.waCallId === waCallId) return current;
      if (current.waCallId !== undefined) throw new WaCallIdConflictError(waCallId, callId, `the call already has ${current.waCallId}`);
      try {
        return await this.#write(callId, current.version, { waCallId }, current);
      } catch (err) {
        if (!(err instanceof VersionConflictError)) throw err;
        lastConflict = err;
        await this.#backOff(attempt);
      }
    }
    throw lastConflict ?? new Error('unreachable');
  }

  /**
   * Compare-and-set write: applies `patch` if the stored version is `expectedVersion`, bumps the version and
   * sets the TTL, indexes and alias for the resulting state; returns the new record. Throws
   * `VersionConflictError`, `CallNotFoundError`, `InvalidStateError` (leaving `ended`) or
   * `WaCallIdConflictError`. A `state` in the patch bypasses the machine: use `apply` for state changes.
   */
  async update(callId: string, expectedVersion: number, patch: CallPatch): Promise<CallRecord> {
    return this.#write(callId, expectedVersion, patch, undefined);
  }

  /**
   * update() with the record the caller read at `expectedVersion` (if any): its waCallId is the stored one
   * whenever the compare-and-set succeeds, so the alias key needs no extra read.
   */
  async #write(callId: string, expectedVersion: number, patch: CallPatch, read: CallRecord | undefined): Promise<CallRecord> {
    assertPatchable(patch);
    if (patch.state !== undefined && !CALL_STATES.includes(patch.state)) throw new TypeError(`unknown call state ${String(patch.state)}`);
    const fields = toCallHash(patch);
    const waCallId = patch.waCallId ?? (read ? read.waCallId : await this.#redis.hget(this.#keys.call(callId), 'waCallId'));
    const keys = [this.#keys.call(callId), this.#keys.activeCalls, this.#keys.endedCalls];
    if (waCallId) keys.push(this.#keys.waCall(waCallId));
    const now = this.#now();
    // a writer that read the record at `expectedVersion` holds what is stored: a write that succeeds changed
    // only the patched fields, the version and updatedAt, so the new record is made here, not read back
    const brief = read !== undefined && read.version === expectedVersion;
    const args = [expectedVersion, now, this.#ttlsJson, this.#endedIndexMax, now - this.#ttls.ended, callId, brief ? 'brief' : 'hash', ...pairs(fields)];
    const res = (await UPDATE_CALL.run(this.#redis, keys, args)) as unknown[];
    switch (res[0]) {
      case 'OK': {
        const record = brief ? { ...read, ...parsePatch(callId, fields), version: expectedVersion + 1, updatedAt: now } : parseCallRecord(callId, hashOf(res.slice(1)));
        this.#remember(record);
        return record;
      }
      case 'CONFLICT':
        this.#known.delete(callId);
        throw new VersionConflictError(callId, expectedVersion, Number(res[1]));
      case 'NOT_FOUND':
        this.#known.delete(callId);
        throw new CallNotFoundError(callId);
      case 'TERMINAL':
        throw new InvalidStateError('ended', `call ${callId} has ended and cannot move to ${String(patch.state)}`);
      case 'WA_IMMUTABLE':
        throw new WaCallIdConflictError(String(patch.waCallId), callId, `the call already has ${String(res[1])}`);
      case 'WA_TAKEN':
        throw new WaCallIdConflictError(String(patch.waCallId), callId, `it belongs to ${String(res[1])}`);
      default:
        throw new Error(`unexpected reply from the call update script: ${JSON.stringify(res.slice(0, 2))}`);
    }
  }

  /**
   * Reads the call, runs the machine on `event` and, if the transition applies, writes the new state plus the
   * fields it implies (`deriveTransitionPatch`) and the caller's `patch` by compare-and-set. On a lost CAS it
   * re-reads and decides again (bounded by `maxApplyAttempts`), so N concurrent identical events apply once.
   * Throws `CallNotFoundError`, `InvalidTransitionError` (internal misuse) or, after the last attempt,
   * `VersionConflictError`.
   */
  apply(callId: string, event: CallEvent, patch?: PatchInput): Promise<ApplyResult> {
    return this.#inTurn(callId, () => this.#apply(callId, event, patch));
  }

  async #apply(callId: string, event: CallEvent, patch?: PatchInput): Promise<ApplyResult> {
    let lastConflict: VersionConflictError | undefined;
    for (let attempt = 1; attempt <= this.#maxAttempts; attempt++) {
      let { record: current, fresh } = await this.#current(callId);
      let decision = transition(current, event);
      if (decision.kind === 'ignored' && !fresh) {
        // only a write proves a remembered record current: an ignore is decided again on the stored one
        current = await this.#require(callId);
        fresh = true;
        decision = transition(current, event);
      }
      if (decision.kind === 'ignored') return { outcome: 'ignored', reason: decision.reason, record: current };
      const extra = typeof patch === 'function' ? patch(current) : (patch ?? {});
      if ('state' in extra) throw new TypeError('apply: the state is decided by the machine, not by the patch');
      const derived = deriveTransitionPatch({ ...current, ...extra }, event, decision.to, this.#now());
      try {
        const record = await this.#write(callId, current.version, { ...derived, ...extra, state: decision.to }, current);
        return { outcome: 'applied', from: decision.from, to: decision.to, record };
      } catch (err) {
        if (!(err instanceof VersionConflictError)) throw err;
        lastConflict = err;
        this.#log.debug({ callId, event: event.type, attempt }, 'call record changed under us: deciding again');
        if (!fresh) attempt--; // a remembered record that was stale is not a lost race: read and decide again
        else await this.#backOff(attempt);
      }
    }
    throw lastConflict ?? new Error('unreachable');
  }

  /**
   * Writes fields without a state change (leg ids, SDP, codec), by compare-and-set with bounded retries.
   * Throws `CallNotFoundError`, or `VersionConflictError` after the last attempt.
   */
  amend(callId: string, patch: PatchInput): Promise<CallRecord> {
    return this.#inTurn(callId, () => this.#amend(callId, patch));
  }

  async #amend(callId: string, patch: PatchInput): Promise<CallRecord> {
    let lastConflict: VersionConflictError | undefined;
    for (let attempt = 1; attempt <= this.#maxAttempts; attempt++) {
      const { record: current, fresh } = await this.#current(callId);
      const extra = typeof patch === 'function' ? patch(current) : patch;
      if ('state' in extra) throw new TypeError('amend: a state change goes through apply');
      try {
        return await this.#write(callId, current.version, extra, current);
      } catch (err) {
        if (!(err instanceof VersionConflictError)) throw err;
        lastConflict = err;
        if (!fresh) attempt--; // the remembered record was stale: read and write again
        else await this.#backOff(attempt);
      }
    }
    throw lastConflict ?? new Error('unreachable');
  }

  /**
   * Those of `callIds` whose record exists and has not ended, each with its waCallId (one pipelined read of each
   * record's state and waCallId).
   */
  async liveAmong(callIds: readonly string[]): Promise<Map<string, string | undefined>> {
    const live = new Map<string, string | undefined>();
    if (callIds.length === 0) return live;
    const pipeline = this.#redis.pipeline();
    for (const id of callIds) pipeline.hmget(this.#keys.call(id), 'state', 'waCallId');
    const replies = (await pipeline.exec()) ?? [];
    replies.forEach(([err, fields], i) => {
      if (err) throw err;
      const [state, waCallId] = fields as (string | null)[];
      if (typeof state === 'string' && !isTerminal(state as CallState)) live.set(callIds[i] as string, waCallId || undefined);
    });
    return live;
  }

  /**
   * Renews the TTL of the live calls `liveAmong` gave (those not ending since) when less than half of the live
   * TTL is left, their media instance and wacall alias keys with them: a call whose media is still held must not
   * lose its record to the TTL. Returns how many were renewed.
   */
  async renewLive(live: ReadonlyMap<string, string | undefined>): Promise<number> {
    const ttl = this.#ttls.active;
    const renewed = await Promise.all(
      [...live].map(([id, wa]) => {
        const keys = [this.#keys.call(id), this.#keys.mediaOfCall(id), ...(wa ? [this.#keys.waCall(wa)] : [])];
        return RENEW_LIVE_CALL.run(this.#redis, keys, [ttl]);
      }),
    );
    return renewed.filter((r) => r === 2).length;
  }

  /** Live calls (not yet ended), oldest first. Index entries whose record expired are dropped. */
  listActive(limit = 1000): Promise<CallRecord[]> {
    return this.#loadIndexed(this.#keys.activeCalls, 'oldest', limit);
  }

  /** Ended calls (CDRs), most recently ended first. */
  listRecent(limit = 100): Promise<CallRecord[]> {
    return this.#loadIndexed(this.#keys.endedCalls, 'newest', limit);
  }

  /**
   * Ended calls (CDRs) by end time, oldest first, a page at a time: those ended at or after `since` and before
   * `until` (epoch ms), from just after `after` (the `next` of the page before: the last CDR's end time and id,
   * so calls ending in the same millisecond are neither skipped nor repeated). `next` is absent on the last
   * page. CDRs whose record has expired are left out (and dropped from the index).
   */
  async listEnded(query: EndedQuery): Promise<EndedPage> {
    const { limit } = query;
    if (!Number.isSafeInteger(limit) || limit <= 0) throw new TypeError(`limit must be a positive integer, got ${limit}`);
    const key = this.#keys.endedCalls;
    let min = query.since ?? 0;
    let offset = 0;
    const after = query.after;
    // a cursor from before `since` changes nothing; otherwise the page starts at its end time
    if (after && after.endedAt >= min) {
      min = after.endedAt;
      // Redis orders one score's members by their bytes: those up to the cursor's id were on earlier pages
      const tied = await this.#redis.zrangebyscore(key, after.endedAt, after.endedAt);
      offset = tied.filter((id) => id <= after.callId).length;
    }
    const max = query.until === undefined ? '+inf' : `(${query.until}`;
    const flat = await this.#redis.zrangebyscore(key, min, max, 'WITHSCORES', 'LIMIT', offset, limit + 1);
    const entries: { callId: string; endedAt: number }[] = [];
    for (let i = 0; i + 1 < flat.length; i += 2) entries.push({ callId: flat[i] as string, endedAt: Number(flat[i + 1]) });
    const page = entries.slice(0, limit);
    const last = page[page.length - 1];
    const records = await this.#loadIds(key, page.map((e) => e.callId));
    return { records, ...(entries.length > limit && last ? { next: last } : {}) };
  }

  /**
   * Runs `write` once this process's earlier writes to the call have settled. Two writes of one process
   * started side by side (the WhatsApp and PBX legs recorded as each comes up, a `ringing` while `dialing`
   * is written) would otherwise both start from the same remembered version and one would lose its
   * compare-and-set, costing a failed script run and a read; in turn, the second starts from the first's
   * result. Writes of other processes still race through the compare-and-set.
   */
  #inTurn<T>(callId: string, write: () => Promise<T>): Promise<T> {
    const before = this.#writing.get(callId);
    const run = before ? before.then(write) : write();
    const settled = run.then(
      () => undefined,
      () => undefined,
    );
    this.#writing.set(callId, settled);
    void settled.then(() => {
      if (this.#writing.get(callId) === settled) this.#writing.delete(callId);
    });
    return run;
  }

  /**
   * After a lost compare-and-set, waits a random 0..2^attempt ms (not after the last attempt), so writers
   * racing on one call under load stop colliding in lockstep and each gets its turn.
   */
  async #backOff(attempt: number): Promise<void> {
    if (attempt >= this.#maxAttempts) return;
    await new Promise((resolve) => setTimeout(resolve, Math.random() * 2 ** attempt));
  }

  /** The record a write starts from: the remembered one (no read), else the stored one. */
  async #current(callId: string): Promise<{ record: CallRecord; fresh: boolean }> {
    const known = this.#known.get(callId);
    if (known) return { record: known, fresh: false };
    return { record: await this.#require(callId), fresh: true };
  }

  /** Remembers a live record (newest version wins); an ended call is forgotten. Bounded: full means start over. */
  #remember(record: CallRecord): void {
    if (this.#knownMax === 0) return;
    if (record.state === 'ended') {
      this.#known.delete(record.callId);
      return;
    }
    const known = this.#known.get(record.callId);
    if (known && known.version > record.version) return;
    if (!known && this.#known.size >= this.#knownMax) this.#known.clear();
    this.#known.set(record.callId, record);
  }

  async #require(callId: string): Promise<CallRecord> {
    const record = await this.get(callId);
    if (!record) throw new CallNotFoundError(callId);
    return record;
  }

  async #loadIndexed(indexKey: string, order: 'oldest' | 'newest', limit: number): Promise<CallRecord[]> {
    if (!Number.isSafeInteger(limit) || limit <= 0) throw new TypeError(`limit must be a positive integer, got ${limit}`);
    const ids = order === 'oldest' ? await this.#redis.zrange(indexKey, 0, limit - 1) : await this.#redis.zrevrange(indexKey, 0, limit - 1);
    return this.#loadIds(indexKey, ids);
  }

  /** The records of `ids` in their order; ids whose record is gone are dropped from `indexKey`. */
  async #loadIds(indexKey: string, ids: readonly string[]): Promise<CallRecord[]> {
    if (ids.length === 0) return [];
    const pipeline = this.#redis.pipeline();
    for (const id of ids) pipeline.hgetall(this.#keys.call(id));
    const replies = (await pipeline.exec()) ?? [];
    const records: CallRecord[] = [];
    const gone: string[] = [];
    ids.forEach((id, i) => {
      const [err, hash] = replies[i] ?? [new Error('no reply'), null];
      if (err) throw err;
      const fields = hash as Record<string, string>;
      if (Object.keys(fields).length === 0) return void gone.push(id);
      try {
        records.push(parseCallRecord(id, fields));
      } catch (parseErr) {
        this.#log.warn({ callId: id, err: parseErr }, 'invalid call record skipped in listing');
      }
    });
    if (gone.length > 0) await this.#redis.zrem(indexKey, ...gone);
    return records;
  }
}
