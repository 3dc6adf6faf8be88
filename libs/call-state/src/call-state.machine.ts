import { InvalidStateError, InvalidTransitionError } from './call-state.errors';

/**
 * The call state machine: states, events, one transition table and one pure `transition` function.
 * No I/O: use cases apply a transition, persist it (CallRepository CAS), log `{callId, from, to, event}`,
 * then run their side effects.
 *
 * ```
 *  user-initiated (inbound)                  business-initiated (outbound)
 *
 *   wa.connect (creates)                      agent call (creates)             PBX INVITE (creates)
 *        |                                           |                                |
 *        v                                           v                                |
 *    offered ----accept.requested----+      permission-pending                        |
 *        |        (no PBX: demo)     |        | permission.granted | pbx.dialing      |
 *        | pbx.dialing               |        v                                       |
 *        v                           |    dialing-pbx <- created here when no         |
 *    dialing-pbx                     |        |          permission request is needed |
 *        | pbx.ringing               |        | pbx.ringing                           |
 *        v                           |        v                                       |
 *    ringing-pbx                     |    ringing-pbx                                 |
 *        | pbx.answered              |        | wa.dialing (agent answered,           |
 *        v                           |        v            connect sent)              v
 *    accepting <---------------------+    dialing-wa <------------------------- (created here)
 *        | wa.accept-sent                     | wa.ringing
 *        v                                    v
 *     active                              ringing-wa --wa.accepted--> active   (wa.answer, the SDP, is
 *                                                                          applied in either wa state)
 *
 *  any non-terminal state --(wa.terminate | wa.rejected | pbx.failed | pbx.hangup | permission.declined
 *                             | hangup.requested | failed)--> ending --legs.released--> ended
 *  permission-pending --permission.expired--> ending   (late, so ignored, in every later state)
 * ```
 * (`dialing-pbx`/`ringing-pbx` are one pair of states shared by both directions; `pbx.answered` in them
 * leads to `accepting`, which an outbound call never enters, so on an outbound call the PBX answer is
 * carried by `wa.dialing` instead and a stray `pbx.answered` is ignored.)
 *
 * States:
 * - `permission-pending`: business-initiated; a call permission request is out, waiting for the reply.
 * - `offered`: user-initiated; Meta's `connect` (offer) arrived; the answer is built and `pre_accept` sent.
 * - `dialing-pbx`: an INVITE toward the PBX is out (inbound: the destination; outbound: the agent's phone).
 * - `ringing-pbx`: the PBX side alerts (180/183).
 * - `dialing-wa`: business-initiated; `connect` sent to WhatsApp (PBX-originated calls start here).
 * - `ringing-wa`: business-initiated; WhatsApp reported `RINGING`. `ACCEPTED` (the user picked up) makes
 *   the call `active`; the `connect` webhook's SDP answer comes earlier and changes no state.
 * - `accepting`: inbound; the call was answered (PBX 200 OK, or the gateway itself), `accept` in flight.
 * - `active`: both legs up, media bridged.
 * - `ending`: teardown in progress; every further event except `legs.released` is late and ignored.
 * - `ended`: terminal, no outgoing edges; the record is the CDR.
 *
 * Events are external (webhooks from WhatsApp, SIP from the PBX, and the results of our own requests to
 * them: everything `wa.*`/`pbx.*` plus the permission replies) or internal (our decisions). External
 * events arrive late, twice or out of order (reference §2.1: `terminate` before `connect`), so a missing
 * table entry for them means "impossible here: ignore and log". A missing entry for an internal event is a
 * bug in the caller and throws `InvalidTransitionError`.
 */
export const CALL_STATES = [
  'permission-pending',
  'offered',
  'dialing-pbx',
  'ringing-pbx',
  'dialing-wa',
  'ringing-wa',
  'accepting',
  'active',
  'ending',
  'ended',
] as const;
export type CallState = (typeof CALL_STATES)[number];

/** `inbound`: user -> business (user-initiated). `outbound`: business -> user (agent or PBX originated). */
export const CALL_DIRECTIONS = ['inbound', 'outbound'] as const;
export type CallDirection = (typeof CALL_DIRECTIONS)[number];

/** Who ended a call: the WhatsApp side (user or Meta), the PBX, our API (agent/operator), or the gateway. */
export const END_PARTIES = ['wa', 'pbx', 'api', 'system'] as const;
export type EndedBy = (typeof END_PARTIES)[number];

export type CallEvent =
  /** User-initiated offer received. Creates a call in `offered`; on an existing call it is a duplicate. */
  | { type: 'wa.connect' }
  /** Our call permission request was sent (optionally its message id, to match the reply). */
  | { type: 'permission.requested'; messageId?: string }
  | { type: 'permission.granted' }
  | { type: 'permission.declined' }
  /**
   * No reply to our call permission request in time (signalling.permissionWaitMs): ends a call still waiting
   * for it, and is late anywhere else (the reply came, maybe to another signalling process, and moved it on).
   */
  | { type: 'permission.expired'; cause: string }
  /** An INVITE toward the PBX is going out. */
  | { type: 'pbx.dialing'; sipCallId?: string }
  | { type: 'pbx.ringing' }
  | { type: 'pbx.answered' }
  /** The INVITE toward the PBX failed (final non-2xx, timeout, transport error). */
  | { type: 'pbx.failed'; cause: string; status?: number }
  /** The PBX side hung up (BYE, CANCEL). */
  | { type: 'pbx.hangup'; cause: string }
  /** Our business-initiated `connect` was sent and accepted by the Graph API. */
  | { type: 'wa.dialing'; waCallId?: string }
  | { type: 'wa.ringing' }
  /** Business-initiated `connect` webhook carrying WhatsApp's SDP answer: the user picked up. */
  | { type: 'wa.answer' }
  /** Status `ACCEPTED`: audit only, arrives after media (reference §2.5); never moves the call. */
  | { type: 'wa.accepted' }
  | { type: 'wa.rejected' }
  /** Inbound with no PBX: the gateway answers by itself (demo); `accept` will be sent. */
  | { type: 'accept.requested' }
  /** Our `accept` returned 200. */
  | { type: 'wa.accept-sent' }
  | { type: 'wa.terminate'; status: 'completed' | 'failed'; cause?: string; errorCode?: number }
  | { type: 'hangup.requested'; by: EndedBy; cause: string }
  /** Internal failure (media app, timeout, exception in a use case). */
  | { type: 'failed'; cause: string }
  /** Every leg of an `ending` call has been released. */
  | { type: 'legs.released' };
export type CallEventType = CallEvent['type'];

/** Where each event comes from; decides ignore (external) or throw (internal) for impossible pairs. */
export const EVENT_ORIGINS: Readonly<Record<CallEventType, 'external' | 'internal'>> = {
  'wa.connect': 'external',
  'permission.requested': 'internal',
  'permission.granted': 'external',
  'permission.declined': 'external',
  // a timer's verdict, judged against the record as it is when applied: late once the call moved on
  'permission.expired': 'external',
  'pbx.dialing': 'external',
  'pbx.ringing': 'external',
  'pbx.answered': 'external',
  'pbx.failed': 'external',
  'pbx.hangup': 'external',
  'wa.dialing': 'external',
  'wa.ringing': 'external',
  'wa.answer': 'external',
  'wa.accepted': 'external',
  'wa.rejected': 'external',
  'accept.requested': 'internal',
  'wa.accept-sent': 'external',
  'wa.terminate': 'external',
  'hangup.requested': 'internal',
  failed: 'internal',
  'legs.released': 'internal',
};
export const CALL_EVENT_TYPES = Object.keys(EVENT_ORIGINS) as readonly CallEventType[];

/** States a call of each direction can be in; a transition leading elsewhere is off-direction. */
export const DIRECTION_STATES: Readonly<Record<CallDirection, readonly CallState[]>> = {
  inbound: ['offered', 'dialing-pbx', 'ringing-pbx', 'accepting', 'active', 'ending', 'ended'],
  outbound: ['permission-pending', 'dialing-pbx', 'ringing-pbx', 'dialing-wa', 'ringing-wa', 'active', 'ending', 'ended'],
};

/** States a record may be created in, per direction (see the diagram). */
export const INITIAL_STATES: Readonly<Record<CallDirection, readonly CallState[]>> = {
  inbound: ['offered'],
  outbound: ['permission-pending', 'dialing-pbx', 'dialing-wa'],
};

/** States whose call is live (in the active index, live TTL). */
export const LIVE_STATES: readonly CallState[] = CALL_STATES.filter((s) => s !== 'ending' && s !== 'ended');

type Row = Partial<Record<CallEventType, CallState | 'ignore'>>;

const TEARDOWN: Row = { 'hangup.requested': 'ending', failed: 'ending' };
const LATE_PERMISSION: Row = { 'permission.granted': 'ignore', 'permission.declined': 'ignore', 'permission.expired': 'ignore' };
const PBX_LEG_ENDS: Row = { 'pbx.failed': 'ending', 'pbx.hangup': 'ending' };
const LATE_PBX_PROGRESS: Row = { 'pbx.dialing': 'ignore', 'pbx.ringing': 'ignore', 'pbx.answered': 'ignore' };
const ALL_LATE: Row = Object.fromEntries(CALL_EVENT_TYPES.map((t) => [t, 'ignore'])) as Row;

const PBX_DIALED: Row = {
  'wa.connect': 'ignore',
  ...LATE_PERMISSION,
  'pbx.dialing': 'ignore',
  ...PBX_LEG_ENDS,
  'pbx.answered': 'accepting',
  'wa.dialing': 'dialing-wa',
  'wa.terminate': 'ending',
  ...TEARDOWN,
};

const WA_DIALED: Row = {
  ...LATE_PERMISSION,
  ...LATE_PBX_PROGRESS,
  ...PBX_LEG_ENDS,
  'wa.dialing': 'ignore',
  // Meta's connect webhook carries the SDP answer before the user's phone rings (BIC-2606: connect, then
  // statuses RINGING, ACCEPTED): applying it starts ICE/DTLS, but only ACCEPTED says the user picked up.
  'wa.answer': 'ignore',
  'wa.accepted': 'active',
  'wa.rejected': 'ending',
  'wa.terminate': 'ending',
  ...TEARDOWN,
};

/** The one transition table. A missing entry means the event is impossible in that state. */
export const TRANSITIONS: Readonly<Record<CallState, Readonly<Row>>> = {
  'permission-pending': {
    'permission.requested': 'permission-pending',
    'permission.granted': 'dialing-pbx',
    'permission.declined': 'ending',
    'permission.expired': 'ending',
    'pbx.dialing': 'dialing-pbx',
    ...TEARDOWN,
  },
  offered: {
    'wa.connect': 'ignore',
    'pbx.dialing': 'dialing-pbx',
    'accept.requested': 'accepting',
    'wa.terminate': 'ending',
    ...TEARDOWN,
  },
  'dialing-pbx': { ...PBX_DIALED, 'pbx.ringing': 'ringing-pbx' },
  'ringing-pbx': { ...PBX_DIALED, 'pbx.ringing': 'ignore' },
  'dialing-wa': { ...WA_DIALED, 'wa.ringing': 'ringing-wa' },
  'ringing-wa': { ...WA_DIALED, 'wa.ringing': 'ignore' },
  accepting: {
    'wa.connect': 'ignore',
    ...LATE_PBX_PROGRESS,
    ...PBX_LEG_ENDS,
    'accept.requested': 'ignore',
    'wa.accept-sent': 'active',
    'wa.terminate': 'ending',
    ...TEARDOWN,
  },
  active: {
    'wa.connect': 'ignore',
    ...LATE_PERMISSION,
    ...LATE_PBX_PROGRESS,
    ...PBX_LEG_ENDS,
    'wa.dialing': 'ignore',
    'wa.ringing': 'ignore',
    'wa.answer': 'ignore',
    'wa.accepted': 'ignore',
    'accept.requested': 'ignore',
    'wa.accept-sent': 'ignore',
    'wa.terminate': 'ending',
    ...TEARDOWN,
  },
  ending: { ...ALL_LATE, 'legs.released': 'ended' },
  ended: ALL_LATE,
};

/** What `transition` needs to know about a call. A `CallRecord` is one. */
export interface CallSnapshot {
  state: CallState;
  direction: CallDirection;
}

export type TransitionResult =
  | { kind: 'applied'; from: CallState; to: CallState }
  | { kind: 'ignored'; state: CallState; reason: string };

/**
 * Decides what `event` does to a call in `snapshot.state`. Pure. Returns `applied` (possibly a self-loop,
 * e.g. `permission.requested` again) or `ignored` with a reason to log; throws `InvalidTransitionError` only
 * for an internal event that is impossible in this state.
 */
export function transition(snapshot: CallSnapshot, event: CallEvent): TransitionResult {
  const { state, direction } = snapshot;
  const row = TRANSITIONS[state] as Row | undefined;
  if (!row) throw new TypeError(`unknown call state ${String(state)}`);
  const origin = EVENT_ORIGINS[event.type];
  if (!origin) throw new TypeError(`unknown call event ${String(event.type)}`);
  const target = row[event.type];
  if (target === 'ignore') {
    return { kind: 'ignored', state, reason: `${event.type} is late or repeated in state ${state}` };
  }
  if (target === undefined) {
    if (origin === 'internal') throw new InvalidTransitionError(state, event.type);
    return { kind: 'ignored', state, reason: `${event.type} is impossible in state ${state}` };
  }
  if (!DIRECTION_STATES[direction].includes(target)) {
    const detail = `it leads to ${target}, which an ${direction} call never enters`;
    if (origin === 'internal') throw new InvalidTransitionError(state, event.type, detail);
    return { kind: 'ignored', state, reason: `${event.type} in state ${state}: ${detail}` };
  }
  return { kind: 'applied', from: state, to: target };
}

/** Throws `InvalidStateError` unless a call of `direction` may be created in `state`. */
export function assertInitialState(direction: CallDirection, state: CallState): void {
  if (!INITIAL_STATES[direction].includes(state)) {
    throw new InvalidStateError(state, `an ${direction} call cannot be created in it (allowed: ${INITIAL_STATES[direction].join(', ')})`);
  }
}

export function isTerminal(state: CallState): boolean {
  return state === 'ended';
}
