import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CallRecord } from '@wagw/call-state';
import { MediaBusClient } from '../../apps/signalling/src/media/media-bus.client';
import { eventually, startStack, type Stack } from '../support/stack';
import { expectNoLeaks, NOT_CALL_STATE_KEY } from '../support/leaks';
import { phoneHeard, startDemoPbx, type DemoPbx } from '../support/pbx';
import { duplicateTopLevelKeys } from '../support/log-lines';

/**
 * Inbound bridge (issue 3): a WhatsApp user calls, the gateway INVITEs Kamailio (digest-authenticated
 * trunk), the baresip desk phone 1001 rings and auto-answers, audio flows both ways (Opus <-> G.711), and
 * a hang-up on either side ends both legs. Run over UDP, TCP and TLS (the trunk's certificate verified
 * against `pbx.tlsCaFile`).
 */
/** Keys that outlive a call by design: webhook de-dup markers (TTL), the user's permission record and contact entry. */

describe.each(['udp', 'tcp', 'tls'] as const)('inbound over %s: a WhatsApp user rings a desk phone behind Kamailio', (transport) => {
  const user = '15552223333';
  let dir: string;
  let pbx: DemoPbx;
  let stack: Stack;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'wagw-inbound-'));
    pbx = await startDemoPbx({ transport, phoneToneHz: 400, dir });
    stack = await startStack({ name: `inbound-${transport}`, env: pbx.gatewayEnv('15550001111') });
    await stack.emu('POST', '/emulator/users', { waId: user, name: 'Jane' });
  });

  afterEach(() => expectNoLeaks(stack));
  afterEach(async () => {
    await stack?.close();
    await pbx?.stop();
    rmSync(dir, { recursive: true, force: true });
    // a whole call's debug logs, SIP legs included: every line names each field once (log tools keep only the last)
    const lines = readFileSync(stack.logFile, 'utf8').split('\n').filter((l) => l.startsWith('{'));
    expect(lines.length).toBeGreaterThan(20);
    expect(lines.map((l) => duplicateTopLevelKeys(l)).filter((d) => d.length > 0)).toEqual([]);
  });

  async function placeCall(): Promise<{ waCallId: string; call: CallRecord }> {
    const { waCallId } = await stack.emu<{ waCallId: string }>('POST', `/emulator/users/${user}/call`, {});
    await stack.emu('POST', `/emulator/users/${user}/media/tone`, { frequencyHz: 1000 });
    const call = await eventually(`call ${waCallId} active`, async () => {
      const res = await stack.api('GET', `/v1/calls/${waCallId}`);
      const rec = res.body as CallRecord;
      return res.status === 200 && rec.state === 'active' ? rec : undefined;
    }, 20_000);
    return { waCallId, call };
  }

  async function userHears(frequencyHz: number): Promise<number> {
    return eventually(`${frequencyHz} Hz at the WhatsApp user`, async () => {
      const a = await stack.emu<{ tone: { framesWithTone: number } | null }>('GET', `/emulator/users/${user}/media/analysis?frequencyHz=${frequencyHz}`);
      return a.tone && a.tone.framesWithTone >= 25 ? a.tone.framesWithTone : undefined;
    }, 15_000, 250);
  }

  async function ended(callId: string): Promise<CallRecord> {
    return eventually('call ended', async () => {
      const rec = (await stack.api('GET', `/v1/calls/${callId}`)).body as CallRecord;
      return rec.state === 'ended' ? rec : undefined;
    }, 15_000);
  }

  async function nothingLeaks(call: Pick<CallRecord, 'callId' | 'waCallId'>): Promise<void> {
    const prefix = stack.config.redis.keyPrefix;
    const keys = await eventually('only the CDR left', async () => {
      const k = (await stack.keys()).filter((key) => !NOT_CALL_STATE_KEY.test(key));
      return k.length === 3 ? k : undefined;
    });
    // the CDR: its record, its wacall alias, the ended index
    expect(keys).toEqual([`${prefix}:call:${call.callId}`, `${prefix}:calls:ended`, `${prefix}:wacall:${call.waCallId}`].sort());
    const stats = await stack.signalling.app.get(MediaBusClient).mediaStats();
    expect(stats).toMatchObject({ waLegs: 0, pbxLegs: 0, bridges: 0, rtpPortsInUse: 0 });
    expect((await stack.api('GET', '/v1/calls')).body).toMatchObject({ active: [] });
  }

  it('bridges audio both ways and ends both legs when the user hangs up', async () => {
    const { call } = await placeCall();
    expect(call.codec).toMatch(/PCMU|PCMA/);
    expect(call.destination).toBe(`sip:1001@${pbx.kamailio.host}`);
    await userHears(400);
    const heard = await phoneHeard(pbx.phone, 1000);
    expect(heard.framesWithTone).toBeGreaterThanOrEqual(25);

    await stack.emu('POST', `/emulator/users/${user}/hangup`);
    const cdr = await ended(call.callId);
    expect(cdr).toMatchObject({ endedBy: 'wa' });
    // WhatsApp's duration (its terminate webhook's) is on the CDR by the time it says ended; a user's call bills nothing
    const emuCall = await stack.emu<{ durationS: number | null }>('GET', `/emulator/calls/${call.waCallId}`);
    expect(emuCall.durationS).toBeGreaterThan(0);
    expect(cdr.waDurationS).toBe(emuCall.durationS);
    expect(cdr.waBillablePulses).toBeUndefined();
    // the bridge's media figures too: noted as the legs close, before the end is applied
    expect(cdr).toMatchObject({ mediaMode: 'transcode', waPacketsLost: 0 });
    expect(cdr.waPacketsReceived).toBeGreaterThan(25);
    expect(cdr.pbxPacketsReceived).toBeGreaterThan(25);
    await pbx.phone.waitEvent('CALL_CLOSED', 10_000);
    await nothingLeaks(call);
  });

  it('ends the WhatsApp call with terminate when the desk phone hangs up', async () => {
    const { waCallId, call } = await placeCall();
    await userHears(400);
    await pbx.phone.hangup();
    const cdr = await ended(call.callId);
    expect(cdr).toMatchObject({ endedBy: 'pbx', mediaMode: 'transcode' });
    const emuCall = await eventually('WhatsApp call ended', async () => {
      const c = await stack.emu<{ state: string; timeline: { event: string }[] }>('GET', `/emulator/calls/${waCallId}`);
      return c.state === 'ended' ? c : undefined;
    });
    expect(JSON.stringify(emuCall.timeline)).toMatch(/terminate/);
    await nothingLeaks(call);
  });
});

describe('inbound over tls to a trunk whose certificate is not trusted', () => {
  const user = '15552224444';
  let dir: string;
  let pbx: DemoPbx;
  let stack: Stack;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'wagw-inbound-tls-'));
    pbx = await startDemoPbx({ transport: 'tls', phoneToneHz: 400, dir });
    // the same trunk, but Node's public CAs instead of pbx.tlsCaFile: the self-signed certificate must fail
    const { PBX_TLS_CA_FILE: _trusted, ...env } = pbx.gatewayEnv('15550001111');
    stack = await startStack({ name: 'inbound-tls-untrusted', env });
    await stack.emu('POST', '/emulator/users', { waId: user, name: 'Ray' });
  });

  afterAll(async () => {
    await stack?.close();
    await pbx?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('rejects the WhatsApp call, the phone never rings, and the CDR says why', async () => {
    const { waCallId } = await stack.emu<{ waCallId: string }>('POST', `/emulator/users/${user}/call`, {});
    const cdr = await eventually('call ended', async () => {
      const { recent } = (await stack.api('GET', '/v1/calls')).body as { recent: CallRecord[] };
      return recent.find((c) => c.waCallId === waCallId);
    }, 20_000);
    expect(cdr).toMatchObject({ state: 'ended', endedBy: 'pbx', endCause: 'PBX unreachable', sipCause: '503 Service Unavailable (self-signed certificate)' });
    expect(cdr.answeredAt).toBeUndefined();
    expect(cdr.waDurationS).toBeUndefined(); // never answered: Meta's terminate has no duration
    const emuCall = await stack.emu<{ state: string; timeline: { event: string }[] }>('GET', `/emulator/calls/${waCallId}`);
    expect(JSON.stringify(emuCall.timeline)).toMatch(/reject/);
    expect(pbx.phone.events().some((e) => e.type === 'CALL_INCOMING')).toBe(false);
    await expectNoLeaks(stack);
  });
});
