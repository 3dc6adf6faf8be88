import { readFileSync } from 'node:fs';
import type { CallRecord } from '@wagw/call-state';
import type { CrmEvent } from '../../apps/signalling/src/events/crm-event.types';
import { eventually, startStack, type Stack } from '../support/stack';
import { expectNoLeaks } from '../support/leaks';
import { startCrmReceiver, type CrmReceiver } from '../support/crm-receiver';
import { startSippPbx, trunkEnv, type SippPbx } from '../support/sipp-pbx';

/**
 * What WhatsApp tells the business beyond calls (reference §2.9), end to end through signed webhooks from the
 * emulator: a voicemail left after a call the PBX refused (Meta's voicemail, REJECT trigger) reaches the CRM
 * as call.voicemail with the call's id and Meta's media id, and the CDR keeps the media id; a restriction of
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

  async function boot(): Promise<Stack> {
    pbx = await startSippPbx('uas-busy-expect-486.xml', { transport: 'udp' });
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

  it('a voicemail after a refused call reaches the CRM with the call and the media, and the CDR keeps it', async () => {
    const s = await boot();
    await graphSettings(s, { status: 'ENABLED', voicemail: { status: 'ENABLED', triggers: ['REJECT'] } });
    const { waCallId } = await s.emu<{ waCallId: string }>('POST', `/emulator/users/${USER}/call`, {});
    const cdr = await eventually('CDR of the refused call', async () => {
      const { recent } = (await s.api('GET', '/v1/calls')).body as { recent: CallRecord[] };
      return recent.find((r) => r.waCallId === waCallId && r.state === 'ended');
    }, 15_000);
    expect(cdr.sipCause).toBe('486 Busy Here');
    // the CDR is found by its WhatsApp call id too, as long as it is kept
    expect((await s.api('GET', `/v1/calls/${waCallId}`)).body).toMatchObject({ callId: cdr.callId, state: 'ended' });
    await eventually('WhatsApp call ended', async () => (await s.emu<{ state: string }>('GET', `/emulator/calls/${waCallId}`)).state === 'ended');

    const left = await s.emu<{ waCallId: string; mediaId: string }>('POST', `/emulator/users/${USER}/voicemail`, { durationS: 9 });
    expect(left.waCallId).toBe(waCallId);
    const event = await eventually('call.voicemail at the CRM', async () => crm!.events.find((e): e is Extract<CrmEvent, { type: 'call.voicemail' }> => e.type === 'call.voicemail'));
    expect(event.data).toEqual({ waCallId, callId: cdr.callId, waId: USER, userName: 'Vera', mediaId: left.mediaId, mimeType: 'audio/ogg; codecs=opus' });
    expect(((await s.api('GET', `/v1/calls/${cdr.callId}`)).body as CallRecord).voicemailMediaId).toBe(left.mediaId);
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
});
