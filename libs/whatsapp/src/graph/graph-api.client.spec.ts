import { GraphResponseError } from '../whatsapp.errors';
import { WhatsAppGraphClient } from './graph-api.client';
import { FakeFetch, type FakeReply, RecordingLogger } from './graph-fetch.fake';

const TOKEN = 'EAAG-secret-token-value';
const PNID = '106540352242922';
const CALLS_URL = `https://graph.example.test/v23.0/${PNID}/calls`;
const SDP = 'v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=setup:active\r\n';
const OK = { status: 200, body: { messaging_product: 'whatsapp', success: true } };

function client(replies: FakeReply[]) {
  const fake = new FakeFetch(replies);
  const logger = new RecordingLogger();
  const graph = new WhatsAppGraphClient({
    baseUrl: 'https://graph.example.test/',
    apiVersion: 'v23.0',
    accessToken: TOKEN,
    phoneNumberId: PNID,
    requestTimeoutMs: 1000,
    maxRetries: 3,
    retryBaseDelayMs: 100,
    logger,
    fetch: fake.fetch,
    sleep: async () => undefined,
  });
  return { graph, fake, logger };
}

describe('WhatsAppGraphClient request shapes (reference §3)', () => {
  it('connect posts the offer with sdp_type "offer", to/recipient and the opaque data, and returns the wacid', async () => {
    const { graph, fake } = client([{ status: 200, body: { messaging_product: 'whatsapp', calls: [{ id: 'wacid.NEW' }] } }]);
    await expect(graph.connect({ to: '14085551234', recipient: 'US.1349', sdp: SDP, bizOpaqueCallbackData: 'crm-ticket-8812' })).resolves.toEqual({ waCallId: 'wacid.NEW' });
    const [req] = fake.requests;
    expect(req).toMatchObject({ url: CALLS_URL, method: 'POST' });
    expect(req!.headers).toEqual({ authorization: `Bearer ${TOKEN}`, accept: 'application/json', 'content-type': 'application/json' });
    expect(req!.body).toEqual({
      messaging_product: 'whatsapp',
      to: '14085551234',
      recipient: 'US.1349',
      action: 'connect',
      session: { sdp_type: 'offer', sdp: SDP },
      biz_opaque_callback_data: 'crm-ticket-8812',
    });
  });

  it('connect by BSUID alone sends recipient and no to; without either it sends nothing', async () => {
    const { graph, fake } = client([{ status: 200, body: { calls: [{ id: 'wacid.N' }] } }]);
    await graph.connect({ recipient: 'US.1349', sdp: SDP });
    expect(fake.requests[0]!.body).toEqual({ messaging_product: 'whatsapp', recipient: 'US.1349', action: 'connect', session: { sdp_type: 'offer', sdp: SDP } });
    await expect(graph.connect({ sdp: SDP })).rejects.toThrow(TypeError);
    expect(fake.requests).toHaveLength(1);
  });

  it('sends SDP with real CRLF line endings, encoded once in JSON', async () => {
    const { graph, fake } = client([OK, OK]);
    await graph.preAccept('wacid.A', 'v=0\no=- 1 2 IN IP4 127.0.0.1\ns=-');
    await graph.accept('wacid.A', 'v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\n');
    const [pre, acc] = fake.requests;
    const expected = 'v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\n';
    expect((pre!.body as { session: { sdp: string } }).session.sdp).toBe(expected);
    expect((acc!.body as { session: { sdp: string } }).session.sdp).toBe(expected);
    expect(pre!.rawBody).toContain('"sdp":"v=0\\r\\no=- 1 2');
    expect(pre!.rawBody).not.toContain('\\\\r\\\\n');
  });

  it('refuses an SDP whose line endings were escaped as text', async () => {
    const { graph, fake } = client([]);
    await expect(graph.preAccept('wacid.A', 'v=0\\r\\ns=-\\r\\n')).rejects.toThrow(/escaped/);
    expect(fake.requests).toHaveLength(0);
  });

  it('pre_accept and accept send the answer with sdp_type "answer"; accept carries the opaque data', async () => {
    const { graph, fake } = client([OK, OK]);
    await graph.preAccept('wacid.A', SDP);
    await graph.accept('wacid.A', SDP, 'agent-42');
    expect(fake.requests.map((r) => r.body)).toEqual([
      { messaging_product: 'whatsapp', call_id: 'wacid.A', action: 'pre_accept', session: { sdp_type: 'answer', sdp: SDP } },
      { messaging_product: 'whatsapp', call_id: 'wacid.A', action: 'accept', session: { sdp_type: 'answer', sdp: SDP }, biz_opaque_callback_data: 'agent-42' },
    ]);
  });

  it('reject and terminate send only the call id and action', async () => {
    const { graph, fake } = client([OK, OK]);
    await graph.reject('wacid.A');
    await graph.terminate('wacid.B');
    expect(fake.requests.map((r) => [r.url, r.body])).toEqual([
      [CALLS_URL, { messaging_product: 'whatsapp', call_id: 'wacid.A', action: 'reject' }],
      [CALLS_URL, { messaging_product: 'whatsapp', call_id: 'wacid.B', action: 'terminate' }],
    ]);
  });

  it('refuses opaque data longer than 512 characters', async () => {
    const { graph, fake } = client([]);
    await expect(graph.accept('wacid.A', SDP, 'x'.repeat(513))).rejects.toThrow(RangeError);
    expect(fake.requests).toHaveLength(0);
  });

  it('sends the interactive call_permission_request, with or without body text', async () => {
    const sent = { status: 200, body: { messaging_product: 'whatsapp', contacts: [{ input: '1', wa_id: '1' }], messages: [{ id: 'wamid.REQ' }] } };
    const { graph, fake } = client([sent, sent]);
    await expect(graph.sendPermissionRequest({ to: '15552223333', bodyText: 'We would like to call you about ON-12853.' })).resolves.toEqual({ messageId: 'wamid.REQ' });
    await graph.sendPermissionRequest({ to: '15552223333' });
    expect(fake.requests[0]!.url).toBe(`https://graph.example.test/v23.0/${PNID}/messages`);
    expect(fake.requests.map((r) => r.body)).toEqual([
      {
        messaging_product: 'whatsapp',
        recipient_type: 'individual',
        to: '15552223333',
        type: 'interactive',
        interactive: { type: 'call_permission_request', action: { name: 'call_permission_request' }, body: { text: 'We would like to call you about ON-12853.' } },
      },
      {
        messaging_product: 'whatsapp',
        recipient_type: 'individual',
        to: '15552223333',
        type: 'interactive',
        interactive: { type: 'call_permission_request', action: { name: 'call_permission_request' } },
      },
    ]);
  });

  it('sends a voice_call button with its label, lifetime and payload, or only its text', async () => {
    const sent = { status: 200, body: { messages: [{ id: 'wamid.BTN' }] } };
    const { graph, fake } = client([sent, sent]);
    await expect(graph.sendCallButton({ to: '15552223333', bodyText: 'Questions about your bill?', displayText: 'Call billing', ttlMinutes: 60, payload: 'queue=billing' })).resolves.toEqual({
      messageId: 'wamid.BTN',
    });
    await graph.sendCallButton({ to: '15552223333', bodyText: 'Call us' });
    expect(fake.requests.map((r) => r.body)).toEqual([
      {
        messaging_product: 'whatsapp',
        recipient_type: 'individual',
        to: '15552223333',
        type: 'interactive',
        interactive: {
          type: 'voice_call',
          body: { text: 'Questions about your bill?' },
          action: { name: 'voice_call', parameters: { display_text: 'Call billing', ttl_minutes: 60, payload: 'queue=billing' } },
        },
      },
      { messaging_product: 'whatsapp', recipient_type: 'individual', to: '15552223333', type: 'interactive', interactive: { type: 'voice_call', body: { text: 'Call us' }, action: { name: 'voice_call', parameters: {} } } },
    ]);
  });

  it.each([
    [{ bodyText: '' }, /bodyText/],
    [{ bodyText: 'x', displayText: 'a label of 21 chars.!' }, /displayText/],
    [{ bodyText: 'x', ttlMinutes: 0 }, /ttlMinutes/],
    [{ bodyText: 'x', ttlMinutes: 43_201 }, /ttlMinutes/],
    [{ bodyText: 'x', ttlMinutes: 1.5 }, /ttlMinutes/],
    [{ bodyText: 'x', payload: 'p'.repeat(513) }, /payload/],
  ])('refuses a call button Meta would refuse (%o), sending nothing', async (input, message) => {
    const { graph, fake } = client([]);
    await expect(graph.sendCallButton({ to: '15552223333', ...input })).rejects.toThrow(message);
    expect(fake.requests).toHaveLength(0);
  });

  it('sends the permission-request template with language and components', async () => {
    const { graph, fake } = client([{ status: 200, body: { messages: [{ id: 'wamid.TPL' }] } }]);
    const components = [{ type: 'body', parameters: [{ type: 'text', text: 'ON-12853' }] }];
    await expect(graph.sendPermissionRequestTemplate({ to: '15552223333', templateName: 'call_permission_tpl', languageCode: 'en_US', components })).resolves.toEqual({ messageId: 'wamid.TPL' });
    expect(fake.requests[0]!.body).toEqual({
      messaging_product: 'whatsapp',
      recipient_type: 'individual',
      to: '15552223333',
      type: 'template',
      template: { name: 'call_permission_tpl', language: { code: 'en_US' }, components },
    });
  });
});

describe('WhatsAppGraphClient reads (reference §3.7, §5.2)', () => {
  const permissions = (permission: Record<string, unknown>) => ({
    status: 200,
    body: {
      messaging_product: 'whatsapp',
      permission,
      actions: [
        { action_name: 'send_call_permission_request', can_perform_action: true, limits: [{ time_period: 'PT24H', max_allowed: 1, current_usage: 0 }] },
        { action_name: 'start_call', can_perform_action: false, limits: [{ time_period: 'PT24H', max_allowed: 100, current_usage: 100, limit_expiration_time: 1745622600 }] },
      ],
    },
  });

  it('GETs call_permissions by user_wa_id and maps status, expiry (expiration_time) and action limits', async () => {
    const { graph, fake } = client([permissions({ status: 'temporary', expiration_time: 1745343479 })]);
    await expect(graph.getCallPermissions({ userWaId: '15552223333' })).resolves.toEqual({
      status: 'temporary',
      expiresAt: 1745343479,
      canStartCall: false,
      canRequestPermission: true,
      actions: [
        { name: 'send_call_permission_request', canPerform: true, limits: [{ timePeriod: 'PT24H', maxAllowed: 1, currentUsage: 0, limitExpiresAt: undefined }] },
        { name: 'start_call', canPerform: false, limits: [{ timePeriod: 'PT24H', maxAllowed: 100, currentUsage: 100, limitExpiresAt: 1745622600 }] },
      ],
    });
    expect(fake.requests[0]).toMatchObject({ method: 'GET', url: `https://graph.example.test/v23.0/${PNID}/call_permissions?user_wa_id=15552223333`, rawBody: undefined });
    expect(fake.requests[0]!.headers).not.toHaveProperty('content-type');
  });

  it('accepts the expiry under "expiration" (the field table spelling) and queries by recipient', async () => {
    const { graph, fake } = client([permissions({ status: 'TEMPORARY', expiration: '1745343479' })]);
    await expect(graph.getCallPermissions({ recipient: 'US.1349' })).resolves.toMatchObject({ status: 'temporary', expiresAt: 1745343479 });
    expect(fake.requests[0]!.url).toBe(`https://graph.example.test/v23.0/${PNID}/call_permissions?recipient=US.1349`);
  });

  it('reads permanent and no_permission without expiry', async () => {
    const { graph } = client([permissions({ status: 'permanent' }), { status: 200, body: { permission: { status: 'no_permission' } } }]);
    await expect(graph.getCallPermissions({ userWaId: '1' })).resolves.toMatchObject({ status: 'permanent', expiresAt: undefined });
    await expect(graph.getCallPermissions({ userWaId: '2' })).resolves.toEqual({ status: 'no_permission', expiresAt: undefined, actions: [], canStartCall: undefined, canRequestPermission: undefined });
  });

  it('reads and writes the calling settings block', async () => {
    const calling = { status: 'ENABLED', call_icon_visibility: 'DEFAULT', callback_permission_status: 'DISABLED', sip: { status: 'DISABLED', servers: [] }, call_hours: { status: 'DISABLED' } };
    const { graph, fake } = client([{ status: 200, body: { calling } }, { status: 200, body: { success: true } }]);
    await expect(graph.getCallingSettings()).resolves.toEqual({
      status: 'ENABLED',
      callIconVisibility: 'DEFAULT',
      callbackPermissionStatus: 'DISABLED',
      sip: { status: 'DISABLED', servers: [] },
      raw: calling,
    });
    await graph.updateCallingSettings({ status: 'ENABLED', callbackPermissionStatus: 'ENABLED', extra: { call_hours: { status: 'DISABLED' } } });
    expect(fake.requests[1]).toMatchObject({ method: 'POST', url: `https://graph.example.test/v23.0/${PNID}/settings` });
    expect(fake.requests[1]!.body).toEqual({ calling: { call_hours: { status: 'DISABLED' }, status: 'ENABLED', callback_permission_status: 'ENABLED' } });
  });

  it("reads a restricted number's restrictions beside the block, skipping entries of another shape", async () => {
    const restrictions = {
      restrictions_list: [{ type: 'RESTRICTED_USER_INITIATED_CALLING', reason: 'low pickup rate', expiration: 1754072386 }, { type: 'RESTRICTED_BUSINESS_INITIATED_CALLING', expiration: '1754072400' }, { reason: 'no type' }, 'junk'],
    };
    const { graph } = client([{ status: 200, body: { calling: { status: 'ENABLED' }, restrictions } }, { status: 200, body: { calling: { status: 'ENABLED' }, restrictions: 'not an object' } }]);
    await expect(graph.getCallingSettings()).resolves.toMatchObject({
      status: 'ENABLED',
      restrictions: [
        { type: 'RESTRICTED_USER_INITIATED_CALLING', reason: 'low pickup rate', expiresAt: 1754072386000 },
        { type: 'RESTRICTED_BUSINESS_INITIATED_CALLING', expiresAt: 1754072400000 },
      ],
    });
    const plain = await graph.getCallingSettings();
    expect(plain.restrictions).toBeUndefined();
  });

  it('reports a 2xx body of the wrong shape as GraphResponseError', async () => {
    const { graph } = client([{ status: 200, body: { messaging_product: 'whatsapp' } }, { status: 200, rawBody: 'not json' }, { status: 200, body: { success: false } }]);
    await expect(graph.connect({ to: '1', sdp: SDP })).rejects.toThrow(GraphResponseError);
    await expect(graph.terminate('wacid.A')).rejects.toThrow(/body is not a JSON object/);
    await expect(graph.terminate('wacid.A')).rejects.toThrow(/success: success must be true/);
  });
});
