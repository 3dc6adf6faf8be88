import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CallRecord } from '@wagw/call-state';
import type { Env } from '@wagw/config';
import { silentLogger } from '@wagw/logging';
import { SipStack } from '@wagw/sip';
import { freeTcpUdpPort } from '@wagw/testing';
import { eventually, startStack, type Stack } from '../support/stack';
import { expectNoLeaks } from '../support/leaks';
import { SilentHost } from '../support/silent-host';
import { phoneHeard, startDemoPbx, type DemoPbx } from '../support/pbx';

/**
 * Trunk failover (issue: trunk operations): the trunk lists a host that never answers first and Kamailio
 * second. A WhatsApp user's call reaches the baresip desk phone through the second host; OPTIONS
 * keep-alives mark the silent host down (calls then skip it) and up again once something answers there.
 */

const BUSINESS = '15550001111';
const USER = '15552220001';

interface HostView {
  host: string;
  state: string;
}

describe('trunk failover: a silent first host, Kamailio second', () => {
  let dir: string;
  let pbx: DemoPbx;
  let silent: SilentHost | undefined;
  let responder: SipStack | undefined;
  let stack: Stack | undefined;
  let deadHost: string;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'wagw-failover-'));
    const port = await freeTcpUdpPort();
    deadHost = `127.0.0.1:${port}`;
    silent = await SilentHost.start(port);
    pbx = await startDemoPbx({ transport: 'udp', phoneToneHz: 400, dir });
  });

  afterEach(() => expectNoLeaks(stack));
  afterEach(async () => {
    await stack?.close();
    await responder?.close();
    await silent?.close();
    await pbx?.stop();
    stack = undefined;
    responder = undefined;
    silent = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  /** The demo PBX's trunk with the silent host first and the health keys given. */
  function env(health: { optionsIntervalMs: number; downAfterFailures?: number; upAfterSuccesses?: number }): Env {
    const base = pbx.gatewayEnv(BUSINESS);
    const [trunk] = JSON.parse(base['PBX_TRUNKS'] as string) as { hosts: string[] }[];
    const kamailio = `${pbx.kamailio.host}:${pbx.kamailio.port}`;
    return { ...base, PBX_TRUNKS: JSON.stringify([{ ...trunk, hosts: [deadHost, kamailio], failoverTimeoutMs: 1000, ...health }]) };
  }

  async function callAndWaitActive(s: Stack): Promise<CallRecord> {
    await s.emu('POST', '/emulator/users', { waId: USER, name: 'Failover' }).catch(() => undefined);
    const { waCallId } = await s.emu<{ waCallId: string }>('POST', `/emulator/users/${USER}/call`, {});
    await s.emu('POST', `/emulator/users/${USER}/media/tone`, { frequencyHz: 1000 });
    return eventually(
      `call ${waCallId} active`,
      async () => {
        const res = await s.api('GET', `/v1/calls/${waCallId}`);
        const rec = res.body as CallRecord;
        return res.status === 200 && rec.state === 'active' ? rec : undefined;
      },
      25_000,
    );
  }

  async function hangUpAndWaitEnded(s: Stack, callId: string): Promise<void> {
    await s.emu('POST', `/emulator/users/${USER}/hangup`);
    await eventually('call ended', async () => ((await s.api('GET', `/v1/calls/${callId}`)).body as CallRecord).state === 'ended', 15_000);
    await pbx.phone.waitEvent('CALL_CLOSED', 10_000);
  }

  async function hostStates(s: Stack): Promise<Record<string, string>> {
    const res = await s.api('GET', '/v1/trunks');
    expect(res.status).toBe(200);
    const [trunk] = (res.body as { trunks: { name: string; hosts: HostView[] }[] }).trunks;
    return Object.fromEntries((trunk?.hosts ?? []).map((h) => [h.host, h.state]));
  }

  async function metric(s: Stack, host: string): Promise<string | undefined> {
    const text = await (await fetch(`${s.signalling.baseUrl}/metrics`)).text();
    return new RegExp(`^wagw_trunk_host_up\\{trunk="pbx",host="${host.replace(/\./g, '\\.')}"\\} (\\d)$`, 'm').exec(text)?.[1];
  }

  it('a call goes to the second host when the first sends nothing, with the same Call-ID', async () => {
    stack = await startStack({ name: 'trunk-failover-invite', env: env({ optionsIntervalMs: 0 }) });

    const call = await callAndWaitActive(stack);

    // one INVITE transaction (UDP retransmissions of it included) reached the silent host first
    const invites = silent?.invites() ?? [];
    expect(invites.length).toBeGreaterThanOrEqual(1);
    expect(new Set(invites.map((i) => i.branch)).size).toBe(1);
    expect(invites[0]?.line).toBe(`INVITE sip:1001@${pbx.kamailio.host} SIP/2.0`);
    expect(new Set(invites.map((i) => i.callId))).toEqual(new Set([call.sipCallId]));
    expect(call.destination).toBe(`sip:1001@${pbx.kamailio.host}`);
    const heard = await phoneHeard(pbx.phone, 1000);
    expect(heard.framesWithTone).toBeGreaterThanOrEqual(25);
    await hangUpAndWaitEnded(stack, call.callId);
  });

  it('OPTIONS mark the silent host down (calls skip it) and up again once it answers', async () => {
    stack = await startStack({ name: 'trunk-failover-options', env: env({ optionsIntervalMs: 300, downAfterFailures: 2, upAfterSuccesses: 2 }) });
    const s = stack;
    const kamailio = `${pbx.kamailio.host}:${pbx.kamailio.port}`;

    await eventually('silent host down, Kamailio up', async () => {
      const states = await hostStates(s);
      return states[deadHost] === 'down' && states[kamailio] === 'up';
    });
    expect(await metric(s, deadHost)).toBe('0');
    expect(await metric(s, kamailio)).toBe('1');
    expect(silent?.received.some((r) => r.line === `OPTIONS sip:${deadHost} SIP/2.0`)).toBe(true);

    const call = await callAndWaitActive(s);
    expect(silent?.invites()).toEqual([]);
    await phoneHeard(pbx.phone, 1000);
    await hangUpAndWaitEnded(s, call.callId);

    // something starts answering on the silent host's port
    await silent?.close();
    silent = undefined;
    responder = await SipStack.start({ listen: { host: '127.0.0.1', udpPort: Number(deadHost.split(':')[1]) }, logger: silentLogger() });
    await eventually('silent host back up', async () => (await hostStates(s))[deadHost] === 'up', 20_000);
    expect(await metric(s, deadHost)).toBe('1');
  });
});
