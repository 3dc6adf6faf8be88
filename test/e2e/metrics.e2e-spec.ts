import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import type { CallRecord } from '@wagw/call-state';
import { eventually, startStack, type Stack } from '../support/stack';
import { expectNoLeaks } from '../support/leaks';
import { must, sample } from '../support/metrics';

/**
 * GET /metrics of the booted apps (issue: metrics on /metrics of each app) moves with a real call: a
 * simulated WhatsApp user calls a gateway with no PBX (it answers with a tone), then hangs up; a second
 * gateway without auto-answer fails the call for lack of a route. Scraped over HTTP like Prometheus does.
 */

async function scrape(baseUrl: string): Promise<string> {
  const res = await fetch(`${baseUrl}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain;.*version=0\.0\.4/);
  return res.text();
}

describe('GET /metrics of signalling, media and the emulator', () => {
  const user = '15552226060';
  let stack: Stack | undefined;

  afterEach(() => expectNoLeaks(stack));
  afterEach(async () => {
    await stack?.close();
    stack = undefined;
  });

  const signalling = (): Promise<string> => scrape((stack as Stack).signalling.baseUrl);
  const media = (): Promise<string> => scrape((stack as Stack).media.httpUrl);

  async function callState(callId: string, state: CallRecord['state']): Promise<CallRecord> {
    return eventually(`call ${callId} ${state}`, async () => {
      const rec = (await (stack as Stack).api('GET', `/v1/calls/${callId}`)).body as CallRecord;
      return rec.state === state ? rec : undefined;
    });
  }

  it('counts an answered user call: active 1 then 0, set-up and end counters +1, media packets while it runs, legs back to 0', async () => {
    stack = await startStack({ name: 'metrics-answered' });
    const s = stack;
    await s.emu('POST', '/emulator/users', { waId: user, name: 'Jane' });
    const before = await signalling();
    const mediaBefore = await media();
    const setups = sample(before, 'wagw_call_setups_total', { direction: 'inbound' }) ?? 0;
    const setupCount = sample(before, 'wagw_call_setup_seconds_count', { direction: 'inbound' }) ?? 0;
    const answered = sample(before, 'wagw_calls_ended_total', { direction: 'inbound', outcome: 'answered', ended_by: 'wa' }) ?? 0;
    const accepted = sample(before, 'wagw_webhooks_total', { result: 'accepted' }) ?? 0;
    expect(must(mediaBefore, 'wagw_media_legs', { kind: 'wa' })).toBe(0);
    expect(must(before, 'wagw_redis_up')).toBe(1);
    expect(must(before, 'wagw_redis_rtt_seconds_count')).toBeGreaterThanOrEqual(1);
    expect(before).toMatch(/^nodejs_eventloop_lag_seconds /m);
    expect(mediaBefore).toMatch(/^process_resident_memory_bytes /m);

    const { waCallId } = await s.emu<{ waCallId: string }>('POST', `/emulator/users/${user}/call`, {});
    await s.emu('POST', `/emulator/users/${user}/media/tone`, { frequencyHz: 1000 });
    const call = await eventually(`call ${waCallId} active`, async () => {
      const res = await s.api('GET', `/v1/calls/${waCallId}`);
      return res.status === 200 && (res.body as CallRecord).state === 'active' ? (res.body as CallRecord) : undefined;
    });

    const during = await signalling();
    expect(must(during, 'wagw_calls_active', { direction: 'inbound', state: 'active' })).toBe(1);
    expect(must(during, 'wagw_calls_active', { direction: 'inbound', state: 'offered' })).toBe(0);
    expect(must(during, 'wagw_call_setups_total', { direction: 'inbound' })).toBe(setups + 1);
    expect(must(during, 'wagw_call_setup_seconds_count', { direction: 'inbound' })).toBe(setupCount + 1);
    expect(must(during, 'wagw_call_setup_seconds_sum', { direction: 'inbound' })).toBeGreaterThan(0);
    expect(must(during, 'wagw_webhooks_total', { result: 'accepted' })).toBeGreaterThanOrEqual(accepted + 1);
    expect(must(during, 'wagw_webhook_ack_seconds_count')).toBeGreaterThanOrEqual(1);
    expect(must(during, 'wagw_graph_requests_total', { operation: 'calls.pre_accept', status: '200' })).toBeGreaterThanOrEqual(1);
    expect(must(during, 'wagw_graph_requests_total', { operation: 'calls.accept', status: '200' })).toBeGreaterThanOrEqual(1);
    // the gateway's tone goes out and the user's 1 kHz comes in on the WhatsApp leg
    const flowing = await eventually('media packets both ways on the WhatsApp leg', async () => {
      const text = await media();
      return must(text, 'wagw_media_packets_total', { leg: 'wa', direction: 'in' }) > 25 && must(text, 'wagw_media_packets_total', { leg: 'wa', direction: 'out' }) > 25 ? text : undefined;
    }, 15_000, 200);
    expect(must(flowing, 'wagw_media_legs', { kind: 'wa' })).toBe(1);
    expect(must(flowing, 'wagw_media_legs', { kind: 'pbx' })).toBe(0);
    expect(must(flowing, 'wagw_rtp_ports_in_use')).toBe(0);
    const packetsIn = must(flowing, 'wagw_media_packets_total', { leg: 'wa', direction: 'in' });

    await s.emu('POST', `/emulator/users/${user}/hangup`);
    await callState(call.callId, 'ended');

    const after = await signalling();
    expect(must(after, 'wagw_calls_active', { direction: 'inbound', state: 'active' })).toBe(0);
    expect(must(after, 'wagw_calls_ended_total', { direction: 'inbound', outcome: 'answered', ended_by: 'wa' })).toBe(answered + 1);
    expect(sample(after, 'wagw_call_failures_total', { direction: 'inbound', cause: 'cancelled' })).toBeUndefined();
    expect(must(after, 'wagw_call_setups_total', { direction: 'inbound' })).toBe(setups + 1);
    const mediaAfter = await eventually('WhatsApp leg released', async () => {
      const text = await media();
      return must(text, 'wagw_media_legs', { kind: 'wa' }) === 0 ? text : undefined;
    });
    // a counter keeps the packets of the closed leg
    expect(must(mediaAfter, 'wagw_media_packets_total', { leg: 'wa', direction: 'in' })).toBeGreaterThanOrEqual(packetsIn);
    const emulator = await scrape(s.emulator.baseUrl);
    expect(must(emulator, 'wagw_emulator_calls', { state: 'ended' })).toBe(1);
    expect(must(emulator, 'wagw_emulator_calls', { state: 'accepted' })).toBe(0);
  });

  it('counts a call that fails for lack of a route as a failure by category, and refused webhooks by result', async () => {
    stack = await startStack({ name: 'metrics-failed', env: { SIGNALLING_AUTO_ACCEPT_WITHOUT_PBX: 'false' } });
    const s = stack;
    await s.emu('POST', '/emulator/users', { waId: user, name: 'Jane' });
    const before = await signalling();
    const failures = sample(before, 'wagw_call_failures_total', { direction: 'inbound', cause: 'error' }) ?? 0;
    const failed = sample(before, 'wagw_calls_ended_total', { direction: 'inbound', outcome: 'failed', ended_by: 'system' }) ?? 0;
    const setupCount = sample(before, 'wagw_call_setup_seconds_count', { direction: 'inbound' }) ?? 0;

    const { waCallId } = await s.emu<{ waCallId: string }>('POST', `/emulator/users/${user}/call`, {});
    // once ended the waCallId alias is gone: the CDR is found in the recent list
    const rec = await eventually(`call ${waCallId} ended`, async () => {
      const { recent } = (await s.api('GET', '/v1/calls')).body as { recent: CallRecord[] };
      return recent.find((r) => r.waCallId === waCallId);
    });
    expect(rec.endCause).toMatch(/no PBX route/);
    const url = `${s.signalling.baseUrl}/webhooks/whatsapp`;
    expect((await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', 'x-hub-signature-256': `sha256=${'0'.repeat(64)}` }, body: '{}' })).status).toBe(401);

    const after = await signalling();
    expect(must(after, 'wagw_call_failures_total', { direction: 'inbound', cause: 'error' })).toBe(failures + 1);
    expect(must(after, 'wagw_calls_ended_total', { direction: 'inbound', outcome: 'failed', ended_by: 'system' })).toBe(failed + 1);
    expect(sample(after, 'wagw_call_setup_seconds_count', { direction: 'inbound' }) ?? 0).toBe(setupCount);
    // counted when the 401 has been written out, which may be just after the client read it
    await eventually('bad signature counted', async () => (sample(await signalling(), 'wagw_webhooks_total', { result: 'bad_signature' }) ?? 0) >= 1);
    expect(must(after, 'wagw_calls_active', { direction: 'inbound', state: 'offered' })).toBe(0);
  });
  it('closes a SIP TCP connection over pbx.maxInboundConnectionsPerAddress at its accept, counted and logged, the others kept', async () => {
    stack = await startStack({ name: 'metrics-sip-connections', env: { PBX_MAX_INBOUND_CONNECTIONS_PER_ADDRESS: '2' } });
    const { tcpPort, listenHost } = stack.config.pbx;
    const sockets: Socket[] = [];
    try {
      const outcomes: string[] = [];
      for (let i = 0; i < 3; i++) {
        const socket = connect(tcpPort, listenHost);
        sockets.push(socket);
        socket.on('error', () => undefined);
        outcomes.push(await Promise.race([
          new Promise<string>((resolve) => socket.once('close', () => resolve('closed'))),
          new Promise<string>((resolve) => setTimeout(() => resolve('kept'), 400)),
        ]));
      }
      expect(outcomes).toEqual(['kept', 'kept', 'closed']);
      await eventually('the refusal counted', async () => sample(await signalling(), 'wagw_sip_connections_refused_total', { transport: 'tcp', limit: 'per-address' }) === 1);
      // the two kept are open (the scrape's own HTTP connection is no SIP one)
      expect(sample(await signalling(), 'wagw_sip_inbound_connections', { transport: 'tcp' })).toBe(2);
      expect(sample(await signalling(), 'wagw_sip_inbound_connections', { transport: 'tls' })).toBe(0);
      const logFile = stack.logFile;
      await eventually('the refusal logged', async () => readFileSync(logFile, 'utf8').includes('sip connection refused: this address holds its limit of connections'));
    } finally {
      for (const s of sockets) s.destroy();
    }
  });
});
