import { createSocket } from 'node:dgram';
import { join } from 'node:path';
import type { CallRecord } from '@wagw/call-state';
import { startBaresip, writeSineWav, type BaresipHandle } from '@wagw/testing';
import { parse, stringify, type SipMessage } from 'sip';
import { signRequest } from 'sip/digest';
import { e2eScope } from '../support/e2e-scope';
import { expectNoLeaks } from '../support/leaks';
import { phoneHeard } from '../support/pbx';
import { callClosed, grantPermanently, phoneCallsUser, userHeard } from '../support/pbx-to-whatsapp';
import { activeCall, endedCall, eventually, startStack, type Stack } from '../support/stack';

/**
 * A PBX that registers to the gateway as to its SIP provider (trunk `registrar: true`, no hosts): the way a
 * PBX behind NAT or a firewall connects to a gateway it cannot be reached at otherwise. baresip plays that
 * PBX: it REGISTERs with the trunk's inbound credentials (digest, 401), takes the WhatsApp user's call at
 * the address it registered from (our Request-URI its Contact, the destination in To), and its own call to
 * a WhatsApp user is taken from that address (with digest, 407). Unregistered, calls toward it fail 480.
 */
const USER = '15552228888';
const BUSINESS = '15550001111';
const PBX_USER = 'acme-pbx';
const PBX_PASSWORD = 'reg-secret';

interface TrunkView {
  name: string;
  registration?: { contact: string; source: { address: string; port: number }; expiresAt: number } | null;
}

async function registration(s: Stack): Promise<TrunkView['registration']> {
  const { trunks } = (await s.api('GET', '/v1/trunks')).body as { trunks: TrunkView[] };
  return trunks.find((t) => t.name === 'pbx')?.registration;
}

/** `wagw_trunk_registered{trunk="pbx"}` on signalling's /metrics. */
async function registeredMetric(s: Stack): Promise<string | undefined> {
  const text = await (await fetch(`${s.signalling.baseUrl}/metrics`)).text();
  return /^wagw_trunk_registered\{trunk="pbx"\} (\d)$/m.exec(text)?.[1];
}

describe('a PBX registers to the gateway (trunk registrar: true) and calls go both ways (baresip as the PBX)', () => {
  const t = e2eScope<BaresipHandle>('wagw-registrar-');

  /** The gateway with one registrar trunk over `transport` and a route of the business number to it. */
  const boot = async (transport: 'udp' | 'tcp' = 'udp'): Promise<Stack> => {
    const trunk = { name: 'pbx', hosts: [], transport, username: '', password: '', fromUser: '', fromDomain: 'pbx.example', codecs: ['PCMU', 'PCMA'], allowFrom: [], registrar: true, inboundUsername: PBX_USER, inboundPassword: PBX_PASSWORD };
    const stack = (t.stack = await startStack({
      name: 'pbx-registers',
      env: {
        PBX_TRUNKS: JSON.stringify([trunk]),
        PBX_ROUTES: JSON.stringify([{ businessNumber: BUSINESS, destinations: [{ uri: 'sip:1001@pbx.example', trunk: 'pbx', ringTimeoutMs: 20000 }], onFailure: 'reject' }]),
      },
    }));
    await stack.emu('POST', '/emulator/users', { waId: USER, name: 'Rita' });
    return stack;
  };

  const startPbx = (password: string, awaitRegistration = true, transport: 'udp' | 'tcp' = 'udp'): Promise<BaresipHandle> => {
    const wavPath = join(t.dir, 'pbx-400.wav');
    writeSineWav({ path: wavPath, frequencyHz: 400, sampleRate: 8000, seconds: 30 });
    const s = t.stack as Stack;
    const port = transport === 'tcp' ? s.config.pbx.tcpPort : s.config.pbx.udpPort;
    return startBaresip({ user: PBX_USER, password, registrar: { host: '127.0.0.1', port }, transport, wavPath, answerMode: 'auto', awaitRegistration });
  };

  it('registers with digest, takes a WhatsApp user\'s call where it registered from, and calls a WhatsApp user', async () => {
    const s = await boot();
    const pbx = (t.pbx = await startPbx(PBX_PASSWORD));
    const reg = await eventually('the registration on GET /v1/trunks', async () => (await registration(s)) ?? undefined);
    expect(reg?.contact).toMatch(new RegExp(`^sip:${PBX_USER}[^@]*@127\\.0\\.0\\.1:${pbx.sipPort}`)); // baresip adds a suffix to its contact user
    expect(reg?.source).toEqual({ address: '127.0.0.1', port: pbx.sipPort });
    expect(await registeredMetric(s)).toBe('1');

    // a WhatsApp user calls the business: the INVITE goes to the registered PBX
    const { waCallId } = await s.emu<{ waCallId: string }>('POST', `/emulator/users/${USER}/call`, {});
    await s.emu('POST', `/emulator/users/${USER}/media/tone`, { frequencyHz: 1000 });
    const call = await activeCall(s, waCallId);
    expect(await userHeard(s, USER, 400)).toBeGreaterThanOrEqual(25);
    expect((await phoneHeard(pbx, 1000)).framesWithTone).toBeGreaterThanOrEqual(25);
    await s.emu('POST', `/emulator/users/${USER}/hangup`);
    expect(await endedCall(s, call.callId)).toMatchObject({ endedBy: 'wa' });
    await callClosed(pbx);

    // the PBX calls a WhatsApp user through the gateway, from the address it registered from
    await grantPermanently(s, USER);
    await s.emu('PUT', `/emulator/users/${USER}/behaviour`, { incomingCall: 'ignore', permissionRequest: 'none' });
    const outbound = await phoneCallsUser(s, pbx, USER);
    expect(outbound.direction).toBe('outbound');
    await pbx.hangup();
    expect(await endedCall(s, outbound.callId)).toMatchObject({ endedBy: 'pbx' });
  });

  it('over TCP: the call goes back on the connection the PBX registered on (its source port listens for nothing else)', async () => {
    const s = await boot('tcp');
    const pbx = (t.pbx = await startPbx(PBX_PASSWORD, true, 'tcp'));
    const reg = await eventually('the registration', async () => (await registration(s)) ?? undefined);
    expect(reg?.source.port).not.toBe(pbx.sipPort); // an ephemeral client port, not the phone's listening one
    const { waCallId } = await s.emu<{ waCallId: string }>('POST', `/emulator/users/${USER}/call`, {});
    await s.emu('POST', `/emulator/users/${USER}/media/tone`, { frequencyHz: 1000 });
    const call = await activeCall(s, waCallId);
    expect(await userHeard(s, USER, 400)).toBeGreaterThanOrEqual(25);
    await s.emu('POST', `/emulator/users/${USER}/hangup`);
    expect(await endedCall(s, call.callId)).toMatchObject({ endedBy: 'wa' });
  });

  it('refuses a wrong password (no binding); without a registration a WhatsApp user\'s call fails with 480', async () => {
    const s = await boot();
    const pbx = (t.pbx = await startPbx('wrong-password', false));
    await eventually('the PBX\'s REGISTER refused', async () => (/401|403/.test(pbx.log()) ? true : undefined), 10_000, 100);
    expect(await registration(s)).toBeNull();
    expect(await registeredMetric(s)).toBe('0');
    // logged (with the user and the source) and counted for the operator: wagw_sip_auth_failures_total
    const text = await (await fetch(`${s.signalling.baseUrl}/metrics`)).text();
    expect(Number(/^wagw_sip_auth_failures_total\{method="REGISTER",reason="bad-password"\} (\d+)$/m.exec(text)?.[1])).toBeGreaterThanOrEqual(1);
    const { waCallId } = await s.emu<{ waCallId: string }>('POST', `/emulator/users/${USER}/call`, {});
    const ended = await eventually('the call ended', async () => {
      const { recent } = (await s.api('GET', '/v1/calls')).body as { recent: CallRecord[] };
      return recent.find((c) => c.waCallId === waCallId && c.state === 'ended');
    }, 20_000);
    expect(ended.sipCause).toMatch(/^480 .*not registered/);
  });
});

/** One REGISTER over UDP and its final response (a bare client: what a scanner or a misconfigured PBX sends). */
async function registerOnce(port: number, cseq: number, answer?: { challenge: SipMessage; password: string }): Promise<SipMessage> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
  try {
    const local = socket.address().port;
    const request: SipMessage = {
      method: 'REGISTER',
      uri: `sip:127.0.0.1:${port}`,
      headers: {
        via: [{ version: '2.0', protocol: 'UDP', host: '127.0.0.1', port: local, params: { branch: `z9hG4bK-guard-${cseq}` } }],
        from: { uri: `sip:${PBX_USER}@127.0.0.1`, params: { tag: 'guard' } },
        to: { uri: `sip:${PBX_USER}@127.0.0.1`, params: {} },
        'call-id': 'guard-test',
        cseq: { seq: cseq, method: 'REGISTER' },
        contact: [{ uri: `sip:${PBX_USER}@127.0.0.1:${local}`, params: {} }],
        expires: 300,
        'content-length': 0,
      },
    };
    if (answer) signRequest({}, request, answer.challenge, { user: PBX_USER, password: answer.password });
    const final = new Promise<SipMessage>((resolve) =>
      socket.on('message', (m) => {
        const r = parse(m.toString());
        if (r && (r.status ?? 0) >= 200) resolve(r);
      }),
    );
    socket.send(stringify(request), port, '127.0.0.1');
    return await final;
  } finally {
    socket.close();
  }
}

describe('a source that keeps failing authentication is blocked (pbx.authFailureLimit)', () => {
  let stack: Stack | undefined;

  afterEach(() => expectNoLeaks(stack));
  afterEach(async () => {
    await stack?.close();
    stack = undefined;
  });

  it('answers 403 without a challenge after two wrong passwords, and counts both', async () => {
    const trunk = { name: 'pbx', hosts: [], transport: 'udp', username: '', password: '', fromUser: '', fromDomain: 'pbx.example', codecs: ['PCMU'], allowFrom: [], registrar: true, inboundUsername: PBX_USER, inboundPassword: PBX_PASSWORD };
    stack = await startStack({ name: 'pbx-registers-guard', env: { PBX_TRUNKS: JSON.stringify([trunk]), PBX_AUTH_FAILURE_LIMIT: '2' } });
    const port = stack.config.pbx.udpPort;
    let cseq = 1;
    for (let attempt = 0; attempt < 2; attempt++) {
      const challenge = await registerOnce(port, cseq++);
      expect(challenge.status).toBe(401);
      expect((await registerOnce(port, cseq++, { challenge, password: 'guess' })).status).toBe(401); // refused: challenged again
    }
    const blocked = await registerOnce(port, cseq++);
    expect(blocked.status).toBe(403);
    expect(String(blocked.headers['warning'] ?? '')).toContain('too many failed authentications');
    const text = await (await fetch(`${stack.signalling.baseUrl}/metrics`)).text();
    expect(/^wagw_sip_auth_failures_total\{method="REGISTER",reason="bad-password"\} 2$/m.test(text)).toBe(true);
    expect(/^wagw_sip_blocked_requests_total\{method="REGISTER"\} 1$/m.test(text)).toBe(true);
    expect(await registration(stack)).toBeNull();
  });
});
