import { Controller, Get, Inject } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@wagw/config';
import { SessionRegistry } from '../sessions/session-registry';
import { CallAdmission } from '../sessions/call-admission';

export interface MediaHealth {
  status: 'ok' | 'draining';
  legs: number;
  /** Calls carried now, and media.maxCalls (0: no limit). */
  calls: number;
  maxCalls: number;
  /** media.instanceId, when this is one of several media apps. */
  instanceId?: string;
}

/** Liveness for orchestrators and the demo: how many WhatsApp legs and calls this process holds. */
@Controller('health')
export class HealthController {
  readonly #instanceId: string;

  constructor(
    private readonly registry: SessionRegistry,
    private readonly admission: CallAdmission,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.#instanceId = config.media.instanceId;
  }

  @Get()
  health(): MediaHealth {
    return {
      status: this.registry.draining ? 'draining' : 'ok',
      legs: this.registry.size,
      calls: this.admission.calls,
      maxCalls: this.admission.maxCalls,
      ...(this.#instanceId ? { instanceId: this.#instanceId } : {}),
    };
  }
}
