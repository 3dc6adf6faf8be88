import { Controller, Get, HttpStatus, Inject, Res } from '@nestjs/common';
import type { Response } from 'express';
import type Redis from 'ioredis';
import { SIGNALLING_REDIS } from '../signalling.tokens';
import { GatewayDrain } from '../calls/gateway-drain';

export type SignallingHealth = { status: 'ok'; redis: 'up' } | { status: 'error'; redis: 'down'; reason: string } | { status: 'draining'; reason: string };

/**
 * Liveness and readiness: 200 when Redis answers; 503 with the reason otherwise, and 503 `draining` while the
 * app shuts down (it takes no new calls: a load balancer should send webhooks to another instance).
 */
@Controller('health')
export class HealthController {
  constructor(
    @Inject(SIGNALLING_REDIS) private readonly redis: Redis,
    private readonly drain: GatewayDrain,
  ) {}

  @Get()
  async health(@Res({ passthrough: true }) res: Response): Promise<SignallingHealth> {
    if (this.drain.draining) {
      res.status(HttpStatus.SERVICE_UNAVAILABLE);
      return { status: 'draining', reason: 'the gateway is shutting down and takes no new calls' };
    }
    try {
      await this.redis.ping();
    } catch (err) {
      res.status(HttpStatus.SERVICE_UNAVAILABLE);
      return { status: 'error', redis: 'down', reason: (err as Error).message };
    }
    return { status: 'ok', redis: 'up' };
  }
}
