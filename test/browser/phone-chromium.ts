import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, type Page, chromium } from 'playwright-core';
import type { ToneReport } from '@wagw/media-bridge';

/** The phone page's test hooks (apps/wa-emulator/src/phone/assets/phone.js), read with page.evaluate. */
declare global {
  interface Window {
    phone: {
      waId: string;
      mode: 'browser' | 'simulated';
      /** Goertzel tone check over the newest `lastMs` of what the remote track played (browser mode). */
      measureTone(frequencyHz: number, lastMs?: number): ToneReport | null;
      mediaCall(): { callId: string; connectionState: string; packetsReceived: number } | null;
    };
  }
}

/**
 * Headless Chromium (Debian's build, libwebrtc) for the phone page tests, with the flags measured in
 * shared/reference/test-peers.md "Chromium": fake media devices without a permission prompt, loopback ICE
 * candidates allowed, and audio allowed to play without a gesture.
 */
// eslint-disable-next-line no-process-env -- test tooling: another Chromium binary may be named here
export const CHROMIUM_PATH = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
export const SCREENSHOT_DIR = join(__dirname, '..', '..', 'test-output', 'screenshots');

export interface PhoneBrowser {
  context: BrowserContext;
  /** A new tab on http://localhost:<port>/phone/:waId (localhost: a secure context, so mediaDevices exists). */
  openPhone(emulatorBaseUrl: string, waId: string, query?: string): Promise<Page>;
  screenshot(page: Page, name: string): Promise<string>;
  close(): Promise<void>;
}

export interface PhoneBrowserOptions {
  /** A WAV (48 kHz mono 16-bit works) that Chromium's fake microphone plays in a loop. */
  fakeAudioCaptureWav?: string;
}

export async function launchPhoneBrowser(options: PhoneBrowserOptions = {}): Promise<PhoneBrowser> {
  const profile = mkdtempSync(join(tmpdir(), 'wagw-chromium-'));
  const args = [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--use-fake-device-for-media-stream',
    '--use-fake-ui-for-media-stream',
    '--allow-loopback-in-peer-connection',
    '--autoplay-policy=no-user-gesture-required',
    ...(options.fakeAudioCaptureWav ? [`--use-file-for-fake-audio-capture=${options.fakeAudioCaptureWav}`] : []),
  ];
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM_PATH, headless: true, args, viewport: { width: 420, height: 640 } });
  } catch (err) {
    rmSync(profile, { recursive: true, force: true });
    throw err;
  }
  return {
    context,
    openPhone: async (baseUrl, waId, query = '') => {
      const url = new URL(baseUrl);
      const page = await context.newPage();
      await page.goto(`http://localhost:${url.port}/phone/${waId}${query}`);
      await page.waitForSelector('body[data-ready="true"]', { timeout: 10_000 });
      return page;
    },
    screenshot: async (page, name) => {
      mkdirSync(SCREENSHOT_DIR, { recursive: true });
      const path = join(SCREENSHOT_DIR, `${name}.png`);
      await page.screenshot({ path });
      return path;
    },
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
