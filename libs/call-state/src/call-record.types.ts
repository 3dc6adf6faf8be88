import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { InvalidCallRecordError } from './call-state.errors';
import { CALL_DIRECTIONS, CALL_STATES, END_PARTIES } from './call-state.machine';

/** Our id of a call (`call_<time><random>`), WhatsApp's `wacid.…`, and the PBX leg's SIP Call-ID. */
export type CallId = string;
export type WaCallId = string;
export type SipCallId = string;

/** A decimal integer as stored in a Redis hash field. */
const storedInt = z
  .string()
  .regex(/^-?\d{1,16}$/, 'a decimal integer')
  .transform(Number)
  .pipe(z.number().int().min(0));

/**
 * One call as stored in its Redis hash: flat scalar fields only. Times are epoch milliseconds. Read with
 * `parseCallRecord` (validates; unknown fields are dropped), write with `toCallHash`.
 */
export const callRecordHashSchema = z.object({
  callId: z.string().min(1),
  direction: z.enum(CALL_DIRECTIONS),
  state: z.enum(CALL_STATES),
  /** Bumped by every write; the compare-and-set token. */
  version: storedInt,
  createdAt: storedInt,
  updatedAt: storedInt,
  /** When both legs were up (entering `active`). */
  answeredAt: storedInt.optional(),
  /** When the call reached `ended`. */
  endedAt: storedInt.optional(),
  /** Talk time: endedAt - answeredAt, 0 if never answered. */
  durationMs: storedInt.optional(),
  /** The business number (E.164 digits) and its Graph phone number id. */
  businessNumber: z.string(),
  phoneNumberId: z.string(),
  /** The WhatsApp user (wa_id, E.164 digits) and their profile name. */
  userWaId: z.string().optional(),
  userName: z.string().optional(),
  /** Inbound: where the call is routed on the PBX (SIP URI or extension). */
  destination: z.string().optional(),
  /**
   * Inbound: where the user placed the call from, when WhatsApp said so: a call button (`call_button`, its
   * payload) or a deep link (`deep_link`, its biz_payload); routes[].entryPoints may route on the payload.
   */
  entryPoint: z.enum(['call_button', 'deep_link']).optional(),
  entryPayload: z.string().optional(),
  /** Inbound: the voicemail the user left after the call (Meta's media id of the audio message; reference §2.9). */
  voicemailMediaId: z.string().optional(),
  /** Where the PBX redirected the call (the Contact of its 3xx, followed), when it did: where it rang in the end. */
  redirectedTo: z.string().optional(),
  /** Outbound: the agent (id, extension or SIP URI) who places the call. */
  agent: z.string().optional(),
  waCallId: z.string().optional(),
  sipCallId: z.string().optional(),
  /** Leg ids in the media app (WebRTC leg toward WhatsApp, RTP leg toward the PBX). */
  waLegId: z.string().optional(),
  pbxLegId: z.string().optional(),
  /** Our SDP toward WhatsApp (the `pre_accept` and `accept` must carry the same one). */
  waSdp: z.string().optional(),
  /** Codec on the PBX leg, e.g. `PCMU/8000`. */
  codec: z.string().optional(),
  /** SRTP crypto suite on the PBX leg (SDES, the trunk's `srtp`), e.g. `AES_CM_128_HMAC_SHA1_80`; absent: plain RTP. */
  pbxSrtp: z.string().optional(),
  /** Outbound: message id (wamid) of our call permission request, to match the user's reply. */
  permissionMessageId: z.string().optional(),
  /** Why and by whom the call ended, in words; WhatsApp's and the PBX's own cause. */
  endCause: z.string().optional(),
  endedBy: z.enum(END_PARTIES).optional(),
  waCause: z.string().optional(),
  sipCause: z.string().optional(),
  /**
   * The call's duration as WhatsApp counts it, whole seconds (the `duration` of Meta's terminate webhook, sent
   * only for an answered call), and for a business-initiated call what Meta bills: 6-second pulses, rounded up
   * (reference §6.4; user-initiated calls are free).
   */
  waDurationS: storedInt.optional(),
  waBillablePulses: storedInt.optional(),
  /**
   * The signalling process that holds the call's SIP leg and timers (its instance id, new at every start):
   * should its heartbeat stop (a crash), another signalling process ends the call.
   */
  signallingInstance: z.string().optional(),
  /**
   * The PBX leg's SIP dialog once established (libs/sip DialogSnapshot as JSON): what another signalling
   * process needs to hang it up (BYE) should the one holding it die.
   */
  pbxDialog: z.string().optional(),
  /**
   * The PBX leg's INVITE while the PBX rings (libs/sip PendingInviteSnapshot as JSON): what another signalling
   * process needs to CANCEL it should the one holding it die before the answer.
   */
  pbxInvite: z.string().optional(),
  /**
   * The PBX's INVITE of a PBX call to a WhatsApp user (libs/sip IncomingInviteSnapshot as JSON): what another
   * signalling process needs to answer it with a final response should the one holding it die before the answer.
   */
  pbxIncomingInvite: z.string().optional(),
  /**
   * The media of a bridged call, written once its bridge stopped: `transcode` or `passthrough`, and what the
   * gateway received from each side (RTP packets, RFC 3550 cumulative loss, interarrival jitter in whole ms):
   * `wa*` from the WhatsApp user, `pbx*` from the desk phone. Absent for a call that was never bridged.
   */
  mediaMode: z.enum(['transcode', 'passthrough']).optional(),
  waPacketsReceived: storedInt.optional(),
  waPacketsLost: storedInt.optional(),
  waJitterMs: storedInt.optional(),
  pbxPacketsReceived: storedInt.optional(),
  pbxPacketsLost: storedInt.optional(),
  pbxJitterMs: storedInt.optional(),
});

export type CallRecord = z.output<typeof callRecordHashSchema>;

/** Every field name of a record, in schema order. */
export const CALL_RECORD_FIELDS = Object.keys(callRecordHashSchema.shape) as readonly (keyof CallRecord)[];

/** Fields fixed at creation or owned by the repository. */
export const IMMUTABLE_FIELDS = ['callId', 'direction', 'createdAt', 'version', 'updatedAt'] as const;
type ImmutableField = (typeof IMMUTABLE_FIELDS)[number];

/** What a write may change. `state` changes belong to `CallRepository.apply` (the machine decides). */
export type CallPatch = Partial<Omit<CallRecord, ImmutableField>>;

/** A record to create: version starts at 0; createdAt/updatedAt default to now. */
export type NewCallRecord = Omit<CallRecord, 'version' | 'createdAt' | 'updatedAt'> & {
  version?: 0;
  createdAt?: number;
  updatedAt?: number;
};

const NUMERIC_FIELDS = new Set<string>([
  'version',
  'createdAt',
  'updatedAt',
  'answeredAt',
  'endedAt',
  'durationMs',
  'waDurationS',
  'waBillablePulses',
  'waPacketsReceived',
  'waPacketsLost',
  'waJitterMs',
  'pbxPacketsReceived',
  'pbxPacketsLost',
  'pbxJitterMs',
]);
const KNOWN_FIELDS = new Set<string>(CALL_RECORD_FIELDS);

/** Validates a hash read from Redis into a record; throws `InvalidCallRecordError` naming the bad fields. */
export function parseCallRecord(callId: string, hash: Record<string, string>): CallRecord {
  return parseHash(callRecordHashSchema, callId, hash);
}

/** `hash` read with `schema`; throws InvalidCallRecordError with every field's complaint. */
function parseHash<S extends z.ZodType>(schema: S, callId: string, hash: Record<string, string>): z.output<S> {
  const res = schema.safeParse(hash);
  if (!res.success) {
    throw new InvalidCallRecordError(callId, res.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; '));
  }
  return res.data;
}

const callPatchHashSchema = callRecordHashSchema.partial();

/**
 * The fields of a write, as `toCallHash` flattened them, read back with the record's own rules: what a
 * writer that holds the record merges into it after a compare-and-set that succeeded.
 */
export function parsePatch(callId: string, hash: Record<string, string>): Partial<CallRecord> {
  return parseHash(callPatchHashSchema, callId, hash);
}

/**
 * Flattens a record or patch into hash field/value pairs; `undefined` fields are skipped (a write never
 * deletes a field). Throws TypeError for unknown fields or non-integer times: those are bugs.
 */
export function toCallHash(fields: Partial<CallRecord>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(fields)) {
    if (value === undefined) continue;
    if (!KNOWN_FIELDS.has(key)) throw new TypeError(`unknown call record field ${key}`);
    if (NUMERIC_FIELDS.has(key)) {
      if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) throw new TypeError(`call record field ${key} must be a non-negative integer, got ${String(value)}`);
      out[key] = String(value);
    } else {
      if (typeof value !== 'string') throw new TypeError(`call record field ${key} must be a string, got ${typeof value}`);
      out[key] = value;
    }
  }
  return out;
}

/** Throws TypeError when a patch tries to change a field fixed at creation or owned by the repository. */
export function assertPatchable(patch: object): void {
  for (const key of IMMUTABLE_FIELDS) {
    if (key in patch && (patch as Record<string, unknown>)[key] !== undefined) throw new TypeError(`call record field ${key} cannot be patched`);
  }
}

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/**
 * A new call id: `call_` + 10 characters of millisecond time + 16 random characters (Crockford base32,
 * ULID layout), so ids sort by creation time.
 */
export function newCallId(now: number = Date.now()): CallId {
  let time = '';
  let t = Math.floor(now);
  for (let i = 0; i < 10; i++) {
    time = CROCKFORD[t % 32] + time;
    t = Math.floor(t / 32);
  }
  const bytes = randomBytes(16);
  let rand = '';
  for (const b of bytes) rand += CROCKFORD[b % 32];
  return `call_${time}${rand}`;
}
