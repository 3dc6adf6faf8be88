import { transition, type CallDirection, type CallEvent, type CallState } from './call-state.machine';

/** Feeds events one by one and returns the state after each (ignored events keep the state). */
function run(direction: CallDirection, start: CallState, events: CallEvent[]): { path: CallState[]; ignored: string[] } {
  let state = start;
  const path: CallState[] = [start];
  const ignored: string[] = [];
  for (const event of events) {
    const res = transition({ state, direction }, event);
    if (res.kind === 'applied') state = res.to;
    else ignored.push(event.type);
    path.push(state);
  }
  return { path, ignored };
}

const END: CallEvent[] = [{ type: 'hangup.requested', by: 'api', cause: 'done' }, { type: 'legs.released' }];

describe('call flows', () => {
  it('a user-initiated call bridged to the PBX goes offered -> dialing-pbx -> ringing-pbx -> accepting -> active -> ending -> ended', () => {
    const { path, ignored } = run('inbound', 'offered', [
      { type: 'pbx.dialing' },
      { type: 'pbx.ringing' },
      { type: 'pbx.answered' },
      { type: 'wa.accept-sent' },
      ...END,
    ]);
    expect(path).toEqual(['offered', 'dialing-pbx', 'ringing-pbx', 'accepting', 'active', 'ending', 'ended']);
    expect(ignored).toEqual([]);
  });

  it('a user-initiated call with no PBX is accepted by the gateway itself', () => {
    const { path } = run('inbound', 'offered', [{ type: 'accept.requested' }, { type: 'wa.accept-sent' }]);
    expect(path).toEqual(['offered', 'accepting', 'active']);
  });

  it('a PBX that answers without a provisional response still reaches accepting', () => {
    const { path } = run('inbound', 'offered', [{ type: 'pbx.dialing' }, { type: 'pbx.answered' }]);
    expect(path.at(-1)).toBe('accepting');
  });

  it('an agent-initiated call asks permission, rings the agent, then WhatsApp', () => {
    const { path, ignored } = run('outbound', 'permission-pending', [
      { type: 'permission.requested', messageId: 'wamid.1' },
      { type: 'permission.granted' },
      { type: 'pbx.ringing' },
      { type: 'wa.dialing', waCallId: 'wacid.1' },
      { type: 'wa.ringing' },
      { type: 'wa.answer' },
      { type: 'wa.accepted' },
      ...END,
    ]);
    expect(path).toEqual([
      'permission-pending',
      'permission-pending',
      'dialing-pbx',
      'ringing-pbx',
      'dialing-wa',
      'ringing-wa',
      'ringing-wa',
      'active',
      'ending',
      'ended',
    ]);
    expect(ignored).toEqual(['wa.answer']);
  });

  it('an outbound call ignores pbx.answered (wa.dialing carries the agent answer)', () => {
    const { path, ignored } = run('outbound', 'dialing-pbx', [{ type: 'pbx.answered' }, { type: 'wa.dialing' }]);
    expect(path).toEqual(['dialing-pbx', 'dialing-pbx', 'dialing-wa']);
    expect(ignored).toEqual(['pbx.answered']);
  });

  it('a PBX-originated call goes dialing-wa -> ringing-wa -> active', () => {
    const { path } = run('outbound', 'dialing-wa', [{ type: 'wa.answer' }, { type: 'wa.ringing' }, { type: 'wa.accepted' }]);
    expect(path).toEqual(['dialing-wa', 'dialing-wa', 'ringing-wa', 'active']);
  });

  it('the user declining permission ends the call', () => {
    const { path } = run('outbound', 'permission-pending', [{ type: 'permission.declined' }, { type: 'legs.released' }]);
    expect(path).toEqual(['permission-pending', 'ending', 'ended']);
  });

  it('an unanswered permission request ends a waiting call; a reply first makes the timer late', () => {
    const expired: CallEvent = { type: 'permission.expired', cause: 'no reply in time' };
    expect(run('outbound', 'permission-pending', [expired, { type: 'legs.released' }]).path).toEqual(['permission-pending', 'ending', 'ended']);
    const moved = run('outbound', 'permission-pending', [{ type: 'permission.granted' }, expired, { type: 'pbx.ringing' }]);
    expect(moved.path).toEqual(['permission-pending', 'dialing-pbx', 'dialing-pbx', 'ringing-pbx']);
    expect(moved.ignored).toEqual(['permission.expired']);
  });

  it('a user rejecting the call, then its terminate, ends it once', () => {
    const { path, ignored } = run('outbound', 'ringing-wa', [
      { type: 'wa.rejected' },
      { type: 'wa.terminate', status: 'completed' },
      { type: 'legs.released' },
    ]);
    expect(path).toEqual(['ringing-wa', 'ending', 'ending', 'ended']);
    expect(ignored).toEqual(['wa.terminate']);
  });

  it('events racing a teardown are ignored, including our own late results', () => {
    const { path, ignored } = run('inbound', 'offered', [
      { type: 'wa.terminate', status: 'completed' },
      { type: 'accept.requested' },
      { type: 'wa.accept-sent' },
      { type: 'failed', cause: 'late' },
      { type: 'legs.released' },
      { type: 'wa.connect' },
      { type: 'legs.released' },
    ]);
    expect(path).toEqual(['offered', 'ending', 'ending', 'ending', 'ending', 'ended', 'ended', 'ended']);
    expect(ignored).toEqual(['accept.requested', 'wa.accept-sent', 'failed', 'wa.connect', 'legs.released']);
  });

  it('duplicate webhooks and retransmitted SIP responses do not move the call', () => {
    const { path, ignored } = run('inbound', 'offered', [
      { type: 'wa.connect' },
      { type: 'pbx.dialing' },
      { type: 'pbx.ringing' },
      { type: 'pbx.ringing' },
      { type: 'pbx.answered' },
      { type: 'pbx.answered' },
    ]);
    expect(path.at(-1)).toBe('accepting');
    expect(ignored).toEqual(['wa.connect', 'pbx.ringing', 'pbx.answered']);
  });
});
