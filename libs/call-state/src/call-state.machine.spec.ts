import { InvalidStateError, InvalidTransitionError } from './call-state.errors';
import {
  CALL_DIRECTIONS,
  CALL_EVENT_TYPES,
  CALL_STATES,
  DIRECTION_STATES,
  EVENT_ORIGINS,
  TRANSITIONS,
  assertInitialState,
  transition,
  type CallDirection,
  type CallEvent,
  type CallEventType,
  type CallState,
} from './call-state.machine';

/** A valid event of each type (payload fields do not influence the machine). */
function eventOf(type: CallEventType): CallEvent {
  switch (type) {
    case 'pbx.failed':
      return { type, cause: '486 Busy Here', status: 486 };
    case 'pbx.hangup':
      return { type, cause: 'BYE' };
    case 'wa.terminate':
      return { type, status: 'completed' };
    case 'hangup.requested':
      return { type, by: 'api', cause: 'agent hung up' };
    case 'failed':
      return { type, cause: 'media app down' };
    case 'permission.expired':
      return { type, cause: 'no reply in time' };
    default:
      return { type } as CallEvent;
  }
}

const ABBR: Record<string, CallState> = {
  PP: 'permission-pending',
  OF: 'offered',
  DP: 'dialing-pbx',
  RP: 'ringing-pbx',
  DW: 'dialing-wa',
  RW: 'ringing-wa',
  AC: 'accepting',
  AV: 'active',
  EG: 'ending',
  ED: 'ended',
};

/**
 * The expected table, written out independently of the implementation. Columns follow EVENT_COLUMNS;
 * a cell is a target state, `..` (ignore: late or repeated) or `xx` (impossible).
 */
const EVENT_COLUMNS: CallEventType[] = [
  'wa.connect', 'permission.requested', 'permission.granted', 'permission.declined', 'permission.expired', 'pbx.dialing',
  'pbx.ringing', 'pbx.answered', 'pbx.failed', 'pbx.hangup', 'wa.dialing',
  'wa.ringing', 'wa.answer', 'wa.accepted', 'wa.rejected', 'accept.requested',
  'wa.accept-sent', 'wa.terminate', 'hangup.requested', 'failed', 'legs.released',
];
const EXPECTED: Record<CallState, string> = {
  //                    con req grt dcl pex pdi pri pan pfl phu wdi wri wan wac wrj acr wac wtr hup fai rel
  'permission-pending': 'xx  PP  DP  EG  EG  DP  xx  xx  xx  xx  xx  xx  xx  xx  xx  xx  xx  xx  EG  EG  xx',
  offered: /*        */ '..  xx  xx  xx  xx  DP  xx  xx  xx  xx  xx  xx  xx  xx  xx  AC  xx  EG  EG  EG  xx',
  'dialing-pbx': /*  */ '..  xx  ..  ..  ..  ..  RP  AC  EG  EG  DW  xx  xx  xx  xx  xx  xx  EG  EG  EG  xx',
  'ringing-pbx': /*  */ '..  xx  ..  ..  ..  ..  ..  AC  EG  EG  DW  xx  xx  xx  xx  xx  xx  EG  EG  EG  xx',
  'dialing-wa': /*   */ 'xx  xx  ..  ..  ..  ..  ..  ..  EG  EG  ..  RW  ..  AV  EG  xx  xx  EG  EG  EG  xx',
  'ringing-wa': /*   */ 'xx  xx  ..  ..  ..  ..  ..  ..  EG  EG  ..  ..  ..  AV  EG  xx  xx  EG  EG  EG  xx',
  accepting: /*      */ '..  xx  xx  xx  xx  ..  ..  ..  EG  EG  xx  xx  xx  xx  xx  ..  AV  EG  EG  EG  xx',
  active: /*         */ '..  xx  ..  ..  ..  ..  ..  ..  EG  EG  ..  ..  ..  ..  xx  ..  ..  EG  EG  EG  xx',
  ending: /*         */ '..  ..  ..  ..  ..  ..  ..  ..  ..  ..  ..  ..  ..  ..  ..  ..  ..  ..  ..  ..  ED',
  ended: /*          */ '..  ..  ..  ..  ..  ..  ..  ..  ..  ..  ..  ..  ..  ..  ..  ..  ..  ..  ..  ..  ..',
};

function expectedCell(state: CallState, type: CallEventType): string {
  const cells = EXPECTED[state].trim().split(/\s+/);
  const cell = cells[EVENT_COLUMNS.indexOf(type)];
  if (cell === undefined) throw new Error(`no expected cell for ${state} x ${type}`);
  return cell;
}

describe('call state machine table', () => {
  it('the expected table covers exactly the states and events of the machine', () => {
    expect([...EVENT_COLUMNS].sort()).toEqual([...CALL_EVENT_TYPES].sort());
    expect(Object.keys(EXPECTED).sort()).toEqual([...CALL_STATES].sort());
    for (const s of CALL_STATES) expect(EXPECTED[s].trim().split(/\s+/)).toHaveLength(EVENT_COLUMNS.length);
  });

  const pairs: [CallDirection, CallState, CallEventType][] = [];
  for (const d of CALL_DIRECTIONS) for (const s of DIRECTION_STATES[d]) for (const e of CALL_EVENT_TYPES) pairs.push([d, s, e]);

  it.each(pairs)('%s call in %s given %s behaves as the table says', (direction, state, type) => {
    const cell = expectedCell(state, type);
    const run = () => transition({ state, direction }, eventOf(type));
    if (cell === '..') {
      expect(run()).toEqual({ kind: 'ignored', state, reason: expect.stringContaining('late or repeated') });
      return;
    }
    if (cell === 'xx') {
      if (EVENT_ORIGINS[type] === 'internal') expect(run).toThrow(InvalidTransitionError);
      else expect(run()).toEqual({ kind: 'ignored', state, reason: expect.stringContaining('impossible') });
      return;
    }
    const to = ABBR[cell];
    if (!to) throw new Error(`bad cell ${cell}`);
    if (DIRECTION_STATES[direction].includes(to)) {
      expect(run()).toEqual({ kind: 'applied', from: state, to });
    } else {
      // only external events can point off-direction (pbx.answered -> accepting, wa.dialing -> dialing-wa)
      expect(EVENT_ORIGINS[type]).toBe('external');
      expect(run()).toEqual({ kind: 'ignored', state, reason: expect.stringContaining(`an ${direction} call never enters`) });
    }
  });

  it('ended has no outgoing edges and ending leaves only on legs.released', () => {
    expect(Object.values(TRANSITIONS.ended).every((v) => v === 'ignore')).toBe(true);
    const out = Object.entries(TRANSITIONS.ending).filter(([, v]) => v !== 'ignore');
    expect(out).toEqual([['legs.released', 'ended']]);
  });

  it('every non-terminal state goes to ending on hangup.requested and on failed', () => {
    for (const state of CALL_STATES.filter((s) => s !== 'ending' && s !== 'ended')) {
      expect(TRANSITIONS[state]['hangup.requested']).toBe('ending');
      expect(TRANSITIONS[state].failed).toBe('ending');
    }
  });

  it('internal misuse names the state and the event', () => {
    expect(() => transition({ state: 'active', direction: 'inbound' }, { type: 'legs.released' })).toThrow(
      expect.objectContaining({ code: 'INVALID_TRANSITION', from: 'active', event: 'legs.released' }),
    );
  });
});

describe('call creation states', () => {
  it('inbound calls start in offered only', () => {
    expect(() => assertInitialState('inbound', 'offered')).not.toThrow();
    expect(() => assertInitialState('inbound', 'dialing-pbx')).toThrow(InvalidStateError);
  });

  it('outbound calls start in permission-pending, dialing-pbx (permission skipped) or dialing-wa (PBX-originated)', () => {
    for (const s of ['permission-pending', 'dialing-pbx', 'dialing-wa'] as const) expect(() => assertInitialState('outbound', s)).not.toThrow();
    expect(() => assertInitialState('outbound', 'offered')).toThrow(InvalidStateError);
    expect(() => assertInitialState('outbound', 'active')).toThrow(InvalidStateError);
  });
});
