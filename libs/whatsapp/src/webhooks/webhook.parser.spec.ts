import { parseWebhook } from './webhook.parser';

const META = { display_phone_number: '15550001111', phone_number_id: '106540352242922' };
const SDP = 'v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n';
const body = (...changes: { field: string; value: unknown }[]) => ({ object: 'whatsapp_business_account', entry: [{ id: 'WABA1', changes }] });
const calls = (value: Record<string, unknown>) => ({ field: 'calls', value: { messaging_product: 'whatsapp', metadata: META, ...value } });
const messages = (value: Record<string, unknown>) => ({ field: 'messages', value: { messaging_product: 'whatsapp', metadata: META, ...value } });
const connect = (id: string, over: Record<string, unknown> = {}) => ({
  id,
  from: '15552223333',
  to: '15550001111',
  event: 'connect',
  timestamp: '1767168000',
  direction: 'USER_INITIATED',
  session: { sdp_type: 'offer', sdp: SDP },
  ...over,
});
const terminate = (id: string, status: string) => ({ id, from: '1', to: '2', event: 'terminate', timestamp: 1767168100, status });

describe('parseWebhook', () => {
  it.each([null, undefined, 42, 'text', true, []])('rejects a non-object body (%p) once, at the root', (input) => {
    const parsed = parseWebhook(input);
    expect(parsed.events).toEqual([]);
    expect(parsed.rejected).toEqual([{ path: '$', reason: expect.stringMatching(/^body must be a JSON object/), raw: input }]);
  });

  it('rejects a bad entry without hiding the good entry beside it', () => {
    const good = body(calls({ calls: [connect('wacid.A')] }));
    const input = { ...good, entry: ['oops', ...good.entry] };
    const parsed = parseWebhook(input);
    expect(parsed.events.map((e) => e.kind)).toEqual(['call.connect']);
    expect(parsed.rejected).toEqual([{ path: 'entry[0]', reason: expect.stringContaining('expected object'), raw: 'oops' }]);
  });

  it('keeps the offending item as raw, and its neighbours parse', () => {
    const bad = connect('wacid.B', { session: { sdp_type: 'offer' } });
    const parsed = parseWebhook(body(calls({ calls: [connect('wacid.A'), bad, connect('wacid.C')] })));
    expect(parsed.events.map((e) => ('waCallId' in e ? e.waCallId : ''))).toEqual(['wacid.A', 'wacid.C']);
    expect(parsed.rejected).toEqual([{ path: 'entry[0].changes[0].value.calls[1]', reason: 'session.sdp is missing (expected string)', raw: bad }]);
  });

  it('strips unknown keys instead of rejecting them', () => {
    const parsed = parseWebhook({ ...body(calls({ brand_new: 1, calls: [connect('wacid.A', { recording: { on: true } })] })), extra: true });
    expect(parsed.rejected).toEqual([]);
    expect(parsed.events[0]).not.toHaveProperty('recording');
    expect(parsed.events[0]).not.toHaveProperty('brand_new');
  });

  it('ignores call events and statuses it does not handle', () => {
    const parsed = parseWebhook(
      body(calls({ calls: [{ id: 'wacid.A', event: 'call_recording_available' }], statuses: [{ id: 'wamid.X', type: 'message', status: 'sent', timestamp: '1' }] })),
    );
    expect(parsed.events).toEqual([]);
    expect(parsed.rejected).toEqual([]);
    expect(parsed.ignored).toEqual([
      { path: 'entry[0].changes[0].value.calls[0]', reason: 'call event "call_recording_available" is not handled' },
      { path: 'entry[0].changes[0].value.statuses[0]', reason: 'status of type "message" on the calls field is not handled' },
    ]);
  });

  it('reports a calls change that carries only errors as ignored, naming the codes', () => {
    const parsed = parseWebhook(body(calls({ errors: [{ code: 131044, title: 'no payment method' }] })));
    expect(parsed.ignored).toEqual([{ path: 'entry[0].changes[0].value', reason: 'calls change carries only errors (codes 131044)' }]);
  });

  it('gives value-level errors to the failed terminate only when a change holds several terminates', () => {
    const parsed = parseWebhook(body(calls({ calls: [terminate('wacid.A', 'COMPLETED'), terminate('wacid.B', 'FAILED')], errors: [{ code: 138022 }] })));
    const errorsById = Object.fromEntries(parsed.events.map((e) => [e.kind === 'call.terminate' ? e.waCallId : '', e.kind === 'call.terminate' ? e.errors.map((x) => x.code) : []]));
    expect(errorsById).toEqual({ 'wacid.A': [], 'wacid.B': [138022] });
  });

  it('matches contacts by BSUID, and leaves contact fields empty when several contacts match nothing', () => {
    const contacts = [
      { wa_id: '111', user_id: 'US.1', profile: { name: 'One' } },
      { user_id: 'US.2', profile: { name: 'Two' } },
    ];
    const parsed = parseWebhook(
      body(calls({ contacts, calls: [connect('wacid.A', { from: undefined, from_user_id: 'US.2' }), connect('wacid.B', { from: '999', from_user_id: 'US.9' })] })),
    );
    expect(parsed.events).toMatchObject([
      { waCallId: 'wacid.A', contactName: 'Two', contactUserId: 'US.2' },
      { waCallId: 'wacid.B', contactName: undefined, contactUserId: undefined, contactWaId: undefined },
    ]);
  });

  it('matches the callee contact on a business-initiated call', () => {
    const contacts = [
      { wa_id: '15550001111', profile: { name: 'Business' } },
      { wa_id: '12185552828', profile: { name: 'Callee' } },
    ];
    const item = connect('wacid.A', { direction: 'BUSINESS_INITIATED', from: '15550001111', to: '12185552828', session: { sdp_type: 'answer', sdp: SDP } });
    expect(parseWebhook(body(calls({ contacts, calls: [item] }))).events[0]).toMatchObject({ contactName: 'Callee', sdpType: 'answer' });
  });

  it('ignores non-voicemail audio, other interactive replies and unhandled message statuses', () => {
    const parsed = parseWebhook(
      body(
        messages({
          messages: [
            { id: 'wamid.A', from: '1', timestamp: '1', type: 'audio', audio: { id: 'm1' } },
            { id: 'wamid.B', from: '1', timestamp: '1', type: 'interactive', interactive: { type: 'button_reply', button_reply: { id: 'x' } } },
          ],
          statuses: [{ id: 'wamid.C', status: 'deleted', timestamp: '1' }],
        }),
      ),
    );
    expect(parsed.events).toEqual([]);
    expect(parsed.rejected).toEqual([]);
    expect(parsed.ignored.map((i) => i.reason)).toEqual([
      'audio message that is not a voicemail (id is a wamid, not a call WACID)',
      'interactive message of type "button_reply" is not handled',
      'message status "deleted" is not handled',
    ]);
  });

  it('ignores account events and settings types that are not about calling', () => {
    const parsed = parseWebhook(
      body(
        { field: 'account_update', value: { event: 'PARTNER_ADDED', phone_number: '1' } },
        { field: 'account_settings_update', value: { type: 'business_settings', business_settings: {} } },
        { field: 'account_settings_update', value: { type: 'phone_number_settings', phone_number_settings: { phone_number_id: '1', messaging: {} } } },
      ),
    );
    expect(parsed.events).toEqual([]);
    expect(parsed.ignored.map((i) => i.reason)).toEqual([
      'account event "PARTNER_ADDED" is not handled',
      'settings update of type "business_settings" is not handled',
      'phone number settings update without a calling block',
    ]);
  });

  // Found by webhook.parser.fuzz.spec.ts: digit strings became 1e20 or Infinity where a number that large is refused.
  it.each([
    ['a timestamp beyond Number.MAX_SAFE_INTEGER', { timestamp: '99999999999999999999' }, /^timestamp: expected Unix seconds/],
    ['a start_time of 400 digits (Infinity)', { start_time: '9'.repeat(400) }, /^start_time: expected Unix seconds/],
    ['a duration of 400 digits (Infinity)', { duration: '9'.repeat(400) }, /^duration: /],
    ['an error code beyond Number.MAX_SAFE_INTEGER', { errors: [{ code: '99999999999999999999' }] }, /^errors\[0\]\.code: /],
  ])('rejects %s instead of passing on an unsafe number', (_name, over, reason) => {
    const item = { ...terminate('wacid.A', 'FAILED'), ...over };
    const parsed = parseWebhook(body(calls({ calls: [item] })));
    expect(parsed.events).toEqual([]);
    expect(parsed.rejected).toEqual([{ path: 'entry[0].changes[0].value.calls[0]', reason: expect.stringMatching(reason), raw: item }]);
  });

  it('never throws and accounts for every item, whatever garbage replaces parts of a payload', () => {
    const weird: unknown[] = [null, 0, -1, '', 'x', [], {}, [null], { event: 5 }, true, Number.POSITIVE_INFINITY, '1767168000'];
    let seed = 7;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    for (let i = 0; i < 300; i++) {
      const base = body(calls({ contacts: [{ wa_id: '1' }], calls: [connect('wacid.A'), terminate('wacid.A', 'FAILED')], statuses: [{ id: 'wacid.A', type: 'call', status: 'RINGING', timestamp: '1' }] }));
      const target = [base, base.entry[0], base.entry[0]!.changes[0], base.entry[0]!.changes[0]!.value] as Record<string, unknown>[];
      const obj = target[rand(target.length)]!;
      const keys = Object.keys(obj);
      obj[keys[rand(keys.length)]!] = weird[rand(weird.length)];
      const parsed = parseWebhook(base);
      expect(parsed.events.length + parsed.rejected.length + parsed.ignored.length).toBeGreaterThan(0);
    }
  });
});
