import { readFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { CDR_COLUMNS } from '../../apps/signalling/src/calls/cdr-export';
import type { Env } from '@wagw/config';
import { freeTcpPort } from '@wagw/testing';
import { startSippPbx, trunkEnv } from '../support/sipp-pbx';
import { eventually, startStack, type Stack } from '../support/stack';
import { launchPhoneBrowser, type PhoneBrowser } from './phone-chromium';

/** What the console's badge says for each permission state (GET /v1/permissions/{waId} -> state). */
const BADGE_TEXT: Record<string, RegExp> = {
  none: /^none$/,
  requested: /^requested$/,
  'granted-once': /^once( until .+)?$/,
  'granted-always': /^always$/,
  declined: /^never$/,
  revoked: /^revoked$/,
  expired: /^expired$/,
};

/**
 * Smoke test of the agent console (GET /console) in headless Chromium against the real stack (no PBX: the
 * gateway answers user calls itself). The agent signs in with the API token; a WhatsApp user calls; the
 * console shows the incoming call, the contact with its permission badge, the live status with a running
 * timer, and hangs the call up with its button. With SIPp as a busy PBX, a caller's voicemail plays in the
 * contact's row, decoded by Chromium itself.
 */
describe('the agent console', () => {
  const user = '15552225555';
  let stack: Stack;
  let booted = false;
  let browser: PhoneBrowser;

  beforeEach(async () => {
    browser = await launchPhoneBrowser();
  });

  let stopPbx: (() => Promise<unknown>) | undefined;

  afterEach(async () => {
    await browser.close();
    if (booted) await stack.close();
    booted = false;
    await stopPbx?.();
    stopPbx = undefined;
  });

  async function boot(env: Env = {}): Promise<void> {
    stack = await startStack({ name: 'console-browser', env });
    booted = true;
    await stack.emu('POST', '/emulator/users', { waId: user, name: 'Ana' });
  }

  /** An agent call needs a PBX trunk to name the agent's phone; nothing is dialled before permission. */
  async function bootWithTrunk(): Promise<void> {
    const trunk = { name: 'pbx', hosts: [`127.0.0.1:${await freeTcpPort()}`], transport: 'udp', username: '', password: '', fromUser: '', fromDomain: '', codecs: ['PCMU'], allowFrom: [] };
    await boot({ PBX_TRUNKS: JSON.stringify([trunk]) });
  }

  async function signIn(page: Page): Promise<void> {
    await page.getByTestId('token').fill(stack.config.signalling.apiToken);
    await page.getByTestId('login-submit').click();
    await page.locator('[data-testid=live][data-state=live]').waitFor();
  }

  async function openConsole(): Promise<Page> {
    const page = await browser.context.newPage();
    await page.setViewportSize({ width: 1100, height: 640 });
    await page.goto(`${stack.signalling.baseUrl}/console`);
    return page;
  }

  async function permissionState(waId: string): Promise<string> {
    const res = await stack.api('GET', `/v1/permissions/${waId}`);
    expect(res.status).toBe(200);
    return (res.body as { state: string }).state;
  }

  it('signs in with the token, shows a calling user live with badge and timer, and hangs up', async () => {
    await boot();
    const page = await openConsole();
    await page.getByTestId('token').fill('wrong-token-0123456789');
    await page.getByTestId('login-submit').click();
    await page.getByTestId('error').getByText('refused').waitFor();

    await page.getByTestId('token').fill(stack.config.signalling.apiToken);
    await page.getByTestId('login-submit').click();
    await page.locator('[data-testid=live][data-state=live]').waitFor();

    const { waCallId } = await stack.emu<{ waCallId: string }>('POST', `/emulator/users/${user}/call`, {});
    await page.getByTestId('incoming').getByText('Incoming WhatsApp call from Ana (+15552225555)').waitFor();
    const status = page.getByTestId(`status-${user}`);
    await page.locator(`[data-testid=status-${user}][data-state=connected]`).waitFor();
    const first = await status.textContent();
    expect(first).toMatch(/^Connected \d+:\d\d$/);
    await eventually('the call timer runs', async () => ((await status.textContent()) !== first ? true : undefined), 5000, 100);

    const badge = page.getByTestId(`badge-${user}`);
    const state = await eventually('badge loaded', async () => (await badge.getAttribute('data-state')) !== 'loading' && badge.getAttribute('data-state'));
    expect(state).toBe(await permissionState(user));
    expect((await badge.textContent()) ?? '').toMatch(BADGE_TEXT[state as string] as RegExp);
    await expect(page.getByTestId(`call-${user}`).isDisabled()).resolves.toBe(true); // a call is in progress
    await browser.screenshot(page, 'console-connected');

    await page.getByTestId(`hangup-${user}`).click();
    await page.locator(`[data-testid=status-${user}][data-state=ended]`).waitFor();
    expect(await status.textContent()).toMatch(/^Ended: .+/);
    await page.getByTestId('incoming').waitFor({ state: 'hidden' });
    await page.getByTestId(`hangup-${user}`).waitFor({ state: 'hidden' });
    const emuCall = await stack.emu<{ state: string }>('GET', `/emulator/calls/${waCallId}`);
    expect(emuCall.state).toBe('ended');
    await browser.screenshot(page, 'console-ended');

    // "Today's calls (CSV)": the CDR export, every page, as one file the browser saves
    const { callId } = (await stack.api('GET', `/v1/calls/${waCallId}`)).body as { callId: string };
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('cdrs-download').click()]);
    expect(download.suggestedFilename()).toMatch(/^calls-\d{4}-\d{2}-\d{2}\.csv$/);
    const csv = readFileSync((await download.path()) as string, 'utf8').split('\r\n');
    expect(csv[0]).toBe(CDR_COLUMNS.join(','));
    expect(csv.filter((line) => line.startsWith(`${callId},inbound,`))).toHaveLength(1);
    expect(await page.getByTestId('error').isHidden()).toBe(true);
  });

  it('remembers the token, lists the contacts the gateway has seen and a number added by hand, each with its badge', async () => {
    await boot();
    // the user called once before the agent opened the console
    const { waCallId } = await stack.emu<{ waCallId: string }>('POST', `/emulator/users/${user}/call`, {});
    const callId = await eventually('call active', async () => {
      const rec = (await stack.api('GET', `/v1/calls/${waCallId}`)).body as { callId: string; state?: string };
      return rec.state === 'active' && rec.callId;
    });
    await stack.emu('POST', `/emulator/users/${user}/hangup`);
    await eventually('call ended', async () => ((await stack.api('GET', `/v1/calls/${callId}`)).body as { state?: string }).state === 'ended');

    const page = await openConsole();
    await page.getByTestId('token').fill(stack.config.signalling.apiToken);
    await page.getByTestId('login-submit').click();
    await page.getByTestId(`contact-${user}`).getByText('Ana').waitFor();

    const other = '447700900123';
    await page.getByTestId('add-number').fill('+44 7700 900123');
    await page.getByTestId('add-submit').click();
    await page.locator(`[data-testid=badge-${other}][data-state=none]`).waitFor();
    expect(await page.getByTestId(`badge-${other}`).textContent()).toBe('none');
    await expect(page.getByTestId(`call-${other}`).isEnabled()).resolves.toBe(true);

    await page.reload();
    await page.locator('[data-testid=live][data-state=live]').waitFor();
    for (const waId of [user, other]) {
      const badge = page.getByTestId(`badge-${waId}`);
      const state = await eventually(`badge of ${waId}`, async () => (await badge.getAttribute('data-state')) !== 'loading' && badge.getAttribute('data-state'));
      expect(state).toBe(await permissionState(waId));
      expect((await badge.textContent()) ?? '').toMatch(BADGE_TEXT[state as string] as RegExp);
    }
    expect(await page.getByTestId('login').isHidden()).toBe(true);
    await browser.screenshot(page, 'console-contacts');
  });

  it('calls a user without permission: awaiting permission, then "never" with the call icon disabled and the reason as tooltip', async () => {
    await bootWithTrunk();
    const page = await openConsole();
    await signIn(page);
    await page.getByTestId('add-number').fill(`+${user}`);
    await page.getByTestId('add-submit').click();
    await page.locator(`[data-testid=badge-${user}][data-state=none]`).waitFor();

    await page.getByTestId(`call-${user}`).click();
    await page.locator(`[data-testid=status-${user}][data-state=awaiting-permission]`).waitFor();
    await page.locator(`[data-testid=badge-${user}][data-state=requested]`).waitFor();
    await page.getByTestId(`hangup-${user}`).waitFor();
    await browser.screenshot(page, 'console-awaiting-permission');

    await stack.emu('POST', `/emulator/users/${user}/permission-reply`, { choice: 'never_allow' });
    await page.locator(`[data-testid=badge-${user}][data-state=declined]`).waitFor();
    expect(await page.getByTestId(`badge-${user}`).textContent()).toBe('never');
    await page.locator(`[data-testid=status-${user}][data-state=ended]`).waitFor();
    const call = page.getByTestId(`call-${user}`);
    expect(await call.isDisabled()).toBe(true);
    const view = (await stack.api('GET', `/v1/permissions/${user}`)).body as { decision: { action: string; reason: string } };
    expect(view.decision.action).toBe('refuse');
    expect(await call.getAttribute('title')).toBe(view.decision.reason);
    await browser.screenshot(page, 'console-declined');
  });

  it("sends a call button naming the agent from the contact's row; the customer's tap shows as an incoming call from it", async () => {
    await boot();
    const page = await openConsole();
    await signIn(page);
    await page.getByTestId('add-number').fill(`+${user}`);
    await page.getByTestId('add-submit').click();
    await page.locator(`[data-testid=badge-${user}][data-state=none]`).waitFor();

    await page.getByTestId(`send-button-${user}`).click();
    await page.getByTestId(`status-${user}`).getByText(/^Call button sent \(until .+\)$/).waitFor();
    const view = await stack.emu<{ callButtons: { messageId: string; displayText: string; bodyText: string; payload: string | null }[] }>('GET', `/emulator/users/${user}`);
    expect(view.callButtons).toEqual([expect.objectContaining({ displayText: 'Call us', bodyText: 'Tap the button to call us on WhatsApp.', payload: 'callback:1001' })]);
    await browser.screenshot(page, 'console-call-button-sent');

    await stack.emu('POST', `/emulator/users/${user}/tap-call-button`, {});
    await page.getByTestId('incoming').getByText('Incoming WhatsApp call from Ana (+15552225555) · from a call button (callback:1001)').waitFor();
    await page.locator(`[data-testid=status-${user}][data-state=connected]`).waitFor();
    expect(await page.getByTestId(`send-button-${user}`).isHidden()).toBe(true);
    await page.getByTestId(`hangup-${user}`).click();
    await page.locator(`[data-testid=status-${user}][data-state=ended]`).waitFor();
    expect(await page.getByTestId(`send-button-${user}`).isHidden()).toBe(false);
  });

  it("plays the voicemail a caller left from the contact's row: Chromium decodes the Ogg Opus the gateway fetched from Meta and hears the caller's tone", async () => {
    // the PBX is busy (SIPp answers 486): the call is refused, and Meta's voicemail takes it
    const pbx = await startSippPbx('uas-busy-expect-486.xml', { transport: 'udp' });
    try {
      await boot(trunkEnv('15550001111', pbx.hostPort, { transport: 'udp' }));
    } catch (err) {
      await pbx.stop();
      throw err;
    }
    stopPbx = () => pbx.stop();
    const w = stack.config.whatsapp;
    const settings = await fetch(`${stack.emulator.baseUrl}/${w.graphApiVersion}/${w.phoneNumberId}/settings`, {
      method: 'POST',
      headers: { authorization: `Bearer ${w.accessToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ calling: { status: 'ENABLED', voicemail: { status: 'ENABLED', triggers: ['REJECT'] } } }),
    });
    expect(settings.status).toBe(200);
    const page = await openConsole();
    await signIn(page);

    const { waCallId } = await stack.emu<{ waCallId: string }>('POST', `/emulator/users/${user}/call`, {});
    await eventually('the refused call ended at WhatsApp', async () => (await stack.emu<{ state: string }>('GET', `/emulator/calls/${waCallId}`)).state === 'ended');
    const left = await stack.emu<{ mediaId: string }>('POST', `/emulator/users/${user}/voicemail`, { durationS: 3, toneHz: 600 });
    await page.getByTestId(`status-${user}`).getByText(`(media ${left.mediaId})`, { exact: false }).waitFor();
    await page.getByTestId(`voicemail-${user}`).click();
    const audio = page.locator(`[data-testid=voicemail-audio-${user}][data-state=loaded]`);
    await audio.waitFor();
    expect(await audio.getAttribute('data-media-id')).toBe(left.mediaId);
    await browser.screenshot(page, 'console-voicemail');

    // Chromium's own demuxer and decoder (not ours) read it: the row's player finds 3 s in what the page got,
    // and decoded (the same API answer, fetched again in the page) 600 Hz carries the sound
    const playerS = await audio.evaluate(async (el: HTMLAudioElement) => {
      if (el.readyState < 1) await new Promise((resolve, reject) => ((el.onloadedmetadata = resolve), (el.onerror = () => reject(new Error(`audio error ${el.error?.code}`)))));
      return el.duration;
    });
    expect(Math.abs(playerS - 3)).toBeLessThan(0.05);
    const heard = await page.evaluate(async (path: string) => {
      const res = await fetch(path, { headers: { authorization: `Bearer ${localStorage.getItem('wagw.console.token')}` } });
      const buf = await res.arrayBuffer();
      const decoded = await new OfflineAudioContext(1, 48_000, 48_000).decodeAudioData(buf);
      const x = decoded.getChannelData(0).subarray(4_800);
      const power = (hz: number): number => {
        let re = 0;
        let im = 0;
        for (let i = 0; i < x.length; i++) {
          const a = (2 * Math.PI * hz * i) / decoded.sampleRate;
          re += (x[i] as number) * Math.cos(a);
          im += (x[i] as number) * Math.sin(a);
        }
        return (re * re + im * im) / x.length;
      };
      let energy = 0;
      for (let i = 0; i < x.length; i++) energy += (x[i] as number) * (x[i] as number);
      return { durationS: decoded.duration, at600: power(600) / energy, at440: power(440) / energy, at1000: power(1000) / energy };
    }, `/v1/calls/${encodeURIComponent(waCallId)}/voicemail`);
    expect(Math.abs(heard.durationS - 3)).toBeLessThan(0.05);
    // a pure tone puts about half its energy at its frequency on this measure; the others almost none
    expect(heard.at600).toBeGreaterThan(0.3);
    expect(heard.at440).toBeLessThan(0.01);
    expect(heard.at1000).toBeLessThan(0.01);
    expect((await pbx.result()).exitCode).toBe(0);
  });
});
