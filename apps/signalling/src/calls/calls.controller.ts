import { Body, Controller, Get, HttpCode, Inject, NotFoundException, Param, Post, Query, Res, UseGuards } from '@nestjs/common';
import type { Response } from 'express';
import { isKeyPart, type CallRecord, type CallRepository } from '@wagw/call-state';
import { ApiTokenGuard } from '../api/api-token.guard';
import { limitParam } from '../api/limit-param';
import { CALL_REPOSITORY } from '../signalling.tokens';
import { CallOwnerForwarder } from './call-owner';
import { CallRuntime } from './call-runtime';
import { EndCallUseCase } from './end-call.use-case';
import { StartAgentCallUseCase } from './start-agent-call.use-case';
import { StartCallDto } from './start-call.dto';
import { TransferCallDto } from './transfer-call.dto';
import { TransferService } from './transfer.service';
import { GatewayDrain } from './gateway-drain';
import { VoicemailAudio, voicemailFileName } from './voicemail-audio';

/** Active calls and CDRs for the CRM and operators. */
@Controller('v1/calls')
@UseGuards(ApiTokenGuard)
export class CallsController {
  constructor(
    @Inject(CALL_REPOSITORY) private readonly calls: CallRepository,
    private readonly endCall: EndCallUseCase,
    private readonly startAgentCall: StartAgentCallUseCase,
    private readonly transfers: TransferService,
    private readonly runtime: CallRuntime,
    private readonly drain: GatewayDrain,
    private readonly owners: CallOwnerForwarder,
    private readonly voicemails: VoicemailAudio,
  ) {}

  /**
   * The agent clicks "call": 201 when the call starts now (permission granted), 202 when a permission
   * request was sent and the call waits for the reply; 403/429 with the reason when it may not be placed.
   */
  @Post()
  async start(@Body() body: StartCallDto, @Res({ passthrough: true }) res: Response): Promise<CallRecord & { messageId?: string }> {
    this.drain.assertTakingCalls();
    const result = await this.startAgentCall.execute({ to: body.to, agent: body.agent });
    res.status(result.started === 'now' ? 201 : 202);
    return result.started === 'now' ? result.record : { ...result.record, messageId: result.messageId };
  }

  @Get()
  async list(@Query('state') state?: string, @Query('limit') limit?: string): Promise<{ active: CallRecord[]; recent: CallRecord[] }> {
    const n = limitParam(limit, 50, 500);
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

  /**
   * The voicemail the user left after this call (Meta's recording, Ogg Opus), fetched from Meta with the
   * gateway's token: 404 when none was left, 410 when Meta no longer has it (7 days), 502 when Meta fails.
   */
  @Get(':id/voicemail')
  async voicemail(@Param('id') id: string, @Res() res: Response): Promise<void> {
    const file = await this.voicemails.fetch(await this.#find(id));
    res
      .status(200)
      .set({
        'content-type': file.mimeType,
        'content-length': String(file.bytes.length),
        'content-disposition': `inline; filename="${voicemailFileName(file)}"`,
        'cache-control': 'private, max-age=600',
        'x-wa-media-id': file.mediaId,
      })
      .end(file.bytes);
  }

  /**
   * Transfers an active call's desk-phone side to another extension or SIP URI (blind, through the call's
   * trunk): 202 once started; the CRM hears `call.transferred` or `call.transfer_failed`. 409 when the call
   * is not active, has no desk phone on it, or is being transferred already. A call another signalling
   * process holds (its SIP leg is there) is handed to that process: 202 with `heldBy`, and its refusals come
   * as `call.transfer_failed`.
   */
  @Post(':id/transfer')
  @HttpCode(202)
  async transfer(@Param('id') id: string, @Body() body: TransferCallDto): Promise<{ callId: string; to: string; heldBy?: string }> {
    const rec = await this.#find(id);
    const live = this.runtime.get(rec.callId);
    if (!live && rec.state === 'active') {
      const heldBy = await this.owners.transferAtOwner(rec, body.to);
      if (heldBy) return { callId: rec.callId, to: body.to, heldBy };
    }
    this.transfers.requestTransfer(live, rec.state, rec.callId, body.to);
    return { callId: rec.callId, to: body.to };
  }

  async #find(id: string): Promise<CallRecord> {
    // an id no call can have (empty, spaces, control or glob characters, over 512 characters) is not looked up
    if (!isKeyPart(id)) throw new NotFoundException(`no call ${JSON.stringify(id)}`);
    const rec = (await this.calls.get(id)) ?? (await this.calls.getByWaCallId(id));
    if (!rec) throw new NotFoundException(`no call ${id}`);
    return rec;
  }
}
