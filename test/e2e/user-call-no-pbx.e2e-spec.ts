import { readFileSync } from 'node:fs';
import { CallRecord } from '@wagw/call-state';
import { MediaBusClient } from '../../apps/signalling/src/media/media-bus.client';
import { eventually, startStack, type Stack } from '../support/stack';
import { expectNoLeaks, NOT_CALL_STATE_KEY } from '../support/leaks';

/**
 * Foundation end to end (issue 2): a simulated WhatsApp user calls; the signed webhook reaches signalling,
 * which stores the call in Redis, gets a WebRTC answer from the media app, sends pre_accept and accept, and
 * (no PBX configured) answers with a 400 Hz tone. Audio is checked by frequency on both sides.
 */
/** Keys that outlive a call by design: webhook de-dup markers (TTL), the user's permission record and contact entry. */

describe('a WhatsApp user calls a gateway with no PBX', () => {
  const user = '15552223333';
  let stack: Stack;

  beforeEach(async () => {
    stack = await startStack({ name: 'user-call-no-pbx' });
    await stack.emu('POST', '/emulator/users', { waId: user, name: 'Jane' });
  });

  afterEach(() => expectNoLeaks(stack));
  afterEach(async () => {
    await stack.close();
    // debug-level logs of three apps through a whole call: no secret may appear in them
    const log = readFileSync(stack.logFile, 'utf8');
    expect(log.length).toBeGreaterThan(1000);
    for (const secret of [stack.config.whatsapp.accessToken, stack.config.whatsapp.appSecret, stack.config.signalling.apiToken]) {
      expect(log.includes(secret)).toBe(false);
    }
  });

  async function callFromUser(): Promise<string> {
    const { waCallId } = await stack.emu<{ waCallId: string }>('POST', `/emulator/users/${user}/call`, {});
    await stack.emu('POST', `/emulator/users/${user}/media/tone`, { frequencyHz: 1000 });
    return waCallId;
  }

  async function activeCall(waCallId: string): Promise<CallRecord> {
    return eventually(`call ${waCallId} active`, async () => {
      const res = await stack.api('GET', `/v1/calls/${waCallId}`);
      const rec = res.body as CallRecord;
      return res.status === 200 && rec.state === 'active' ? rec : undefined;
    });
  }

  async function userHears(frequencyHz: number): Promise<{ framesWithTone: number; frames: number }> {
    return eventually(`${frequencyHz} Hz at the user`, async () => {
      const a = await stack.emu<{ tone: { framesWithTone: number; frames: number } | null }>('GET', `/emulator/users/${user}/media/analysis?frequencyHz=${frequencyHz}`);
      return a.tone && a.tone.framesWithTone >= 25 ? a.tone : undefined;
    }, 15_000, 200);
  }

  async function onlyTheRecordRemains(call: Pick<CallRecord, 'callId' | 'waCallId'>): Promise<void> {
    const keys = await eventually('call keys released', async () => {
      const k = (await stack.keys()).filter((key) => !NOT_CALL_STATE_KEY.test(key));
      return k.length === 3 ? k : undefined;
    });
    const prefix = stack.config.redis.keyPrefix;
    // the CDR: its record, its wacall alias, the ended index
    expect(keys).toEqual([`${prefix}:call:${call.callId}`, `${prefix}:calls:ended`, `${prefix}:wacall:${call.waCallId}`].sort());
    const media = stack.signalling.app.get(MediaBusClient);
    expect((await media.listLegs()).legs).toEqual([]);
  }

  it('answers with pre_accept then accept, carries 1 kHz to the gateway and 400 Hz to the user, and ends when the user hangs up', async () => {
    const waCallId = await callFromUser();
    const call = await activeCall(waCallId);
    expect(call).toMatchObject({ direction: 'inbound', waCallId, userWaId: user, userName: 'Jane', businessNumber: stack.config.whatsapp.businessNumber });

    const emuCall = await stack.emu<{ sdp: { preAccept: string; accept: string }; timeline: { event: string }[] }>('GET', `/emulator/calls/${waCallId}`);
    expect(emuCall.sdp.accept).toBe(emuCall.sdp.preAccept);
    expect(emuCall.sdp.preAccept).toMatch(/a=setup:active/);
    expect(emuCall.sdp.preAccept).not.toMatch(/a=ice-lite/);

    const atUser = await userHears(400);
    expect(atUser.framesWithTone).toBeGreaterThanOrEqual(25);
    const wrongAtUser = await stack.emu<{ tone: { framesWithTone: number } }>('GET', `/emulator/users/${user}/media/analysis?frequencyHz=1000`);
    expect(wrongAtUser.tone.framesWithTone).toBe(0);

    const media = stack.signalling.app.get(MediaBusClient);
    const atGateway = await eventually('1 kHz at the media app', async () => {
      const r = await media.analyseWaTone(call.callId, call.waLegId as string, 1000);
      return r.framesWithTone >= 25 ? r : undefined;
    }, 15_000, 200);
    expect(atGateway.packetsReceived).toBeGreaterThanOrEqual(50); // 25 tone windows of 40 ms: at least 50 packets of 20 ms
    expect((await media.analyseWaTone(call.callId, call.waLegId as string, 400)).framesWithTone).toBe(0);

    await stack.emu('POST', `/emulator/users/${user}/hangup`);
    const ended = await eventually('call ended', async () => {
      const rec = (await stack.api('GET', `/v1/calls/${call.callId}`)).body as CallRecord;
      return rec.state === 'ended' ? rec : undefined;
    });
    expect(ended).toMatchObject({ endedBy: 'wa', state: 'ended' });
    expect(ended.durationMs).toBeGreaterThan(0);
    await onlyTheRecordRemains(call);
  });

  it('ends the WhatsApp call with terminate when the gateway hangs up', async () => {
    const waCallId = await callFromUser();
    const call = await activeCall(waCallId);
    await userHears(400);

    const res = await stack.api('POST', `/v1/calls/${call.callId}/hangup`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ state: 'ended', endedBy: 'api' });
    const emuCall = await eventually('emulator call ended', async () => {
      const c = await stack.emu<{ state: string; endReason: string; timeline: { event: string }[] }>('GET', `/emulator/calls/${waCallId}`);
      return c.state === 'ended' ? c : undefined;
    });
    expect(JSON.stringify(emuCall.timeline)).toMatch(/terminate/);
    await onlyTheRecordRemains(call);
  });
});
