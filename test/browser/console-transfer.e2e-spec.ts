import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BaresipHandle } from '@wagw/testing';
import { expectNoLeaks } from '../support/leaks';
import { startDemoPbx, startExtension, type DemoPbx } from '../support/pbx';
import { userHeard } from '../support/pbx-to-whatsapp';
import { startStack, type Stack } from '../support/stack';
import { launchPhoneBrowser, type PhoneBrowser } from './phone-chromium';

/**
 * The agent console (GET /console, headless Chromium) with real desk phones: a WhatsApp user's call rings
 * extension 1001 (baresip behind Kamailio); the agent sees it connected, sees the desk phone's hold and
 * resume, refuses a bad target with the API's reason, and transfers the call to 1002 from the console
 * (POST /v1/calls/{id}/transfer): the row says so and the user hears 1002.
 */
const USER = '15552229999';
const BUSINESS = '15550001111';

describe('the agent console transfers a call to a colleague and shows the desk phone holding it', () => {
  let dir: string;
  let pbx: DemoPbx | undefined;
  let second: BaresipHandle | undefined;
  let stack: Stack | undefined;
  let browser: PhoneBrowser | undefined;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'wagw-console-transfer-'));
    pbx = await startDemoPbx({ transport: 'udp', phoneToneHz: 400, dir });
    second = await startExtension(dir, { host: pbx.kamailio.host, port: pbx.kamailio.port }, '1002', 700);
    stack = await startStack({ name: 'console-transfer', env: pbx.gatewayEnv(BUSINESS) });
    await stack.emu('POST', '/emulator/users', { waId: USER, name: 'Lia' });
    browser = await launchPhoneBrowser();
  });

  afterEach(() => expectNoLeaks(stack));
  afterEach(async () => {
    await browser?.close();
    await stack?.close();
    await second?.stop();
    await pbx?.stop();
    [browser, stack, second, pbx] = [undefined, undefined, undefined, undefined];
    rmSync(dir, { recursive: true, force: true });
  });

  it('holds, resumes and transfers from the row of the call', async () => {
    const s = stack as Stack;
    const page = await (browser as PhoneBrowser).context.newPage();
    await page.setViewportSize({ width: 1200, height: 640 });
    await page.goto(`${s.signalling.baseUrl}/console`);
    await page.getByTestId('token').fill(s.config.signalling.apiToken);
    await page.getByTestId('login-submit').click();
    await page.locator('[data-testid=live][data-state=live]').waitFor();

    await s.emu('POST', `/emulator/users/${USER}/call`, {});
    await s.emu('POST', `/emulator/users/${USER}/media/tone`, { frequencyHz: 1000 });
    const status = page.getByTestId(`status-${USER}`);
    await page.locator(`[data-testid=status-${USER}][data-state=connected]`).waitFor(); // call.connected (was never sent for PBX calls)
    expect(await userHeard(s, USER, 400)).toBeGreaterThanOrEqual(25);

    await (pbx as DemoPbx).phone.command('hold');
    await status.getByText(/· on hold$/).waitFor();
    await (pbx as DemoPbx).phone.command('resume');
    await page.waitForFunction((id) => !/on hold/.test(document.querySelector(`[data-testid=status-${id}]`)?.textContent ?? ''), USER);

    await page.getByTestId(`transfer-to-${USER}`).fill('not a target');
    await page.getByTestId(`transfer-submit-${USER}`).click();
    await page.getByTestId('error').getByText('to must be an extension').waitFor();

    await page.getByTestId(`transfer-to-${USER}`).fill('1002');
    await page.getByTestId(`transfer-submit-${USER}`).click();
    await (second as BaresipHandle).waitEvent('CALL_ESTABLISHED', 20_000);
    await status.getByText(/^Connected \d+:\d\d · transferred to 1002$/).waitFor();
    expect(await userHeard(s, USER, 700)).toBeGreaterThanOrEqual(25); // 1002's tone
    await (browser as PhoneBrowser).screenshot(page, 'console-transferred');

    await page.getByTestId(`hangup-${USER}`).click();
    await page.locator(`[data-testid=status-${USER}][data-state=ended]`).waitFor();
    await (second as BaresipHandle).waitEvent('CALL_CLOSED', 20_000);
  });
});
