import type { AppConfig } from '@wagw/config';
import { silentLogger } from '@wagw/logging';
import { type EmulatorHandle, bootstrapEmulator } from '../src/bootstrap';
import { testConfig } from './core-harness';
import { FakeUserMediaFactory } from './fake-user-media';
import { type HttpResult, WebhookReceiver, httpJson } from './webhook-receiver';

/**
 * Short timings so timer rules show within a test (the schema's minimum is 1 s). The media watchdog gets
 * 5 s so calls in tests about other rules stay up on a loaded machine; watchdog tests ask for 1 s.
 */
export const FAST_TIMING: Partial<AppConfig['emulator']> = {
  acceptWindowMs: 1000,
  ringTimeoutMs: 1000,
  mediaTimeoutMs: 5000,
  webhookRetryBaseDelayMs: 50,
  webhookMaxAttempts: 4,
};

export interface EmulatorHarness {
  emulator: EmulatorHandle;
  receiver: WebhookReceiver;
  media: FakeUserMediaFactory;
  config: AppConfig;
  /** A Graph request for the configured business number with the configured token. */
  graph(method: 'GET' | 'POST', path: string, body?: unknown, token?: string): Promise<HttpResult>;
  control(method: 'GET' | 'POST' | 'PUT', path: string, body?: unknown): Promise<HttpResult>;
  close(): Promise<void>;
}

/**
 * Boots the emulator in-process with a signature-checking webhook receiver. Users get the fake media
 * (`media`), or with `realUserMedia` the app's default factory (werift SimulatedUserMediaFactory).
 */
export async function startEmulatorHarness(emulator: Partial<AppConfig['emulator']> = {}, options: { realUserMedia?: boolean } = {}): Promise<EmulatorHarness> {
  const base = testConfig();
  const receiver = await WebhookReceiver.start(base.whatsapp.appSecret);
  const config = testConfig({ ...FAST_TIMING, ...emulator, webhookUrl: receiver.url });
  const media = new FakeUserMediaFactory();
  let handle: EmulatorHandle;
  try {
    handle = await bootstrapEmulator(config, { ...(options.realUserMedia ? {} : { userMediaFactory: media }), logger: silentLogger(), port: 0 });
  } catch (err) {
    await receiver.close();
    throw err;
  }
  const { phoneNumberId, graphApiVersion, accessToken } = config.whatsapp;
  return {
    emulator: handle,
    receiver,
    media,
    config,
    graph: (method, path, body, token = accessToken) =>
      httpJson(method, `${handle.baseUrl}/${graphApiVersion}/${phoneNumberId}/${path}`, body, { authorization: `Bearer ${token}` }),
    control: (method, path, body) => httpJson(method, `${handle.baseUrl}/emulator/${path}`, body),
    close: async () => {
      await handle.close();
      await receiver.close();
    },
  };
}
