import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { analyseTone } from '@wagw/media-bridge';
import {
  PeerHarnessError,
  createSelfSignedCert,
  makeTempDir,
  readWav,
  removeTempDir,
  runSipp,
  sipOptionsPing,
  startBaresip,
  startKamailio,
  startSippUas,
  writeSineWav,
  writeTonePcap,
  type BaresipHandle,
  type KamailioHandle,
} from '@wagw/testing';

/**
 * Proves the real-peer harnesses of libs/testing: a private Kamailio, baresip desk phones and SIPp, all on
 * free loopback ports, with real SIP, RTP and audio, and nothing left running afterwards.
 */

/** Pids of processes whose command line mentions `text` (a harness temp dir), none when pgrep finds none. */
function processesMentioning(text: string): string[] {
  try {
    return execFileSync('pgrep', ['-f', text], { encoding: 'utf8' }).trim().split('\n').filter(Boolean);
  } catch {
    return []; // pgrep exits 1 when nothing matches
  }
}

describe('real test peers (Kamailio, baresip, SIPp)', () => {
  let kamailio: KamailioHandle;
  let certDir: string;
  const phones: BaresipHandle[] = [];
  const peerDirs: string[] = [];

  const phone = async (options: Omit<Parameters<typeof startBaresip>[0], 'registrar'>) => {
    const p = await startBaresip({ ...options, registrar: { host: kamailio.host, port: kamailio.port } });
    phones.push(p);
    peerDirs.push(p.dir);
    return p;
  };

  beforeAll(async () => {
    certDir = makeTempDir('cert');
    kamailio = await startKamailio({
      tls: await createSelfSignedCert(certDir),
      authUsers: [
        { user: 'gw', password: 'gw-secret' },
        { user: 'gw2', password: 'other-secret' },
      ],
    });
    peerDirs.push(kamailio.dir);
  });

  afterEach(async () => {
    await Promise.all(phones.splice(0).map((p) => p.stop()));
  });

  afterAll(async () => {
    await kamailio.stop();
    await kamailio.stop(); // idempotent
    removeTempDir(certDir);
    for (const dir of peerDirs) expect(processesMentioning(dir)).toEqual([]);
  });

  it('Kamailio answers OPTIONS on UDP and TCP on one port, and on TLS', async () => {
    expect(await sipOptionsPing({ host: kamailio.host, port: kamailio.port, transport: 'udp' })).toBe(200);
    expect(await sipOptionsPing({ host: kamailio.host, port: kamailio.port, transport: 'tcp' })).toBe(200);
    expect(kamailio.tlsPort).toBeDefined();
    expect(await sipOptionsPing({ host: kamailio.host, port: kamailio.tlsPort ?? 0, transport: 'tls', timeoutMs: 2000 })).toBe(200);
  });

  it('baresip phones register over UDP and over TCP', async () => {
    const udp = await phone({ user: '2001', transport: 'udp' });
    const tcp = await phone({ user: '2002', transport: 'tcp' });

    const udpContacts = await kamailio.waitRegistered('2001');
    const tcpContacts = await kamailio.waitRegistered('2002');

    expect(udpContacts.join()).toContain(`:${udp.sipPort}`);
    expect(udpContacts.join()).not.toContain('transport=tcp');
    expect(tcpContacts.join()).toContain('transport=tcp');
    expect(tcpContacts.join()).toContain(`:${tcp.sipPort}`);
    expect(await kamailio.registered('2999')).toBe(false);
  });

  it('a SIPp caller reaches an auto-answering phone through Kamailio and the phone hears its 1 kHz tone', async () => {
    const callee = await phone({ user: '2101', codecs: ['PCMU', 'PCMA'], answerMode: 'auto' });
    const sippDir = makeTempDir('sipp-uac');
    writeTonePcap({ path: join(sippDir, 'tone-1khz-pcma.pcap'), frequencyHz: 1000, seconds: 2.5 });

    const result = await runSipp({
      scenario: join(__dirname, 'uac-pcma-tone.xml'),
      target: `${kamailio.host}:${kamailio.port}`,
      service: '2101',
      dir: sippDir,
      timeoutMs: 20_000,
    });
    await callee.waitEvent('CALL_CLOSED');

    expect({ exitCode: result.exitCode, stderr: result.exitCode === 0 ? '' : result.stderr }).toEqual({ exitCode: 0, stderr: '' });
    expect(result.stats).toMatchObject({ successful: 1, failed: 0 });
    const heard = readWav(callee.recordings().dec[0] ?? '');
    expect(heard.sampleRate).toBe(8000);
    const tone = analyseTone(heard.samples, 1000, 8000);
    expect(tone.framesWithTone).toBeGreaterThan(tone.frames / 2);
    expect(analyseTone(heard.samples, 400, 8000).framesWithTone).toBe(0);
    const sent = readWav(callee.recordings().enc[0] ?? '');
    expect(analyseTone(sent.samples, 400, 8000).framesWithTone).toBeGreaterThan(0); // its own 400 Hz WAV
    removeTempDir(sippDir);
  });

  it('a phone dials a statically routed user and the SIPp UAS behind Kamailio sees the whole dialog', async () => {
    const uas = await startSippUas({ scenario: join(__dirname, 'uas-answer.xml'), timeoutMs: 20_000 });
    const proxy = await startKamailio({ routes: { '7000': `sip:${uas.host}:${uas.port}` } });
    peerDirs.push(proxy.dir);
    const caller = await startBaresip({ user: '2201', registrar: { host: proxy.host, port: proxy.port } });
    peerDirs.push(caller.dir);
    try {
      await caller.dial('7000');
      await caller.waitEvent('CALL_ESTABLISHED');
      await caller.hangup();
      await caller.waitEvent('CALL_CLOSED');
      const result = await uas.result;

      expect({ exitCode: result.exitCode, errors: result.errors }).toEqual({ exitCode: 0, errors: '' });
      expect(proxy.log()).toMatch(/relay INVITE to sip:7000@127\.0\.0\.1:\d+/);
    } finally {
      await caller.stop(); // before its registrar, so un-registering does not wait for a dead proxy
      await uas.stop();
      await proxy.stop();
    }
  });

  it('the proxy admits INVITEs from an auth user with the right password and rejects a wrong one', async () => {
    const callee = await phone({ user: '2301', answerMode: 'auto' });
    const good = await phone({ user: 'gw', password: 'gw-secret', transport: 'tcp' });
    const bad = await phone({ user: 'gw2', password: 'wrong-secret' });

    await good.dial(callee.user);
    await good.waitEvent('CALL_ESTABLISHED');
    await callee.waitEvent('CALL_ESTABLISHED');
    await bad.dial(callee.user);
    const closed = await bad.waitEvent('CALL_CLOSED');

    expect(closed.param).toMatch(/407|Proxy Authentication/i);
    expect(bad.events().some((e) => e.type === 'CALL_ESTABLISHED')).toBe(false);
    expect(callee.events().filter((e) => e.type === 'CALL_ESTABLISHED')).toHaveLength(1);
  });

  it('a manually answered call carries RFC 4733 DTMF and audio both ways until hangup', async () => {
    const dir = makeTempDir('wav');
    const wavPath = writeSineWav({ path: join(dir, 'tone-600hz.wav'), frequencyHz: 600, seconds: 5 });
    const callee = await phone({ user: '2401', answerMode: 'manual', transport: 'tcp' });
    const caller = await phone({ user: '2402', wavPath });

    await caller.dial(callee.user);
    const incoming = await callee.waitEvent('CALL_INCOMING');
    await callee.answer();
    await caller.waitEvent('CALL_ESTABLISHED');
    await callee.waitEvent('CALL_ESTABLISHED');
    await caller.sendDtmf('19#');
    const digits = [];
    for (let i = 0; i < 3; i++) digits.push((await callee.waitEvent('CALL_DTMF_START')).param);
    await callee.hangup();
    await caller.waitEvent('CALL_CLOSED');

    expect(incoming.peeruri).toContain('sip:2402@');
    expect(digits).toEqual(['1', '9', '#']);
    const calleeHeard = readWav(callee.recordings().dec[0] ?? '').samples;
    const callerHeard = readWav(caller.recordings().dec[0] ?? '').samples;
    expect(analyseTone(calleeHeard, 600, 8000).framesWithTone).toBeGreaterThan(0); // the caller's WAV
    expect(analyseTone(callerHeard, 400, 8000).framesWithTone).toBeGreaterThan(0); // the callee's default tone
    removeTempDir(dir);
  });

  it('a peer that dies at start rejects with its log tail, and leaves nothing running', async () => {
    const error = await startKamailio({ modulesDir: '/nonexistent-kamailio-modules', startTimeoutMs: 5000 }).then(
      () => undefined,
      (err: unknown) => err,
    );

    expect(error).toBeInstanceOf(PeerHarnessError);
    const message = (error as Error).message;
    expect(message).toMatch(/kamailio exited[\s\S]*nonexistent-kamailio-modules/);
    const dir = /log (\S+)\/kamailio\.log/.exec(message)?.[1] ?? '';
    expect(dir).not.toBe('');
    expect(processesMentioning(dir)).toEqual([]);
    removeTempDir(dir);
  });
});
