import { spawn, type ChildProcess } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';
import pino from 'pino';
import type { CallRecord } from '@wagw/call-state';
import { loadConfig, type Env } from '@wagw/config';
import { createLogger } from '@wagw/logging';
import { freeTcpPort, freeTcpUdpPort } from '@wagw/testing';
import { bootstrapMedia, type MediaHandle } from '../../apps/media/src/bootstrap';
import { bootstrapEmulator, type EmulatorHandle } from '../../apps/wa-emulator/src/bootstrap';
import { eventually, localGatewayEnv } from '../support/stack';
import { startSippPbx, trunkEnv, type SippPbx } from '../support/sipp-pbx';
import { expectSippPassed, pbxTrunkEnv, runSippUac } from '../support/pbx-to-whatsapp';

/**
 * A signalling process killed (SIGKILL: a crash, the OOM killer) with a call up: its SIP leg and timers
 * die with it. Another signalling process (here the one started in its place) sees its heartbeat gone and
 * ends its call as any other end: the WhatsApp user's call terminated, the media legs closed, a BYE to the
 * PBX in the dialog kept on the call record, the CDR written with the cause; the dead process's keys are
 * forgotten. A call still ringing is released on the SIP side from the INVITE kept on the record: CANCEL to
 * a PBX that rings, 503 to a desk phone whose call rings at the WhatsApp user. The media app and the emulator run in this process;
 * signalling runs as an operator runs it, its own process (from source).
 */
const ROOT = join(__dirname, '..', '..');
const BUSINESS = '15550001111';
const USER = '15552228181';

/** The events of an SSE stream as they arrive (a minimal reader on node:http). */
function sseText(url: string): { events(): { id: string; type: string; data: unknown }[]; close(): void } {
  let text = '';
  const req = httpRequest(url, { headers: { accept: 'text/event-stream' } }, (res) => {
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => (text += chunk));
    res.on('error', () => undefined);
  });
  req.on('error', () => undefined);
  req.end();
  return {
    events: () => [...text.matchAll(/^data: (.*)$/gm)].map((m) => JSON.parse(m[1] as string) as { id: string; type: string; data: unknown }),
    close: () => req.destroy(),
  };
}

interface Signalling {
  child: ChildProcess;
  output(): string;
  exited: Promise<unknown>;
}

describe('a signalling process that dies with a call up', () => {
  const prefix = `sc${randomBytes(4).toString('hex')}`;
  let redis: Redis | undefined;
  let media: MediaHandle | undefined;
  let emulator: EmulatorHandle | undefined;
  let pbx: SippPbx | undefined;
  const processes: Signalling[] = [];

  afterEach(async () => {
    for (const p of processes.splice(0)) {
      if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
      await p.exited;
    }
    await emulator?.close();
    await media?.close();
    await pbx?.stop();
    if (redis) {
      const keys = await redis.keys(`${prefix}:*`);
      if (keys.length > 0) await redis.del(...keys);
      await redis.quit();
    }
  });

  function startSignalling(env: Env, baseUrl: string): Promise<Signalling> {
    const child = spawn(process.execPath, ['-r', './apps/cli/dev/register-ts.js', 'apps/signalling/src/main.ts'], { cwd: ROOT, env: { PATH: process.env['PATH'] ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
    const running: Signalling = { child, output: () => out, exited: new Promise((resolve) => child.once('exit', resolve)) };
    processes.push(running);
    return eventually(
      'signalling healthy',
      async () => {
        if (child.exitCode !== null) throw new Error(`signalling exited (${child.exitCode}):\n${out.slice(-2000)}`);
        return (await fetch(`${baseUrl}/health`).catch(() => undefined))?.status === 200 ? running : undefined;
      },
      60_000,
      250,
    );
  }

  interface Scene {
    redis: Redis;
    pbx: SippPbx;
    env: Env;
    sipPort: number;
    baseUrl: string;
    api<T>(path: string): Promise<T>;
    post(path: string, body: unknown): Promise<{ status: number; body: unknown }>;
    emu<T>(method: string, path: string, body?: unknown): Promise<T>;
    mediaLegs(): Promise<number>;
  }

  /**
   * Redis, a SIPp PBX playing `scenario` (a UAS the gateway calls; with `pbxCalls`, the trunk also takes
   * INVITEs from 127.0.0.1, where a SIPp UAC the test runs calls from), the media app and the emulator;
   * signalling is started by the test.
   */
  async function scene(scenario: string, options: { pbxCalls?: boolean; env?: Env } = {}): Promise<Scene> {
    const redisUrl = process.env['TEST_REDIS_URL'];
    if (!redisUrl) throw new Error('TEST_REDIS_URL is not set: run integration tests through jest --selectProjects integration');
    const r = (redis = new Redis(redisUrl));
    const sippPbx = (pbx = await startSippPbx(scenario, { transport: 'udp', timeoutMs: 120_000 }));
    const [sigPort, mediaPort, emuPort, sipPort] = await Promise.all([freeTcpPort(), freeTcpPort(), freeTcpPort(), freeTcpUdpPort()]);
    const token = 'crash-test-token';
    const env: Env = {
      ...localGatewayEnv({ redisUrl, prefix, sigPort, mediaPort, emuPort, sipPort }),
      LOG_LEVEL: 'info',
      SIGNALLING_API_TOKEN: token,
      ...trunkEnv(BUSINESS, sippPbx.hostPort, { transport: 'udp' }),
      ...(options.pbxCalls ? pbxTrunkEnv({ sipPort, host: sippPbx.hostPort, allowFrom: ['127.0.0.1'] }) : {}),
      ...options.env,
    };
    const config = loadConfig({ env });
    const logDir = join(ROOT, 'test-output', 'logs');
    mkdirSync(logDir, { recursive: true });
    const logger = (name: string) => createLogger({ name, level: 'info', destination: pino.destination({ dest: join(logDir, `signalling-crash-${prefix}.log`), sync: false, append: true }) });
    media = await bootstrapMedia({ config, logger: logger('media') });
    emulator = await bootstrapEmulator(config, { logger: logger('wa-emulator') });
    const baseUrl = `http://127.0.0.1:${sigPort}`;
    const emulatorUrl = emulator.baseUrl;
    const mediaUrl = media.httpUrl;
    return {
      redis: r,
      pbx: sippPbx,
      env,
      sipPort,
      baseUrl,
      api: async <T>(path: string): Promise<T> => (await (await fetch(`${baseUrl}${path}`, { headers: { authorization: `Bearer ${token}` } })).json()) as T,
      post: async (path: string, body: unknown) => {
        const res = await fetch(`${baseUrl}${path}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
        return { status: res.status, body: (await res.json()) as unknown };
      },
      emu: async <T>(method: string, path: string, body?: unknown): Promise<T> => {
        const res = await fetch(`${emulatorUrl}${path}`, { method, headers: { 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
        if (!res.ok) throw new Error(`emulator ${method} ${path} -> ${res.status}: ${await res.text()}`);
        return (await res.json()) as T;
      },
      mediaLegs: async (): Promise<number> => ((await (await fetch(`${mediaUrl}/health`)).json()) as { legs: number }).legs,
    };
  }

  /** Waits until the call is ended by the process that took over (the heartbeat expires in 10 s, two looks 5 s apart confirm it: ~15-25 s). */
  async function endedByTakeover(s: Scene, callId: string): Promise<CallRecord> {
    return eventually('the call ended by the new process', async () => {
      const rec = await s.api<CallRecord>(`/v1/calls/${callId}`);
      return rec.state === 'ended' ? rec : undefined;
    }, 45_000, 500);
  }

  it('has its call ended by the signalling process that took over: WhatsApp terminated, PBX BYE, media released, CDR cause', async () => {
    const s = await scene('uas-pbx-answers-expect-200.xml');
    const { api, emu, mediaLegs, env, baseUrl } = s;
    const sippPbx = s.pbx;
    const first = await startSignalling(env, baseUrl);
    await emu('POST', '/emulator/users', { waId: USER, name: 'Crash' });
    const { waCallId } = await emu<{ waCallId: string }>('POST', `/emulator/users/${USER}/call`, {});
    const call = await eventually('call active', async () => {
      const list = await api<{ active: CallRecord[] }>('/v1/calls');
      return list.active.find((c) => c.waCallId === waCallId && c.state === 'active');
    }, 20_000);
    const owner = call.signallingInstance;
    expect(owner).toMatch(/-[0-9a-f]{6}$/);
    expect(await mediaLegs()).toBe(1); // the WhatsApp leg (the health page counts those)

    first.child.kill('SIGKILL');
    await first.exited;
    const second = await startSignalling(env, baseUrl);

    const ended = await endedByTakeover(s, call.callId);
    expect(ended).toMatchObject({ endedBy: 'system', endCause: `signalling instance ${owner} lost` });
    expect(await emu<{ state: string; endReason: string }>('GET', `/emulator/calls/${waCallId}`)).toMatchObject({ endReason: 'business_terminate' });
    await eventually('media legs closed', async () => (await mediaLegs()) === 0, 10_000);
    expect((await api<{ active: unknown[] }>('/v1/calls')).active).toEqual([]);
    // the dead process is forgotten; the live one beats
    const instanceKeys = await eventually('the lost instance forgotten', async () => {
      const keys = (await s.redis.keys(`${prefix}:signalling:*`)).sort();
      return keys.some((k) => k.includes(owner ?? '?')) ? undefined : keys;
    });
    expect(instanceKeys).toHaveLength(2); // the set and the new process's heartbeat
    expect(second.output()).toMatch(/"msg":"signalling instance lost \(no heartbeat\): ending its calls"/);
    const metrics = await (await fetch(`${baseUrl}/metrics`)).text();
    expect(metrics).toMatch(/^wagw_signalling_instances_lost_total 1$/m);
    expect(metrics).toMatch(/^wagw_orphaned_calls_ended_total 1$/m);
    // the PBX was hung up from the dialog kept on the record: its scenario (waiting for the BYE) passed
    const sipp = await sippPbx.result();
    expect({ exit: sipp.exitCode, errors: sipp.errors }).toEqual({ exit: 0, errors: '' });
    expect(sippPbx.messages()).toMatch(new RegExp(`BYE sip:[^\\n]*\\n[\\s\\S]*Reason: Q\\.850;cause=41;text="signalling instance ${owner} lost"`));

    // a clean stop leaves no signalling key behind
    second.child.kill('SIGTERM');
    await second.exited;
    expect(await s.redis.keys(`${prefix}:signalling:*`)).toEqual([]);
  });

  it('sends the BYE to where the PBX moved the call (a target refresh after the answer is recorded)', async () => {
    const s = await scene('uas-reinvite-new-contact-expect-bye-there.xml'); // answers, re-INVITEs with Contact sip:moved@, expects the BYE there
    const first = await startSignalling(s.env, s.baseUrl);
    await s.emu('POST', '/emulator/users', { waId: USER, name: 'Crash' });
    const { waCallId } = await s.emu<{ waCallId: string }>('POST', `/emulator/users/${USER}/call`, {});
    const call = await eventually('the moved dialog on the record', async () => {
      const list = await s.api<{ active: CallRecord[] }>('/v1/calls');
      return list.active.find((c) => c.waCallId === waCallId && /"remoteTarget":"sip:moved@/.test(c.pbxDialog ?? ''));
    }, 20_000);

    first.child.kill('SIGKILL');
    await first.exited;
    await startSignalling(s.env, s.baseUrl);

    expect(await endedByTakeover(s, call.callId)).toMatchObject({ endedBy: 'system', endCause: `signalling instance ${call.signallingInstance} lost` });
    const sipp = await s.pbx.result(); // it fails unless the BYE's Request-URI is sip:moved@
    expect({ exit: sipp.exitCode, errors: sipp.errors }).toEqual({ exit: 0, errors: '' });
  });

  it('answers a desk phone call that rings at the WhatsApp user 503 (Reason Q.850 41) from the process that took over', async () => {
    const s = await scene('uas-pbx-answers-expect-200.xml', { pbxCalls: true, env: { EMULATOR_RING_TIMEOUT_MS: '90000' } });
    const first = await startSignalling(s.env, s.baseUrl);
    await s.emu('POST', '/emulator/users', { waId: USER, name: 'Crash' });
    await s.emu('PUT', `/emulator/users/${USER}/behaviour`, { incomingCall: 'ignore', permissionRequest: 'none' });
    await s.emu('POST', `/emulator/users/${USER}/permission-reply`, { choice: 'always_allow', fromProfile: true });
    await eventually('the gateway knows the user allows calls', async () => {
      const p = await s.api<{ state?: string }>(`/v1/permissions/${USER}`);
      return p.state === 'granted-always' ? true : undefined;
    });
    const dir = mkdtempSync(join(tmpdir(), 'wagw-crash-uac-'));
    try {
      // the desk phone: INVITE, 180 when the user rings, then expects the 503 in that early dialog, and ACKs it
      const desk = runSippUac({ scenario: 'uac-ringing-then-lost-expect-503.xml', gatewayPort: s.sipPort, service: USER, dir, timeoutMs: 90_000 });
      const call = await eventually('the WhatsApp user ringing', async () => {
        const list = await s.api<{ active: CallRecord[] }>('/v1/calls');
        return list.active.find((c) => c.userWaId === USER && c.state === 'ringing-wa' && c.pbxIncomingInvite);
      }, 20_000);
      expect(JSON.parse(call.pbxIncomingInvite ?? '{}')).toMatchObject({ callId: call.sipCallId, to: { params: { tag: expect.any(String) } } });

      first.child.kill('SIGKILL');
      await first.exited;
      const second = await startSignalling(s.env, s.baseUrl);

      expect(await endedByTakeover(s, call.callId)).toMatchObject({ endedBy: 'system', endCause: `signalling instance ${call.signallingInstance} lost` });
      expectSippPassed(await desk); // the 503 came in the 180's dialog with the Reason, and was ACKed
      await eventually('the 503 ACKed', async () => (/"acked":true,[^\n]*"msg":"503 to the PBX's INVITE from the call record/.test(second.output()) ? true : undefined), 10_000);
      await eventually('media legs closed', async () => (await s.mediaLegs()) === 0, 10_000);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("takes over an agent call that waits for the customer's permission reply: the reply then connects it", async () => {
    const s = await scene('uas-pbx-answers-expect-200.xml'); // the agent's phone: answers, waits for the BYE
    const first = await startSignalling(s.env, s.baseUrl);
    await s.emu('POST', '/emulator/users', { waId: USER, name: 'Crash' });
    await s.emu('PUT', `/emulator/users/${USER}/behaviour`, { incomingCall: 'accept', answerAfterMs: 300, permissionRequest: 'none' });
    const clicked = await s.post('/v1/calls', { to: `+${USER}`, agent: '1001' });
    expect(clicked).toMatchObject({ status: 202, body: { state: 'permission-pending' } });
    const { callId, signallingInstance: owner } = clicked.body as CallRecord;

    first.child.kill('SIGKILL');
    await first.exited;
    const second = await startSignalling(s.env, s.baseUrl);

    // the heartbeat expires (10 s), two looks 5 s apart confirm it: the call is taken over, not ended
    const adopted = await eventually('the call taken over', async () => {
      const rec = await s.api<CallRecord>(`/v1/calls/${callId}`);
      return rec.signallingInstance !== owner ? rec : undefined;
    }, 45_000, 500);
    expect(adopted).toMatchObject({ state: 'permission-pending', signallingInstance: expect.stringMatching(/-[0-9a-f]{6}$/) });
    expect(second.output()).toMatch(/"msg":"call waiting for its permission reply taken over from a lost signalling instance"/);

    await s.emu('POST', `/emulator/users/${USER}/permission-reply`, { choice: 'allow_once' });
    await eventually('the call active', async () => ((await s.api<CallRecord>(`/v1/calls/${callId}`)).state === 'active' ? true : undefined), 20_000);
    expect((await s.post(`/v1/calls/${callId}/hangup`, {})).status).toBe(200);
    await eventually('the call ended', async () => ((await s.api<CallRecord>(`/v1/calls/${callId}`)).state === 'ended' ? true : undefined), 20_000);
    const sipp = await s.pbx.result(); // the agent's phone was rung, answered, and hung up
    expect({ exit: sipp.exitCode, errors: sipp.errors }).toEqual({ exit: 0, errors: '' });
  });

  it('with two signalling processes, a CRM on the one that does not hold a call sees its events, and its API hangup is carried out by the one that does', async () => {
    const s = await scene('uas-pbx-answers-expect-200.xml'); // answers, waits for the BYE
    const holder = await startSignalling(s.env, s.baseUrl); // takes the webhooks (the emulator posts to it)
    const [otherHttp, otherSip] = await Promise.all([freeTcpPort(), freeTcpUdpPort()]);
    const otherUrl = `http://127.0.0.1:${otherHttp}`;
    const other = await startSignalling({ ...s.env, SIGNALLING_HTTP_PORT: String(otherHttp), PBX_UDP_PORT: String(otherSip), PBX_TCP_PORT: String(otherSip) }, otherUrl);
    // the CRM listens on the other process's event stream; the holder shares its events once it sees a peer
    const crm = sseText(`${otherUrl}/v1/events?token=crash-test-token`);
    await eventually('the holder sharing its CRM events', async () => (/"msg":"other signalling processes run: CRM events shared with them"/.test(holder.output()) ? true : undefined), 15_000);
    await s.emu('POST', '/emulator/users', { waId: USER, name: 'Two' });
    const { waCallId } = await s.emu<{ waCallId: string }>('POST', `/emulator/users/${USER}/call`, {});
    const call = await eventually('call active', async () => {
      const list = await s.api<{ active: CallRecord[] }>('/v1/calls');
      return list.active.find((c) => c.waCallId === waCallId && c.state === 'active');
    }, 20_000);

    // a transfer needs the process holding the SIP leg: the other one says so
    const transfer = await fetch(`${otherUrl}/v1/calls/${call.callId}/transfer`, { method: 'POST', headers: { authorization: 'Bearer crash-test-token', 'content-type': 'application/json' }, body: JSON.stringify({ to: '1002' }) });
    expect(transfer.status).toBe(409);
    expect(JSON.stringify(await transfer.json())).toMatch(/another signalling process holds it/);
    // the CRM's hangup lands on the other process (a load balancer's choice)
    const res = await fetch(`${otherUrl}/v1/calls/${call.callId}/hangup`, { method: 'POST', headers: { authorization: 'Bearer crash-test-token' } });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ state: 'ended', endedBy: 'api' });
    expect(other.output()).toMatch(/"msg":"end of a call another signalling process holds: asked of that process"/);
    // the CRM on the other process saw the whole call the holder carried, each event once
    const seen = await eventually('the call on the other process\'s event stream', async () => {
      const types = crm.events().filter((e) => (e.data as { callId?: string }).callId === call.callId).map((e) => e.type);
      return types.includes('call.ended') ? types : undefined;
    }, 10_000);
    expect(seen).toEqual(['call.incoming', 'call.connected', 'call.ended']); // this PBX answers without ringing
    crm.close();
    // the holder hung the PBX up from its own leg (the BYE from its SIP port) and let go of the call
    const sipp = await s.pbx.result();
    expect({ exit: sipp.exitCode, errors: sipp.errors }).toEqual({ exit: 0, errors: '' });
    expect(s.pbx.messages()).toMatch(new RegExp(`BYE sip:[^\\n]*\\n(?:[^\\n]+\\n)*?Via: SIP/2\\.0/UDP 127\\.0\\.0\\.1:${s.sipPort};`));
    holder.child.kill('SIGTERM');
    await holder.exited;
    expect(holder.output()).toMatch(/"msg":"drained: no call in progress"/);
    expect(holder.output()).not.toMatch(/"msg":"draining: no new calls/);
    other.child.kill('SIGTERM');
    await other.exited;
  });

  it("with two signalling processes, an agent call whose permission reply reaches the other one is that one's, and the first one's stop leaves it up", async () => {
    const s = await scene('uas-pbx-answers-expect-200.xml'); // the agent's phone: answers, waits for the BYE
    // the emulator's webhooks (the permission reply among them) go to s.baseUrl: the second process; the CRM's click to the first
    const [firstHttp, firstSip] = await Promise.all([freeTcpPort(), freeTcpUdpPort()]);
    const firstUrl = `http://127.0.0.1:${firstHttp}`;
    const first = await startSignalling({ ...s.env, SIGNALLING_HTTP_PORT: String(firstHttp), PBX_UDP_PORT: String(firstSip), PBX_TCP_PORT: String(firstSip) }, firstUrl);
    const second = await startSignalling(s.env, s.baseUrl);
    await s.emu('POST', '/emulator/users', { waId: USER, name: 'Two' });
    await s.emu('PUT', `/emulator/users/${USER}/behaviour`, { incomingCall: 'accept', answerAfterMs: 300, permissionRequest: 'none' });
    const clicked = await fetch(`${firstUrl}/v1/calls`, { method: 'POST', headers: { authorization: 'Bearer crash-test-token', 'content-type': 'application/json' }, body: JSON.stringify({ to: `+${USER}`, agent: '1001' }) });
    expect(clicked.status).toBe(202);
    const { callId, signallingInstance: creator } = (await clicked.json()) as CallRecord;

    await s.emu('POST', `/emulator/users/${USER}/permission-reply`, { choice: 'allow_once' });
    const active = await eventually('the call active', async () => {
      const rec = await s.api<CallRecord>(`/v1/calls/${callId}`);
      return rec.state === 'active' ? rec : undefined;
    }, 20_000);
    expect(active.signallingInstance).not.toBe(creator); // the process that dialed the agent holds it

    // the first process stops: it held only the permission wait's timer, and lets go instead of ending the call
    first.child.kill('SIGTERM');
    await first.exited;
    expect(first.output()).toMatch(/"msg":"call carried by another signalling process: let go of, not ended"/);
    expect((await s.api<CallRecord>(`/v1/calls/${callId}`)).state).toBe('active');

    expect((await s.post(`/v1/calls/${callId}/hangup`, {})).status).toBe(200);
    expect(await s.api<CallRecord>(`/v1/calls/${callId}`)).toMatchObject({ state: 'ended', endedBy: 'api' });
    const sipp = await s.pbx.result();
    expect({ exit: sipp.exitCode, errors: sipp.errors }).toEqual({ exit: 0, errors: '' });
    second.child.kill('SIGTERM');
    await second.exited;
  });

  it("with two signalling processes, a desk phone's call connects when the WhatsApp webhooks reach the process that does not hold its INVITE", async () => {
    const s = await scene('uas-pbx-answers-expect-200.xml', { pbxCalls: true });
    const [firstHttp, firstSip] = await Promise.all([freeTcpPort(), freeTcpUdpPort()]);
    const firstUrl = `http://127.0.0.1:${firstHttp}`;
    // the desk phone calls the first process (its SIP port); the emulator's webhooks go to the second
    await startSignalling({ ...s.env, SIGNALLING_HTTP_PORT: String(firstHttp), PBX_UDP_PORT: String(firstSip), PBX_TCP_PORT: String(firstSip) }, firstUrl);
    const second = await startSignalling(s.env, s.baseUrl);
    await s.emu('POST', '/emulator/users', { waId: USER, name: 'Two' });
    await s.emu('PUT', `/emulator/users/${USER}/behaviour`, { incomingCall: 'accept', answerAfterMs: 300, permissionRequest: 'none' });
    await s.emu('POST', `/emulator/users/${USER}/permission-reply`, { choice: 'always_allow', fromProfile: true });
    await eventually('the gateway knows the user allows calls', async () => ((await s.api<{ state?: string }>(`/v1/permissions/${USER}`)).state === 'granted-always' ? true : undefined));
    const dir = mkdtempSync(join(tmpdir(), 'wagw-two-uac-'));
    try {
      // a reliable 180 (the WhatsApp user ringing) and the 200 (accepted), then a delayed offer (our offer in the 200)
      for (const scenario of ['uac-pbx-100rel-calls-user-expect-200.xml', 'uac-pbx-delayed-offer-expect-200.xml']) {
        const desk = runSippUac({ scenario, gatewayPort: firstSip, service: USER, dir, tonePcap: { frequencyHz: 1000, seconds: 4 }, timeoutMs: 30_000 });
        expectSippPassed(await desk);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    expect(second.output()).toMatch(/"step":"ringing"[^\n]*"msg":"WhatsApp progress of a call another signalling process holds: handed to that process"/);
    expect(second.output().match(/"step":"accepted"[^\n]*"msg":"WhatsApp progress of a call another signalling process holds/g)).toHaveLength(2);
    const { recent } = await s.api<{ recent: CallRecord[] }>('/v1/calls');
    expect(recent.filter((c) => c.userWaId === USER).map((c) => [c.state, c.endedBy, c.durationMs !== undefined && c.durationMs > 3000])).toEqual([
      ['ended', 'pbx', true],
      ['ended', 'pbx', true],
    ]);
  });

  it('has a ringing call CANCELled toward the PBX by the process that took over, and the WhatsApp call rejected', async () => {
    const s = await scene('uas-cancel-expect-487.xml'); // rings, then waits for the CANCEL (Via and CSeq of the INVITE), 487, ACK
    const first = await startSignalling(s.env, s.baseUrl);
    await s.emu('POST', '/emulator/users', { waId: USER, name: 'Crash' });
    const { waCallId } = await s.emu<{ waCallId: string }>('POST', `/emulator/users/${USER}/call`, {});
    const call = await eventually('PBX ringing', async () => {
      const list = await s.api<{ active: CallRecord[] }>('/v1/calls');
      return list.active.find((c) => c.waCallId === waCallId && c.state === 'ringing-pbx' && c.pbxInvite);
    }, 20_000);
    const owner = call.signallingInstance;
    expect(JSON.parse(call.pbxInvite ?? '{}')).toMatchObject({ callId: call.sipCallId, cseq: 1, via: { params: { branch: expect.stringMatching(/^z9hG4bK/) } } });

    first.child.kill('SIGKILL');
    await first.exited;
    const second = await startSignalling(s.env, s.baseUrl);

    const ended = await endedByTakeover(s, call.callId);
    expect(ended).toMatchObject({ endedBy: 'system', endCause: `signalling instance ${owner} lost` });
    expect(await s.emu<{ endReason: string }>('GET', `/emulator/calls/${waCallId}`)).toMatchObject({ endReason: 'business_reject' });
    await eventually('media legs closed', async () => (await s.mediaLegs()) === 0, 10_000);
    // the PBX stopped ringing: its scenario (CANCEL matched to the INVITE, 487 ACKed) passed
    const sipp = await s.pbx.result();
    expect({ exit: sipp.exitCode, errors: sipp.errors }).toEqual({ exit: 0, errors: '' });
    expect(s.pbx.messages()).toMatch(new RegExp(`CANCEL sip:[^\\n]*\\n[\\s\\S]*Reason: Q\\.850;cause=41;text="signalling instance ${owner} lost"`));
    expect(second.output()).toMatch(/"msg":"CANCEL to the PBX from the INVITE on the call record \(the process that held the call is gone\)"/);
  });
});
