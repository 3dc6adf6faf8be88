import { Controller, Get, HttpCode, Inject, NotFoundException, Param, Post, Query, UseGuards } from '@nestjs/common';
import type { CallRecord, CallRepository } from '@wagw/call-state';
import { ApiTokenGuard } from '../api/api-token.guard';
import { CALL_REPOSITORY } from '../signalling.tokens';
import { EndCallUseCase } from './end-call.use-case';

/** Active calls and CDRs for the CRM and operators. */
@Controller('v1/calls')
@UseGuards(ApiTokenGuard)
export class CallsController {
  constructor(
    @Inject(CALL_REPOSITORY) private readonly calls: CallRepository,
    private readonly endCall: EndCallUseCase,
  ) {}

  @Get()
  async list(@Query('state') state?: string, @Query('limit') limit?: string): Promise<{ active: CallRecord[]; recent: CallRecord[] }> {
    const n = Math.min(Math.max(Number(limit ?? 50) || 50, 1), 500);
    const [active, recent] = await Promise.all([this.calls.listActive(), this.calls.listRecent(n)]);
    const filter = (r: CallRecord): boolean => !state || r.state === state;
    return { active: active.filter(filter), recent: recent.filter(filter) };
  }

  @Get(':id')
  async get(@Param('id') id: string): Promise<CallRecord> {
    return this.#find(id);
  }

  /** Hangs up a call in any state: every leg is released; the answer is the record once it ended. */
  @Post(':id/hangup')
  @HttpCode(200)
  async hangup(@Param('id') id: string): Promise<CallRecord> {
    const rec = await this.#find(id);
    await this.endCall.execute(rec.callId, { by: 'api', cause: 'hung up through the API' });
    return this.#find(rec.callId);
  }

  async #find(id: string): Promise<CallRecord> {
    const rec = (await this.calls.get(id)) ?? (await this.calls.getByWaCallId(id));
    if (!rec) throw new NotFoundException(`no call ${id}`);
    return rec;
  }
}
