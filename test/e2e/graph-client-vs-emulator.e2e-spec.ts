import type { AppConfig } from '@wagw/config';
import { silentLogger } from '@wagw/logging';
import { WaLeg } from '@wagw/media-bridge';
import {
  DailyCallCapError,
  GraphApiError,
  GraphOutcomeUnknownError,
  NoCallPermissionError,
  PermanentPermissionExistsError,
  PermissionRequestLimitError,
  WhatsAppGraphClient,
  toWireSdp,
} from '@wagw/whatsapp';
import { type EmulatorHarness, startEmulatorHarness } from '../../apps/wa-emulator/test/emulator-harness';

/**
 * The real Graph client (@wagw/whatsapp) against the booted WhatsApp emulator with werift user media: every
 * action, every refusal the emulator can produce mapped to its typed error, and the retry policy under the
 * emulator's injected transient failures (graphFailures fault). Business legs are real WaLegs.
 */
const USER = '15552229001';
const DAY_MS = 86_400_000;

interface SentRequest {
  method: string;
  /** Last path segment: calls, messages, call_permissions, settings. */
  endpoint: string;
  action?: string;
}

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected the request to fail');
}

describe('WhatsAppGraphClient against the wa-emulator', () => {
  let h: EmulatorHarness;
  let client: WhatsAppGraphClient;
  let sent: SentRequest[];
  let sleeps: number[];
  const legs: WaLeg[] = [];
  const legOptions = { iceAddress: '127.0.0.1', connectTimeoutMs: 15_000, logger: silentLogger() };

  const countingFetch: typeof fetch = async (input, init) => {
    const body = typeof init?.body === 'string' ? (JSON.parse(init.body) as Record<string, unknown>) : undefined;
    const endpoint = new URL(String(input)).pathname.split('/').pop() ?? '';
    sent.push({ method: init?.method ?? 'GET', endpoint, ...(typeof body?.['action'] === 'string' ? { action: body['action'] } : {}) });
    return fetch(input, init);
  };

  function makeClient(overrides: { accessToken?: string; phoneNumberId?: string } = {}): WhatsAppGraphClient {
    const w = h.config.whatsapp;
    return new WhatsAppGraphClient({
      baseUrl: h.emulator.baseUrl,
      apiVersion: w.graphApiVersion,
      accessToken: overrides.accessToken ?? w.accessToken,
      phoneNumberId: overrides.phoneNumberId ?? w.phoneNumberId,
      requestTimeoutMs: 5000,
      maxRetries: 3,
      retryBaseDelayMs: 50,
      logger: silentLogger(),
      fetch: countingFetch,
      sleep: (ms) => {
        sleeps.push(ms);
        return new Promise((resolve) => setTimeout(resolve, ms));
      },
    });
  }

  async function boot(emulator: Partial<AppConfig['emulator']> = {}): Promise<void> {
    h = await startEmulatorHarness({ acceptWindowMs: 30_000, ringTimeoutMs: 30_000, mediaTimeoutMs: 20_000, ...emulator }, { realUserMedia: true });
    client = makeClient();
    sent = [];
    sleeps = [];
    await h.control('POST', 'users', { waId: USER, name: 'Robin' });
  }

  afterEach(async () => {
    await Promise.all(legs.splice(0).map((l) => l.close()));
    await h.close();
  });

  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON from the emulator under test
  const control = async (method: 'GET' | 'POST' | 'PUT', path: string, body?: unknown): Promise<any> => {
    const res = await h.control(method, path, body);
    if (res.status >= 300) throw new Error(`control ${method} ${path} -> ${res.status}: ${JSON.stringify(res.body)}`);
    return res.body;
  };

  /** The user dials; resolves with the call id and WhatsApp's offer from the connect webhook. */
  async function userCalls(): Promise<{ waCallId: string; offer: string }> {
    const { waCallId } = (await control('POST', `users/${USER}/call`, {})) as { waCallId: string };
    const connect = await h.receiver.waitForEvent(waCallId, 'call.connect');
    return { waCallId, offer: (connect.item['session'] as { sdp: string }).sdp };
  }

  async function answerWith(offer: string): Promise<{ leg: WaLeg; sdp: string }> {
    const answered = await WaLeg.answerOffer(offer, legOptions);
    legs.push(answered.leg);
    return answered;
  }

  async function businessOffer(): Promise<string> {
    const { leg, sdp } = await WaLeg.createOffer(legOptions);
    legs.push(leg);
    return sdp;
  }

  async function grantPermission(choice: 'allow_once' | 'always_allow'): Promise<void> {
    await client.sendPermissionRequest({ to: USER, bodyText: 'May we call you?' });
    await control('POST', `users/${USER}/permission-reply`, { choice });
  }

  const callsOf = async (waId: string): Promise<{ waCallId: string; state: string }[]> =>
    ((await control('GET', 'calls')) as { waCallId: string; waId: string; state: string }[]).filter((c) => c.waId === waId);

  describe('user-initiated calls', () => {
    beforeEach(() => boot());

    it('preAccept then accept with a WaLeg answer connect the call (ICE + DTLS up); terminate ends it with one terminate webhook', async () => {
      const { waCallId, offer } = await userCalls();
      const { leg, sdp } = await answerWith(offer);

      await client.preAccept(waCallId, sdp);
      expect((await control('GET', `calls/${waCallId}`)).state).toBe('pre_accepted');
      await leg.whenConnected();
      await client.accept(waCallId, sdp, 'crm-ticket-42');
      leg.startMedia();
      leg.playTone(1000);
      const accepted = await control('GET', `calls/${waCallId}`);
      expect(accepted).toMatchObject({ state: 'accepted', bizOpaqueCallbackData: 'crm-ticket-42' });
      expect(accepted.sdp.preAccept).toBe(toWireSdp(sdp));
      expect(accepted.sdp.accept).toBe(accepted.sdp.preAccept);

      await client.terminate(waCallId);
      const terminate = await h.receiver.waitForEvent(waCallId, 'call.terminate');
      expect(terminate.item).toMatchObject({ status: 'COMPLETED', duration: expect.any(Number), biz_opaque_callback_data: 'crm-ticket-42' });
      expect(await control('GET', `calls/${waCallId}`)).toMatchObject({ state: 'ended', endReason: 'business_terminate' });
      await h.emulator.core.webhooksIdle();
      expect(h.receiver.eventsOf(waCallId).filter((e) => e.type === 'call.terminate')).toHaveLength(1);
    });

    it('reject declines a ringing call; a second reject or terminate of the ended call is 100 invalid_parameter', async () => {
      const { waCallId } = await userCalls();
      await client.reject(waCallId);
      expect(await control('GET', `calls/${waCallId}`)).toMatchObject({ state: 'ended', endReason: 'business_reject' });
      await h.receiver.waitForEvent(waCallId, 'call.terminate');

      for (const again of [client.reject(waCallId), client.terminate(waCallId)]) {
        const err = await rejection(again);
        expect(err).toBeInstanceOf(GraphApiError);
        expect(err).toMatchObject({ kind: 'invalid_parameter', metaCode: 100, httpStatus: 400, errorData: { details: expect.stringMatching(/already ended/) } });
      }
    });

    it('an SDP that is not an answer, and an accept SDP other than the pre_accept one, are 100 with the reason', async () => {
      const { waCallId, offer } = await userCalls();
      const notAnAnswer = await rejection(client.preAccept(waCallId, offer));
      expect(notAnAnswer).toMatchObject({ kind: 'invalid_parameter', metaCode: 100, errorData: { details: expect.stringMatching(/actpass|ice-lite/) } });

      const first = await answerWith(offer);
      const second = await answerWith(offer);
      await client.preAccept(waCallId, first.sdp);
      const mismatch = await rejection(client.accept(waCallId, second.sdp));
      expect(mismatch).toBeInstanceOf(GraphApiError);
      expect(mismatch).toMatchObject({ kind: 'invalid_parameter', metaCode: 100, errorData: { first_difference_at: expect.any(Number) } });
      expect((await control('GET', `calls/${waCallId}`)).state).toBe('pre_accepted');

      const unknown = await rejection(client.terminate('wacid.unknown'));
      expect(unknown).toMatchObject({ kind: 'invalid_parameter', errorData: { details: expect.stringMatching(/not a valid call id/) } });
    });
  });

  describe('permissions and business-initiated calls', () => {
    beforeEach(() => boot());

    it('sendPermissionRequest + allow_once: getCallPermissions says temporary; connect places the call and WhatsApp answers', async () => {
      expect(await client.getCallPermissions({ userWaId: USER })).toMatchObject({ status: 'no_permission', canStartCall: false, canRequestPermission: true });
      const { messageId } = await client.sendPermissionRequest({ to: USER, bodyText: 'May we call you?' });
      expect(messageId).toMatch(/^wamid\./);
      const reply = await control('POST', `users/${USER}/permission-reply`, { choice: 'allow_once' });
      await h.receiver.waitForEvent(reply.replyMessageId, 'call_permission_reply');

      const permissions = await client.getCallPermissions({ userWaId: USER });
      expect(permissions).toMatchObject({ status: 'temporary', expiresAt: expect.any(Number), canStartCall: true });
      const startCall = permissions.actions.find((a) => a.name === 'start_call');
      expect(startCall?.limits[0]).toMatchObject({ timePeriod: 'PT24H', maxAllowed: h.config.emulator.dailyConnectedCallCap, currentUsage: 0 });
      const user = await control('GET', `users/${USER}`);
      expect(await client.getCallPermissions({ recipient: user.userId })).toMatchObject({ status: 'temporary' });

      await control('PUT', `users/${USER}/behaviour`, { incomingCall: 'ignore' });
      const { waCallId } = await client.connect({ to: USER, sdp: await businessOffer(), bizOpaqueCallbackData: 'bic-1' });
      const connect = await h.receiver.waitForEvent(waCallId, 'call.connect');
      expect(connect.item).toMatchObject({ direction: 'BUSINESS_INITIATED', session: { sdp_type: 'answer' }, biz_opaque_callback_data: 'bic-1' });
      await h.receiver.waitForEvent(waCallId, 'status.RINGING');
      expect(await callsOf(USER)).toEqual([expect.objectContaining({ waCallId, state: 'ringing' })]);
      await client.terminate(waCallId);
      expect((await control('GET', `calls/${waCallId}`)).endReason).toBe('business_terminate');
    });

    it('connect refusals: 138006 NoCallPermissionError, 138003 duplicate call, 138001 unknown BSUID, 100 invalid offer', async () => {
      const noPermission = await rejection(client.connect({ to: USER, sdp: await businessOffer() }));
      expect(noPermission).toBeInstanceOf(NoCallPermissionError);
      expect(noPermission).toMatchObject({ kind: 'no_call_permission', metaCode: 138006, httpStatus: 401 });

      await grantPermission('always_allow');
      await control('PUT', `users/${USER}/behaviour`, { incomingCall: 'ignore' });
      await client.connect({ to: USER, sdp: await businessOffer() });
      const duplicate = await rejection(client.connect({ to: USER, sdp: await businessOffer() }));
      expect(duplicate).toMatchObject({ kind: 'duplicate_call', metaCode: 138003, httpStatus: 400 });

      const unknownUser = await rejection(client.connect({ recipient: 'US.0000000000000000001', sdp: await businessOffer() }));
      expect(unknownUser).toMatchObject({ kind: 'receiver_not_callable', metaCode: 138001 });

      const other = '15552229002';
      await client.sendPermissionRequest({ to: other });
      await control('POST', `users/${other}/permission-reply`, { choice: 'always_allow' });
      const noFingerprint = (await businessOffer()).replace(/a=fingerprint:[^\r\n]*\r\n/g, '');
      const invalid = await rejection(client.connect({ to: other, sdp: noFingerprint }));
      expect(invalid).toMatchObject({ kind: 'invalid_parameter', metaCode: 100, errorData: { details: expect.stringMatching(/fingerprint/) } });
      expect(await callsOf(other)).toEqual([]);
    });

    it('a registered permission template counts as a request: 138009 beyond 1 per 24 h, 138017 once permanent', async () => {
      await control('POST', 'templates', { name: 'call_me_maybe' });
      const { messageId } = await client.sendPermissionRequestTemplate({ to: USER, templateName: 'call_me_maybe', languageCode: 'en_US' });
      expect(messageId).toMatch(/^wamid\./);
      expect((await control('GET', `users/${USER}`)).pendingPermissionRequests).toEqual([expect.objectContaining({ via: 'template', state: expect.any(String) })]);

      const limit = await rejection(client.sendPermissionRequest({ to: USER }));
      expect(limit).toBeInstanceOf(PermissionRequestLimitError);
      expect(limit).toMatchObject({ kind: 'permission_request_limit', metaCode: 138009 });

      await control('POST', `users/${USER}/permission-reply`, { choice: 'always_allow' });
      const permanent = await rejection(client.sendPermissionRequestTemplate({ to: USER, templateName: 'call_me_maybe', languageCode: 'en_US' }));
      expect(permanent).toBeInstanceOf(PermanentPermissionExistsError);
      expect(permanent).toMatchObject({ kind: 'permanent_permission_exists', metaCode: 138017 });
      expect(await client.getCallPermissions({ userWaId: USER })).toMatchObject({ status: 'permanent', canStartCall: true });
    });
  });

  describe('settings and credentials', () => {
    beforeEach(() => boot());

    it('getCallingSettings / updateCallingSettings round trip and send account_settings_update', async () => {
      expect(await client.getCallingSettings()).toMatchObject({ status: 'ENABLED', callbackPermissionStatus: 'DISABLED', sip: { status: 'DISABLED', servers: [] } });
      await client.updateCallingSettings({ callIconVisibility: 'DISABLE_ALL', callbackPermissionStatus: 'ENABLED', srtpKeyExchangeProtocol: 'DTLS' });
      expect(await client.getCallingSettings()).toMatchObject({ status: 'ENABLED', callIconVisibility: 'DISABLE_ALL', callbackPermissionStatus: 'ENABLED', srtpKeyExchangeProtocol: 'DTLS' });
      const [update] = (await h.receiver.waitFor((events) => events.some((e) => e.type === 'settings'))).filter((e) => e.type === 'settings');
      expect(update?.item).toMatchObject({ phone_number_settings: { calling: { call_icon_visibility: 'DISABLE_ALL' } } });

      const invalid = await rejection(client.updateCallingSettings({ callIconVisibility: 'SOMETIMES' }));
      expect(invalid).toMatchObject({ kind: 'invalid_parameter', metaCode: 100 });
    });

    it('calling DISABLED gives 138000 on connect; SIP ENABLED gives 131055 on every calls action', async () => {
      await grantPermission('always_allow');
      await client.updateCallingSettings({ status: 'DISABLED' });
      const disabled = await rejection(client.connect({ to: USER, sdp: await businessOffer() }));
      expect(disabled).toMatchObject({ kind: 'calling_not_enabled', metaCode: 138000, httpStatus: 401 });

      await client.updateCallingSettings({ status: 'ENABLED', sip: { status: 'ENABLED', servers: [{ hostname: 'sip.example.com', port: 5061 }] } });
      const sipConnect = await rejection(client.connect({ to: USER, sdp: await businessOffer() }));
      expect(sipConnect).toMatchObject({ kind: 'sip_enabled_number', metaCode: 131055 });
      expect(await rejection(client.terminate('wacid.any'))).toMatchObject({ kind: 'sip_enabled_number' });
      expect(await callsOf(USER)).toEqual([]);
    });

    it('a wrong token is 401 (code 190) and an unknown phone number id 100/33; neither is retried', async () => {
      const badToken = await rejection(makeClient({ accessToken: 'not-the-token' }).getCallingSettings());
      expect(badToken).toBeInstanceOf(GraphApiError);
      expect(badToken).toMatchObject({ httpStatus: 401, metaCode: 190 });
      const unknownNumber = await rejection(makeClient({ phoneNumberId: '999999' }).getCallingSettings());
      expect(unknownNumber).toMatchObject({ kind: 'invalid_parameter', httpStatus: 400, metaCode: 100, metaSubcode: 33 });
      expect(sent).toHaveLength(2);
      expect(sleeps).toEqual([]);
    });
  });

  describe('daily connected-call cap', () => {
    beforeEach(() => boot({ dailyConnectedCallCap: 1 }));

    it('138012 DailyCallCapError carries nextAllowedAt: 24 h after the connected call', async () => {
      await grantPermission('always_allow');
      await control('PUT', `users/${USER}/behaviour`, { incomingCall: 'accept', answerAfterMs: 0 });
      const { waCallId } = await client.connect({ to: USER, sdp: await businessOffer() });
      await h.receiver.waitForEvent(waCallId, 'status.ACCEPTED');
      await client.terminate(waCallId);
      const { connectedAt } = (await control('GET', `calls/${waCallId}`)) as { connectedAt: number };

      const capped = await rejection(client.connect({ to: USER, sdp: await businessOffer() }));
      expect(capped).toBeInstanceOf(DailyCallCapError);
      expect(capped).toMatchObject({ kind: 'daily_call_cap', metaCode: 138012, nextAllowedAt: Math.floor((connectedAt + DAY_MS) / 1000) });
      expect(await client.getCallPermissions({ userWaId: USER })).toMatchObject({ canStartCall: false });
    });
  });

  describe('retries under injected transient failures', () => {
    beforeEach(() => boot());

    it("terminate after a 503 'before' is retried and succeeds; exactly one terminate webhook is delivered", async () => {
      const { waCallId, offer } = await userCalls();
      const { sdp } = await answerWith(offer);
      await client.accept(waCallId, sdp);
      await control('PUT', 'faults', { graphFailures: [{ action: 'terminate', status: 503, count: 1, when: 'before' }] });
      sent = [];

      await client.terminate(waCallId);
      expect(sent.map((r) => r.action)).toEqual(['terminate', 'terminate']);
      expect(sleeps).toHaveLength(1);
      const atEmulator = (await control('GET', `graph-requests?action=terminate&callId=${encodeURIComponent(waCallId)}`)) as { httpStatus: number }[];
      expect(atEmulator.map((r) => r.httpStatus)).toEqual([503, 200]);
      expect(await control('GET', `calls/${waCallId}`)).toMatchObject({ state: 'ended', endReason: 'business_terminate' });
      await h.emulator.core.webhooksIdle();
      const log = (await control('GET', `webhooks?key=${encodeURIComponent(waCallId)}`)) as { kind: string; state: string }[];
      expect(log.filter((r) => r.kind === 'calls.terminate')).toEqual([expect.objectContaining({ state: 'delivered' })]);
      expect((await control('GET', 'faults')).graphFailures).toEqual([]);
    });

    it("connect answered 503 'after' placing the call is GraphOutcomeUnknownError after one request, and the user has one call", async () => {
      await grantPermission('always_allow');
      await control('PUT', `users/${USER}/behaviour`, { incomingCall: 'ignore' });
      await control('PUT', 'faults', { graphFailures: [{ action: 'connect', status: 503, count: 3, when: 'after' }] });
      sent = [];

      const err = await rejection(client.connect({ to: USER, sdp: await businessOffer() }));
      expect(err).toBeInstanceOf(GraphOutcomeUnknownError);
      expect(err).toMatchObject({ operation: 'calls.connect', reason: 'HTTP 503 code 2' });
      expect(sent).toEqual([{ method: 'POST', endpoint: 'calls', action: 'connect' }]);
      const calls = await callsOf(USER);
      expect(calls).toEqual([expect.objectContaining({ state: 'ringing' })]);
      expect(await control('GET', 'graph-requests?action=connect')).toEqual([
        expect.objectContaining({ to: USER, callId: calls[0]?.waCallId, httpStatus: 503, code: 2, injected: 'after' }),
      ]);
      await h.receiver.waitForEvent(calls[0]?.waCallId as string, 'call.connect');
      expect((await control('GET', 'faults')).graphFailures).toEqual([expect.objectContaining({ action: 'connect', count: 2 })]);
    });

    it("a 429 'before' with Retry-After on messages is retried after that delay; one permission request is sent", async () => {
      await control('PUT', 'faults', { graphFailures: [{ action: 'messages', status: 429, count: 1, when: 'before', retryAfterS: 1 }] });

      const { messageId } = await client.sendPermissionRequest({ to: USER });
      expect(sent.map((r) => r.endpoint)).toEqual(['messages', 'messages']);
      expect(sleeps).toEqual([1000]);
      await h.receiver.waitForEvent(messageId, 'message_status.delivered');
      const user = await control('GET', `users/${USER}`);
      expect(user.permission.requestsLast24h).toBe(1);
      expect(user.pendingPermissionRequests).toHaveLength(1);
    });
  });
});
