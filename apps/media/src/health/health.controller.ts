import { Controller, Get } from '@nestjs/common';
import { SessionRegistry } from '../sessions/session-registry';

export interface MediaHealth {
  status: 'ok' | 'draining';
  legs: number;
}

/** Liveness for orchestrators and the demo: how many WhatsApp legs this process holds. */
@Controller('health')
export class HealthController {
  constructor(private readonly registry: SessionRegistry) {}

  @Get()
  health(): MediaHealth {
    return { status: this.registry.draining ? 'draining' : 'ok', legs: this.registry.size };
  }
}
