import { silentLogger } from '@wagw/logging';
import { sdpCandidates, WaLeg } from '@wagw/media-bridge';
import { type EmulatorHarness, startEmulatorHarness } from './emulator-harness';

/**
 * Media mode `sdp-only` (load runs): the emulator's offer is one a real business leg (WaLeg) takes, its
 * candidate is the emulator's sink socket, which receives the leg's ICE checks and answers none, and a
 * user call goes through connect, pre_accept, accept and hang-up without any peer on the user's side.
 */
const WA_ID = '15552228888';

async function until<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await check();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`${what}: not within ${timeoutMs} ms`);
}

describe('wa-emulator users in media mode sdp-only', () => {
  let h: EmulatorHarness;
  let leg: WaLeg | undefined;

  afterEach(async () => {
    await leg?.close();
    leg = undefined;
    await h.close();
  });

  it('a user call is answered by a real WaLeg whose ICE checks reach the sink; accept and hang-up work', async () => {
    h = await startEmulatorHarness({ acceptWindowMs: 30_000 }, { realUserMedia: true });
    expect((await h.control('PUT', `users/${WA_ID}/media-mode`, { mode: 'sdp-only' })).body).toMatchObject({ waId: WA_ID, mode: 'sdp-only' });

    const waCallId = (await h.control('POST', `users/${WA_ID}/call`, {})).body.waCallId as string;
    const connect = await h.receiver.waitForEvent(waCallId, 'call.connect');
    const offer = (connect.item['session'] as { sdp: string }).sdp;
    const [candidate] = sdpCandidates(offer);
    const answered = await WaLeg.answerOffer(offer, { iceAddress: '127.0.0.1', connectTimeoutMs: 30_000, logger: silentLogger() });
    leg = answered.leg;
    const call = (action: string): ReturnType<EmulatorHarness['graph']> =>
      h.graph('POST', 'calls', { messaging_product: 'whatsapp', call_id: waCallId, action, session: { sdp_type: 'answer', sdp: answered.sdp } });

    expect((await call('pre_accept')).status).toBe(200);
    expect((await call('accept')).status).toBe(200);
    expect(candidate).toMatchObject({ address: '127.0.0.1' });
    await until('ICE checks at the sink', async () => (answered.leg.state === 'connecting' && sdpOnlySinkPackets(h) > 0 ? true : undefined));
    expect((await h.control('POST', `users/${WA_ID}/media/tone`, { frequencyHz: 440 })).status).toBe(409);
    expect((await h.control('POST', `users/${WA_ID}/hangup`)).status).toBe(200);
    const summary = (await h.control('GET', `calls/${waCallId}`)).body;

    expect(summary).toMatchObject({ state: 'ended', endReason: 'user_hangup', terminateStatus: 'COMPLETED' });
    expect(summary.timeline.map((t: { event: string }) => t.event)).toEqual(expect.arrayContaining(['user_called', 'pre_accepted', 'connected', 'media_not_connected']));
  });
});

/** Packets the emulator's sdp-only sink received (the factory is reached through the phone services). */
function sdpOnlySinkPackets(h: EmulatorHarness): number {
  return h.emulator.sdpOnlyMedia.sinkPackets;
}
