import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CallRecord } from '@wagw/call-state';
import { eventually } from '../support/stack';
import { expectSippPassed, runSippUac } from '../support/pbx-to-whatsapp';
import { endedByTakeover, signallingProcesses } from '../support/signalling-processes';

/**
 * A signalling process killed (SIGKILL: a crash, the OOM killer) with a call up: its SIP leg and timers
 * die with it. Another signalling process (here the one started in its place) sees its heartbeat gone and
 * ends its call as any other end: the WhatsApp user's call terminated, the media legs closed, a BYE to the
 * PBX in the dialog kept on the call record, the CDR written with the cause; the dead process's keys are
 * forgotten. A call still ringing is released on the SIP side from the INVITE kept on the record: CANCEL to
 * a PBX that rings, 503 to a desk phone whose call rings at the WhatsApp user. The media app and the emulator run in this process;
 * signalling runs as an operator runs it, its own process (from source).
 */
const USER = '15552228181';

describe('a signalling process that dies with a call up', () => {
  const { scene, startSignalling } = signallingProcesses();

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
      const keys = (await s.redis.keys(`${s.prefix}:signalling:*`)).sort();
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
    expect(await s.redis.keys(`${s.prefix}:signalling:*`)).toEqual([]);
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
    // and the refresh over at the PBX (our 200 received, its ACK sent): the record has the new target as the
    // re-INVITE comes in, so a kill right then left SIPp waiting for that 200, and it took the BYE as unexpected
    await eventually('the re-INVITE answered and acknowledged', async () => /^\s*CSeq: 101 ACK/m.test(s.pbx.messages()), 10_000);

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
