import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { readdirSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { encodeG711, mutateJson, mutateText, Prng } from '@wagw/testing';
import { signWebhookBody } from '@wagw/whatsapp';
import { parse as parseSip } from 'sip';
import { PbxLegRegistry } from '../../apps/media/src/sessions/pbx-leg-registry';
import { SessionRegistry } from '../../apps/media/src/sessions/session-registry';
import { WebhookIngestService } from '../../apps/signalling/src/webhooks/webhook-ingest.service';
import { canAnswerMalformed, malformedReason } from '../../libs/sip/src/transport/malformed';
import { e2eScope } from '../support/e2e-scope';
import { startEchoPbx, toneFramesAtUser, userCallsWithTone, userHearsEcho, type EchoPbx } from '../support/echo-pbx';
import { scrapedSample } from '../support/metrics';
import { endedCall, eventually, startStack, type Stack } from '../support/stack';

/**
 * Bad input loses nothing: while a WhatsApp user's call is bridged to a PBX (SIPp signalling, an echoing RTP
 * peer), the gateway is sent mutated SIP over UDP and TCP (requests and responses of other dialogs, from the
 * trunk's address and from elsewhere), mutated signed webhooks of every kind Meta sends (ids fresh, so none is
 * the live call's), and mutated CRM API requests. Every input is reproducible from the seed and its index.
 * Afterwards the live call is still up and its audio still flows both ways, every HTTP answer was a
 * reasoned 2xx/4xx (never a 5xx crash), SIP answers were well formed, no handler threw, the malformed SIP was
 * counted, a new call works end to end, and nothing leaks once the calls end.
 */
const BUSINESS = '15550001111';
const USER = '15552227777';
const SEED = 20261128;
const FIXTURES = join(__dirname, '..', 'fixtures', 'webhooks', 'good');
const FIXTURE_PHONE_NUMBER_ID = '106540352242922';

const SIP_METHODS = ['INVITE', 'OPTIONS', 'REGISTER', 'BYE', 'CANCEL', 'ACK', 'INFO', 'UPDATE', 'PRACK', 'REFER', 'NOTIFY', 'MESSAGE', 'SUBSCRIBE'] as const;
const SDP = ['v=0', 'o=- 1 1 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', 'm=audio 40000 RTP/AVP 0 8 101', 'a=rtpmap:0 PCMU/8000', 'a=rtpmap:101 telephone-event/8000', 'a=fmtp:101 0-15', 'a=sendrecv', ''].join('\r\n');

/** A SIP message of a dialog the gateway has never seen (fresh Call-ID, tags and branch): request or response. */
function sipTemplate(rng: Prng, i: number, gateway: string, from: string): string {
  const callId = `fuzz-${SEED}-${i}-${rng.int(1e9)}@${from}`;
  const branch = `z9hG4bK-fuzz-${i}-${rng.int(1e9)}`;
  const target = rng.pick(['+15552220000', '15559990000', '1001', 'gateway']);
  const method = rng.pick(SIP_METHODS);
  const withSdp = method === 'INVITE' || rng.chance(0.1);
  const body = withSdp ? SDP : method === 'INFO' ? 'Signal=5\r\nDuration=160\r\n' : '';
  const common = [
    `Via: SIP/2.0/UDP ${from};branch=${branch};rport`,
    'Max-Forwards: 70',
    `From: "Fuzz ${i}" <sip:1001@${from}>;tag=f${rng.int(1e9)}`,
    `To: <sip:${target}@${gateway}>${rng.chance(0.3) ? `;tag=t${rng.int(1e9)}` : ''}`,
    `Call-ID: ${callId}`,
    `CSeq: ${1 + rng.int(1000)} ${method}`,
    `Contact: <sip:1001@${from}>`,
    ...(method === 'REFER' ? [`Refer-To: <sip:1002@${from}>`] : []),
    ...(method === 'INFO' ? ['Content-Type: application/dtmf-relay'] : withSdp ? ['Content-Type: application/sdp'] : []),
    ...(rng.chance(0.2) ? ['Supported: 100rel, timer', 'Session-Expires: 90;refresher=uac', 'Reason: SIP;cause=480;text="x"'] : []),
    `Content-Length: ${Buffer.byteLength(body, 'latin1')}`,
  ];
  const first = rng.chance(0.25) ? `SIP/2.0 ${rng.pick([100, 180, 183, 200, 401, 407, 486, 487, 503])} Whatever` : `${method} sip:${target}@${gateway} SIP/2.0`;
  return `${first}\r\n${common.join('\r\n')}\r\n\r\n${body}`;
}

interface HttpAnswer {
  status: number;
  text: string;
}

async function pool<T>(items: readonly T[], concurrency: number, run: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < items.length) await run(items[next++] as T);
  }));
}

describe('hostile input while a call is bridged', () => {
  const t = e2eScope<EchoPbx>('wagw-hostile-');
  jest.setTimeout(240_000);
  // the test's own sockets, closed even when a check fails (an open one would keep Jest from exiting)
  const udpSockets: UdpSocket[] = [];
  const udpSocket = (): UdpSocket => {
    const s = createSocket('udp4');
    udpSockets.push(s);
    return s;
  };
  afterEach(() => {
    for (const s of udpSockets.splice(0)) {
      try {
        s.close();
      } catch {
        // closed by the test already
      }
    }
  });

  it('leaves the live call, its audio and every later call untouched, and answers each bad input with a reason', async () => {
    // SIPp answers the live call, the new one after the fuzz, and whatever user calls the mutated connects start
    const pbx = (t.pbx = await startEchoPbx({ calls: 400 }));
    const stack: Stack = (t.stack = await startStack({ name: 'hostile-input', env: pbx.env(BUSINESS) }));
    await stack.emu('POST', '/emulator/users', { waId: USER, name: 'Max' });
    const live = await userCallsWithTone(stack, USER);
    await userHearsEcho(stack, USER);

    const gatewayHost = stack.config.pbx.listenHost;
    const gatewaySip = `${gatewayHost}:${stack.config.pbx.udpPort}`;
    const threw: string[] = [];

    // 1. SIP over UDP: 1,200 mutated datagrams, from the trunk's address and from another loopback address
    const sipAnswers: string[] = [];
    const sockets: UdpSocket[] = [];
    for (const address of ['127.0.0.1', '127.0.0.2']) {
      const s = udpSocket();
      await new Promise<void>((resolve) => s.bind(0, address, resolve));
      s.on('message', (m) => sipAnswers.push(m.toString('latin1')));
      sockets.push(s);
    }
    // first two that once went unanswered (a broken %-escape in From threw before any response, an
    // unhandled rejection that ends a production process): each must now get a final response
    const awaited = ['INVITE', 'REGISTER'].map((method, k) => {
      const socket = sockets[0] as UdpSocket;
      const from = `${socket.address().address}:${socket.address().port}`;
      const callId = `fuzz-escape-${k}@${from}`;
      const msg = [
        `${method} sip:${method === 'INVITE' ? '15552220000@' : ''}${gatewaySip} SIP/2.0`,
        `Via: SIP/2.0/UDP ${from};branch=z9hG4bK-escape-${k};rport`,
        'Max-Forwards: 70',
        `From: <sip:acme%@${from}>;tag=e${k}`,
        `To: <sip:acme%zz@${gatewaySip}>`,
        `Call-ID: ${callId}`,
        `CSeq: 1 ${method}`,
        `Contact: <sip:acme%@${from}>`,
        ...(method === 'INVITE' ? ['Content-Type: application/sdp', `Content-Length: ${SDP.length}`, '', SDP] : ['Expires: 60', 'Content-Length: 0', '', '']),
      ].join('\r\n');
      socket.send(Buffer.from(msg, 'latin1'), stack.config.pbx.udpPort, gatewayHost);
      return callId;
    });
    for (const callId of awaited) {
      await eventually(`a final response to ${callId}`, async () => sipAnswers.some((a) => a.includes(callId) && /^SIP\/2\.0 [2-6]\d\d /.test(a)), 10_000);
    }
    for (let i = 0; i < 1200; i++) {
      const rng = new Prng((SEED ^ Math.imul(i + 1, 0x9e3779b1)) >>> 0);
      const socket = sockets[i % 2] as UdpSocket;
      const from = `${socket.address().address}:${socket.address().port}`;
      const text = mutateText(rng, sipTemplate(rng, i, gatewaySip, from), 3);
      socket.send(Buffer.from(text, 'latin1'), stack.config.pbx.udpPort, gatewayHost);
      if (i % 40 === 39) await new Promise((r) => setTimeout(r, 15));
    }

    // 2. SIP over TCP: mutated messages back to back on a few connections, one oversized, one pure noise
    for (let c = 0; c < 6; c++) {
      const rng = new Prng(SEED + c);
      const socket = connect(stack.config.pbx.tcpPort, gatewayHost);
      socket.on('data', () => undefined);
      socket.on('error', () => undefined);
      await new Promise<void>((resolve) => socket.once('connect', resolve));
      const from = `${socket.localAddress}:${socket.localPort}`;
      let stream = '';
      for (let i = 0; i < 40; i++) stream += mutateText(rng, sipTemplate(rng, 10_000 + c * 100 + i, gatewaySip, from), 3);
      if (c === 4) stream += `INVITE sip:x@${gatewaySip} SIP/2.0\r\nContent-Length: 999999999\r\n\r\n${'A'.repeat(200_000)}`;
      if (c === 5) stream = Buffer.from(Array.from({ length: 100_000 }, () => rng.int(256))).toString('latin1');
      socket.end(stream, 'latin1');
      await new Promise<void>((resolve) => socket.once('close', () => resolve()));
    }

    // 3. webhooks: every good fixture (phone number id ours), mutated; signed, so each reaches the parser
    const phoneNumberId = stack.config.whatsapp.phoneNumberId;
    const templates = readdirSync(FIXTURES).filter((f) => f.endsWith('.json')).map((f) => readFileSync(join(FIXTURES, f), 'utf8').split(FIXTURE_PHONE_NUMBER_ID).join(phoneNumberId));
    const webhookAnswers: HttpAnswer[] = [];
    const webhookBodies = Array.from({ length: 360 }, (_, i) => {
      const rng = new Prng((SEED + 1 ^ Math.imul(i + 1, 0x85ebca6b)) >>> 0);
      const template = templates[i % templates.length] as string;
      // a fifth as bytes (often not JSON any more), the rest as JSON structure
      return rng.chance(0.2) ? mutateText(rng, template, 3) : JSON.stringify(mutateJson(rng, JSON.parse(template), 3));
    });
    await pool(webhookBodies, 6, async (body) => {
      const res = await fetch(`${stack.signalling.baseUrl}/webhooks/whatsapp`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-hub-signature-256': signWebhookBody(body, stack.config.whatsapp.appSecret) },
        body,
      });
      webhookAnswers.push({ status: res.status, text: await res.text() });
    });

    // 4. CRM API: mutated bodies and ids on the endpoints a CRM calls (never the live call's id)
    const apiTemplates: { method: string; path: string; body?: unknown }[] = [
      { method: 'POST', path: '/v1/calls', body: { to: '15559990001', agent: '1001' } },
      { method: 'POST', path: '/v1/calls/00000000-0000-4000-8000-000000000000/hangup' },
      { method: 'POST', path: '/v1/calls/00000000-0000-4000-8000-000000000000/transfer', body: { to: '1002' } },
      { method: 'POST', path: '/v1/contacts/15559990002/call-button', body: { bodyText: 'Call us', displayText: 'Call', ttlMinutes: 60, payload: 'queue=1' } },
      { method: 'GET', path: '/v1/permissions/15559990003' },
      { method: 'GET', path: '/v1/calls/00000000-0000-4000-8000-000000000000' },
      { method: 'POST', path: '/v1/permissions/15559990004/request', body: { bodyText: 'May we call you?' } },
      { method: 'GET', path: '/v1/calls?limit=5&state=active' },
      { method: 'GET', path: '/v1/webhooks/dead-letters?limit=5' },
      { method: 'GET', path: '/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=42' },
      // a parameter given twice, or as an object (the string-typed parameters take them as text)
      { method: 'GET', path: '/v1/events?types=call.incoming&types=call.ended' },
      { method: 'GET', path: '/v1/calls?limit=5&limit=6&state[x]=1' },
      // the voicemail audio and the operator's calling settings (Meta, here the emulator, judges the block)
      { method: 'GET', path: '/v1/calls/00000000-0000-4000-8000-000000000000/voicemail' },
      { method: 'GET', path: '/v1/admin/whatsapp-settings' },
      { method: 'POST', path: '/v1/admin/whatsapp-settings', body: { calling: { call_icon_visibility: 'DEFAULT', call_hours: { status: 'DISABLED' } } } },
      { method: 'POST', path: '/v1/admin/whatsapp-voicemail-announcement?apply=true', body: { file: 'not audio' } },
    ];
    const apiAnswers: (HttpAnswer & { request: string })[] = [];
    const apiRequests = Array.from({ length: 480 }, (_, i) => {
      const rng = new Prng((SEED + 2 ^ Math.imul(i + 1, 0xc2b2ae35)) >>> 0);
      const tpl = apiTemplates[i % apiTemplates.length] as (typeof apiTemplates)[number];
      const path = rng.chance(0.4) ? encodeURI(mutateText(rng, tpl.path, 2)).replace(/#/g, '%23') : tpl.path;
      const body = tpl.body === undefined ? undefined : rng.chance(0.2) ? mutateText(rng, JSON.stringify(tpl.body), 3) : JSON.stringify(mutateJson(rng, tpl.body, 3));
      return { method: tpl.method, path: path.startsWith('/') ? path : `/${path}`, body };
    });
    await pool(apiRequests, 4, async (r) => {
      const res = await fetch(`${stack.signalling.baseUrl}${r.path}`, {
        method: r.method,
        headers: { authorization: `Bearer ${stack.config.signalling.apiToken}`, ...(r.body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(r.body === undefined ? {} : { body: r.body }),
      });
      // an event stream that opened is an answer too: it never ends by itself
      const streaming = res.status === 200 && (res.headers.get('content-type') ?? '').startsWith('text/event-stream');
      if (streaming) await res.body?.cancel();
      apiAnswers.push({ status: res.status, text: streaming ? '' : await res.text(), request: `${r.method} ${r.path} ${r.body ?? ''}`.slice(0, 300) });
    });
    await stack.signalling.app.get(WebhookIngestService).idle();

    // the live call: still active, and the user still hears its own tone through the PBX after all of it
    const before = await toneFramesAtUser(stack, USER);
    await eventually('the echo still heard after the hostile input', async () => (await toneFramesAtUser(stack, USER)) >= before + 25, 15_000, 250);
    const rec = (await stack.api('GET', `/v1/calls/${live.callId}`)).body as { state: string };
    expect(rec.state).toBe('active');
    expect((await fetch(`${stack.signalling.baseUrl}/health`)).status).toBe(200);

    // every HTTP answer is a decision with a reason, never an unhandled failure
    expect(webhookAnswers).toHaveLength(webhookBodies.length);
    expect(webhookAnswers.filter((a) => a.status !== 200 && a.status !== 400)).toEqual([]);
    for (const a of webhookAnswers.filter((x) => x.status === 400)) expect(a.text).toMatch(/\w{4,}/);
    expect(apiAnswers).toHaveLength(apiRequests.length);
    expect(apiAnswers.filter((a) => a.status >= 500 && a.status !== 502 && a.status !== 503)).toEqual([]);
    const unreasoned = apiAnswers.filter((a) => {
      if (a.status < 400) return false;
      const body = JSON.parse(a.text) as { error?: { code?: unknown; message?: unknown } };
      return typeof body.error?.code !== 'string' || !(typeof body.error.message === 'string' || Array.isArray(body.error.message)) || String(body.error.message).length < 4;
    });
    expect(unreasoned).toEqual([]);
    // the requests were not all refused at the door: some went through to a decision (404 no call, 201, 202...)
    expect(new Set(apiAnswers.map((a) => a.status)).size).toBeGreaterThan(2);
    // both kinds of mutation reached the parser and were told apart: some rejected as not JSON, some accepted
    expect(webhookAnswers.some((a) => a.status === 400)).toBe(true);
    expect(webhookAnswers.some((a) => a.status === 200)).toBe(true);

    // SIP: whatever the gateway answered is a well-formed response; the malformed messages were counted
    expect(sipAnswers.length).toBeGreaterThan(0);
    expect(sipAnswers.filter((a) => { const m = parseSip(Buffer.from(a, 'latin1')); return !m || typeof m.status !== 'number'; })).toEqual([]);
    // malformed requests a response could be matched to were answered 400 with why (at most 20 a second to
    // a source), the rest dropped
    expect(await scrapedSample(stack.signalling.baseUrl, 'wagw_sip_malformed_total', { transport: 'udp', outcome: 'dropped' })).toBeGreaterThan(0);
    expect(await scrapedSample(stack.signalling.baseUrl, 'wagw_sip_malformed_total', { transport: 'udp', outcome: 'answered' })).toBeGreaterThan(0);
    expect(sipAnswers.some((a) => /^SIP\/2\.0 400 Bad Request \(.{4,}\)\r\n/.test(a))).toBe(true);

    // no handler threw and nothing was left unhandled
    const log = readFileSync(stack.logFile, 'utf8').split('\n');
    for (const line of log) if (/handler threw|Unhandled|uncaught|TypeError|RangeError/i.test(line)) threw.push(line.slice(0, 400));
    expect(threw).toEqual([]);
    for (const s of sockets) s.close();

    // a new call still works end to end
    await stack.emu('POST', `/emulator/users/${USER}/hangup`);
    await endedCall(stack, live.callId);
    const second = await userCallsWithTone(stack, USER, 700);
    await userHearsEcho(stack, USER, 700);
    await stack.emu('POST', `/emulator/users/${USER}/hangup`);
    await endedCall(stack, second.callId);
    // calls the mutated connects started have no WhatsApp user to hang them up: e2eScope's leak check follows
    const { active } = (await stack.api('GET', '/v1/calls')).body as { active: { callId: string }[] };
    for (const c of active) await stack.api('POST', `/v1/calls/${c.callId}/hangup`);
  });
  it('does not let media from another source into a bridged call: the PBX leg keeps to the source it latched, the WhatsApp leg to its keys', async () => {
    const pbx = (t.pbx = await startEchoPbx());
    const stack: Stack = (t.stack = await startStack({ name: 'hostile-rtp', env: pbx.env(BUSINESS) }));
    await stack.emu('POST', '/emulator/users', { waId: USER, name: 'Max' });
    const live = await userCallsWithTone(stack, USER);
    await userHearsEcho(stack, USER);
    const leg = stack.media.app.get(PbxLegRegistry).negotiated(live.callId, live.pbxLegId as string).leg;

    // 2 s of well-formed PCMU carrying 2 kHz (what a phone would send), from another address, to the leg's
    // RTP port, with garbage and truncated packets between, and noise to its RTCP port. Meanwhile the user
    // sends a 20 Hz hum, next to nothing after two codecs: were the injected packets let in, their 2 kHz
    // would be all the user hears (the echo keeps its packets coming, so the leg has no reason to re-latch)
    await stack.emu('POST', `/emulator/users/${USER}/media/tone`, { frequencyHz: 20 });
    const rng = new Prng(SEED + 3);
    const attacker = udpSocket();
    await new Promise<void>((resolve) => attacker.bind(0, '127.0.0.3', resolve));
    const tone = new Int16Array(160);
    let seq = 1000;
    let ts = 0;
    let phase = 0;
    for (let frame = 0; frame < 100; frame++) {
      for (let i = 0; i < tone.length; i++) tone[i] = Math.round(12000 * Math.sin((phase += (2 * Math.PI * 2000) / 8000)));
      const header = Buffer.alloc(12);
      header[0] = 0x80;
      header[1] = frame === 0 ? 0x80 : 0x00;
      header.writeUInt16BE(seq++ & 0xffff, 2);
      header.writeUInt32BE((ts += 160) >>> 0, 4);
      header.writeUInt32BE(0x0bad_5eed, 8);
      attacker.send(Buffer.concat([header, encodeG711(tone, 'PCMU')]), leg.localRtpPort, '127.0.0.1');
      attacker.send(Buffer.from(Array.from({ length: rng.int(200) }, () => rng.int(256))), rng.chance(0.5) ? leg.localRtpPort : leg.localRtcpPort, '127.0.0.1');
      await new Promise((r) => setTimeout(r, 20));
    }

    // the same toward the WhatsApp leg's ICE port: noise, STUN binding requests without valid credentials,
    // DTLS-looking records and SRTP-looking packets (payload type 111) that no key signed
    const waLeg = stack.media.app.get(SessionRegistry).get(live.callId, live.waLegId as string);
    const candidate = /a=candidate:\S+ 1 udp \d+ (\S+) (\d+) typ host/.exec(waLeg.localSdp ?? '');
    if (!candidate) throw new Error(`no host candidate in the WhatsApp leg's SDP: ${waLeg.localSdp}`);
    const waPort = Number(candidate[2]);
    for (let i = 0; i < 100; i++) {
      const kind = i % 4;
      let packet: Buffer;
      if (kind === 0) packet = Buffer.from(Array.from({ length: 1 + rng.int(300) }, () => rng.int(256)));
      else if (kind === 1) {
        // STUN binding request (RFC 5389), a USERNAME nobody issued, no MESSAGE-INTEGRITY
        const user = Buffer.from('fuzz:fuzz');
        packet = Buffer.alloc(20 + 4 + 12);
        packet.writeUInt16BE(0x0001, 0);
        packet.writeUInt16BE(4 + 12, 2);
        packet.writeUInt32BE(0x2112a442, 4);
        for (let b = 8; b < 20; b++) packet[b] = rng.int(256);
        packet.writeUInt16BE(0x0006, 20);
        packet.writeUInt16BE(user.length, 22);
        user.copy(packet, 24);
      } else if (kind === 2) packet = Buffer.concat([Buffer.from([rng.pick([20, 21, 22, 23]), 0xfe, 0xfd]), Buffer.from(Array.from({ length: 40 + rng.int(100) }, () => rng.int(256)))]);
      else {
        packet = Buffer.from(Array.from({ length: 12 + 60 + 16 }, () => rng.int(256)));
        packet[0] = 0x80;
        packet[1] = 111;
      }
      attacker.send(packet, waPort, candidate[1] as string);
      if (i % 10 === 9) await new Promise((r) => setTimeout(r, 20));
    }
    attacker.close();

    await stack.emu('POST', `/emulator/users/${USER}/media/tone`, { frequencyHz: 1000 });
    const before = await toneFramesAtUser(stack, USER);
    await eventually('the echo still heard after the injection', async () => (await toneFramesAtUser(stack, USER)) >= before + 25, 15_000, 250);
    // not one 40 ms window of the injected tone reached the WhatsApp user, and the leg says why
    expect(await toneFramesAtUser(stack, USER, 2000)).toBe(0);
    const stats = leg.stats();
    expect(stats.packetsFromOtherSource).toBeGreaterThanOrEqual(100);
    expect(stats.remote).toMatchObject({ address: pbx.echo.host, port: pbx.echo.port });
    // the WhatsApp leg is still up and still carries the user's audio (the echo heard above); what it refused
    expect(waLeg.state).toBe('connected');
    expect(waLeg.stats().packetsReceived).toBeGreaterThan(0);
    // the 25 SRTP-looking packets came from an address no ICE check succeeded with: dropped before SRTP
    // spent an authentication on them, and the user's own packets were never refused
    expect(waLeg.stats().packetsFromOtherSource).toBeGreaterThanOrEqual(25);
    expect(waLeg.stats().srtpRejected).toBe(0);

    await stack.emu('POST', `/emulator/users/${USER}/hangup`);
    await endedCall(stack, live.callId);
  });
  it('answers every request inside a live dialog, however mangled, and throws nothing', async () => {
    const pbx = (t.pbx = await startEchoPbx({ calls: 50 }));
    const stack: Stack = (t.stack = await startStack({ name: 'hostile-dialog', env: pbx.env(BUSINESS) }));
    await stack.emu('POST', `/emulator/users`, { waId: USER, name: 'Max' });
    const live = await userCallsWithTone(stack, USER);
    await userHearsEcho(stack, USER);
    const dialog = JSON.parse(live.pbxDialog as string) as { callId: string; local: { uri: string; params: { tag: string } }; remote: { uri: string; params: { tag: string } } };

    const gatewayHost = stack.config.pbx.listenHost;
    const gatewaySip = `${gatewayHost}:${stack.config.pbx.udpPort}`;
    const socket = udpSocket();
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    const from = `127.0.0.1:${socket.address().port}`;
    const send = (text: string): void => void socket.send(Buffer.from(text, 'latin1'), stack.config.pbx.udpPort, gatewayHost);
    // final responses by "Call-ID CSeq-number CSeq-method"; INVITE's acknowledged as a PBX would
    const finals = new Map<string, number>();
    socket.on('message', (data) => {
      const m = parseSip(data);
      if (!m || typeof m.status !== 'number' || m.status < 200) return;
      const key = `${m.headers['call-id']} ${m.headers.cseq.seq} ${m.headers.cseq.method}`;
      finals.set(key, m.status);
      if (m.headers.cseq.method !== 'INVITE') return;
      const to = data.toString('latin1').match(/^(?:To|t):.*$/im)?.[0] ?? '';
      const fromHeader = data.toString('latin1').match(/^(?:From|f):.*$/im)?.[0] ?? '';
      send([`ACK sip:wagw@${gatewaySip} SIP/2.0`, `Via: SIP/2.0/UDP ${from};branch=z9hG4bK-ack-${m.headers.cseq.seq};rport`, 'Max-Forwards: 70', fromHeader, to, `Call-ID: ${m.headers['call-id']}`, `CSeq: ${m.headers.cseq.seq} ACK`, 'Content-Length: 0', '', ''].join('\r\n'));
    });

    const sdp = ['v=0', 'o=- 1 2 IN IP4 127.0.0.1', 's=-', `c=IN IP4 ${pbx.echo.host}`, 't=0 0', `m=audio ${pbx.echo.port} RTP/AVP 0 101`, 'a=rtpmap:0 PCMU/8000', 'a=rtpmap:101 telephone-event/8000', 'a=sendrecv', ''].join('\r\n');
    const methods = ['INVITE', 'UPDATE', 'INFO', 'INFO', 'OPTIONS', 'REFER', 'NOTIFY', 'MESSAGE', 'PRACK'] as const;
    const expected: string[] = [];
    const badRequests: string[] = [];
    for (let i = 0; i < 300; i++) {
      const rng = new Prng((SEED + 4 ^ Math.imul(i + 1, 0x27d4eb2f)) >>> 0);
      const method = rng.pick(methods);
      const cseq = 100 + i;
      const body = method === 'INVITE' || method === 'UPDATE' ? sdp : method === 'INFO' ? rng.pick(['Signal=5\r\nDuration=160\r\n', 'Signal=#\r\n', 'garbage']) : '';
      const type = method === 'INFO' ? rng.pick(['application/dtmf-relay', 'application/dtmf', 'text/plain']) : body ? 'application/sdp' : '';
      const text = [
        `${method} sip:wagw@${gatewaySip} SIP/2.0`,
        `Via: SIP/2.0/UDP ${from};branch=z9hG4bK-dlg-${i}-${rng.int(1e9)};rport`,
        'Max-Forwards: 70',
        `From: <${dialog.remote.uri}>;tag=${dialog.remote.params.tag}`,
        `To: <${dialog.local.uri}>;tag=${dialog.local.params.tag}`,
        `Call-ID: ${dialog.callId}`,
        `CSeq: ${cseq} ${method}`,
        `Contact: <sip:pbx@${from}>`,
        ...(method === 'REFER' ? [`Refer-To: <sip:${rng.pick(['1002', '', '%', 'x'.repeat(300)])}@${pbx.sipp.hostPort}>`] : []),
        ...(method === 'NOTIFY' ? ['Event: refer', 'Subscription-State: active'] : []),
        ...(method === 'PRACK' ? ['RAck: 1 1 INVITE'] : []),
        ...(method === 'INVITE' || method === 'UPDATE' ? ['Session-Expires: 1800;refresher=uas'] : []),
        ...(type ? [`Content-Type: ${type}`] : []),
        `Content-Length: ${Buffer.byteLength(body, 'latin1')}`,
        '',
        body,
      ].join('\r\n');
      const mutated = mutateText(rng, text, 2);
      const parsed = parseSip(Buffer.from(mutated, 'latin1'));
      // a request the transport can handle must get a final response (ACKs get none), and a malformed one a
      // response could be matched to a 400
      if (parsed?.method && parsed.method !== 'ACK') {
        const key = `${parsed.headers['call-id']} ${parsed.headers.cseq?.seq} ${parsed.headers.cseq?.method}`;
        if (malformedReason(parsed) === undefined) expected.push(key);
        else if (canAnswerMalformed(parsed)) {
          expected.push(key);
          badRequests.push(key);
        }
      }
      send(mutated);
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(expected.length).toBeGreaterThan(150);
    await eventually('a final response to every well-formed request', async () => expected.every((k) => finals.has(k)), 20_000, 200).catch((err: Error) => {
      throw new Error(`${err.message}; unanswered: ${JSON.stringify(expected.filter((k) => !finals.has(k)).slice(0, 10))}`);
    });
    expect(badRequests.length).toBeGreaterThan(0);
    expect(badRequests.filter((k) => finals.get(k) !== 400)).toEqual([]);
    // the requests were told apart: some taken (2xx), some refused (4xx-6xx)
    const statuses = [...finals.values()];
    expect(statuses.some((st) => st < 300)).toBe(true);
    expect(statuses.some((st) => st >= 400)).toBe(true);
    socket.close();

    expect((await fetch(`${stack.signalling.baseUrl}/health`)).status).toBe(200);
    const log = readFileSync(stack.logFile, 'utf8').split('\n').filter((l) => /handler threw|Unhandled|uncaught|TypeError|RangeError|unexpected error/i.test(l));
    expect(log.map((l) => l.slice(0, 400))).toEqual([]);
    // the call either goes on or ended with a reason on its record; e2eScope's leak check follows
    const rec = (await stack.api('GET', `/v1/calls/${live.callId}`)).body as { state: string; endCause?: string };
    if (rec.state === 'ended') expect(rec.endCause).toEqual(expect.any(String));
    else {
      expect(rec.state).toBe('active');
      await stack.emu('POST', `/emulator/users/${USER}/hangup`);
      await endedCall(stack, live.callId);
    }
    const { active } = (await stack.api('GET', '/v1/calls')).body as { active: { callId: string }[] };
    for (const c of active) await stack.api('POST', `/v1/calls/${c.callId}/hangup`);
  });
});
