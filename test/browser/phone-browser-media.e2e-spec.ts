import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { silentLogger } from '@wagw/logging';
import { ToneGenerator, type ToneReport, WaLeg } from '@wagw/media-bridge';
import { writeWav } from '@wagw/testing';
import { type EmulatorHarness, startEmulatorHarness } from '../../apps/wa-emulator/test/emulator-harness';
import { launchPhoneBrowser, type PhoneBrowser } from './phone-chromium';


/**
 * Browser media mode on the emulator alone: the business is a WaLeg (the gateway's WebRTC leg, a full ICE
 * agent) and the WhatsApp user is Chromium on the phone page. A business-initiated call makes the page
 * answer the business's offer (answerOffer job); the control API steers what the page sends (tone).
 */
describe('the phone page as the user media (?media=browser)', () => {
  const waId = '15557778888';
  let dir: string;
  let browser: PhoneBrowser;
  let h: EmulatorHarness;
  const legs: WaLeg[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'wagw-phone-media-'));
    const wav = join(dir, 'mic-1khz.wav');
    writeWav(wav, new ToneGenerator(1000, 48_000, 12_000).next(48_000 * 10), 48_000, 1);
    browser = await launchPhoneBrowser({ fakeAudioCaptureWav: wav });
  });

  afterAll(async () => {
    await browser?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  beforeEach(async () => {
    h = await startEmulatorHarness({ ringTimeoutMs: 30_000, acceptWindowMs: 30_000, mediaTimeoutMs: 10_000 });
  });

  afterEach(async () => {
    for (const page of browser.context.pages()) await page.close();
    await Promise.all(legs.splice(0).map((l) => l.close()));
    await h.close();
  });

  async function until<T>(what: string, check: () => Promise<T | undefined | null | false>, timeoutMs = 15_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const value = await check();
      if (value !== undefined && value !== null && value !== false) return value;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    throw new Error(`${what}: not within ${timeoutMs} ms`);
  }

  const pageHears = (page: Page, frequencyHz: number): Promise<ToneReport | null> =>
    page.evaluate(({ f }) => window.phone.measureTone(f, 2000), { f: frequencyHz });

  async function grantPermanent(): Promise<void> {
    const res = await h.graph('POST', 'messages', {
      messaging_product: 'whatsapp',
      to: waId,
      type: 'interactive',
      interactive: { type: 'call_permission_request', action: { name: 'call_permission_request' } },
    });
    expect(res.status).toBe(200);
    expect((await h.control('POST', `users/${waId}/permission-reply`, { choice: 'always_allow' })).status).toBe(200);
  }

  it('a business call: the page answers the offer, rings until Accept, then tones flow both ways and the control API steers the page', async () => {
    const page = await browser.openPhone(h.emulator.baseUrl, waId, '?media=browser');
    await grantPermanent();
    const { leg, sdp } = await WaLeg.createOffer({ iceAddress: '127.0.0.1', connectTimeoutMs: 15_000, logger: silentLogger(), recordSeconds: 10 });
    legs.push(leg);

    const res = await h.graph('POST', 'calls', { messaging_product: 'whatsapp', to: waId, action: 'connect', session: { sdp_type: 'offer', sdp } });
    expect(res.status).toBe(200);
    const waCallId = res.body.calls[0].id as string;
    const connect = await h.receiver.waitForEvent(waCallId, 'call.connect');
    const answer = (connect.item['session'] as { sdp: string }).sdp;
    expect(answer).not.toMatch(/a=ice-lite/);
    expect(answer).toMatch(/a=setup:active/);
    await leg.applyAnswer(answer);
    await leg.whenConnected();
    expect(leg.stats()).toMatchObject({ role: 'offerer', iceControlling: true });

    await page.waitForSelector('[data-testid="call-state"][data-state="incoming"]');
    await page.getByTestId('incoming-accept').click();
    await h.receiver.waitForEvent(waCallId, 'status.ACCEPTED');
    leg.startMedia();
    leg.playTone(400);

    const atPage = await until('400 Hz in Chromium', async () => {
      const r = await pageHears(page, 400);
      return r && r.framesWithTone >= 25 ? r : undefined;
    });
    expect(atPage.framesWithTone).toBeGreaterThanOrEqual(25);
    await until('1 kHz (the fake microphone) at the business', async () => (leg.analyseTone(1000, 1000).framesWithTone >= 20 ? true : undefined));

    expect((await h.control('POST', `users/${waId}/media/tone`, { frequencyHz: 600 })).status).toBe(200);
    await until('600 Hz (the page oscillator) at the business', async () => (leg.analyseTone(600, 1000).framesWithTone >= 20 ? true : undefined));
    expect(leg.analyseTone(1000, 500).framesWithTone).toBe(0);
    const wav = await h.control('POST', `users/${waId}/media/wav`, { path: join(dir, 'mic-1khz.wav') });
    expect(wav.status).toBe(400);
    expect(JSON.stringify(wav.body)).toMatch(/not supported/);

    const stats = await until('packets reported by the page', async () => {
      const a = await h.control('GET', `users/${waId}/media/analysis`);
      return a.body.packetsReceived > 0 ? a.body : undefined;
    });
    expect(stats).toMatchObject({ connectionState: 'connected', recordedMs: 0 });

    await leg.close();
    expect((await h.graph('POST', 'calls', { messaging_product: 'whatsapp', call_id: waCallId, action: 'terminate' })).status).toBe(200);
    await page.waitForSelector('[data-testid="call-state"][data-state="idle"]');
    await until('the page closed its peer connection', async () => (await page.evaluate(() => window.phone.mediaCall())) === null);
  });

  it('refuses the user call with 409 and frees the user when the browser media cannot make an offer', async () => {
    await h.control('POST', 'users', { waId });
    expect((await h.control('PUT', `users/${waId}/media-mode`, { mode: 'browser' })).body).toEqual({ waId, mode: 'browser', pageConnected: false });
    h.emulator.phone.hub.close(); // no page can answer any more: jobs are refused at once (the 15 s timeout is unit-tested)

    const res = await h.control('POST', `users/${waId}/call`, {});
    expect(res.status).toBe(409);
    expect(JSON.stringify(res.body)).toMatch(/could not create an offer/);
    expect((await h.control('GET', `users/${waId}`)).body.currentCall).toBeNull();
  });
});
