import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CallRecord } from '@wagw/call-state';
import type { Env } from '@wagw/config';
import type { BaresipHandle } from '@wagw/testing';
import { eventually, startStack, type Stack } from '../support/stack';
import { expectNoLeaks } from '../support/leaks';
import { startDemoPbx, startExtension, type DemoPbx } from '../support/pbx';
import { startSippPbx, trunkEnv, type SippPbx } from '../support/sipp-pbx';
import { startCrmReceiver, type CrmReceiver } from '../support/crm-receiver';
import { scrapedSample } from '../support/metrics';

/**
 * Call buttons and deep links (reference §3.8): the CRM sends a WhatsApp user a call button through the API
 * (`POST /v1/contacts/{waId}/call-button`, an interactive voice_call message at the emulator); the user's tap
 * calls the business with the button's payload, and the route's entry point for that payload rings the billing
 * desk phone (2001, 700 Hz) instead of the front desk (1001, 400 Hz). A deep link with a payload no entry
 * point names rings the route's own phone. What the WhatsApp user hears says which phone answered; the call
 * record, the CRM's call.incoming and the PBX's INVITE (X-WA-Entry-Point, X-WA-Entry-Payload) carry the payload.
 */
const BUSINESS = '15550001111';
describe('call buttons and deep links routed by their payload (Kamailio, baresip)', () => {
  let dir: string;
  let pbx: DemoPbx;
  let billingPhone: BaresipHandle;
  let crm: CrmReceiver;
  let stack: Stack;
  let seq = 0;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'wagw-entry-'));
    pbx = await startDemoPbx({ transport: 'udp', phoneToneHz: 400, dir });
    billingPhone = await startExtension(dir, { host: pbx.kamailio.host, port: pbx.kamailio.port }, '2001', 700);
    crm = await startCrmReceiver();
    const base = pbx.gatewayEnv(BUSINESS);
    const [route] = JSON.parse(base['PBX_ROUTES'] as string) as Record<string, unknown>[];
    const entryPoints = [{ payload: 'queue=billing', destinations: [{ uri: `sip:2001@${pbx.kamailio.host}`, trunk: 'pbx', ringTimeoutMs: 20000 }] }];
    const env: Env = { ...base, PBX_ROUTES: JSON.stringify([{ ...route, entryPoints }]), ...crm.env };
    stack = await startStack({ name: 'entry-points', env });
  });

  afterEach(() => expectNoLeaks(stack));
  afterAll(async () => {
    await stack?.close();
    await billingPhone?.stop();
    await pbx?.stop();
    await crm?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function newUser(): Promise<string> {
    const user = `1555444${String(++seq).padStart(4, '0')}`;
    await stack.emu('POST', '/emulator/users', { waId: user, name: `Caller ${seq}` });
    return user;
  }

  /** The call once up, after the user heard `frequencyHz`; then the user hangs up and the CDR is returned. */
  async function answeredBy(user: string, waCallId: string, frequencyHz: number): Promise<CallRecord> {
    const active = await eventually(
      'call active',
      async () => {
        const res = await stack.api('GET', `/v1/calls/${waCallId}`);
        return res.status === 200 && (res.body as CallRecord).state === 'active' ? (res.body as CallRecord) : undefined;
      },
      25_000,
    );
    await eventually(
      `${frequencyHz} Hz at the WhatsApp user`,
      async () => {
        const a = await stack.emu<{ tone: { framesWithTone: number } | null }>('GET', `/emulator/users/${user}/media/analysis?frequencyHz=${frequencyHz}`);
        return !!a.tone && a.tone.framesWithTone >= 25;
      },
      15_000,
      250,
    );
    await stack.emu('POST', `/emulator/users/${user}/hangup`);
    return eventually('CDR', async () => {
      const rec = (await stack.api('GET', `/v1/calls/${active.callId}`)).body as CallRecord;
      return rec.state === 'ended' ? rec : undefined;
    }, 15_000);
  }

  it("a tapped call button rings its entry point's phone, and the record and call.incoming carry the payload", async () => {
    const user = await newUser();
    const sent = await stack.api('POST', `/v1/contacts/+${user}/call-button`, { bodyText: 'Questions about your bill?', displayText: 'Call billing', ttlMinutes: 60, payload: 'queue=billing' });
    expect(sent.status).toBe(201);
    const { messageId, expiresAt } = sent.body as { messageId: string; expiresAt: number };
    expect(messageId).toMatch(/^wamid\./);
    expect(expiresAt).toBeGreaterThan(Date.now() + 59 * 60_000);
    // WhatsApp got the interactive voice_call message, and the user has the button
    const view = await stack.emu<{ callButtons: { messageId: string; payload?: string; displayText: string; expired: boolean }[] }>('GET', `/emulator/users/${user}`);
    expect(view.callButtons).toEqual([expect.objectContaining({ messageId, payload: 'queue=billing', displayText: 'Call billing', expired: false })]);

    const tap = await stack.emu<{ waCallId: string; payload: string }>('POST', `/emulator/users/${user}/tap-call-button`, { messageId });
    expect(tap.payload).toBe('queue=billing');
    const cdr = await answeredBy(user, tap.waCallId, 700);
    expect(cdr).toMatchObject({ entryPoint: 'call_button', entryPayload: 'queue=billing', destination: `sip:2001@${pbx.kamailio.host}`, endedBy: 'wa' });
    const incoming = await eventually('call.incoming at the CRM', async () => crm.events.find((e) => e.type === 'call.incoming' && 'callId' in e.data && e.data.callId === cdr.callId));
    expect(incoming.data).toMatchObject({ waId: user, entryPoint: 'call_button', entryPayload: 'queue=billing', destination: `sip:2001@${pbx.kamailio.host}` });
    expect(await scrapedSample(stack.signalling.baseUrl, 'wagw_inbound_calls_by_entry_total', { entry: 'call_button' })).toBe(1);
  });

  it("a deep link whose payload no entry point names rings the route's own phone, keeping the payload on the record", async () => {
    const user = await newUser();
    const { waCallId } = await stack.emu<{ waCallId: string }>('POST', `/emulator/users/${user}/call`, { deeplinkPayload: 'campaign=spring' });
    const cdr = await answeredBy(user, waCallId, 400);
    expect(cdr).toMatchObject({ entryPoint: 'deep_link', entryPayload: 'campaign=spring', destination: `sip:1001@${pbx.kamailio.host}` });
  });

  it('a deep link with the entry point payload rings the billing phone too', async () => {
    const user = await newUser();
    const { waCallId } = await stack.emu<{ waCallId: string }>('POST', `/emulator/users/${user}/call`, { deeplinkPayload: 'queue=billing' });
    const cdr = await answeredBy(user, waCallId, 700);
    expect(cdr).toMatchObject({ entryPoint: 'deep_link', entryPayload: 'queue=billing', destination: `sip:2001@${pbx.kamailio.host}` });
  });

  it('refuses a call button Meta would refuse, naming the field, and sends nothing', async () => {
    const user = await newUser();
    const before = (await stack.emu<unknown[]>('GET', '/emulator/graph-requests')).length;
    const res = await stack.api('POST', `/v1/contacts/${user}/call-button`, { bodyText: 'Call us', displayText: 'a label longer than 20' });
    expect(res.status).toBe(400);
    expect(JSON.stringify(res.body)).toMatch(/displayText/);
    expect((await stack.api('POST', `/v1/contacts/${user}/call-button`, { displayText: 'Call' })).status).toBe(400);
    expect((await stack.api('POST', `/v1/contacts/${user}/call-button`, { bodyText: 'x', ttlMinutes: 43_201 })).status).toBe(400);
    expect((await stack.emu<unknown[]>('GET', '/emulator/graph-requests')).length).toBe(before);
    expect((await stack.emu<{ callButtons: unknown[] }>('GET', `/emulator/users/${user}`)).callButtons).toEqual([]);
  });

  it("passes Meta's refusal on with its code: 131009, the user's country has no call buttons", async () => {
    const user = await newUser();
    await stack.emu('PUT', `/emulator/users/${user}/behaviour`, { callButtons: false });
    const res = await stack.api('POST', `/v1/contacts/${user}/call-button`, { bodyText: 'Call us', payload: 'queue=billing' });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error: expect.objectContaining({ code: 'WA_GRAPH_API_ERROR', message: expect.stringMatching(/131009.*not supported/) }) });
    expect((await stack.emu<{ callButtons: unknown[] }>('GET', `/emulator/users/${user}`)).callButtons).toEqual([]);
  });
});

describe('the entry point in the INVITE (SIPp as the PBX)', () => {
  let stack: Stack | undefined;
  let pbx: SippPbx | undefined;

  afterEach(() => expectNoLeaks(stack));
  afterEach(async () => {
    await stack?.close();
    await pbx?.stop();
  });

  it('sends X-WA-Entry-Point and the payload percent-encoded where a header needs it', async () => {
    pbx = await startSippPbx('uas-busy-expect-486.xml', { transport: 'udp' });
    stack = await startStack({ name: 'entry-points-sipp', env: trunkEnv(BUSINESS, pbx.hostPort, { transport: 'udp' }) });
    const user = '15554449999';
    await stack.emu('POST', '/emulator/users', { waId: user, name: 'Sam' });
    const { waCallId } = await stack.emu<{ waCallId: string }>('POST', `/emulator/users/${user}/call`, { deeplinkPayload: 'promo 50%\r\nX-Evil: 1' });
    const cdr = await eventually('CDR', async () => {
      const { recent } = (await stack!.api('GET', '/v1/calls')).body as { recent: CallRecord[] };
      return recent.find((r) => r.waCallId === waCallId && r.state === 'ended');
    }, 15_000);
    expect(cdr).toMatchObject({ entryPoint: 'deep_link', entryPayload: 'promo 50%\r\nX-Evil: 1', sipCause: '486 Busy Here' });
    const sipp = await pbx.result();
    expect({ exit: sipp.exitCode, errors: sipp.errors }).toEqual({ exit: 0, errors: '' });
    // header names are case-insensitive (RFC 3261 §7.3.1); the stack writes them as X-Wa-…
    expect(pbx.messages()).toMatch(/^X-WA-Entry-Point: deep_link\r?$/im);
    expect(pbx.messages()).toMatch(/^X-WA-Entry-Payload: promo%2050%25%0D%0AX-Evil:%201\r?$/im);
    expect(pbx.messages()).not.toMatch(/^X-Evil/im);
  });
});
