import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { CallRecord } from '@wagw/call-state';
import { ToneGenerator, type ToneReport } from '@wagw/media-bridge';
import { writeWav } from '@wagw/testing';
import { SessionRegistry } from '../../apps/media/src/sessions/session-registry';
import { MediaBusClient } from '../../apps/signalling/src/media/media-bus.client';
import { launchPhoneBrowser, type PhoneBrowser } from '../browser/phone-chromium';
import { eventually, startStack, type Stack } from '../support/stack';
import { expectNoLeaks } from '../support/leaks';


/**
 * Chromium (libwebrtc, the WebRTC stack of WhatsApp's apps) is the WhatsApp user: its phone page runs with
 * ?media=browser, so its RTCPeerConnection (a full ICE agent, unlike Meta's ICE-lite relay) makes the offer
 * the emulator relays to the gateway. Its fake microphone plays a 1 kHz WAV; the gateway (no PBX) answers
 * with its 400 Hz test tone. Both directions are checked by frequency: at the media app over the bus, and
 * in the page with a Goertzel over what the remote track played.
 */
describe('Chromium as the WhatsApp user calls a gateway with no PBX', () => {
  const user = '15556667777';
  let dir: string;
  let browser: PhoneBrowser;
  let stack: Stack;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'wagw-chromium-caller-'));
    const wav = join(dir, 'mic-1khz.wav');
    writeWav(wav, new ToneGenerator(1000, 48_000, 12_000).next(48_000 * 10), 48_000, 1);
    browser = await launchPhoneBrowser({ fakeAudioCaptureWav: wav });
  });

  afterAll(async () => {
    await browser?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  beforeEach(async () => {
    stack = await startStack({ name: 'chromium-caller' });
    await stack.emu('POST', '/emulator/users', { waId: user, name: 'Chromium' });
  });

  afterEach(() => expectNoLeaks(stack));
  afterEach(async () => {
    for (const page of browser.context.pages()) await page.close();
    await stack.close();
  });

  async function activeCall(waCallId: string): Promise<CallRecord> {
    return eventually(`call ${waCallId} active`, async () => {
      const res = await stack.api('GET', `/v1/calls/${waCallId}`);
      const rec = res.body as CallRecord;
      return res.status === 200 && rec.state === 'active' ? rec : undefined;
    }, 20_000);
  }

  function pageHears(page: Page, frequencyHz: number): Promise<ToneReport | null> {
    return page.evaluate(({ f }) => window.phone.measureTone(f, 2000), { f: frequencyHz });
  }

  it('carries 1 kHz from Chromium to the gateway and 400 Hz back, and ends when the page hangs up', async () => {
    const page = await browser.openPhone(stack.emulator.baseUrl, user, '?media=browser');
    await eventually('the page listens for media jobs', async () => {
      const m = await stack.emu<{ mode: string; pageConnected: boolean }>('GET', `/emulator/users/${user}/media-mode`);
      return m.mode === 'browser' && m.pageConnected;
    });

    await page.getByTestId('call-business').click();
    const waCallId = await eventually('the user call starts', async () => {
      const u = await stack.emu<{ currentCall: { waCallId: string } | null }>('GET', `/emulator/users/${user}`);
      return u.currentCall?.waCallId;
    }, 20_000);
    const call = await activeCall(waCallId);
    expect(call).toMatchObject({ direction: 'inbound', waCallId, userWaId: user, userName: 'Chromium' });

    // The offer WhatsApp sent is Chromium's own: a full ICE agent, DTLS actpass; the gateway answered active.
    const emuCall = await stack.emu<{ sdp: { offer: string; preAccept: string; accept: string } }>('GET', `/emulator/calls/${waCallId}`);
    expect(emuCall.sdp.offer).not.toMatch(/a=ice-lite/);
    expect(emuCall.sdp.offer).toMatch(/a=setup:actpass/);
    expect(emuCall.sdp.accept).toBe(emuCall.sdp.preAccept);
    expect(emuCall.sdp.preAccept).toMatch(/a=setup:active/);

    const media = stack.signalling.app.get(MediaBusClient);
    const atGateway = await eventually('1 kHz from Chromium at the media app', async () => {
      const r = await media.analyseWaTone(call.callId, call.waLegId as string, 1000);
      return r.framesWithTone >= 25 ? r : undefined;
    }, 20_000, 250);
    expect(atGateway.packetsReceived).toBeGreaterThanOrEqual(50); // 25 tone windows of 40 ms: at least 50 packets of 20 ms
    expect((await media.analyseWaTone(call.callId, call.waLegId as string, 400)).framesWithTone).toBe(0);
    // Against a full ICE offerer the answering leg is ICE-controlled (RFC 8445 §6.1.1), unlike against
    // Meta's ICE-lite relay, and still the DTLS client (a=setup:active).
    const legStats = stack.media.app.get(SessionRegistry).get(call.callId, call.waLegId as string).stats();
    expect(legStats).toMatchObject({ state: 'connected', role: 'answerer', iceControlling: false, dtlsRole: 'client' });

    const atChromium = await eventually('400 Hz from the gateway in Chromium', async () => {
      const r = await pageHears(page, 400);
      return r && r.framesWithTone >= 25 ? r : undefined;
    }, 20_000, 250);
    expect(atChromium.frames).toBeGreaterThanOrEqual(atChromium.framesWithTone);
    expect((await pageHears(page, 1000))?.framesWithTone).toBe(0);

    // The emulator's watchdog reads the packet counts the page reports from getStats().
    const analysis = await eventually('page media reports', async () => {
      const a = await stack.emu<{ packetsReceived: number; connectionState: string }>('GET', `/emulator/users/${user}/media/analysis`);
      return a.packetsReceived > 0 ? a : undefined;
    });
    expect(analysis.connectionState).toBe('connected');
    await page.waitForSelector('[data-testid="call-state"][data-state="active"]');

    await page.getByTestId('hangup').click();
    const ended = await eventually('call ended', async () => {
      const rec = (await stack.api('GET', `/v1/calls/${call.callId}`)).body as CallRecord;
      return rec.state === 'ended' ? rec : undefined;
    });
    expect(ended).toMatchObject({ endedBy: 'wa', state: 'ended' });
    await page.waitForSelector('[data-testid="call-state"][data-state="idle"]');
    await eventually('the page closed its peer connection', async () => (await page.evaluate(() => window.phone.mediaCall())) === null);

    // Only the CDR (its record and wacall alias) remains of the call; the user's contact and permission entries are not call state.
    const prefix = stack.config.redis.keyPrefix;
    const isCallKey = (key: string): boolean => /^[^:]+:(call|calls|wacall):/.test(key);
    let seen: string[] = [];
    await eventually('call keys released', async () => {
      seen = (await stack.keys()).filter(isCallKey);
      return seen.length === 3;
    }).catch((err: Error) => {
      throw new Error(`${err.message}; call keys: ${seen.join(', ')}`);
    });
    expect(seen).toEqual([`${prefix}:call:${call.callId}`, `${prefix}:calls:ended`, `${prefix}:wacall:${ended.waCallId}`].sort());
    const perUser = [`${prefix}:contacts`, `${prefix}:contacts:names`, `${prefix}:perm:${stack.config.whatsapp.phoneNumberId}:${user}`];
    // the signalling process's own keys (its heartbeat and the set of instances) are not the call's either
    const others = (await stack.keys()).filter((key) => !isCallKey(key) && !key.includes(':webhooks:seen:') && !/:signalling:instances?(:|$)/.test(key));
    expect(others.filter((key) => !perUser.includes(key))).toEqual([]);
    expect((await media.listLegs()).legs).toEqual([]);
  });
});
