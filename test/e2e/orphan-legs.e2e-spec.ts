import { readFileSync } from 'node:fs';
import type { CallRecord } from '@wagw/call-state';
import { MediaBusClient } from '../../apps/signalling/src/media/media-bus.client';
import { expectNoLeaks } from '../support/leaks';
import { eventually, startStack, type Stack } from '../support/stack';

/**
 * Media legs nobody will close: a signalling process that dies between asking the media app for a call's
 * legs and writing the call's record (they are asked for side by side) leaves legs whose call has no record;
 * a close lost on the bus leaves a leg of an ended call. Those are made here exactly as such a process leaves
 * them (asked for over the bus, never recorded). The orphan-leg sweep of the signalling process (every
 * signalling.orphanLegSweepMs, 1 s here) closes them and releases their RTP ports, while the legs of a call
 * that is up are left alone and its audio goes on.
 */
describe('media legs whose call has no live record', () => {
  const user = '15552224545';
  let stack: Stack;

  beforeEach(async () => {
    stack = await startStack({ name: 'orphan-legs', env: { SIGNALLING_ORPHAN_LEG_SWEEP_MS: '1000' } });
    await stack.emu('POST', '/emulator/users', { waId: user, name: 'Kept' });
  });

  afterEach(() => expectNoLeaks(stack));
  afterEach(() => stack.close());

  async function userCalls(): Promise<CallRecord> {
    const { waCallId } = await stack.emu<{ waCallId: string }>('POST', `/emulator/users/${user}/call`, {});
    return eventually(`call ${waCallId} active`, async () => {
      const res = await stack.api('GET', `/v1/calls/${waCallId}`);
      const rec = res.body as CallRecord;
      return res.status === 200 && rec.state === 'active' ? rec : undefined;
    });
  }

  async function framesOf400AtUser(): Promise<number> {
    const a = await stack.emu<{ tone: { framesWithTone: number } | null }>('GET', `/emulator/users/${user}/media/analysis?frequencyHz=400`);
    return a.tone?.framesWithTone ?? 0;
  }

  async function endedCall(): Promise<CallRecord> {
    const call = await userCalls();
    await stack.emu('POST', `/emulator/users/${user}/hangup`);
    return eventually('first call ended', async () => {
      const rec = (await stack.api('GET', `/v1/calls/${call.callId}`)).body as CallRecord;
      return rec.state === 'ended' ? rec : undefined;
    });
  }

  it('closes the legs of a call never recorded and of an ended call, releases their ports, and keeps the live call', async () => {
    const media = stack.signalling.app.get(MediaBusClient);
    // a call that ended: a PBX leg asked for it afterwards stands for a close lost on the bus
    const ended = await endedCall();
    const live = await userCalls();

    // what a signalling process that died right after asking for a new call's legs leaves behind
    const neverRecorded = 'call_orphan_never_recorded';
    const waOrphan = await media.createWaLeg(neverRecorded);
    const pbxOrphan = await media.createPbxOffer(neverRecorded, ['PCMU'], 'off');
    const lateOrphan = await media.createPbxOffer(ended.callId, ['PCMU'], 'off');
    const before = await media.listLegs();
    expect(before.legs.map((l) => l.legId).sort()).toEqual([live.waLegId, waOrphan.legId].sort());
    expect((before.pbxLegs ?? []).map((l) => l.legId).sort()).toEqual([pbxOrphan.legId, lateOrphan.legId].sort());
    expect((await media.mediaStats()).rtpPortsInUse).toBe(2);
    const heardBefore = await framesOf400AtUser();

    const after = await eventually('orphan legs closed by the sweep', async () => {
      const listed = await media.listLegs();
      return listed.legs.length === 1 && (listed.pbxLegs ?? []).length === 0 ? listed : undefined;
    }, 10_000, 200);
    expect(after.legs.map((l) => l.legId)).toEqual([live.waLegId]);
    expect((await media.mediaStats()).rtpPortsInUse).toBe(0);

    // two more sweeps go by: the live call is untouched and its audio goes on
    await new Promise((resolve) => setTimeout(resolve, 2500));
    expect(((await stack.api('GET', `/v1/calls/${live.callId}`)).body as CallRecord).state).toBe('active');
    expect((await media.listLegs()).legs.map((l) => l.legId)).toEqual([live.waLegId]);
    expect(await framesOf400AtUser()).toBeGreaterThan(heardBefore + 25);

    const metrics = await (await fetch(`${stack.signalling.baseUrl}/metrics`)).text();
    expect(metrics).toMatch(/^wagw_orphan_legs_closed_total\{kind="wa"\} 1$/m);
    expect(metrics).toMatch(/^wagw_orphan_legs_closed_total\{kind="pbx"\} 2$/m);
    const log = readFileSync(stack.logFile, 'utf8');
    for (const legId of [waOrphan.legId, pbxOrphan.legId, lateOrphan.legId]) {
      expect(log).toMatch(new RegExp(`"legId":"${legId}"[^\\n]*"msg":"closing a media leg whose call has no live record`));
    }
    expect(log).not.toMatch(new RegExp(`"legId":"${live.waLegId}"[^\\n]*orphan`));

    await stack.emu('POST', `/emulator/users/${user}/hangup`);
    await eventually('live call ended by its user', async () => (((await stack.api('GET', `/v1/calls/${live.callId}`)).body as CallRecord).state === 'ended' ? true : undefined));
  });
});
