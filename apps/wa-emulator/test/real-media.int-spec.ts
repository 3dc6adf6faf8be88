import { silentLogger } from '@wagw/logging';
import { WaLeg } from '@wagw/media-bridge';
import { type EmulatorHarness, startEmulatorHarness } from './emulator-harness';

/**
 * The emulator with its default user media (werift SimulatedUserMediaFactory) against a real business leg
 * (WaLeg from @wagw/media-bridge): ICE-lite/actpass offers, ICE + DTLS-SRTP on loopback, tones both ways,
 * DTMF, and the media watchdog reading the real session's stats.
 */
const WA_ID = '15552227777';

async function until<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await check();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${what}: not within ${timeoutMs} ms`);
}

describe('wa-emulator with real user media (werift)', () => {
  let h: EmulatorHarness;
  const legs: WaLeg[] = [];

  afterEach(async () => {
    await Promise.all(legs.splice(0).map((l) => l.close()));
    await h.close();
  });

  const legOptions = { iceAddress: '127.0.0.1', connectTimeoutMs: 15_000, logger: silentLogger(), recordSeconds: 10 };
  const heardByUser = (frequencyHz: number, frames: number): Promise<unknown> =>
    until(`user hears ${frequencyHz} Hz`, async () => {
      const a = await h.control('GET', `users/${WA_ID}/media/analysis?frequencyHz=${frequencyHz}`);
      return a.body.tone.framesWithTone >= frames ? a.body : undefined;
    });

  it('a user call: WhatsApp-like offer, the business answers, tones and DTMF flow, the watchdog sees the media', async () => {
    h = await startEmulatorHarness({ mediaTimeoutMs: 1000, acceptWindowMs: 30_000 }, { realUserMedia: true });
    const waCallId = (await h.control('POST', `users/${WA_ID}/call`, {})).body.waCallId as string;
    const connect = await h.receiver.waitForEvent(waCallId, 'call.connect');
    const offer = (connect.item['session'] as { sdp: string }).sdp;
    expect(offer).toMatch(/a=ice-lite/);
    expect(offer).toMatch(/a=setup:actpass/);

    const { leg, sdp } = await WaLeg.answerOffer(offer, legOptions);
    legs.push(leg);
    const call = (action: string): ReturnType<EmulatorHarness['graph']> =>
      h.graph('POST', 'calls', { messaging_product: 'whatsapp', call_id: waCallId, action, session: { sdp_type: 'answer', sdp } });
    expect((await call('pre_accept')).status).toBe(200);
    await leg.whenConnected();
    expect((await call('accept')).status).toBe(200);
    leg.startMedia();
    leg.playTone(1000);

    await heardByUser(1000, 40); // >= 1.6 s of tone: the 1 s watchdog has checked at least once
    expect((await h.control('GET', `calls/${waCallId}`)).body.state).toBe('accepted');

    await h.control('POST', `users/${WA_ID}/media/tone`, { frequencyHz: 440 });
    await until('business hears 440 Hz', async () => (leg.analyseTone(440, 1000).framesWithTone >= 10 ? true : undefined));
    const digit = new Promise<string>((resolve) => leg.on('dtmf', (d) => resolve(d.digit)));
    await h.control('POST', `users/${WA_ID}/media/dtmf`, { digits: '7' });
    expect(await digit).toBe('7');

    await h.control('POST', `users/${WA_ID}/hangup`);
    const terminate = await h.receiver.waitForEvent(waCallId, 'call.terminate');
    expect(terminate.item).toMatchObject({ status: 'COMPLETED', duration: expect.any(Number) });
  });

  it('a business call: the business offers, WhatsApp answers, the user picks up and hears the business', async () => {
    h = await startEmulatorHarness({ mediaTimeoutMs: 5000 }, { realUserMedia: true });
    await h.graph('POST', 'messages', { messaging_product: 'whatsapp', to: WA_ID, type: 'interactive', interactive: { type: 'call_permission_request', action: { name: 'call_permission_request' } } });
    await h.control('POST', `users/${WA_ID}/permission-reply`, { choice: 'always_allow' });
    await h.control('PUT', `users/${WA_ID}/behaviour`, { incomingCall: 'accept', answerAfterMs: 0 });

    const { leg, sdp } = await WaLeg.createOffer(legOptions);
    legs.push(leg);
    const res = await h.graph('POST', 'calls', { messaging_product: 'whatsapp', to: WA_ID, action: 'connect', session: { sdp_type: 'offer', sdp } });
    const id = res.body.calls[0].id as string;
    const connect = await h.receiver.waitForEvent(id, 'call.connect');
    const answer = (connect.item['session'] as { sdp: string }).sdp;
    expect(answer).toMatch(/a=ice-lite/);
    await leg.applyAnswer(answer);
    await h.receiver.waitForEvent(id, 'status.ACCEPTED');
    await leg.whenConnected();
    leg.startMedia();
    leg.playTone(1000);
    await heardByUser(1000, 10);

    await h.graph('POST', 'calls', { messaging_product: 'whatsapp', call_id: id, action: 'terminate' });
    const terminate = await h.receiver.waitForEvent(id, 'call.terminate');
    expect(terminate.item).toMatchObject({ status: 'COMPLETED', direction: 'BUSINESS_INITIATED' });
  });

  it('an accepted call whose business leg never sends media ends FAILED (138021) by the real session stats', async () => {
    h = await startEmulatorHarness({ mediaTimeoutMs: 1000, acceptWindowMs: 30_000 }, { realUserMedia: true });
    const waCallId = (await h.control('POST', `users/${WA_ID}/call`, {})).body.waCallId as string;
    const offer = ((await h.receiver.waitForEvent(waCallId, 'call.connect')).item['session'] as { sdp: string }).sdp;
    const { leg, sdp } = await WaLeg.answerOffer(offer, legOptions);
    legs.push(leg);
    await h.graph('POST', 'calls', { messaging_product: 'whatsapp', call_id: waCallId, action: 'accept', session: { sdp_type: 'answer', sdp } });
    const terminate = await h.receiver.waitForEvent(waCallId, 'call.terminate');
    expect(terminate.item['status']).toBe('FAILED');
    expect(terminate.value['errors']).toEqual([expect.objectContaining({ code: 138021 })]);
  });
});
