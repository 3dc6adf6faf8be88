import { MediaBusClient } from '../../apps/signalling/src/media/media-bus.client';
import { eventually, type Stack } from './stack';

/**
 * Keys that outlive a call by design: webhook de-dup markers (TTL, including the early-terminate marker),
 * parked webhooks, the user's permission record, the contact list, the media instances' heartbeats and the
 * signalling processes' (their set and heartbeats). Everything else of a call must be gone once it ended,
 * except its record (the CDR), its wacall alias and its entry in the ended index.
 */
export const NOT_CALL_STATE_KEY = /:webhooks:seen:|:webhooks:dead-letter$|:perm:|:contacts(:names)?$|:media:instance:|:signalling:instances?(:|$)|:followup:/;

export interface LeakReport {
  /** Calls the API still lists as active. */
  activeCalls: unknown[];
  /** Media app counters that must all be 0. */
  media: { waLegs: number; pbxLegs: number; bridges: number; rtpPortsInUse: number };
  /** Redis keys of call state that should not exist any more (live records, index entries, aliases). */
  keys: string[];
}

/** One look at the stack: what of a call is still held (empty lists and zeros when nothing leaks). */
export async function leakReport(stack: Stack): Promise<LeakReport> {
  const res = await stack.api('GET', '/v1/calls');
  if (res.status !== 200) throw new Error(`GET /v1/calls -> ${res.status}`);
  const activeCalls = (res.body as { active: unknown[] }).active;
  const bus = stack.signalling.app.get(MediaBusClient);
  const media = { waLegs: 0, pbxLegs: 0, bridges: 0, rtpPortsInUse: 0 };
  for (const instanceId of stack.medias.keys()) {
    const stats = await bus.mediaStats(instanceId);
    for (const k of Object.keys(media) as (keyof typeof media)[]) media[k] += stats[k];
  }
  const keys: string[] = [];
  for (const key of await stack.keys()) if (!(await keptAfterEnd(stack, key))) keys.push(key);
  return { activeCalls, media, keys };
}

/**
 * Whether `key` may outlive the calls: not call state (NOT_CALL_STATE_KEY), the ended index, or part of an
 * ended call's CDR (its record, its wacall alias). A live record, a live call's alias or index entry is not.
 */
export async function keptAfterEnd(stack: Stack, key: string): Promise<boolean> {
  const prefix = stack.config.redis.keyPrefix;
  if (NOT_CALL_STATE_KEY.test(key) || key === `${prefix}:calls:ended`) return true;
  if (key.startsWith(`${prefix}:call:`)) return (await stack.redis.hget(key, 'state')) === 'ended';
  if (key.startsWith(`${prefix}:wacall:`)) return (await stack.redis.hget(`${prefix}:call:${await stack.redis.get(key)}`, 'state')) === 'ended';
  return false;
}

function clean(r: LeakReport): boolean {
  return r.activeCalls.length === 0 && r.keys.length === 0 && Object.values(r.media).every((n) => n === 0);
}

export interface NoLeaksOptions {
  /** How long teardown in flight may take. Default 10 s. */
  timeoutMs?: number;
  /**
   * For tests whose story ends with a call still up on purpose (e.g. a webhook posted by hand, with no
   * WhatsApp user behind it to hang up): hang every live call up through the API first, then check that
   * ending it released everything. Off by default: a call left up is a leak.
   */
  endLiveCalls?: boolean;
}

/**
 * After a test: no active calls (API), no WhatsApp or PBX media legs, bridges or RTP ports in the media app,
 * and no Redis keys of a call but its CDR. Waits up to `timeoutMs` (or `opts` when a number) for teardown
 * in flight to finish, then fails with what is left. Does nothing when the stack never started (a failed beforeEach).
 */
export async function expectNoLeaks(stack: Stack | undefined, opts: NoLeaksOptions | number = {}): Promise<void> {
  if (!stack) return;
  const options = typeof opts === 'number' ? { timeoutMs: opts } : opts;
  const timeoutMs = options.timeoutMs ?? 10_000;
  if (options.endLiveCalls) {
    const { active } = (await stack.api('GET', '/v1/calls')).body as { active: { callId: string }[] };
    for (const { callId } of active) {
      const res = await stack.api('POST', `/v1/calls/${callId}/hangup`);
      if (res.status !== 200 && res.status !== 404) throw new Error(`hang-up of the live call ${callId} -> ${res.status}: ${JSON.stringify(res.body)}`);
    }
  }
  let last: LeakReport | undefined;
  try {
    await eventually(
      'no active calls, media legs, RTP ports or call keys',
      async () => {
        last = await leakReport(stack);
        return clean(last);
      },
      timeoutMs,
      100,
    );
  } catch (err) {
    throw new Error(`${(err as Error).message}\nstill held: ${JSON.stringify(last, null, 2)}`);
  }
}
