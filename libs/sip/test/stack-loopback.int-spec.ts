import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { parse, type SipMessage } from 'sip';
import { createSelfSignedCert, makeTempDir, removeTempDir } from '@wagw/testing';
import { SipStack, type InboundCall, type TransportProtocol } from '@wagw/sip';
import { nextEvent, testLogger, testSdp } from './helpers';

/** Two of our own stacks in one process, calling each other over UDP, TCP and TLS. */

const logger = testLogger(process.env['SIP_TEST_LOG']);
let certDir: string;
let tls: { key: string; cert: string };

beforeAll(async () => {
  certDir = makeTempDir('sip-tls');
  const pair = await createSelfSignedCert(certDir);
  tls = { key: readFileSync(pair.key, 'utf8'), cert: readFileSync(pair.cert, 'utf8') };
});

afterAll(() => {
  removeTempDir(certDir);
});

async function startPair(): Promise<{ a: SipStack; b: SipStack }> {
  const listen = () => ({ host: '127.0.0.1', udpPort: 0, tcpPort: 0, tls: { port: 0, key: tls.key, cert: tls.cert, ca: tls.cert } });
  const a = await SipStack.start({ listen: listen(), logger, userAgent: 'stack-a' });
  const b = await SipStack.start({ listen: listen(), logger, userAgent: 'stack-b' });
  return { a, b };
}

function targetOf(stack: SipStack, transport: TransportProtocol, user = 'agent'): string {
  const port = stack.ports[transport];
  return `sip:${user}@127.0.0.1:${port}${transport === 'udp' ? '' : `;transport=${transport}`}`;
}

describe.each<TransportProtocol>(['udp', 'tcp', 'tls'])('two stacks over %s', (transport) => {
  let a: SipStack;
  let b: SipStack;

  beforeEach(async () => ({ a, b } = await startPair()));
  afterEach(async () => {
    await a.close();
    await b.close();
  });

  it('a call is rung, answered, ACKed, carries DTMF INFO both ways and is ended by BYE with a Reason', async () => {
    const incoming = new Promise<InboundCall>((resolve) => b.onInvite((call) => resolve(call)));
    const call = a.invite({ target: targetOf(b, transport), transport, from: { user: 'wa-15550001', displayName: 'Zoë Müller' }, sdp: testSdp(40000) });
    const trying = nextEvent(call, 'trying');
    const progress = nextEvent(call, 'progress', 10_000, ['failed']);
    const uas = await incoming;
    expect(uas.from.displayName).toBe('Zoë Müller');
    expect(uas.from.user).toBe('wa-15550001');
    expect(uas.sdp).toContain('m=audio 40000');
    expect(uas.transport).toBe(transport);
    await trying;
    uas.ringing();
    expect((await progress)[0].status).toBe(180);

    const acked = nextEvent(uas, 'acked');
    const answered = nextEvent(call, 'answered', 10_000, ['failed']);
    uas.answer(testSdp(40002));
    const [answer] = await answered;
    expect(answer.sdp).toContain('m=audio 40002');
    await acked;
    expect(uas.state).toBe('confirmed');

    const infoAtB = nextEvent(uas, 'info');
    expect(await call.sendDtmf('5', 200)).toBe(200);
    expect((await infoAtB)[0].dtmf).toEqual({ digit: '5', durationMs: 200 });
    const infoAtA = nextEvent(call, 'info');
    expect(await uas.sendInfo('application/dtmf', '#')).toBe(200);
    expect((await infoAtA)[0].dtmf).toEqual({ digit: '#' });

    const endedAtB = nextEvent(uas, 'ended');
    const endedAtA = nextEvent(call, 'ended');
    const terminated: string[] = [];
    uas.onTerminated(() => terminated.push('uas'));
    call.onTerminated(() => terminated.push('uac'));
    expect(terminated).toEqual([]);
    expect(await call.bye({ protocol: 'Q.850', cause: 16, text: 'Normal call clearing' })).toBe(200);
    expect((await endedAtA)[0]).toMatchObject({ by: 'local', cause: 'bye' });
    expect((await endedAtB)[0]).toEqual({ by: 'remote', cause: 'bye', reason: { protocol: 'Q.850', cause: 16, text: 'Normal call clearing' } });
    expect(terminated.sort()).toEqual(['uac', 'uas']);
    uas.onTerminated(() => terminated.push('late')); // registered once over: runs at once
    expect(terminated).toContain('late');
  });

  it('a rejected call fails with the cause of its status and the Retry-After', async () => {
    let rejectedLegOver = false;
    b.onInvite((c) => {
      c.onTerminated(() => (rejectedLegOver = true)); // a rejected leg is over too, though it never `ended`
      c.reject(486, 'Busy Here', { headers: { 'Retry-After': '30' } });
    });
    const call = a.invite({ target: targetOf(b, transport), transport, from: { user: 'x' }, sdp: testSdp(40000) });
    const [failed] = await nextEvent(call, 'failed');
    expect(failed).toMatchObject({ status: 486, cause: 'busy', retryAfter: 30 });
    expect(rejectedLegOver).toBe(true);
  });
});

describe('digest authentication and allow-lists between two stacks (udp)', () => {
  let a: SipStack;
  let b: SipStack;

  beforeEach(async () => {
    ({ a, b } = await startPair());
    b.onInviteAuth((req) =>
      req.from.user === 'blocked'
        ? { action: 'reject', status: 403, reason: 'Not Allowed' }
        : { action: 'digest', realm: 'gw.test', proxy: true, password: (u) => (u === 'pbx' ? 'secret' : undefined) },
    );
    b.onInvite((c) => c.answer(testSdp(40010)));
  });
  afterEach(async () => {
    await a.close();
    await b.close();
  });

  it('the right credentials pass the 407 challenge and the call is answered', async () => {
    const call = a.invite({ target: targetOf(b, 'udp'), from: { user: 'pbx' }, sdp: testSdp(40000), auth: { username: 'pbx', password: 'secret' } });
    await nextEvent(call, 'answered', 10_000, ['failed']);
    await call.bye();
  });

  it('a wrong password is challenged again and fails as auth-failed', async () => {
    const call = a.invite({ target: targetOf(b, 'udp'), from: { user: 'pbx' }, sdp: testSdp(40000), auth: { username: 'pbx', password: 'wrong' } });
    const [failed] = await nextEvent(call, 'failed');
    expect(failed).toMatchObject({ status: 407, cause: 'auth-failed' });
  });

  it('a caller the allow-list refuses gets 403 without a challenge', async () => {
    const call = a.invite({ target: targetOf(b, 'udp'), from: { user: 'blocked' }, sdp: testSdp(40000), auth: { username: 'pbx', password: 'secret' } });
    const [failed] = await nextEvent(call, 'failed');
    expect(failed).toMatchObject({ status: 403, reason: 'Not Allowed', cause: 'rejected' });
  });
});

describe('option tags (RFC 3261 §8.2.2.3)', () => {
  it('refuses an INVITE that requires an extension it lacks (precondition) with 420, and takes Require: timer and 100rel', async () => {
    const { a, b } = await startPair();
    try {
      b.onInvite((c) => {
        if (c.headers['x-test'] === 'reliable') {
          c.progress(testSdp(40020)); // a reliable 183 with SDP: the 200 waits for its PRACK
          c.answer(testSdp(40020));
          return;
        }
        c.answer(testSdp(40020));
      });
      const needsPrecondition = a.invite({ target: targetOf(b, 'udp'), from: { user: 'x' }, sdp: testSdp(40000), headers: { Require: 'precondition' } });
      expect((await nextEvent(needsPrecondition, 'failed'))[0]).toMatchObject({ status: 420, cause: 'rejected' });
      const needsTimer = a.invite({ target: targetOf(b, 'udp'), from: { user: 'x' }, sdp: testSdp(40000), headers: { Require: 'timer', 'Session-Expires': '1800' } });
      await nextEvent(needsTimer, 'answered', 10_000, ['failed']);
      await needsTimer.bye();
      // our UAC PRACKs our UAS's reliable 183, which then sends its 200
      const needs100rel = a.invite({ target: targetOf(b, 'udp'), from: { user: 'x' }, sdp: testSdp(40000), headers: { Require: '100rel', 'X-Test': 'reliable' } });
      const progress = nextEvent(needs100rel, 'progress', 10_000, ['failed']);
      const answered = nextEvent(needs100rel, 'answered', 10_000, ['failed']);
      expect((await progress)[0]).toMatchObject({ status: 183 });
      await answered;
      expect(await needs100rel.bye()).toBe(200);
    } finally {
      await a.close();
      await b.close();
    }
  });
});

/**
 * A trunk given as a domain reaches its SRV targets by their own names, but a SIP provider's certificate names
 * the domain (RFC 5922 §4): with the domain as `tlsIdentity`, a certificate for the domain alone passes (for
 * INVITEs and OPTIONS); without it the same certificate is refused, as is one that names neither.
 */
describe('TLS toward a host serving a SIP domain (its certificate names the domain)', () => {
  const DOMAIN = 'pbx.wagw.test';
  let a: SipStack;
  let b: SipStack;
  let domainCa: string;
  beforeAll(async () => {
    const pair = await createSelfSignedCert(certDir, '127.0.0.1', DOMAIN);
    const domainTls = { key: readFileSync(pair.key, 'utf8'), cert: readFileSync(pair.cert, 'utf8') };
    domainCa = domainTls.cert;
    b = await SipStack.start({ listen: { host: '127.0.0.1', udpPort: 0, tcpPort: 0, tls: { port: 0, ...domainTls } }, logger });
    a = await SipStack.start({ listen: { host: '127.0.0.1', udpPort: 0, tcpPort: 0, tls: { port: 0, key: tls.key, cert: tls.cert, ca: domainCa } }, logger });
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
  });

  it('takes a certificate for the domain with the domain as tlsIdentity, and refuses it without', async () => {
    b.onInvite((uas) => uas.answer(testSdp(41000)));
    const refused = a.invite({ target: targetOf(b, 'tls'), transport: 'tls', from: { user: 'gw' }, sdp: testSdp(40000) });
    const [failed] = await nextEvent(refused, 'failed', 10_000, ['answered']);
    expect(failed).toMatchObject({ status: 503, cause: 'unreachable' });
    expect(failed.reason).toMatch(/IP: 127\.0\.0\.1 is not in the cert's list|does not match certificate/i);

    const call = a.invite({ target: targetOf(b, 'tls'), transport: 'tls', from: { user: 'gw' }, sdp: testSdp(40000), tlsIdentity: DOMAIN });
    await nextEvent(call, 'answered', 10_000, ['failed']);
    expect(await call.bye()).toBe(200);
    expect((await a.sendOptions(targetOf(b, 'tls'), 'tls', { tlsIdentity: DOMAIN })).status).toBe(200);
  });

  it('refuses a certificate that names neither the domain given nor the host', async () => {
    const c = await SipStack.start({ listen: { host: '127.0.0.1', udpPort: 0, tcpPort: 0, tls: { port: 0, key: tls.key, cert: tls.cert, ca: domainCa } }, logger });
    try {
      const result = await c.sendOptions(targetOf(b, 'tls'), 'tls', { tlsIdentity: 'other.wagw.test' });
      expect(result.status).toBe(503);
      expect(result.reason).toMatch(/other\.wagw\.test/);
    } finally {
      await c.close();
    }
  });
});

/**
 * A malformed request whose response the peer can match (Via, Call-ID, From, To and CSeq usable) is answered
 * 400 with why (RFC 3261 §8.2); one without them, and an ACK, get nothing; one source gets at most 20 such
 * answers a second (no reflector toward a forged source). Raw sockets stand in for the faulty peer.
 */
describe('malformed requests (RFC 3261 §8.2)', () => {
  let stack: SipStack;
  const told: { reason: string; answered: boolean }[] = [];

  beforeEach(async () => {
    told.length = 0;
    stack = await SipStack.start({
      listen: { host: '127.0.0.1', udpPort: 0, tcpPort: 0 },
      logger,
      userAgent: 'stack-b',
      onMalformed: (_transport, reason, answered) => told.push({ reason, answered }),
    });
  });
  afterEach(async () => stack.close());

  function request(method: string, via: string, omit: string[] = [], callId = 'bad-1@10.0.0.9'): string {
    const headers = [`Via: ${via}`, 'Max-Forwards: 70', 'From: <sip:1001@127.0.0.1>;tag=f1', 'To: <sip:agent@127.0.0.1>', `Call-ID: ${callId}`, `CSeq: 5 ${method}`];
    return [`${method} sip:agent@127.0.0.1 SIP/2.0`, ...headers.filter((h) => !omit.some((o) => h.startsWith(`${o}:`))), 'Content-Length: 0', '', ''].join('\r\n');
  }

  /** Sends each datagram from one socket and collects what comes back within `waitMs`. */
  async function overUdp(datagrams: string[], waitMs = 500): Promise<SipMessage[]> {
    const socket = createSocket('udp4');
    const answers: SipMessage[] = [];
    socket.on('message', (data) => {
      const m = parse(data);
      if (m) answers.push(m);
    });
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
    const via = `SIP/2.0/UDP 127.0.0.1:${socket.address().port};rport`;
    for (const d of datagrams) socket.send(d.replace('VIA', via), stack.ports.udp ?? 0, '127.0.0.1');
    await new Promise((r) => setTimeout(r, waitMs));
    socket.close();
    return answers;
  }

  it('answers a request without a Via branch 400 naming why, with the request\'s headers and a To tag', async () => {
    const [answer, ...more] = await overUdp([request('INVITE', 'VIA')]);
    expect(more).toEqual([]);
    expect(answer?.status).toBe(400);
    // the wire is UTF-8 (RFC 3261 §25.1), read here byte by byte
    const utf8 = (text: unknown): string => Buffer.from(String(text), 'latin1').toString('utf8');
    expect(utf8(answer?.reason)).toBe('Bad Request (top Via without a branch (RFC 3261 §8.1.1.7))');
    expect(utf8(answer?.headers['warning'])).toBe('399 wagw "top Via without a branch (RFC 3261 §8.1.1.7)"');
    expect(answer?.headers['call-id']).toBe('bad-1@10.0.0.9');
    expect(answer?.headers.cseq).toEqual({ seq: 5, method: 'INVITE' });
    expect(answer?.headers.from.params?.['tag']).toBe('f1');
    expect(answer?.headers.to.params?.['tag']).toMatch(/^[0-9a-f]{16}$/);
    expect(told).toEqual([{ reason: 'top Via without a branch (RFC 3261 §8.1.1.7)', answered: true }]);
  });

  it('answers a CSeq naming another method, over TCP too', async () => {
    const socket = connect(stack.ports.tcp ?? 0, '127.0.0.1');
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    let received = '';
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => (received += d));
    const via = `SIP/2.0/TCP 127.0.0.1:${socket.localPort};branch=z9hG4bK-tcp-1`;
    socket.write(request('BYE', via).replace('CSeq: 5 BYE', 'CSeq: 5 INVITE'));
    const deadline = Date.now() + 3000;
    while (!received.includes('\r\n\r\n') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    socket.destroy();
    const answer = parse(received);
    expect(answer?.status).toBe(400);
    expect(answer?.reason).toBe("Bad Request (CSeq method INVITE is not the request's BYE)");
    expect(answer?.headers.via[0]?.params['branch']).toBe('z9hG4bK-tcp-1');
    expect(told).toEqual([{ reason: "CSeq method INVITE is not the request's BYE", answered: true }]);
  });

  it('drops what no response could be matched to (no Call-ID, no CSeq, not SIP) and never answers an ACK', async () => {
    const answers = await overUdp([request('INVITE', 'VIA;branch=z9hG4bK-a', ['Call-ID']), request('OPTIONS', 'VIA;branch=z9hG4bK-b', ['CSeq']), 'hello\r\n\r\n', request('ACK', 'VIA')]);
    expect(answers).toEqual([]);
    expect(told).toEqual([
      { reason: 'no Call-ID', answered: false },
      { reason: 'no usable CSeq', answered: false },
      { reason: 'not a SIP message', answered: false },
      { reason: 'top Via without a branch (RFC 3261 §8.1.1.7)', answered: false },
    ]);
  });

  it('answers at most 20 malformed requests a second to one source', async () => {
    // start the burst early in a second so it does not straddle two
    while (Date.now() % 1000 > 300) await new Promise((r) => setTimeout(r, 10));
    const burst = Array.from({ length: 40 }, (_, i) => request('OPTIONS', 'VIA', [], `burst-${i}`));
    const answers = await overUdp(burst);
    expect(answers).toHaveLength(20);
    expect(told).toHaveLength(40);
    expect(told.filter((t) => t.answered)).toHaveLength(20);
    expect(answers.every((a) => a.status === 400)).toBe(true);
  });
});

/**
 * Inbound TCP/TLS connections are limited in all and per address: one more is closed at its accept (before
 * any TLS handshake), the rest keep working, and a closed one frees its place.
 */
describe('inbound connection limits', () => {
  it('closes a connection over the per-address or total limit at once and takes one again when a place frees', async () => {
    const refused: string[] = [];
    const stack = await SipStack.start({
      listen: { host: '127.0.0.1', tcpPort: 0, tls: { port: 0, key: tls.key, cert: tls.cert }, inboundConnections: { total: 4, perAddress: 2 } },
      logger,
      onConnectionRefused: (transport, limit) => refused.push(`${transport} ${limit}`),
    });
    const open: Socket[] = [];
    try {
      const tcp = stack.ports.tcp ?? 0;
      /** Connects from `from` and says whether the gateway keeps the connection (still open after 300 ms). */
      const kept = async (from: string, port = tcp): Promise<boolean> => {
        const socket = connect({ port, host: '127.0.0.1', localAddress: from });
        open.push(socket);
        socket.on('error', () => undefined);
        const closed = new Promise<boolean>((resolve) => socket.once('close', () => resolve(false)));
        return Promise.race([closed, new Promise<boolean>((resolve) => setTimeout(() => resolve(!socket.destroyed), 300))]);
      };
      expect(await kept('127.0.0.1')).toBe(true);
      expect(await kept('127.0.0.1')).toBe(true);
      expect(await kept('127.0.0.1')).toBe(false); // a third from one address
      expect(await kept('127.0.0.2', stack.ports.tls)).toBe(true); // over TLS, counted at the TCP accept
      expect(await kept('127.0.0.3')).toBe(true);
      expect(await kept('127.0.0.4', stack.ports.tls)).toBe(false); // a fifth in all: refused before TLS
      expect(refused).toEqual(['tcp per-address', 'tls total']);
      expect(stack.inboundConnections).toBe(4);
      expect(stack.inboundConnectionsByTransport()).toEqual({ tcp: 3, tls: 1 });

      // the connections kept still carry SIP: OPTIONS over one of them is answered
      const first = open[0] as Socket;
      let answer = '';
      first.setEncoding('latin1');
      first.on('data', (d: string) => (answer += d));
      first.write(['OPTIONS sip:wagw@127.0.0.1 SIP/2.0', `Via: SIP/2.0/TCP 127.0.0.1:${first.localPort};branch=z9hG4bK-limits`, 'Max-Forwards: 70', 'From: <sip:pbx@127.0.0.1>;tag=l1', 'To: <sip:wagw@127.0.0.1>', 'Call-ID: limits-1', 'CSeq: 1 OPTIONS', 'Content-Length: 0', '', ''].join('\r\n'));
      const deadline = Date.now() + 3000;
      while (!answer.includes('\r\n\r\n') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(answer).toMatch(/^SIP\/2\.0 200 /);

      // one from the first address closes: that address may connect again
      const second = open[1] as Socket;
      await new Promise<void>((resolve) => {
        second.once('close', () => resolve());
        second.destroy();
      });
      const deadline2 = Date.now() + 3000;
      while (stack.inboundConnections > 3 && Date.now() < deadline2) await new Promise((r) => setTimeout(r, 20));
      expect(await kept('127.0.0.1')).toBe(true);
      expect(refused).toHaveLength(2);

      // every connection closed, TLS ones after a handshake too, gives its place back
      for (const s of open.splice(0)) s.destroy();
      const drained = Date.now() + 3000;
      while (stack.inboundConnections > 0 && Date.now() < drained) await new Promise((r) => setTimeout(r, 20));
      expect(stack.inboundConnectionsByTransport()).toEqual({ tcp: 0, tls: 0 });
      const tlsClient = tlsConnect({ port: stack.ports.tls ?? 0, host: '127.0.0.1', rejectUnauthorized: false });
      open.push(tlsClient);
      await new Promise<void>((resolve, reject) => tlsClient.once('secureConnect', () => resolve()).once('error', reject));
      const counted = Date.now() + 3000;
      while (stack.inboundConnections !== 1 && Date.now() < counted) await new Promise((r) => setTimeout(r, 20));
      expect(stack.inboundConnectionsByTransport()).toEqual({ tcp: 0, tls: 1 });
      tlsClient.destroy();
      const released = Date.now() + 3000;
      while (stack.inboundConnections > 0 && Date.now() < released) await new Promise((r) => setTimeout(r, 20));
      expect(stack.inboundConnectionsByTransport()).toEqual({ tcp: 0, tls: 0 });
    } finally {
      for (const s of open) s.destroy();
      await stack.close();
    }
  });
});

describe('stack lifecycle', () => {
  it('answers OPTIONS with 200 and measures the round trip', async () => {
    const { a, b } = await startPair();
    try {
      const result = await a.sendOptions(targetOf(b, 'tcp'), 'tcp');
      expect(result.status).toBe(200);
      expect(result.rttMs).toBeGreaterThanOrEqual(0);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('close() releases its ports even with a call in progress over TCP', async () => {
    const { a, b } = await startPair();
    const ports = b.ports;
    const incoming = new Promise<InboundCall>((resolve) => b.onInvite((c) => resolve(c)));
    const call = a.invite({ target: targetOf(b, 'tcp'), transport: 'tcp', from: { user: 'x' }, sdp: testSdp(40000) });
    const failed = nextEvent(call, 'failed');
    (await incoming).ringing();
    await a.close();
    expect((await failed)[0].cause).toBe('unreachable');
    await b.close();
    await expect(bindUdp(ports.udp ?? 0)).resolves.toBe(true);
    await expect(listenTcp(ports.tcp ?? 0)).resolves.toBe(true);
  });
});

function bindUdp(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createSocket('udp4');
    s.once('error', () => resolve(false));
    s.bind(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

function listenTcp(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}
