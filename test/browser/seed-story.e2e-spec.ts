import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { startStack, type Stack } from '../support/stack';
import { expectNoLeaks } from '../support/leaks';
import { startDemoPbx, type DemoPbx } from '../support/pbx';
import { launchPhoneBrowser, SCREENSHOT_DIR, type PhoneBrowser } from './phone-chromium';

/** What the test reads from the phone page's DOM to tell whether the permission pop-up ever showed. */
declare global {
  interface Window {
    popupShown?: boolean;
  }
}

const AGENT = '1001';
const WAIT = { timeout: 20_000 };

/**
 * The seed story on the two web pages, in one headless Chromium (Debian's build, driven by playwright-core)
 * against one booted stack whose route and trunk point at the demo PBX (Kamailio + an auto-answering
 * baresip desk phone 1001). The agent console (signalling /console) and the WhatsApp user's phone page
 * (emulator /phone/:waId) are two tabs; the test clicks like the agent and like the user:
 *
 *   click the call icon -> pop-up on the phone -> "Always allow" -> the phone rings -> Accept -> both pages
 *   show connected -> hang up -> click again -> no pop-up, the phone rings -> Decline;
 *   a fresh user: click -> pop-up -> "Never allow" -> the icon is disabled and says why.
 *
 * Every step is a screenshot of both pages under test-output/screenshots/seed-story-*.png.
 */
describe('the seed story on the agent console and the WhatsApp user phone page', () => {
  let dir: string;
  let pbx: DemoPbx;
  let stack: Stack;
  let browser: PhoneBrowser;
  let shots: string[];

  beforeAll(async () => {
    // screenshots of an earlier run must not pass for this run's
    mkdirSync(SCREENSHOT_DIR, { recursive: true });
    for (const name of readdirSync(SCREENSHOT_DIR, { withFileTypes: true }).filter((e) => e.isFile()).map((e) => e.name)) {
      if (/^seed-story-.+\.png$/.test(name)) rmSync(join(SCREENSHOT_DIR, name));
    }
    dir = mkdtempSync(join(tmpdir(), 'wagw-seed-story-'));
    pbx = await startDemoPbx({ transport: 'udp', dir });
    stack = await startStack({ name: 'seed-story-browser', env: pbx.gatewayEnv('15550001111') });
    browser = await launchPhoneBrowser();
  });

  afterAll(async () => {
    await browser?.close();
    await stack?.close();
    await pbx?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  beforeEach(() => {
    shots = [];
  });

  afterEach(async () => {
    // a test that failed half-way must not leave its call up for the next one (each test asserts no leaks itself)
    const { active } = stack ? ((await stack.api('GET', '/v1/calls')).body as { active: { callId: string }[] }) : { active: [] };
    for (const { callId } of active) await stack.api('POST', `/v1/calls/${callId}/hangup`);
    // a page that will not close in 5 s must not hold the stack's close
    for (const page of browser?.context.pages() ?? []) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([page.close(), new Promise((r) => (timer = setTimeout(r, 5000)))]);
      clearTimeout(timer);
    }
  });

  /** Both tabs: the user's phone (it makes business calls ring until Accept) and the signed-in console. */
  async function openPages(waId: string): Promise<{ phone: Page; agentPage: Page }> {
    const phone = await browser.openPhone(stack.emulator.baseUrl, waId);
    await phoneState(phone, 'idle');
    const agentPage = await browser.context.newPage();
    await agentPage.setViewportSize({ width: 1100, height: 640 });
    await agentPage.goto(`${stack.signalling.baseUrl}/console`);
    // the token is remembered in localStorage from an earlier test in this browser: sign in only when asked
    await agentPage.locator('[data-testid=login]:visible, [data-testid=live][data-state=live]').first().waitFor(WAIT);
    if (await agentPage.getByTestId('login').isVisible()) {
      await agentPage.getByTestId('token').fill(stack.config.signalling.apiToken);
      await agentPage.getByTestId('login-submit').click();
    }
    await agentPage.locator('[data-testid=live][data-state=live]').waitFor(WAIT);
    await agentPage.getByTestId('agent').fill(AGENT);
    await agentPage.getByTestId('add-number').fill(`+${waId}`);
    await agentPage.getByTestId('add-submit').click();
    await agentPage.locator(`[data-testid=badge-${waId}][data-state=none]`).waitFor(WAIT);
    return { phone, agentPage };
  }

  /** One step of the story: a screenshot of each page, checked at the end of the test. */
  async function step(name: string, pages: { phone: Page; agentPage: Page }): Promise<void> {
    shots.push(await browser.screenshot(pages.agentPage, `seed-story-${name}-console`));
    shots.push(await browser.screenshot(pages.phone, `seed-story-${name}-phone`));
  }

  function expectScreenshots(count: number): void {
    expect(shots).toHaveLength(count);
    for (const path of shots) expect(statSync(path).size).toBeGreaterThan(0);
  }

  const phoneState = (page: Page, state: string) => page.locator(`[data-testid="call-state"][data-state="${state}"]`).waitFor(WAIT);
  const consoleStatus = (page: Page, waId: string, state: string) => page.locator(`[data-testid=status-${waId}][data-state=${state}]`).waitFor(WAIT);
  /** The console's status after the user-side call.ringing (the desk phone's own ringing says "your phone"). */
  const customerRinging = (page: Page, waId: string) =>
    page.locator(`[data-testid=status-${waId}][data-state=ringing]`, { hasText: /^Ringing the customer…$/ }).waitFor(WAIT);
  const popup = (phone: Page) => phone.locator('#permission-popup');

  /** Clicks the contact's call icon and returns the status of the POST /v1/calls it made. */
  async function clickCall(page: Page, waId: string): Promise<number> {
    const [res] = await Promise.all([
      page.waitForResponse((r) => r.request().method() === 'POST' && new URL(r.url()).pathname === '/v1/calls', WAIT),
      page.getByTestId(`call-${waId}`).click(),
    ]);
    return res.status();
  }

  /** From now on, window.popupShown turns true if the phone page ever shows the permission pop-up. */
  async function watchPopup(phone: Page): Promise<void> {
    await phone.evaluate(() => {
      const el = document.getElementById('permission-popup') as HTMLElement;
      window.popupShown = !el.hidden;
      new MutationObserver(() => {
        if (!el.hidden) window.popupShown = true;
      }).observe(el, { attributes: true, attributeFilter: ['hidden'] });
    });
  }

  it('Always allow: pop-up, the call connects on both pages, hang up; the next click rings the phone with no pop-up', async () => {
    const user = '15557770001';
    const pages = await openPages(user);
    const { phone, agentPage } = pages;
    expect(await popup(phone).isHidden()).toBe(true);
    await step('always-01-before-click', pages);

    // first click: no permission yet, so the gateway asks the user
    expect(await clickCall(agentPage, user)).toBe(202);
    await consoleStatus(agentPage, user, 'awaiting-permission');
    await agentPage.locator(`[data-testid=badge-${user}][data-state=requested]`).waitFor(WAIT);
    await phone.getByTestId('perm-always').waitFor({ state: 'visible', ...WAIT });
    expect(await phone.getByTestId('perm-allow-once').isVisible()).toBe(true);
    expect(await phone.getByTestId('perm-never').isVisible()).toBe(true);
    await step('always-02-permission-popup', pages);

    await phone.getByTestId('perm-always').click();
    await popup(phone).waitFor({ state: 'hidden', ...WAIT });
    await agentPage.locator(`[data-testid=badge-${user}][data-state=granted-always]`).waitFor(WAIT);
    expect(await agentPage.getByTestId(`badge-${user}`).textContent()).toBe('always');
    // the desk phone answered, now the user's phone rings until Accept is clicked
    await phoneState(phone, 'incoming');
    await customerRinging(agentPage, user);
    await step('always-03-user-phone-rings', pages);

    await phone.getByTestId('incoming-accept').click();
    await phoneState(phone, 'active');
    await phone.getByTestId('call-timer').waitFor({ state: 'visible', ...WAIT });
    expect(await phone.getByTestId('call-timer').textContent()).toMatch(/^\d\d:\d\d$/);
    await consoleStatus(agentPage, user, 'connected');
    expect(await agentPage.getByTestId(`status-${user}`).textContent()).toMatch(/^Connected \d+:\d\d$/);
    expect(await agentPage.getByTestId(`call-${user}`).isDisabled()).toBe(true);
    await step('always-04-connected', pages);

    await agentPage.getByTestId(`hangup-${user}`).click();
    await consoleStatus(agentPage, user, 'ended');
    expect(await agentPage.getByTestId(`status-${user}`).textContent()).toMatch(/^Ended: .+/);
    await phoneState(phone, 'idle');
    await agentPage.getByTestId(`hangup-${user}`).waitFor({ state: 'hidden', ...WAIT });
    await agentPage.locator(`[data-testid=call-${user}]:enabled`).waitFor(WAIT);
    await step('always-05-hung-up', pages);

    // second click: the permission is remembered, so no request and no pop-up: the phone rings at once
    const pendingBefore = (await stack.emu<{ pendingPermissionRequests: unknown[] }>('GET', `/emulator/users/${user}`)).pendingPermissionRequests.length;
    await watchPopup(phone);
    expect(await clickCall(agentPage, user)).toBe(201);
    await phoneState(phone, 'incoming');
    await customerRinging(agentPage, user);
    expect(await phone.evaluate(() => window.popupShown)).toBe(false);
    expect(await popup(phone).isHidden()).toBe(true);
    expect((await stack.emu<{ pendingPermissionRequests: unknown[] }>('GET', `/emulator/users/${user}`)).pendingPermissionRequests).toHaveLength(pendingBefore);
    await step('always-06-rings-without-popup', pages);

    await phone.getByTestId('incoming-decline').click();
    await phoneState(phone, 'idle');
    await consoleStatus(agentPage, user, 'ended');
    expect(await phone.evaluate(() => window.popupShown)).toBe(false);
    await step('always-07-declined-by-user', pages);

    expectScreenshots(14);
    await expectNoLeaks(stack);
  });

  it('Never allow: pop-up, then the badge says never and the call icon is disabled with the reason as its tooltip', async () => {
    const user = '15557770002';
    const pages = await openPages(user);
    const { phone, agentPage } = pages;
    await step('never-01-before-click', pages);

    expect(await clickCall(agentPage, user)).toBe(202);
    await consoleStatus(agentPage, user, 'awaiting-permission');
    await phone.getByTestId('perm-never').waitFor({ state: 'visible', ...WAIT });
    await step('never-02-permission-popup', pages);

    await phone.getByTestId('perm-never').click();
    await popup(phone).waitFor({ state: 'hidden', ...WAIT });
    await agentPage.locator(`[data-testid=badge-${user}][data-state=declined]`).waitFor(WAIT);
    expect(await agentPage.getByTestId(`badge-${user}`).textContent()).toBe('never');
    await consoleStatus(agentPage, user, 'ended');
    const icon = agentPage.getByTestId(`call-${user}`);
    expect(await icon.isDisabled()).toBe(true);
    const view = (await stack.api('GET', `/v1/permissions/${user}`)).body as { state: string; decision: { action: string; reason: string } };
    expect(view.state).toBe('declined');
    expect(view.decision.action).toBe('refuse');
    expect(view.decision.reason).toMatch(/chose not to allow calls/);
    expect(await icon.getAttribute('title')).toBe(view.decision.reason);
    expect(await icon.getAttribute('aria-label')).toBe(view.decision.reason);
    await phoneState(phone, 'idle');
    expect(await phone.getByTestId('permission-status').textContent()).toMatch(/no permission/);
    await step('never-03-icon-disabled', pages);

    expectScreenshots(6);
    await expectNoLeaks(stack);
  });
});
