import { Controller, Get, Inject } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@wagw/config';
import { SessionRegistry } from '../sessions/session-registry';

export interface MediaHealth {
  status: 'ok' | 'draining';
  legs: number;
  /** media.instanceId, when this is one of several media apps. */
  instanceId?: string;
}

/** Liveness for orchestrators and the demo: how many WhatsApp legs this process holds. */
@Controller('health')
export class HealthController {
  readonly #instanceId: string;

  constructor(
    private readonly registry: SessionRegistry,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.#instanceId = config.media.instanceId;
  }

  @Get()
  health(): MediaHealth {
    return { status: this.registry.draining ? 'draining' : 'ok', legs: this.registry.size, ...(this.#instanceId ? { instanceId: this.#instanceId } : {}) };
  }
}
