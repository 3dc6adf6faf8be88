/**
 * The one builder of the gateway's Redis key names (docs/ARCHITECTURE.md, "Redis keys"). Every key lives
 * under `<redis.keyPrefix>:` so several gateways can share a Redis; nothing else concatenates key names.
 *
 * | key                            | type   | what                                                    |
 * |--------------------------------|--------|---------------------------------------------------------|
 * | `call:<callId>`                | hash   | the call record; TTL by state                           |
 * | `calls:active`                 | zset   | live call ids scored by creation time (ms)              |
 * | `calls:ended`                  | zset   | ended call ids (CDRs) scored by end time (ms), capped   |
 * | `wacall:<waCallId>`            | string | waCallId -> callId, TTL in step with the record         |
 * | `webhooks:seen:<dedupKey>`     | string | webhook de-dup claim (`SET NX EX`)                      |
 * | `webhooks:dead-letter`         | list   | parked webhooks of unknown/invalid shape                |
 * | `perm:<phoneNumberId>:<waId>`  | hash   | call permission state per business number + user        |
 * | `media:instance:<instanceId>`  | string | a media app's heartbeat (expires when it stops beating) |
 * | `media:call:<callId>`          | string | the media instance a call's legs are on (several only)  |
 * | `signalling:instances`         | set    | ids of the signalling processes that have run           |
 * | `signalling:instance:<id>`     | string | a signalling process's heartbeat (expires when it stops) |
 * | `signalling:reaper:<id>`       | string | who ends a lost signalling process's calls (`SET NX PX`) |
 */
export interface RedisKeys {
  /** The prefix itself (without the trailing colon). */
  readonly prefix: string;
  /** SCAN pattern matching every key under the prefix (for tools and tests). */
  readonly allPattern: string;
  call(callId: string): string;
  readonly activeCalls: string;
  readonly endedCalls: string;
  waCall(waCallId: string): string;
  webhookSeen(dedupKey: string): string;
  readonly webhookDeadLetter: string;
  permission(phoneNumberId: string, waId: string): string;
  mediaInstance(instanceId: string): string;
  mediaOfCall(callId: string): string;
  readonly signallingInstances: string;
  signallingInstance(instanceId: string): string;
  signallingReaper(instanceId: string): string;
}

const SAFE_PART = /^[^\s*?[\]]{1,512}$/;

/** Whether `value` can be part of a key (an id from a request can be checked before it is looked up). */
export function isKeyPart(value: unknown): value is string {
  return typeof value === 'string' && SAFE_PART.test(value);
}

/** Rejects empty parts and characters that would make a key ambiguous or a SCAN pattern wide. */
function part(kind: string, value: string): string {
  if (!isKeyPart(value)) throw new TypeError(`invalid ${kind} for a Redis key: ${JSON.stringify(value)}`);
  return value;
}

export function redisKeys(keyPrefix: string): RedisKeys {
  const prefix = part('key prefix', keyPrefix);
  return {
    prefix,
    allPattern: `${prefix}:*`,
    call: (callId) => `${prefix}:call:${part('call id', callId)}`,
    activeCalls: `${prefix}:calls:active`,
    endedCalls: `${prefix}:calls:ended`,
    waCall: (waCallId) => `${prefix}:wacall:${part('WhatsApp call id', waCallId)}`,
    webhookSeen: (dedupKey) => `${prefix}:webhooks:seen:${part('de-dup key', dedupKey)}`,
    webhookDeadLetter: `${prefix}:webhooks:dead-letter`,
    permission: (phoneNumberId, waId) => `${prefix}:perm:${part('phone number id', phoneNumberId)}:${part('wa id', waId)}`,
    mediaInstance: (instanceId) => `${prefix}:media:instance:${part('media instance id', instanceId)}`,
    mediaOfCall: (callId) => `${prefix}:media:call:${part('call id', callId)}`,
    signallingInstances: `${prefix}:signalling:instances`,
    signallingInstance: (instanceId) => `${prefix}:signalling:instance:${part('signalling instance id', instanceId)}`,
    signallingReaper: (instanceId) => `${prefix}:signalling:reaper:${part('signalling instance id', instanceId)}`,
  };
}
