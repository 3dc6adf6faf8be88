import type { Page } from 'playwright-core';
import { silentLogger } from '@wagw/logging';
import { WhatsAppGraphClient } from '@wagw/whatsapp';
import { businessOfferSdp } from '../../apps/wa-emulator/test/fake-user-media';
import { type EmulatorHarness, startEmulatorHarness } from '../../apps/wa-emulator/test/emulator-harness';
import { replyOf } from '../../apps/wa-emulator/test/webhook-events';
import { launchPhoneBrowser, type PhoneBrowser } from './phone-chromium';

/**
 * The user's phone page (GET /phone/:waId) in headless Chromium against the emulator alone (fake user
 * media, a signature-checking webhook receiver): the business talks Graph, the test clicks like a user.
 */
describe('the WhatsApp user phone page', () => {
  const waId = '15553334444';
  let h: EmulatorHarness;
  let browser: PhoneBrowser;
  let graph: WhatsAppGraphClient;

  beforeAll(async () => {
    browser = await launchPhoneBrowser();
  });

  afterAll(async () => {
    await browser?.close();
  });

  beforeEach(async () => {
    // Timers long enough for a person (here: Playwright) to react; the harness default is 1 s.
    h = await startEmulatorHarness({ ringTimeoutMs: 30_000, acceptWindowMs: 30_000, mediaTimeoutMs: 60_000 });
    const { whatsapp } = h.config;
    graph = new WhatsAppGraphClient({
      baseUrl: h.emulator.baseUrl,
      apiVersion: whatsapp.graphApiVersion,
      accessToken: whatsapp.accessToken,
      phoneNumberId: whatsapp.phoneNumberId,
      requestTimeoutMs: 5000,
      maxRetries: 0,
      retryBaseDelayMs: 100,
      logger: silentLogger(),
    });
  });

  afterEach(async () => {
    // a page that will not close in 5 s (a stuck navigation) must not hold the emulator's close
    for (const page of browser.context.pages()) await Promise.race([page.close(), new Promise((r) => setTimeout(r, 5000))]);
    await h.close();
  });

  async function user(): Promise<{ state: string; behaviour: { incomingCall: string }; permission: { status: string }; currentCall: { waCallId: string } | null }> {
    const res = await h.control('GET', `users/${waId}`);
    expect(res.status).toBe(200);
    return res.body;
  }

  async function callState(page: Page, state: string): Promise<void> {
    await page.waitForSelector(`[data-testid="call-state"][data-state="${state}"]`, { timeout: 10_000 });
  }

  async function grantPermanent(): Promise<void> {
    await graph.sendPermissionRequest({ to: waId, bodyText: 'Can we call you?' });
    expect((await h.control('POST', `users/${waId}/permission-reply`, { choice: 'always_allow' })).status).toBe(200);
  }

  it('creates the user, makes business calls wait for the page and shows it idle', async () => {
    const page = await browser.openPhone(h.emulator.baseUrl, waId);

    const view = await user();
    expect(view.behaviour.incomingCall).toBe('ignore');
    expect((await h.control('GET', `users/${waId}/media-mode`)).body).toEqual({ waId, mode: 'simulated', pageConnected: false });
    await callState(page, 'idle');
    expect(await page.getByTestId('call-business').isVisible()).toBe(true);
    expect(await page.locator('#permission-popup').isVisible()).toBe(false);
  });

  it('shows the permission pop-up for a Graph permission request and Always allow sends a permanent reply', async () => {
    const page = await browser.openPhone(h.emulator.baseUrl, waId);
    const sent = await graph.sendPermissionRequest({ to: waId, bodyText: 'May we call you about your order?' });

    await page.getByTestId('perm-always').waitFor({ state: 'visible', timeout: 10_000 });
    expect(await page.getByTestId('perm-allow-once').isVisible()).toBe(true);
    expect(await page.getByTestId('perm-never').isVisible()).toBe(true);
    await browser.screenshot(page, 'phone-permission-popup');

    await page.getByTestId('perm-always').click();
    await page.locator('#permission-popup').waitFor({ state: 'hidden', timeout: 10_000 });
    expect((await user()).permission.status).toBe('permanent');
    const events = await h.receiver.waitFor((evs) => evs.some((e) => e.type === 'call_permission_reply'));
    const event = events.find((e) => e.type === 'call_permission_reply');
    expect(event && replyOf(event)).toMatchObject({ response: 'accept', is_permanent: true });
    expect(event?.item['context']).toMatchObject({ id: sent.messageId });
    await page.getByTestId('permission-status').filter({ hasText: 'permanent' }).waitFor({ timeout: 10_000 });
    await browser.screenshot(page, 'phone-permission-granted');
  });

  it('Never allow on the pop-up withdraws the permission', async () => {
    const page = await browser.openPhone(h.emulator.baseUrl, waId);
    await graph.sendPermissionRequest({ to: waId });

    await page.getByTestId('perm-never').click({ timeout: 10_000 });
    await page.locator('#permission-popup').waitFor({ state: 'hidden', timeout: 10_000 });
    const events = await h.receiver.waitFor((evs) => evs.some((e) => e.type === 'call_permission_reply'));
    const event = events.find((e) => e.type === 'call_permission_reply');
    expect(event && replyOf(event)).toMatchObject({ response: 'reject' });
    expect((await user()).permission.status).toBe('no_permission');
  });

  it('rings for a business call until Accept is clicked, then shows the call with a timer and hangs up', async () => {
    await grantPermanent();
    const page = await browser.openPhone(h.emulator.baseUrl, waId);
    const { waCallId } = await graph.connect({ to: waId, sdp: businessOfferSdp() });

    await callState(page, 'incoming');
    expect((await user()).state).toBe('in_call:ringing');
    await browser.screenshot(page, 'phone-incoming-call');
    await page.getByTestId('incoming-accept').click();
    await callState(page, 'active');
    await h.receiver.waitForEvent(waCallId, 'status.ACCEPTED');
    await page.getByTestId('call-timer').waitFor({ state: 'visible', timeout: 10_000 });
    expect(await page.getByTestId('call-timer').textContent()).toMatch(/^\d\d:\d\d$/);
    await browser.screenshot(page, 'phone-in-call');

    await page.getByTestId('hangup').click();
    await callState(page, 'idle');
    const terminate = await h.receiver.waitForEvent(waCallId, 'call.terminate');
    expect(terminate.item['status']).toBe('COMPLETED');
  });

  it('Decline on an incoming business call sends REJECTED', async () => {
    await grantPermanent();
    const page = await browser.openPhone(h.emulator.baseUrl, waId);
    const { waCallId } = await graph.connect({ to: waId, sdp: businessOfferSdp() });

    await page.getByTestId('incoming-decline').click({ timeout: 10_000 });
    await h.receiver.waitForEvent(waCallId, 'status.REJECTED');
    await callState(page, 'idle');
    expect((await user()).currentCall).toBeNull();
  });

  it('Call business places a user-initiated call (connect webhook) and Hang up ends it', async () => {
    const page = await browser.openPhone(h.emulator.baseUrl, waId);

    await page.getByTestId('call-business').click();
    await callState(page, 'outgoing');
    const view = await user();
    const waCallId = view.currentCall?.waCallId as string;
    const connect = await h.receiver.waitForEvent(waCallId, 'call.connect');
    expect(connect.item['direction']).toBe('USER_INITIATED');

    await page.getByTestId('hangup').click();
    await h.receiver.waitForEvent(waCallId, 'call.terminate');
    await callState(page, 'idle');
  });

  it("shows the business's call buttons in the chat; a tap calls with the button's payload, and an expired one goes away", async () => {
    const page = await browser.openPhone(h.emulator.baseUrl, waId);
    const old = await graph.sendCallButton({ to: waId, bodyText: 'Our hotline, for a minute', displayText: 'Call now', ttlMinutes: 1 });
    const sent = await graph.sendCallButton({ to: waId, bodyText: 'Questions about your bill?', displayText: 'Call billing', payload: 'queue=billing' });
    const button = page.getByTestId(`call-button-${sent.messageId}`);
    await button.waitFor({ state: 'visible', timeout: 10_000 });
    expect(await button.textContent()).toBe('Call billing');
    await page.getByTestId('call-buttons').getByText('Questions about your bill?').waitFor({ timeout: 10_000 });
    await page.getByTestId(`call-button-${old.messageId}`).waitFor({ state: 'visible', timeout: 10_000 });
    await browser.screenshot(page, 'phone-call-buttons');

    await button.click();
    await callState(page, 'outgoing');
    const waCallId = (await user()).currentCall?.waCallId as string;
    const connect = await h.receiver.waitForEvent(waCallId, 'call.connect');
    expect(connect.item).toMatchObject({ direction: 'USER_INITIATED', cta_payload: 'queue=billing' });
    await page.getByTestId('hangup').click();
    await h.receiver.waitForEvent(waCallId, 'call.terminate');
    await callState(page, 'idle');

    expect((await h.control('POST', 'clock/advance', { ms: 61_000 })).status).toBe(200);
    await page.getByTestId(`call-button-${old.messageId}`).waitFor({ state: 'detached', timeout: 10_000 });
    expect(await button.isVisible()).toBe(true);
  });
});
