import { silentLogger } from '@wagw/logging';
import { SipError } from '@wagw/sip';
import { CrmEventBus } from '../events/crm-event-bus';
import type { CrmEvent } from '../events/crm-event.types';
import type { MediaBusClient } from '../media/media-bus.client';
import { LiveCall } from './call-runtime';
import { PbxSdpUpdates } from './pbx-sdp-updates';

/** A media client whose updatePbxMedia answers with `reply` (or fails with `error`) and records its calls. */
function media(outcome: { reply?: { sdp?: string; sending: boolean }; error?: Error & { code?: string } }) {
  const calls: unknown[][] = [];
  const client = {
    updatePbxMedia: async (...args: unknown[]) => {
      calls.push(args);
      if (outcome.error) throw outcome.error;
      return { v: 1, ...outcome.reply };
    },
  };
  return { client: client as unknown as MediaBusClient, calls };
}

function setup(outcome: Parameters<typeof media>[0]) {
  const m = media(outcome);
  const bus = new CrmEventBus(silentLogger());
  const events: CrmEvent[] = [];
  bus.subscribe((e) => void events.push(e));
  const live = new LiveCall('call-1', silentLogger());
  return { m, events, live, handler: new PbxSdpUpdates(m.client, bus).handlerFor(live, 'pbx-1', '15550002222') };
}

describe('PbxSdpUpdates', () => {
  it("sends an offer to the call's PBX leg and resolves with the media app's answer", async () => {
    const { m, handler, events } = setup({ reply: { sdp: 'v=0 answer', sending: true } });
    await expect(handler.offer('v=0 offer')).resolves.toBe('v=0 answer');
    expect(m.calls).toEqual([['call-1', 'pbx-1', 'offer', 'v=0 offer']]);
    expect(events).toEqual([]); // not held before, not held now
  });

  it('passes the answer from an ACK on as an answer', async () => {
    const { m, handler } = setup({ reply: { sending: true } });
    await handler.answer('v=0 ack answer');
    expect(m.calls).toEqual([['call-1', 'pbx-1', 'answer', 'v=0 ack answer']]);
  });

  it('tells the CRM when the PBX holds the call and when it takes it back, once each', async () => {
    const reply = { sdp: 'v=0 answer', sending: false };
    const { handler, events, live } = setup({ reply });
    await handler.offer('v=0 hold');
    await handler.offer('v=0 hold again');
    expect(live.pbxOnHold).toBe(true);
    reply.sending = true;
    await handler.offer('v=0 resume');
    expect(events.map((e) => [e.type, e.data])).toEqual([
      ['call.held', { callId: 'call-1', waId: '15550002222' }],
      ['call.resumed', { callId: 'call-1', waId: '15550002222' }],
    ]);
  });

  it('a call moved to a new PBX leg while held is resumed for the CRM, once', async () => {
    const bus = new CrmEventBus(silentLogger());
    const events: CrmEvent[] = [];
    bus.subscribe((e) => void events.push(e));
    const updates = new PbxSdpUpdates(media({ reply: { sdp: 'v=0', sending: false } }).client, bus);
    const live = new LiveCall('call-9', silentLogger());
    await updates.handlerFor(live, 'pbx-1', '155').offer('v=0 hold');
    updates.legReplaced(live, '155');
    updates.legReplaced(live, '155');
    expect(events.map((e) => e.type)).toEqual(['call.held', 'call.resumed']);
    expect(live.pbxOnHold).toBe(false);
  });

  it('turns a refused offer into 488 with a Warning that says why', async () => {
    const refused = Object.assign(new Error('SDP not acceptable: the re-offer drops the call\'s codec "PCMU"'), { code: 'SDP_NOT_ACCEPTABLE' });
    const err = await setup({ error: refused })
      .handler.offer('v=0')
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SipError);
    expect(err).toMatchObject({ status: 488, headers: { warning: `305 wagw "SDP not acceptable: the re-offer drops the call's codec 'PCMU'"` } });
  });

  it('lets any other failure through (the SIP leg answers it 500)', async () => {
    const lost = Object.assign(new Error('media request timed out'), { code: 'MEDIA_TIMEOUT' });
    await expect(setup({ error: lost }).handler.offer('v=0')).rejects.toBe(lost);
  });

  it('refuses with 500 when the media app answers an offer without SDP', async () => {
    await expect(setup({ reply: { sending: true } }).handler.offer('v=0')).rejects.toMatchObject({ status: 500 });
  });
});
