import { Controller, Get, HttpException, HttpStatus, Inject } from '@nestjs/common';
import type Redis from 'ioredis';
import { SIGNALLING_REDIS } from '../signalling.tokens';

/** Liveness and readiness: 200 when Redis answers, 503 with the reason otherwise. */
@Controller('health')
export class HealthController {
  constructor(@Inject(SIGNALLING_REDIS) private readonly redis: Redis) {}

  @Get()
  async health(): Promise<{ status: 'ok'; redis: 'up' }> {
    try {
      await this.redis.ping();
    } catch (err) {
      throw new HttpException({ status: 'error', redis: 'down', reason: (err as Error).message }, HttpStatus.SERVICE_UNAVAILABLE);
    }
    return { status: 'ok', redis: 'up' };
  }
}
