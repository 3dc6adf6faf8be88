import { businessAnswerSdp } from './fake-user-media';
import { type EmulatorHarness, startEmulatorHarness } from './emulator-harness';
import { httpJson } from './webhook-receiver';

const WA_ID = '15552226666';

describe('wa-emulator over HTTP: control API', () => {
  let h: EmulatorHarness;

  beforeEach(async () => {
    h = await startEmulatorHarness();
  });

  afterEach(async () => {
    await h.close();
  });

  const acceptedUserCall = async (): Promise<string> => {
    const waCallId = (await h.control('POST', `users/${WA_ID}/call`, {})).body.waCallId as string;
    await h.graph('POST', 'calls', { messaging_product: 'whatsapp', call_id: waCallId, action: 'accept', session: { sdp_type: 'answer', sdp: businessAnswerSdp() } });
    return waCallId;
  };

  it('users: create, read (state, permission, current call, pending requests), validation and 404', async () => {
    const created = await h.control('POST', 'users', { waId: WA_ID, name: 'Alex' });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ waId: WA_ID, name: 'Alex', state: 'idle', permission: { status: 'no_permission' }, currentCall: null, pendingPermissionRequests: [] });
    expect((await h.control('POST', 'users', { waId: '12ab' })).status).toBe(400);
    expect((await h.control('POST', 'users', { waId: WA_ID, extra: 1 })).status).toBe(400);
    expect((await h.control('GET', 'users/15550000000')).status).toBe(404);

    await h.graph('POST', 'messages', { messaging_product: 'whatsapp', to: WA_ID, type: 'interactive', interactive: { type: 'call_permission_request', action: { name: 'call_permission_request' } } });
    const waCallId = (await h.control('POST', `users/${WA_ID}/call`, {})).body.waCallId as string;
    const user = await h.control('GET', `users/${WA_ID}`);
    expect(user.body).toMatchObject({ state: 'in_call:ringing', currentCall: { waCallId, direction: 'USER_INITIATED' } });
    expect(user.body.pendingPermissionRequests).toHaveLength(1);
    expect((await h.control('GET', 'users')).body).toHaveLength(1);
    expect((await h.control('POST', `users/${WA_ID}/call`, {})).status).toBe(409);
  });

  it('behaviour: partial updates are merged; unknown values are refused', async () => {
    const res = await h.control('PUT', `users/${WA_ID}/behaviour`, { incomingCall: 'reject', replyAfterMs: 50 });
    expect(res.body).toEqual({ incomingCall: 'reject', answerAfterMs: 1000, permissionRequest: 'none', replyAfterMs: 50, callButtons: true });
    expect((await h.control('PUT', `users/${WA_ID}/behaviour`, { incomingCall: 'maybe' })).status).toBe(400);
  });

  it('media routes drive the user session; analysis reports the tone the user heard from the 48 kHz recording', async () => {
    expect((await h.control('POST', `users/${WA_ID}/media/tone`, { frequencyHz: 440 })).status).toBe(404);
    await h.control('POST', 'users', { waId: WA_ID });
    expect((await h.control('POST', `users/${WA_ID}/media/tone`, { frequencyHz: 440 })).status).toBe(409);
    const waCallId = await acceptedUserCall();
    const session = h.media.session(waCallId);

    expect((await h.control('POST', `users/${WA_ID}/media/tone`, { frequencyHz: 440 })).status).toBe(200);
    expect(session.sendingToneHz).toBe(440);
    expect((await h.control('POST', `users/${WA_ID}/media/stop`)).status).toBe(200);
    expect(session.sendingToneHz).toBeUndefined();
    // a media session that cannot lose its network (as a browser's) says so
    const cut = await h.control('POST', `users/${WA_ID}/media/cut`);
    expect({ status: cut.status, message: JSON.stringify(cut.body) }).toEqual({ status: 400, message: expect.stringContaining('cannot lose its network') });
    expect((await h.control('POST', `users/${WA_ID}/media/dtmf`, { digits: '12#' })).status).toBe(200);
    expect(session.dtmfSent).toEqual(['12#']);
    expect((await h.control('POST', `users/${WA_ID}/media/dtmf`, { digits: 'x' })).status).toBe(400);
    expect((await h.control('POST', `users/${WA_ID}/media/wav`, { path: 'no/such/file.wav' })).status).toBe(400);

    session.hear(1000, 1000);
    session.hearDtmf('5', 160);
    const heard = await h.control('GET', `users/${WA_ID}/media/analysis?frequencyHz=1000`);
    expect(heard.body).toMatchObject({ waCallId, packetsReceived: 50, recordedMs: 1000, dtmfReceived: [expect.objectContaining({ digit: '5' })] });
    expect(heard.body.tone.framesWithTone).toBeGreaterThan(heard.body.tone.frames * 0.9);
    const other = await h.control('GET', `users/${WA_ID}/media/analysis?frequencyHz=440`);
    expect(other.body.tone.framesWithTone).toBe(0);
  });

  it('calls: list and detail with the timeline; 404 for an unknown call', async () => {
    const waCallId = await acceptedUserCall();
    const list = await h.control('GET', 'calls');
    expect(list.body).toEqual([expect.objectContaining({ waCallId, state: 'accepted', direction: 'USER_INITIATED', waId: WA_ID })]);
    const detail = await h.control('GET', `calls/${waCallId}`);
    expect(detail.body.sdp.accept).toContain('a=setup:active');
    expect(detail.body.timeline.map((e: { event: string }) => e.event)).toEqual(expect.arrayContaining(['user_called', 'connected']));
    expect((await h.control('GET', 'calls/wacid.none')).status).toBe(404);
  });

  it('clock: read and advance', async () => {
    const before = (await h.control('GET', 'clock')).body;
    const after = (await h.control('POST', 'clock/advance', { ms: 3_600_000 })).body;
    expect(after.offsetMs).toBe(3_600_000);
    expect(after.now - before.now).toBeGreaterThanOrEqual(3_600_000);
    expect((await h.control('POST', 'clock/advance', { ms: 'soon' })).status).toBe(400);
  });

  it("malformed JSON is refused in each route family's error shape", async () => {
    const { graphApiVersion, phoneNumberId, accessToken } = h.config.whatsapp;
    const bad = Buffer.from('{"messaging_product":');
    const graph = await httpJson('POST', `${h.emulator.baseUrl}/${graphApiVersion}/${phoneNumberId}/calls`, bad, { authorization: `Bearer ${accessToken}` });
    expect(graph.status).toBe(400);
    expect(graph.body).toEqual({ error: { message: expect.stringContaining('Invalid request body'), type: 'OAuthException', code: 100, fbtrace_id: expect.any(String) } });
    const control = await httpJson('POST', `${h.emulator.baseUrl}/emulator/users`, bad);
    expect(control).toEqual({ status: 400, body: { error: { kind: 'invalid', message: expect.stringContaining('request body') } } });
    expect((await h.control('POST', `users/${WA_ID}/call`)).status).toBe(200);
  });

  it('health answers', async () => {
    const res = await httpJson('GET', `${h.emulator.baseUrl}/health`);
    expect(res).toEqual({ status: 200, body: { status: 'ok', users: 0, activeCalls: 0 } });
  });

  it('settings: GET echoes what POST stored; invalid values are refused with 100', async () => {
    expect((await h.graph('GET', 'settings')).body).toEqual({
      calling: { status: 'ENABLED', call_icon_visibility: 'DEFAULT', callback_permission_status: 'DISABLED', sip: { status: 'DISABLED', servers: [] } },
    });
    const hours = { status: 'ENABLED', timezone_id: 'Europe/Berlin', weekly_operating_hours: [{ day_of_week: 'MONDAY', open_time: '0800', close_time: '1700' }] };
    expect((await h.graph('POST', 'settings', { calling: { call_hours: hours, srtp_key_exchange_protocol: 'DTLS' } })).status).toBe(200);
    expect((await h.graph('GET', 'settings')).body.calling).toMatchObject({ call_hours: hours, srtp_key_exchange_protocol: 'DTLS', status: 'ENABLED' });
    const bad = await h.graph('POST', 'settings', { calling: { status: 'ON' } });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatchObject({ code: 100, error_data: { details: expect.stringContaining('calling.status') } });
    await h.receiver.waitFor((events) => events.some((e) => e.type === 'settings'));
  });

  it('with calling DISABLED, connect is refused with 138000; with SIP ENABLED, Graph calling is refused with 131055', async () => {
    await h.graph('POST', 'settings', { calling: { status: 'DISABLED' } });
    const connect = { messaging_product: 'whatsapp', to: WA_ID, action: 'connect', session: { sdp_type: 'offer', sdp: 'v=0' } };
    expect((await h.graph('POST', 'calls', connect)).body.error.code).toBe(138000);
    expect((await h.control('POST', `users/${WA_ID}/call`, {})).status).toBe(409);
    await h.graph('POST', 'settings', { calling: { status: 'ENABLED', sip: { status: 'ENABLED', servers: [{ hostname: 'sip.example.com', port: 5061 }] } } });
    expect((await h.graph('POST', 'calls', connect)).body.error.code).toBe(131055);
  });
});
