import { type AppConfig, loadConfig } from '@wagw/config';
import { silentLogger } from '@wagw/logging';
import { verifyWebhookSignature } from '@wagw/whatsapp';
import { EmulatorCore } from '../src/domain/emulator.core';
import type { WebhookTransport } from '../src/domain/webhook.sender';
import { FakeUserMediaFactory } from './fake-user-media';
import { type FlatEvent, flattenWebhook } from './webhook-events';

/** The repository's default configuration with emulator keys overridden. */
export function testConfig(emulator: Partial<AppConfig['emulator']> = {}): AppConfig {
  const base = loadConfig({ env: {} });
  return { ...base, emulator: { ...base.emulator, ...emulator } };
}

/** Webhook transport for unit tests: keeps every body, answers 200 (or 500 while `failNext` > 0). */
export class MemoryTransport implements WebhookTransport {
  readonly bodies: unknown[] = [];
  readonly signaturesValid: boolean[] = [];
  failNext = 0;
  attempts = 0;

  constructor(private readonly appSecret: string) {}

  async post(_url: string, body: Buffer, headers: Record<string, string>): Promise<number> {
    this.attempts += 1;
    if (this.failNext > 0) {
      this.failNext -= 1;
      return 500;
    }
    this.signaturesValid.push(verifyWebhookSignature(body, headers['x-hub-signature-256'], this.appSecret).ok);
    this.bodies.push(JSON.parse(body.toString('utf8')));
    return 200;
  }

  events(): FlatEvent[] {
    return this.bodies.flatMap(flattenWebhook);
  }

  eventsOf(id: string): FlatEvent[] {
    return this.events().filter((e) => e.id === id);
  }

  types(id?: string): string[] {
    return (id === undefined ? this.events() : this.eventsOf(id)).map((e) => e.type);
  }
}

export interface TestCore {
  core: EmulatorCore;
  media: FakeUserMediaFactory;
  transport: MemoryTransport;
  config: AppConfig;
}

export function createTestCore(emulator: Partial<AppConfig['emulator']> = {}): TestCore {
  const config = testConfig({ webhookRetryBaseDelayMs: 10, ...emulator });
  const media = new FakeUserMediaFactory();
  const transport = new MemoryTransport(config.whatsapp.appSecret);
  const core = new EmulatorCore({ config, userMediaFactory: media, logger: silentLogger(), webhookTransport: transport });
  return { core, media, transport, config };
}

/**
 * A fresh core for each test of the calling `describe`, on Jest's fake timers (the emulator's clock and timers
 * move only when the test advances them), closed after the test:
 * `let h: TestCore; freshTestCore((c) => (h = c), { acceptWindowMs: 30_000 });`
 */
export function freshTestCore(assign: (h: TestCore) => void, emulator: Partial<AppConfig['emulator']> = {}): void {
  let current: TestCore | undefined;
  beforeEach(() => {
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate'] });
    current = createTestCore(emulator);
    assign(current);
  });
  afterEach(async () => {
    await current?.core.close();
    jest.useRealTimers();
  });
}

/** What `fn` threw, for a test that looks at the error itself (fails when nothing is thrown). */
export function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected a throw');
}
