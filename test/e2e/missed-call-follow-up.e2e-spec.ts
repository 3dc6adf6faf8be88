import type { CallRecord } from '@wagw/call-state';
import { MissedCallFollowUp } from '../../apps/signalling/src/calls/missed-call-follow-up';
import type { CrmEvent } from '../../apps/signalling/src/events/crm-event.types';
import { eventually, startStack, type Stack } from '../support/stack';
import { expectNoLeaks } from '../support/leaks';
import { startCrmReceiver, type CrmReceiver } from '../support/crm-receiver';
import { startSippPbx, trunkEnv, type SippPbx } from '../support/sipp-pbx';

/**
 * Missed-call follow-up (signalling.missedCallFollowUp): a WhatsApp user's call that the PBX (SIPp) answers
 * busy is followed up with a call button carrying the configured payload; the user's tap calls back with that
 * payload on the call; a second missed call within minIntervalS gets no second button. With
 * permission_request, the user gets a call permission request instead.
 */
const BUSINESS = '15550001111';
const USER = '15552228888';

type Button = { messageId: string; payload: string | null; displayText: string; bodyText: string };

describe('missed-call follow-up (SIPp as a busy PBX)', () => {
  let stack: Stack | undefined;
  let pbx: SippPbx | undefined;
  let crm: CrmReceiver | undefined;

  afterEach(() => expectNoLeaks(stack));
  afterEach(async () => {
    await stack?.close();
    await pbx?.stop();
    await crm?.close();
  });

  async function boot(action: 'call_button' | 'permission_request', calls: number): Promise<Stack> {
    pbx = await startSippPbx('uas-busy-expect-486.xml', { transport: 'udp', calls });
    crm = await startCrmReceiver();
    const env = { ...trunkEnv(BUSINESS, pbx.hostPort, { transport: 'udp' }), ...crm.env, SIGNALLING_MISSED_CALL_FOLLOW_UP_ACTION: action, SIGNALLING_MISSED_CALL_FOLLOW_UP_PAYLOAD: 'callback=missed' };
    stack = await startStack({ name: `missed-call-${action}`, env });
    await stack.emu('POST', '/emulator/users', { waId: USER, name: 'Noor' });
    return stack;
  }

  async function missedCall(s: Stack, body: Record<string, unknown> = {}, tap = false): Promise<CallRecord> {
    const { waCallId } = await s.emu<{ waCallId: string }>('POST', `/emulator/users/${USER}/${tap ? 'tap-call-button' : 'call'}`, body);
    return eventually('CDR of the missed call', async () => {
      const { recent } = (await s.api('GET', '/v1/calls')).body as { recent: CallRecord[] };
      return recent.find((r) => r.waCallId === waCallId && r.state === 'ended');
    }, 15_000);
  }

  const followUps = (): CrmEvent[] => crm!.events.filter((e) => e.type === 'call.follow_up_sent');

  it('sends a call button after a busy PBX, once per day, and its tap calls back with the payload', async () => {
    const s = await boot('call_button', 3);
    const first = await missedCall(s);
    expect(first.sipCause).toBe('486 Busy Here');
    const buttons = await eventually('the follow-up button at the user', async () => {
      const view = await s.emu<{ callButtons: Button[] }>('GET', `/emulator/users/${USER}`);
      return view.callButtons.length > 0 ? view.callButtons : undefined;
    });
    expect(buttons).toEqual([expect.objectContaining({ payload: 'callback=missed', displayText: 'Call us', bodyText: 'Sorry we missed your call. Tap the button to call us back.' })]);
    const sent = await eventually('call.follow_up_sent at the CRM', async () => followUps()[0]);
    expect(sent.data).toEqual({ callId: first.callId, waId: USER, action: 'call_button', messageId: buttons[0]!.messageId });

    // the tap calls back (busy again): the call carries the payload, and no second button follows the same day
    const callback = await missedCall(s, {}, true);
    expect(callback).toMatchObject({ entryPoint: 'call_button', entryPayload: 'callback=missed' });
    await missedCall(s);
    await s.signalling.app.get(MissedCallFollowUp).idle();
    expect((await s.emu<{ callButtons: Button[] }>('GET', `/emulator/users/${USER}`)).callButtons).toHaveLength(1);
    expect(followUps()).toHaveLength(1);
    expect(await s.redis.get(`${s.config.redis.keyPrefix}:followup:${USER}`)).toBe(first.callId);
  });

  it('with permission_request, the missed call is followed up by a call permission request', async () => {
    const s = await boot('permission_request', 1);
    const missed = await missedCall(s);
    const requested = await eventually('permission.requested at the CRM', async () => crm!.events.find((e) => e.type === 'permission.requested'));
    expect(requested.data).toMatchObject({ waId: USER, callId: missed.callId });
    const sent = await eventually('call.follow_up_sent at the CRM', async () => followUps()[0]);
    expect(sent.data).toMatchObject({ callId: missed.callId, waId: USER, action: 'permission_request' });
    expect(((await s.api('GET', `/v1/permissions/${USER}`)).body as { state: string }).state).toBe('requested');
  });
});
