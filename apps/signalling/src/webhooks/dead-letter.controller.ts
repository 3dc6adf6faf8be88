import { Controller, Get, Inject, Query, UseGuards } from '@nestjs/common';
import { ApiTokenGuard } from '../api/api-token.guard';
import { limitParam } from '../api/limit-param';
import { DEAD_LETTERS } from '../signalling.tokens';
import type { DeadLetter, DeadLetterRepository } from './dead-letter.repository';

/** Operators read the webhooks that were acknowledged but not applied (unknown or invalid shape). */
@Controller('v1/webhooks/dead-letters')
@UseGuards(ApiTokenGuard)
export class DeadLetterController {
  constructor(@Inject(DEAD_LETTERS) private readonly deadLetters: DeadLetterRepository) {}

  @Get()
  async list(@Query('limit') limit?: string): Promise<{ total: number; items: DeadLetter[] }> {
    const n = limitParam(limit, 50, 1000);
    const [total, items] = await Promise.all([this.deadLetters.count(), this.deadLetters.list(n)]);
    return { total, items };
  }
}
