import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CallRecord } from '@wagw/call-state';
import { freeTcpPort, freeTcpUdpPort } from '@wagw/testing';
import { eventually } from '../support/stack';
import { expectSippPassed, runSippUac } from '../support/pbx-to-whatsapp';
import { API_TOKEN, signallingProcesses, sseText } from '../support/signalling-processes';

/**
 * Several signalling processes on one gateway (one Redis prefix; the webhooks, the API and the CRM's event
 * stream behind a load balancer; each process its own SIP port): what reaches a process that does not hold a
 * call is carried out by the one that does (an end, a WhatsApp user's progress for a PBX call), an agent call
 * whose permission reply lands elsewhere belongs to the process that dials the agent, and a CRM on any process
 * sees every call's events.
 */
const USER = '15552228182';

describe('several signalling processes on one gateway', () => {
  const { scene, startSignalling } = signallingProcesses();

  it('with two signalling processes, a CRM on the one that does not hold a call sees its events, and its API transfer and hangup are carried out by the one that does', async () => {
    // answers, waits for the BYE: the agent's call, then the transfer target's
    const s = await scene('uas-pbx-answers-expect-200.xml', { sippCalls: 2 });
    const holder = await startSignalling(s.env, s.baseUrl); // takes the webhooks (the emulator posts to it)
    const [otherHttp, otherSip] = await Promise.all([freeTcpPort(), freeTcpUdpPort()]);
    const otherUrl = `http://127.0.0.1:${otherHttp}`;
    const other = await startSignalling({ ...s.env, SIGNALLING_HTTP_PORT: String(otherHttp), PBX_UDP_PORT: String(otherSip), PBX_TCP_PORT: String(otherSip) }, otherUrl);
    // the CRM listens on the other process's event stream from the moment it is up (a CRM reconnecting to a
    // restarted process): the holder shares its events from the other's hello on, not from its next look (5 s)
    const crm = sseText(`${otherUrl}/v1/events?token=${API_TOKEN}`);
    await eventually('the CRM on the other process', async () => (crm.connected() ? true : undefined), 5000, 20);
    await s.emu('POST', '/emulator/users', { waId: USER, name: 'Two' });
    const { waCallId } = await s.emu<{ waCallId: string }>('POST', `/emulator/users/${USER}/call`, {});
    const call = await eventually('call active', async () => {
      const list = await s.api<{ active: CallRecord[] }>('/v1/calls');
      return list.active.find((c) => c.waCallId === waCallId && c.state === 'active');
    }, 20_000);

    // the CRM's transfer lands on the other process: handed to the holder, which holds the SIP leg it moves
    const transfer = await fetch(`${otherUrl}/v1/calls/${call.callId}/transfer`, { method: 'POST', headers: { authorization: `Bearer ${API_TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify({ to: '1002' }) });
    expect(transfer.status).toBe(202);
    expect(await transfer.json()).toEqual({ callId: call.callId, to: '1002', heldBy: call.signallingInstance });
    // (the processes' logs are written asynchronously: a line may land just after the response)
    await eventually('the hand-over logged', async () => (/"msg":"API transfer of a call another signalling process holds: handed to that process"/.test(other.output()) ? true : undefined), 5000);
    await eventually('the transfer done', async () => (crm.events().some((e) => e.type === 'call.transferred' && (e.data as { callId?: string }).callId === call.callId) ? true : undefined), 20_000);
    // the PBX's first call (the agent's) got its BYE from the holder; 1002 has the call now
    expect(s.pbx.messages()).toMatch(/INVITE sip:1002@/);
    await eventually('the transfer logged by the holder', async () => (/"msg":"transfer asked through the API"/.test(holder.output()) ? true : undefined), 5000);
    const afterTransfer = (await s.api<{ active: CallRecord[] }>('/v1/calls')).active.find((c) => c.callId === call.callId);
    expect(afterTransfer?.state).toBe('active');
    // the CRM's hangup lands on the other process (a load balancer's choice)
    const res = await fetch(`${otherUrl}/v1/calls/${call.callId}/hangup`, { method: 'POST', headers: { authorization: `Bearer ${API_TOKEN}` } });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ state: 'ended', endedBy: 'api' });
    expect(other.output()).toMatch(/"msg":"end of a call another signalling process holds: asked of that process"/);
    // the CRM on the other process saw the whole call the holder carried, each event once
    const seen = await eventually('the call on the other process\'s event stream', async () => {
      const types = crm.events().filter((e) => (e.data as { callId?: string }).callId === call.callId).map((e) => e.type);
      return types.includes('call.ended') ? types : undefined;
    }, 10_000);
    expect(seen).toEqual(['call.incoming', 'call.connected', 'call.transferred', 'call.ended']); // this PBX answers without ringing
    expect(holder.output()).toMatch(/"msg":"(a signalling process started: CRM events shared with it from now on|other signalling processes run: CRM events shared with them)"/);
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
    const clicked = await fetch(`${firstUrl}/v1/calls`, { method: 'POST', headers: { authorization: `Bearer ${API_TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify({ to: `+${USER}`, agent: '1001' }) });
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
    // the desk phone's BYE is answered before the call's end is written: wait for both records to say ended
    const recent = await eventually('both calls ended', async () => {
      const list = (await s.api<{ recent: CallRecord[] }>('/v1/calls')).recent.filter((c) => c.userWaId === USER);
      return list.length === 2 ? list : undefined;
    });
    expect(recent.map((c) => [c.state, c.endedBy, c.durationMs !== undefined && c.durationMs > 3000])).toEqual([
      ['ended', 'pbx', true],
      ['ended', 'pbx', true],
    ]);
  });
});
