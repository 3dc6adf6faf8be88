import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { analyseTone, decodeOggOpus, readOggOpus, toneAsOggOpus } from '@wagw/media-bridge';
import type { CallRecord } from '@wagw/call-state';
import type { CrmEvent } from '../../apps/signalling/src/events/crm-event.types';
import { eventually, startStack, type Stack } from '../support/stack';
import { expectNoLeaks } from '../support/leaks';
import { startCrmReceiver, type CrmReceiver } from '../support/crm-receiver';
import { startSippPbx, trunkEnv, type SippPbx } from '../support/sipp-pbx';

/**
 * What WhatsApp tells the business beyond calls (reference §2.9), end to end through signed webhooks from the
 * emulator: a voicemail left after a call the PBX refused (Meta's voicemail, REJECT trigger) reaches the CRM
 * as call.voicemail with the call's id and Meta's media id, the CDR keeps the media id, and the CRM gets the
 * recording through the gateway (the user's tone found in it; 404 before, 410 after Meta's 7 days); a restriction of
 * calling on the number and a quality violation reach the CRM as account.update and the log as warnings.
 */
const BUSINESS = '15550001111';
const USER = '15552227777';

describe('voicemail and account notices (emulator webhooks, SIPp as a busy PBX)', () => {
  let stack: Stack | undefined;
  let pbx: SippPbx | undefined;
  let crm: CrmReceiver | undefined;

  afterEach(() => expectNoLeaks(stack));
  afterEach(async () => {
    await stack?.close();
    await pbx?.stop();
    await crm?.close();
  });

  async function boot(calls = 1): Promise<Stack> {
    pbx = await startSippPbx('uas-busy-expect-486.xml', { transport: 'udp', calls });
    crm = await startCrmReceiver();
    stack = await startStack({ name: 'whatsapp-notices', env: { ...trunkEnv(BUSINESS, pbx.hostPort, { transport: 'udp' }), ...crm.env } });
    await stack.emu('POST', '/emulator/users', { waId: USER, name: 'Vera' });
    return stack;
  }

  /** POST /<PHONE_NUMBER_ID>/settings at the emulator's Graph API, as the business would. */
  async function graphSettings(s: Stack, calling: Record<string, unknown>): Promise<void> {
    const w = s.config.whatsapp;
    const res = await fetch(`${s.emulator.baseUrl}/${w.graphApiVersion}/${w.phoneNumberId}/settings`, {
      method: 'POST',
      headers: { authorization: `Bearer ${w.accessToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ calling }),
    });
    expect(res.status).toBe(200);
  }

  /** The CDR of the user's call `waCallId` once the PBX refused it and WhatsApp ended it. */
  async function refusedCall(s: Stack, waCallId: string): Promise<CallRecord> {
    const cdr = await eventually('CDR of the refused call', async () => {
      const { recent } = (await s.api('GET', '/v1/calls')).body as { recent: CallRecord[] };
      return recent.find((r) => r.waCallId === waCallId && r.state === 'ended');
    }, 15_000);
    await eventually('WhatsApp call ended', async () => (await s.emu<{ state: string }>('GET', `/emulator/calls/${waCallId}`)).state === 'ended');
    return cdr;
  }

  /** GET of the gateway's API as a CRM would make it, the answer's bytes kept as they are. */
  async function crmGet(s: Stack, path: string): Promise<{ status: number; headers: Headers; bytes: Buffer }> {
    const res = await fetch(`${s.signalling.baseUrl}${path}`, { headers: { authorization: `Bearer ${s.config.signalling.apiToken}` } });
    return { status: res.status, headers: res.headers, bytes: Buffer.from(await res.arrayBuffer()) };
  }

  it('a voicemail after a refused call reaches the CRM with the call and the media, the CDR keeps it, and the CRM gets the audio', async () => {
    const s = await boot(2);
    await graphSettings(s, { status: 'ENABLED', voicemail: { status: 'ENABLED', triggers: ['REJECT'] } });
    const { waCallId } = await s.emu<{ waCallId: string }>('POST', `/emulator/users/${USER}/call`, {});
    const cdr = await refusedCall(s, waCallId);
    expect(cdr.sipCause).toBe('486 Busy Here');
    // the CDR is found by its WhatsApp call id too, as long as it is kept
    expect((await s.api('GET', `/v1/calls/${waCallId}`)).body).toMatchObject({ callId: cdr.callId, state: 'ended' });
    // nothing left yet: nothing to fetch, and Meta is not asked
    const none = await crmGet(s, `/v1/calls/${cdr.callId}/voicemail`);
    expect(none.status).toBe(404);
    expect(JSON.parse(none.bytes.toString())).toMatchObject({ error: { code: 'NO_VOICEMAIL' } });

    const left = await s.emu<{ waCallId: string; mediaId: string; sha256: string }>('POST', `/emulator/users/${USER}/voicemail`, { durationS: 9, toneHz: 700 });
    expect(left.waCallId).toBe(waCallId);
    const event = await eventually('call.voicemail at the CRM', async () => crm!.events.find((e): e is Extract<CrmEvent, { type: 'call.voicemail' }> => e.type === 'call.voicemail'));
    const audioPath = `/v1/calls/${cdr.callId}/voicemail`;
    expect(event.data).toEqual({ waCallId, callId: cdr.callId, waId: USER, userName: 'Vera', mediaId: left.mediaId, mimeType: 'audio/ogg; codecs=opus', audioPath });
    expect(((await s.api('GET', `/v1/calls/${cdr.callId}`)).body as CallRecord).voicemailMediaId).toBe(left.mediaId);

    // the CRM gets the recording from the gateway, which fetched it from Meta with its own token: the user's
    // 700 Hz is in it, for the 9 s they spoke, and the bytes are the ones Meta announced
    const got = await crmGet(s, event.data.audioPath!);
    expect(got.status).toBe(200);
    expect(got.headers.get('content-type')).toBe('audio/ogg; codecs=opus');
    expect(got.headers.get('x-wa-media-id')).toBe(left.mediaId);
    expect(got.headers.get('content-disposition')).toBe(`inline; filename="voicemail-${cdr.callId}.ogg"`);
    expect(createHash('sha256').update(got.bytes).digest('hex')).toBe(left.sha256);
    const file = readOggOpus(got.bytes);
    expect(file.finalGranule - file.head.preSkip).toBe(9 * 48_000);
    const pcm = decodeOggOpus(file);
    const heard = analyseTone(pcm.subarray(4_800), 700, 48_000);
    expect(heard.framesWithTone).toBeGreaterThan(0.9 * heard.frames);
    expect(analyseTone(pcm.subarray(4_800), 440, 48_000).framesWithTone).toBe(0);
    // a replay (here by the WhatsApp call id) is served without asking Meta again
    const again = await crmGet(s, `/v1/calls/${waCallId}/voicemail`);
    expect(again.bytes.equals(got.bytes)).toBe(true);
    const asked = await s.emu<{ action: string; httpStatus: number }[]>('GET', `/emulator/graph-requests?mediaId=${left.mediaId}`);
    expect(asked.map((r) => [r.action, r.httpStatus])).toEqual([
      ['media', 200],
      ['media_download', 200],
    ]);

    // a second refused call's voicemail, asked for after Meta's 7 days: gone, and the CRM is told so
    const second = await s.emu<{ waCallId: string }>('POST', `/emulator/users/${USER}/call`, {});
    const cdr2 = await refusedCall(s, second.waCallId);
    const left2 = await s.emu<{ mediaId: string }>('POST', `/emulator/users/${USER}/voicemail`, { waCallId: second.waCallId, durationS: 2 });
    await eventually('second voicemail noted', async () => ((await s.api('GET', `/v1/calls/${cdr2.callId}`)).body as CallRecord).voicemailMediaId === left2.mediaId);
    await s.emu('POST', '/emulator/clock/advance', { ms: 8 * 86_400_000 });
    const gone = await crmGet(s, `/v1/calls/${cdr2.callId}/voicemail`);
    expect(gone.status).toBe(410);
    expect(JSON.parse(gone.bytes.toString())).toMatchObject({ error: { code: 'VOICEMAIL_EXPIRED', message: expect.stringContaining(`Meta no longer has voicemail ${left2.mediaId}`) } });
    expect((await pbx!.result()).exitCode).toBe(0);
  });

  it('a restriction of calling, its lifting and a quality violation reach the CRM and the log', async () => {
    const s = await boot();
    await s.emu('POST', '/emulator/account/events', { event: 'ACCOUNT_RESTRICTION', restrictions: [{ type: 'RESTRICTED_USER_INITIATED_CALLING', expiresInS: 3600 }] });
    await s.emu('POST', '/emulator/account/events', { event: 'ACCOUNT_VIOLATION', violationType: 'USER_INITIATED_CALLS_LOW_PICKUP_RATE' });
    await s.emu('POST', '/emulator/account/events', { event: 'ACCOUNT_RESTRICTION', restrictions: [] });
    const updates = await eventually('three account.update events', async () => {
      const got = crm!.events.filter((e): e is Extract<CrmEvent, { type: 'account.update' }> => e.type === 'account.update');
      return got.length === 3 ? got.map((e) => e.data) : undefined;
    });
    expect(updates).toEqual([
      { event: 'account_restriction', phoneNumber: BUSINESS, restrictions: [{ type: 'RESTRICTED_USER_INITIATED_CALLING', expiresAt: expect.any(Number) }] },
      { event: 'account_violation', phoneNumber: BUSINESS, violationType: 'USER_INITIATED_CALLS_LOW_PICKUP_RATE', restrictions: [] },
      { event: 'account_restriction', phoneNumber: BUSINESS, restrictions: [] },
    ]);
    const { now } = await s.emu<{ now: number }>('GET', '/emulator/clock');
    const expiresAt = updates[0]!.restrictions[0]!.expiresAt!;
    expect(Math.abs(expiresAt - (now + 3_600_000))).toBeLessThan(5_000);
    const log = readFileSync(s.logFile, 'utf8');
    expect(log).toMatch(/"level":40[^\n]*WhatsApp restricted calling on the business number: RESTRICTED_USER_INITIATED_CALLING until /);
    expect(log).toMatch(/"level":40[^\n]*calling quality violation \(USER_INITIATED_CALLS_LOW_PICKUP_RATE\)/);
    expect(log).toMatch(/"level":30[^\n]*WhatsApp lifted the calling restrictions/);
    await pbx!.stop();
  });

  it("reads and changes the number's calling settings at Meta with advice; Meta's refusal is the admin's 400; the warnings reach the log", async () => {
    const s = await boot();
    // the gateway looked at the settings when it started (Meta's defaults here: nothing to warn of)
    await eventually('start-up look in the log', async () => /"level":30[^\n]*WhatsApp calling settings read/.test(readFileSync(s.logFile, 'utf8')));
    const first = await s.api('GET', '/v1/admin/whatsapp-settings');
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ phoneNumberId: s.config.whatsapp.phoneNumberId, calling: { status: 'ENABLED' }, restrictions: [], advice: [] });

    // voicemail with a TIMEOUT trigger but no timeout: Meta keeps it and ignores the trigger, which the advice says
    const changed = await s.api('POST', '/v1/admin/whatsapp-settings', { calling: { voicemail: { status: 'ENABLED', triggers: ['REJECT', 'TIMEOUT'] } } });
    expect(changed.status).toBe(200);
    expect(changed.body).toMatchObject({ calling: { status: 'ENABLED', voicemail: { status: 'ENABLED', triggers: ['REJECT', 'TIMEOUT'] } }, advice: [{ level: 'warning', code: 'VOICEMAIL_TIMEOUT_IGNORED' }] });
    const w = s.config.whatsapp;
    const atMeta = await fetch(`${s.emulator.baseUrl}/${w.graphApiVersion}/${w.phoneNumberId}/settings`, { headers: { authorization: `Bearer ${w.accessToken}` } });
    expect(((await atMeta.json()) as { calling: Record<string, unknown> }).calling).toMatchObject({ voicemail: { status: 'ENABLED', triggers: ['REJECT', 'TIMEOUT'] } });

    // a value Meta does not take: 400 with Meta's reason, nothing changed
    const refused = await s.api('POST', '/v1/admin/whatsapp-settings', { calling: { voicemail: { status: 'ENABLED', triggers: ['TIMEOUT'], audio: { default: { timeout_seconds: 99 } } } } });
    expect(refused.status).toBe(400);
    expect(refused.body).toMatchObject({ error: { code: 'WA_SETTINGS_REFUSED', message: expect.stringMatching(/^WhatsApp refused the calling settings: .*timeout_seconds/), metaCode: 100 } });
    expect(((await s.api('GET', '/v1/admin/whatsapp-settings')).body as { calling: { voicemail: unknown } }).calling.voicemail).toEqual({ status: 'ENABLED', triggers: ['REJECT', 'TIMEOUT'] });
    expect((await s.api('POST', '/v1/admin/whatsapp-settings', { calling: 'ENABLED' })).status).toBe(400);

    // Meta's SIP mode, which refuses the Graph calls the gateway makes: in the answer, and in the log from
    // Meta's account_settings_update webhook
    const sip = await s.api('POST', '/v1/admin/whatsapp-settings', { calling: { voicemail: { status: 'DISABLED' }, sip: { status: 'ENABLED', servers: [{ hostname: 'sip.example.com', port: 5061 }] } } });
    expect(sip.status).toBe(200);
    expect((sip.body as { advice: { code: string }[] }).advice.map((a) => a.code)).toEqual(['SIP_MODE_ENABLED']);
    await eventually('the SIP mode warning in the log', async () =>
      /"level":40[^\n]*WhatsApp calling settings: calling\.sip\.status is ENABLED: Meta sends this number's calls to SIP servers \(sip\.example\.com\)/.test(readFileSync(s.logFile, 'utf8')),
    );
    await pbx!.stop();
  });

  it('uploads a voicemail greeting through the gateway and names it in the settings; a file Meta would not take is refused before it goes out', async () => {
    const s = await boot();
    const upload = async (bytes: Buffer, query = ''): Promise<{ status: number; body: Record<string, unknown> }> => {
      const res = await fetch(`${s.signalling.baseUrl}/v1/admin/whatsapp-voicemail-announcement${query}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${s.config.signalling.apiToken}`, 'content-type': 'audio/ogg' },
        body: Uint8Array.from(bytes),
      });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };
    const greeting = toneAsOggOpus({ frequencyHz: 520, durationS: 4 });
    // no voicemail settings yet: nothing to name it in, and nothing uploaded
    expect(await upload(greeting, '?apply=true')).toMatchObject({ status: 409, body: { error: { code: 'NO_VOICEMAIL_SETTINGS' } } });
    expect(await s.emu<unknown[]>('GET', '/emulator/graph-requests?action=media_upload')).toEqual([]);
    // not Ogg Opus, or too long: refused with the reason, nothing uploaded
    expect(await upload(Buffer.from('RIFF....WAVEfmt '))).toMatchObject({ status: 400, body: { error: { code: 'ANNOUNCEMENT_INVALID', message: expect.stringMatching(/^not an Ogg Opus file/) } } });
    expect(await upload(toneAsOggOpus({ frequencyHz: 520, durationS: 61 }))).toMatchObject({ status: 400, body: { error: { message: 'the announcement lasts 61.0 s: Meta takes under 60 s' } } });
    expect(await s.emu<unknown[]>('GET', '/emulator/graph-requests?action=media_upload')).toEqual([]);

    expect((await s.api('POST', '/v1/admin/whatsapp-settings', { calling: { voicemail: { status: 'ENABLED', triggers: ['TIMEOUT'], audio: { default: { timeout_seconds: 15 } } } } })).status).toBe(200);
    const done = await upload(greeting, '?apply=true');
    expect(done).toMatchObject({ status: 201, body: { durationS: 4, applied: true } });
    const mediaId = done.body['mediaId'] as string;
    // Meta (the emulator) has the file as sent, as a voicemail announcement, and the settings name it
    const w = s.config.whatsapp;
    const auth = { authorization: `Bearer ${w.accessToken}` };
    const info = (await (await fetch(`${s.emulator.baseUrl}/${w.graphApiVersion}/${mediaId}`, { headers: auth })).json()) as { url: string; mime_type: string };
    expect(info.mime_type).toMatch(/^audio\/ogg/);
    const stored = Buffer.from(await (await fetch(info.url, { headers: auth })).arrayBuffer());
    expect(stored.equals(greeting)).toBe(true);
    const settings = (await s.api('GET', '/v1/admin/whatsapp-settings')).body as { calling: { voicemail: unknown } };
    expect(settings.calling.voicemail).toEqual({ status: 'ENABLED', triggers: ['TIMEOUT'], audio: { default: { timeout_seconds: 15, announcement_media_id: mediaId } } });
    await pbx!.stop();
  });
});
