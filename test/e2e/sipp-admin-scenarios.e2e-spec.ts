import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CallRecord } from '@wagw/call-state';
import type { Env } from '@wagw/config';
import { freeTcpUdpPort, runSipp, startSippUas, type SippResult, type SippUasHandle } from '@wagw/testing';
import { eventually, startStack, type Stack } from '../support/stack';
import { expectNoLeaks } from '../support/leaks';
import { grantPermanently, userHeard } from '../support/pbx-to-whatsapp';

/**
 * The PBX admin's SIPp scenarios (test/sipp/README.md), each run here at a low rate against the booted
 * gateway and emulator: WhatsApp users calling the PBX (SIPp as the PBX answers and echoes RTP; is busy;
 * lets it ring; is down; challenges with a digest) and the PBX calling WhatsApp users (SIPp as the desk
 * phone with G.711 from a pcap). SIPp's exit code and its call counters are the assertion, with the
 * gateway's CDRs and, where audio flows, what the users heard. The same files run at load (README).
 */
const SIPP_DIR = join(__dirname, '..', 'sipp');
const BUSINESS = '15550001111';
const CALLS = 3;
const GW_USER = 'gw';
const GW_PASSWORD = 'gw-secret';

interface ScenarioPbx {
  uas: SippUasHandle;
  hostPort: string;
}

/** Gateway trunk `pbx` to SIPp over UDP (no OPTIONS keep-alive: the scenarios take INVITEs only) and the route to it. */
function trunkTo(hostPort: string, o: { ringTimeoutMs?: number; auth?: boolean; allowFrom?: string[] } = {}): Env {
  return {
    PBX_TRUNKS: JSON.stringify([
      {
        name: 'pbx',
        hosts: [hostPort],
        transport: 'udp',
        username: o.auth ? GW_USER : '',
        password: o.auth ? GW_PASSWORD : '',
        fromUser: o.auth ? GW_USER : '',
        fromDomain: '127.0.0.1',
        codecs: ['PCMU', 'PCMA'],
        allowFrom: o.allowFrom ?? [],
        optionsIntervalMs: 0,
      },
    ]),
    PBX_ROUTES: JSON.stringify([
      { businessNumber: BUSINESS, destinations: [{ uri: `sip:1001@${hostPort}`, trunk: 'pbx', ringTimeoutMs: o.ringTimeoutMs ?? 20_000 }], onFailure: 'reject' },
    ]),
  };
}

/** SIPp's verdict in one comparable object: exit 0 and every call successful is the scenario run as written. */
function verdict(r: SippResult): { exitCode: number | null; timedOut: boolean; created?: number; successful?: number; failed?: number; errors: string } {
  return { exitCode: r.exitCode, timedOut: r.timedOut, created: r.stats?.created, successful: r.stats?.successful, failed: r.stats?.failed, errors: r.errors.slice(-1500) };
}

const passedAll = (calls: number) => ({ exitCode: 0, timedOut: false, created: calls, successful: calls, failed: 0, errors: '' });

describe('SIPp admin scenarios at low rate (test/sipp/README.md)', () => {
  let stack: Stack | undefined;
  let pbx: ScenarioPbx | undefined;
  let dir: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'wagw-sipp-admin-'));
  });

  afterEach(() => expectNoLeaks(stack, 15_000));
  afterEach(async () => {
    await stack?.close();
    await pbx?.uas.stop();
    stack = undefined;
    pbx = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  async function startPbx(scenario: string, extraArgs: string[] = []): Promise<ScenarioPbx> {
    const uas = await startSippUas({ scenario: join(SIPP_DIR, scenario), calls: CALLS, timeoutMs: 90_000, dir, extraArgs });
    pbx = { uas, hostPort: `${uas.host}:${uas.port}` };
    return pbx;
  }

  async function boot(env: Env, users: string[]): Promise<Stack> {
    stack = await startStack({ name: 'sipp-admin-scenarios', env });
    for (const waId of users) await stack.emu('POST', '/emulator/users', { waId });
    return stack;
  }

  const users = (base: number): string[] => Array.from({ length: CALLS }, (_, i) => String(base + i));

  /** The users call the business one after another, `gapMs` apart (the low rate); returns their WhatsApp call ids. */
  async function usersCall(s: Stack, waIds: string[], gapMs = 400): Promise<string[]> {
    const ids: string[] = [];
    for (const waId of waIds) {
      ids.push((await s.emu<{ waCallId: string }>('POST', `/emulator/users/${waId}/call`, {})).waCallId);
      await new Promise((r) => setTimeout(r, gapMs));
    }
    return ids;
  }

  async function cdrOf(s: Stack, waCallId: string): Promise<CallRecord> {
    return eventually(`CDR of ${waCallId}`, async () => {
      const { recent } = (await s.api('GET', '/v1/calls')).body as { recent: CallRecord[] };
      return recent.find((r) => r.waCallId === waCallId && r.state === 'ended');
    }, 20_000);
  }

  async function activeCall(s: Stack, waCallId: string): Promise<CallRecord> {
    return eventually(`call ${waCallId} active`, async () => {
      const res = await s.api('GET', `/v1/calls/${waCallId}`);
      const rec = res.body as CallRecord;
      return res.status === 200 && rec.state === 'active' ? rec : undefined;
    }, 20_000);
  }

  it('uas-pbx-answers: the PBX answers every user, echoes their audio back, and each user hanging up ends the call', async () => {
    const p = await startPbx('uas-pbx-answers-expect-200.xml', ['-rtp_echo']);
    const waIds = users(15557100000);
    const s = await boot(trunkTo(p.hostPort), waIds);

    const waCallIds = await usersCall(s, waIds);
    for (const [i, waCallId] of waCallIds.entries()) {
      expect((await activeCall(s, waCallId)).codec).toBe('PCMU');
      await s.emu('POST', `/emulator/users/${waIds[i]}/media/tone`, { frequencyHz: 700 });
    }
    for (const waId of waIds) expect(await userHeard(s, waId, 700)).toBeGreaterThanOrEqual(25);
    for (const waId of waIds) await s.emu('POST', `/emulator/users/${waId}/hangup`);
    const cdrs = await Promise.all(waCallIds.map((id) => cdrOf(s, id)));

    expect(cdrs.map((c) => c.endedBy)).toEqual(['wa', 'wa', 'wa']);
    expect(verdict(await p.uas.result)).toEqual(passedAll(CALLS));
  });

  it('uas-pbx-busy: every call gets 486, the users are rejected and the CDRs say 486', async () => {
    const p = await startPbx('uas-pbx-busy-expect-486.xml');
    const s = await boot(trunkTo(p.hostPort), users(15557200000));

    const cdrs = await Promise.all((await usersCall(s, users(15557200000))).map((id) => cdrOf(s, id)));

    expect(cdrs.map((c) => [c.endedBy, c.sipCause])).toEqual(Array(CALLS).fill(['pbx', '486 Busy Here']));
    expect(cdrs.every((c) => c.answeredAt === undefined)).toBe(true);
    expect(verdict(await p.uas.result)).toEqual(passedAll(CALLS));
  });

  it('uas-pbx-no-answer: the phone rings past the ring timeout, the gateway cancels (487) and rejects the users', async () => {
    const p = await startPbx('uas-pbx-no-answer-expect-487.xml');
    const s = await boot(trunkTo(p.hostPort, { ringTimeoutMs: 1500 }), users(15557300000));

    const cdrs = await Promise.all((await usersCall(s, users(15557300000))).map((id) => cdrOf(s, id)));

    expect(cdrs.map((c) => c.sipCause)).toEqual(Array(CALLS).fill('487 Request Terminated'));
    expect(cdrs.every((c) => /no-answer/.test(c.endCause ?? ''))).toBe(true);
    expect(verdict(await p.uas.result)).toEqual(passedAll(CALLS));
  });

  it('uas-pbx-trunk-down: INVITEs never answered end at the transaction timeout with 408, nothing else is sent', async () => {
    const p = await startPbx('uas-pbx-trunk-down-expect-408.xml', ['-d', '5000']);
    const s = await boot({ ...trunkTo(p.hostPort), PBX_TRANSACTION_TIMEOUT_MS: '2000' }, users(15557400000));

    const cdrs = await Promise.all((await usersCall(s, users(15557400000))).map((id) => cdrOf(s, id)));

    expect(cdrs.map((c) => [c.endedBy, c.sipCause])).toEqual(Array(CALLS).fill(['pbx', '408 Request Timeout']));
    expect(cdrs.every((c) => (c.endedAt as number) - c.createdAt >= 2000)).toBe(true);
    expect(verdict(await p.uas.result)).toEqual(passedAll(CALLS));
  });

  it('uas-pbx-digest: the PBX challenges every INVITE, verifies the trunk credentials and answers', async () => {
    const p = await startPbx('uas-pbx-digest-expect-200.xml', ['-key', 'user', GW_USER, '-key', 'password', GW_PASSWORD]);
    const waIds = users(15557500000);
    const s = await boot(trunkTo(p.hostPort, { auth: true }), waIds);

    const waCallIds = await usersCall(s, waIds);
    for (const waCallId of waCallIds) await activeCall(s, waCallId);
    for (const waId of waIds) await s.emu('POST', `/emulator/users/${waId}/hangup`);
    await Promise.all(waCallIds.map((id) => cdrOf(s, id)));

    expect(verdict(await p.uas.result)).toEqual(passedAll(CALLS));
  });

  it('uac-pbx-calls-user: the PBX calls users who allowed calls, they answer and hear the pcap (1 kHz), the PBX hangs up', async () => {
    const waIds = users(15557600000);
    const s = await boot({ ...trunkTo(`127.0.0.1:${await freeTcpUdpPort()}`, { allowFrom: ['127.0.0.1'] }), EMULATOR_RING_TIMEOUT_MS: '20000' }, waIds);
    for (const waId of waIds) await grantPermanently(s, waId);
    mkdirSync(join(dir, 'pcap'));
    copyFileSync(join(SIPP_DIR, 'pcap', 'pcmu-1khz-4s.pcap'), join(dir, 'pcap', 'pcmu-1khz-4s.pcap'));
    writeFileSync(join(dir, 'users.csv'), `SEQUENTIAL\n${waIds.join('\n')}\n`);

    const result = await runSipp({
      scenario: join(SIPP_DIR, 'uac-pbx-calls-user-expect-200.xml'),
      target: `127.0.0.1:${s.config.pbx.udpPort}`,
      calls: CALLS,
      rate: 1,
      dir,
      timeoutMs: 60_000,
      extraArgs: ['-inf', join(dir, 'users.csv'), '-d', '3000', '-l', String(CALLS)],
    });

    expect(verdict(result)).toEqual(passedAll(CALLS));
    for (const waId of waIds) expect(await userHeard(s, waId, 1000)).toBeGreaterThanOrEqual(25);
    const { recent } = (await s.api('GET', '/v1/calls')).body as { recent: CallRecord[] };
    expect(recent.filter((r) => r.direction === 'outbound' && r.endedBy === 'pbx').map((r) => r.userWaId).sort()).toEqual(waIds);
  });
});
