import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { analyseTone } from '@wagw/media-bridge';
import { freeSipPortPair, freeTcpPort, isPortBound, makeTempDir, ManagedProcess, readWav, removeTempDir } from '@wagw/testing';
import type { CallRecord } from '@wagw/call-state';
import { eventually } from '../support/stack';

/**
 * The README's quick start, as a user runs it: `npm run build && npm start` with no Meta credentials and no
 * trunk (the built-in emulator and the demo PBX: Kamailio and a baresip desk phone), then the "Try it" steps
 * over HTTP (a user calls the business with a 1 kHz tone, hears the phone's chime, the phone hangs up; the same
 * user calls back from a call button), then Ctrl-C, which must stop every process the stack started. Only the
 * ports differ from the defaults (so that the test does not take a developer's 8080), and the demo PBX's
 * files go to a temporary directory.
 */
const ROOT = join(__dirname, '..', '..');
const TOKEN = 'dev-api-token-change-me';
const USER = '15551234567';
const CHIME_TOP_HZ = 1047;
const exec = promisify(execFile);

interface Ports {
  signalling: number;
  media: number;
  emulator: number;
  sip: number;
  redis: number;
}

/** Every process whose command line names `dir` (the demo PBX's Kamailio and phone are started with their files there). */
function processesNaming(dir: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p) && Number(p) !== process.pid)) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
      if (cmd.includes(dir)) found.push(`${pid}: ${cmd}`);
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

describe('README quick start: npm run build && npm start, then "Try it"', () => {
  let dir: string;
  let ports: Ports;
  let stack: ManagedProcess | undefined;

  async function emu<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await fetch(`http://127.0.0.1:${ports.emulator}${path}`, {
      method,
      headers: { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    expect(res.ok).toBe(true);
    return (await res.json()) as T;
  }

  async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await fetch(`http://127.0.0.1:${ports.signalling}${path}`, {
      method,
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    expect(res.ok).toBe(true);
    return (await res.json()) as T;
  }

  /** The user's calls in the CDR list, newest first, once `count` of them have ended. */
  function endedCalls(count: number): Promise<CallRecord[]> {
    return eventually(`${count} ended call(s) of ${USER}`, async () => {
      const list = await api<{ active: CallRecord[]; recent: CallRecord[] }>('GET', '/v1/calls');
      const mine = list.recent.filter((c) => c.userWaId === USER && c.state === 'ended');
      return list.active.length === 0 && mine.length >= count ? mine : undefined;
    }, 40_000, 500);
  }

  beforeAll(async () => {
    // the README's first command after install-deps and npm ci
    await exec('npm', ['run', '--silent', 'build'], { cwd: ROOT, timeout: 300_000 });
  }, 320_000);

  beforeEach(async () => {
    dir = makeTempDir('quick-start-');
    ports = { signalling: await freeTcpPort(), media: await freeTcpPort(), emulator: await freeTcpPort(), sip: await freeSipPortPair(), redis: await freeTcpPort() };
  });

  afterEach(async () => {
    await stack?.stop('SIGKILL');
    // a stack that failed to stop its demo PBX (started in process groups of their own) must not outlive the test
    for (const line of processesNaming(dir)) {
      try {
        process.kill(Number(line.split(':')[0]), 'SIGKILL');
      } catch {
        // gone meanwhile
      }
    }
    removeTempDir(dir);
  });

  it('rings the demo desk phone both ways with audio, takes a call-button call back, and Ctrl-C stops everything', async () => {
    stack = new ManagedProcess({
      name: 'npm start',
      command: 'npm',
      args: ['start'],
      cwd: ROOT,
      logPath: join(dir, 'npm-start.log'),
      env: {
        ...process.env,
        REDIS_URL: `redis://127.0.0.1:${ports.redis}`,
        SIGNALLING_HTTP_PORT: String(ports.signalling),
        MEDIA_HTTP_PORT: String(ports.media),
        EMULATOR_HTTP_PORT: String(ports.emulator),
        EMULATOR_WEBHOOK_URL: `http://127.0.0.1:${ports.signalling}/webhooks/whatsapp`,
        WHATSAPP_GRAPH_BASE_URL: `http://127.0.0.1:${ports.emulator}`,
        PBX_UDP_PORT: String(ports.sip),
        PBX_TCP_PORT: String(ports.sip),
        DEMO_PBX_DIR: join(dir, 'demo-pbx'),
      },
    });
    const running = await eventually('"gateway running" from npm start', async () => {
      if (!stack?.running) throw new Error(stack?.describe());
      return /\[run-stack\] gateway running/.test(stack.log()) ? stack.log() : undefined;
    }, 90_000, 250);
    const kamailioPort = Number(/Kamailio at 127\.0\.0\.1:(\d+), desk phone 1001 registered/.exec(running)?.[1]);
    expect(kamailioPort).toBeGreaterThan(0);
    expect(running).toContain(`emulator control API: http://127.0.0.1:${ports.emulator}/emulator`);

    // "Try it": the user calls, its microphone plays 1 kHz, it hears the chime; the phone hangs up after it
    await emu('POST', '/emulator/users', { waId: USER, name: 'Ana' });
    const { waCallId } = await emu<{ waCallId: string }>('POST', `/emulator/users/${USER}/call`, {});
    await emu('POST', `/emulator/users/${USER}/media/tone`, { frequencyHz: 1000 });
    const heard = await eventually(`the chime's ${CHIME_TOP_HZ} Hz at the user`, async () => {
      const a = await emu<{ packetsReceived: number; tone: { framesWithTone: number } | null }>('GET', `/emulator/users/${USER}/media/analysis?frequencyHz=${CHIME_TOP_HZ}`);
      return a.packetsReceived > 0 && (a.tone?.framesWithTone ?? 0) >= 10 ? a : undefined;
    }, 20_000, 250);
    expect(heard.tone?.framesWithTone).toBeGreaterThanOrEqual(10);
    const [first] = await endedCalls(1);
    expect(first).toMatchObject({ waCallId, direction: 'inbound', endedBy: 'pbx', codec: 'PCMU', destination: 'sip:1001@127.0.0.1' });

    // what the phone heard, from its recording under the demo PBX's directory
    const rec = join(dir, 'demo-pbx', 'baresip', 'rec');
    const dec = readdirSync(rec).filter((f) => /^dump-.*-dec\.wav$/.test(f)).sort();
    expect(dec.length).toBeGreaterThan(0);
    const wav = readWav(join(rec, dec[dec.length - 1] as string));
    expect(analyseTone(wav.samples, 1000, wav.sampleRate).framesWithTone).toBeGreaterThanOrEqual(25);

    // the same user calls back from a call button the CRM sent
    await api('POST', `/v1/contacts/${USER}/call-button`, { bodyText: 'Questions about your bill?', payload: 'queue=billing' });
    await emu('POST', `/emulator/users/${USER}/tap-call-button`, {});
    const [second] = await endedCalls(2);
    expect(second).toMatchObject({ entryPoint: 'call_button', entryPayload: 'queue=billing', endedBy: 'pbx', codec: 'PCMU' });
    expect(second?.waCallId).not.toBe(waCallId);

    // Ctrl-C: the terminal's SIGINT reaches npm and the stack script (their process group), which stop the rest
    process.kill(-stack.pid, 'SIGINT');
    expect(await stack.waitExit(40_000)).toBe(true);
    // npm ends by the signal it was sent once its script has exited (as after Ctrl-C in a terminal)
    expect(stack.exitInfo?.code === 0 || stack.exitInfo?.signal === 'SIGINT').toBe(true);
    expect(stack.log()).toContain('[run-stack] stopped');
    expect(stack.log()).not.toMatch(/did not stop within|exited \(.*\); stopping the stack/);
    expect(processesNaming(dir)).toEqual([]);
    const stillBound = [];
    for (const [name, port, proto] of [['signalling', ports.signalling, 'tcp'], ['media', ports.media, 'tcp'], ['emulator', ports.emulator, 'tcp'], ['redis', ports.redis, 'tcp'], ['gateway SIP', ports.sip, 'udp'], ['kamailio', kamailioPort, 'udp']] as const) {
      if (await isPortBound(port, proto)) stillBound.push(`${name} ${proto}/${port}`);
    }
    expect(stillBound).toEqual([]);
  }, 240_000);
});
