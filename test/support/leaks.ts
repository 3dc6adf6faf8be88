import { MediaBusClient } from '../../apps/signalling/src/media/media-bus.client';
import { eventually, type Stack } from './stack';

/**
 * Keys that outlive a call by design: webhook de-dup markers (TTL, including the early-terminate marker),
 * parked webhooks, the user's permission record and the contact list. Everything else of a call must be
 * gone once it ended, except its record (the CDR) and its entry in the ended index.
 */
export const NOT_CALL_STATE_KEY = /:webhooks:seen:|:webhooks:dead-letter$|:perm:|:contacts(:names)?$/;

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
  const prefix = stack.config.redis.keyPrefix;
  const res = await stack.api('GET', '/v1/calls');
  if (res.status !== 200) throw new Error(`GET /v1/calls -> ${res.status}`);
  const activeCalls = (res.body as { active: unknown[] }).active;
  const { waLegs, pbxLegs, bridges, rtpPortsInUse } = await stack.signalling.app.get(MediaBusClient).mediaStats();
  const keys: string[] = [];
  for (const key of await stack.keys()) {
    if (NOT_CALL_STATE_KEY.test(key) || key === `${prefix}:calls:ended`) continue;
    // a call record is a CDR once ended; any other state means the call (or its record) leaked
    if (key.startsWith(`${prefix}:call:`) && (await stack.redis.hget(key, 'state')) === 'ended') continue;
    keys.push(key);
  }
  return { activeCalls, media: { waLegs, pbxLegs, bridges, rtpPortsInUse }, keys };
}

function clean(r: LeakReport): boolean {
  return r.activeCalls.length === 0 && r.keys.length === 0 && Object.values(r.media).every((n) => n === 0);
}

/**
 * After a test: no active calls (API), no WhatsApp or PBX media legs, bridges or RTP ports in the media app,
 * and no Redis keys of a call but its CDR. Waits up to `timeoutMs` for teardown in flight to finish, then
 * fails with what is left. Does nothing when the stack never started (a failed beforeEach).
 */
export async function expectNoLeaks(stack: Stack | undefined, timeoutMs = 10_000): Promise<void> {
  if (!stack) return;
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
