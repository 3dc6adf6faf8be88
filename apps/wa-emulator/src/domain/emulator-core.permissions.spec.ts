import { parseWebhook } from '@wagw/whatsapp';
import { type TestCore, freshTestCore } from '../../test/core-harness';
import { replyOf } from '../../test/webhook-events';
import { DAY_MS, HOUR_MS } from './clock';
import { ControlError, GraphError } from './emulator.errors';

const WA_ID = '15552224444';
const REQUEST = {
  messaging_product: 'whatsapp',
  recipient_type: 'individual',
  to: WA_ID,
  type: 'interactive',
  interactive: { type: 'call_permission_request', action: { name: 'call_permission_request' }, body: { text: 'May we call you?' } },
};

function codeOf(fn: () => unknown): number | string | undefined {
  try {
    fn();
  } catch (err) {
    if (err instanceof GraphError) return err.metaCode;
    if (err instanceof ControlError) return err.kind;
    throw err;
  }
  return undefined;
}

describe('EmulatorCore: call permission requests and replies', () => {
  let h: TestCore;

  freshTestCore((c) => (h = c));

  const send = (body: Record<string, unknown> = REQUEST): string => ((h.core.sendMessage(body)['messages'] as { id: string }[])[0] as { id: string }).id;

  it('a permission request returns a wamid and is followed by sent and delivered status webhooks', async () => {
    const wamid = send();
    expect(wamid).toMatch(/^wamid\./);
    await h.core.webhooksIdle();
    expect(h.transport.types(wamid)).toEqual(['message_status.sent', 'message_status.delivered']);
    expect(h.transport.eventsOf(wamid)[0]?.item).toMatchObject({ recipient_id: WA_ID, timestamp: expect.stringMatching(/^\d+$/) });
    expect(h.core.userView(WA_ID)['pendingPermissionRequests']).toEqual([expect.objectContaining({ requestId: wamid, state: 'pending' })]);
  });

  it('requests are limited to 1 per 24 h and 2 per 7 days (138009), counted across the clock', () => {
    send();
    expect(codeOf(() => send())).toBe(138009);
    h.core.advanceClock(DAY_MS);
    send();
    h.core.advanceClock(DAY_MS);
    expect(codeOf(() => send())).toBe(138009);
    h.core.advanceClock(5 * DAY_MS);
    expect(codeOf(() => send())).toBeUndefined();
  });

  it('a permanent permission refuses new requests with 138017', () => {
    send();
    h.core.permissionReply(WA_ID, { choice: 'always_allow' });
    h.core.advanceClock(DAY_MS);
    expect(codeOf(() => send())).toBe(138017);
  });

  it('allow_once replies accept, not permanent, expiring 7 days later by the emulator clock, with context = the request', async () => {
    const wamid = send();
    h.core.advanceClock(HOUR_MS);
    const result = h.core.permissionReply(WA_ID, { choice: 'allow_once', requestId: wamid });
    await h.core.webhooksIdle();
    const reply = h.transport.events().find((e) => e.type === 'call_permission_reply');
    const expires = Math.floor((h.core.clock.now() + 7 * DAY_MS) / 1000);
    expect(reply?.item).toMatchObject({ from: WA_ID, type: 'interactive', context: { from: WA_ID, id: wamid }, timestamp: expect.stringMatching(/^\d+$/) });
    expect(replyOf(reply!)).toEqual({ response: 'accept', is_permanent: false, expiration_timestamp: String(expires), response_source: 'user_action' });
    expect(result.expirationTimestamp).toBe(expires);
    expect(h.core.callPermissions({ user_wa_id: WA_ID })['permission']).toEqual({ status: 'temporary', expiration_time: expires });
    for (const body of h.transport.bodies) expect(parseWebhook(body).rejected).toEqual([]);
  });

  it('always_allow replies accept permanent without expiry; never_allow replies reject and withdraws', async () => {
    const wamid = send();
    h.core.permissionReply(WA_ID, { choice: 'always_allow' });
    h.core.permissionReply(WA_ID, { choice: 'never_allow', requestId: wamid });
    await h.core.webhooksIdle();
    const replies = h.transport.events().filter((e) => e.type === 'call_permission_reply');
    expect(replies.map(replyOf)).toEqual([
      { response: 'accept', is_permanent: true, response_source: 'user_action' },
      { response: 'reject', response_source: 'user_action' },
    ]);
    expect(replies.every((r) => (r.item['context'] as { id: string }).id === wamid)).toBe(true);
    expect(h.core.callPermissions({ user_wa_id: WA_ID })['permission']).toEqual({ status: 'no_permission' });
  });

  it('a reply needs an open request; a grant from the business profile carries no context', async () => {
    h.core.createUser(WA_ID);
    expect(codeOf(() => h.core.permissionReply(WA_ID, { choice: 'allow_once' }))).toBe('conflict');
    h.core.permissionReply(WA_ID, { choice: 'always_allow', fromProfile: true });
    await h.core.webhooksIdle();
    const reply = h.transport.events().find((e) => e.type === 'call_permission_reply');
    expect(reply?.item).not.toHaveProperty('context');
    expect(replyOf(reply!)).toMatchObject({ response: 'accept', is_permanent: true });
  });

  it('a request expires 7 days after delivery when unanswered', () => {
    send();
    h.core.advanceClock(7 * DAY_MS);
    expect(codeOf(() => h.core.permissionReply(WA_ID, { choice: 'allow_once' }))).toBe('conflict');
  });

  it('the behaviour replies by itself after replyAfterMs', async () => {
    h.core.setBehaviour(WA_ID, { permissionRequest: 'allow_once', replyAfterMs: 3000 });
    send();
    await jest.advanceTimersByTimeAsync(2999);
    expect(h.core.callPermissions({ user_wa_id: WA_ID })['permission']).toEqual({ status: 'no_permission' });
    await jest.advanceTimersByTimeAsync(1);
    await h.core.webhooksIdle();
    expect(h.core.callPermissions({ user_wa_id: WA_ID })['permission']).toMatchObject({ status: 'temporary' });
    expect(h.transport.types()).toContain('call_permission_reply');
  });

  it('a template is a permission request when registered or when it carries the call_permission_request component', () => {
    send({ messaging_product: 'whatsapp', to: WA_ID, type: 'template', template: { name: 'order_update', language: { code: 'en' } } });
    expect(h.core.userView(WA_ID)['pendingPermissionRequests']).toEqual([]);
    h.core.registerPermissionTemplate('may_we_call');
    send({ messaging_product: 'whatsapp', to: WA_ID, type: 'template', template: { name: 'may_we_call', language: { code: 'en' } } });
    expect(h.core.userView(WA_ID)['pendingPermissionRequests']).toEqual([expect.objectContaining({ via: 'template' })]);
    const inline = { messaging_product: 'whatsapp', to: WA_ID, type: 'template', template: { name: 'other', components: [{ type: 'call_permission_request' }] } };
    expect(codeOf(() => send(inline))).toBe(138009);
  });

  it('an interactive permission request with a header is refused with 100', () => {
    const bad = { ...REQUEST, interactive: { ...REQUEST.interactive, header: { type: 'text', text: 'Hi' } } };
    expect(codeOf(() => send(bad))).toBe(100);
  });

  it('GET call_permissions reports the permission, the usage and when a reached limit frees', () => {
    const sentAt = h.core.clock.now();
    send();
    const view = h.core.callPermissions({ user_wa_id: WA_ID });
    expect(view).toEqual({
      messaging_product: 'whatsapp',
      permission: { status: 'no_permission' },
      actions: [
        {
          action_name: 'send_call_permission_request',
          can_perform_action: false,
          limits: [
            { time_period: 'PT24H', max_allowed: 1, current_usage: 1, limit_expiration_time: Math.floor((sentAt + DAY_MS) / 1000) },
            { time_period: 'P7D', max_allowed: 2, current_usage: 1 },
          ],
        },
        { action_name: 'start_call', can_perform_action: false, limits: [{ time_period: 'PT24H', max_allowed: 100, current_usage: 0 }] },
      ],
    });
  });

  it('a revocation from the profile sends no webhook unless asked to', async () => {
    send();
    h.core.permissionReply(WA_ID, { choice: 'always_allow' });
    h.core.revoke(WA_ID);
    await h.core.webhooksIdle();
    expect(h.transport.types().filter((t) => t === 'call_permission_reply')).toHaveLength(1);
    h.core.permissionReply(WA_ID, { choice: 'always_allow', fromProfile: true });
    h.core.revoke(WA_ID, true);
    await h.core.webhooksIdle();
    const last = h.transport.events().filter((e) => e.type === 'call_permission_reply').pop();
    expect(replyOf(last!)).toEqual({ response: 'reject', response_source: 'user_action' });
    expect(h.core.callPermissions({ user_wa_id: WA_ID })['permission']).toEqual({ status: 'no_permission' });
  });
});
