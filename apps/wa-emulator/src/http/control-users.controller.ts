import { Body, Controller, Get, HttpCode, Inject, Param, Post, Put, Query, UseFilters } from '@nestjs/common';
import type { EmulatorCore } from '../domain/emulator.core';
import type { ReplyResult } from '../domain/permission.flow';
import type { UserBehaviour } from '../domain/users.registry';
import type { VoicemailLeft } from '../domain/voicemail.flow';
import { EMULATOR_CORE } from '../emulator.tokens';
import { ControlExceptionFilter } from './control-exception.filter';
import {
  AnalysisQueryDto,
  sentFields,
  BehaviourDto,
  CreateUserDto,
  DtmfDto,
  PermissionReplyDto,
  RevokeDto,
  TapCallButtonDto,
  ToneDto,
  UserCallDto,
  VoicemailDto,
  WavDto,
} from './control.dto';

/** Simulated WhatsApp users: /emulator/users (documented in apps/wa-emulator/README.md). */
@Controller('emulator/users')
@UseFilters(ControlExceptionFilter)
export class ControlUsersController {
  constructor(@Inject(EMULATOR_CORE) private readonly core: EmulatorCore) {}

  @Post()
  create(@Body() body: CreateUserDto): Record<string, unknown> {
    return this.core.createUser(body.waId, body.name);
  }

  @Get()
  list(): Record<string, unknown>[] {
    return this.core.listUsers();
  }

  @Get(':waId')
  get(@Param('waId') waId: string): Record<string, unknown> {
    return this.core.userView(waId);
  }

  @Put(':waId/behaviour')
  behaviour(@Param('waId') waId: string, @Body() body: BehaviourDto): UserBehaviour {
    return this.core.setBehaviour(waId, sentFields(body));
  }

  @Post(':waId/call')
  @HttpCode(200)
  call(@Param('waId') waId: string, @Body() body: UserCallDto): Promise<{ waCallId: string }> {
    return this.core.userCall(waId, sentFields(body));
  }

  @Post(':waId/tap-call-button')
  @HttpCode(200)
  tapCallButton(@Param('waId') waId: string, @Body() body: TapCallButtonDto): Promise<{ waCallId: string; messageId: string; payload: string | null }> {
    return this.core.tapCallButton(waId, body.messageId);
  }

  @Post(':waId/hangup')
  @HttpCode(200)
  hangup(@Param('waId') waId: string): Record<string, unknown> {
    return this.core.hangup(waId);
  }

  @Post(':waId/answer')
  @HttpCode(200)
  answer(@Param('waId') waId: string): Record<string, unknown> {
    return this.core.answer(waId);
  }

  @Post(':waId/reject')
  @HttpCode(200)
  reject(@Param('waId') waId: string): Record<string, unknown> {
    return this.core.reject(waId);
  }

  /** The user leaves a voicemail on an unanswered call of theirs (README "Voicemail"). */
  @Post(':waId/voicemail')
  @HttpCode(200)
  voicemail(@Param('waId') waId: string, @Body() body: VoicemailDto): VoicemailLeft {
    return this.core.leaveVoicemail(waId, sentFields(body));
  }

  @Post(':waId/permission-reply')
  @HttpCode(200)
  permissionReply(@Param('waId') waId: string, @Body() body: PermissionReplyDto): ReplyResult {
    return this.core.permissionReply(waId, { ...sentFields(body), choice: body.choice });
  }

  @Post(':waId/revoke')
  @HttpCode(200)
  revoke(@Param('waId') waId: string, @Body() body: RevokeDto): Record<string, unknown> {
    return this.core.revoke(waId, body.notify ?? false);
  }

  @Post(':waId/media/tone')
  @HttpCode(200)
  tone(@Param('waId') waId: string, @Body() body: ToneDto): { ok: true } {
    this.core.media.playTone(waId, body.frequencyHz);
    return { ok: true };
  }

  @Post(':waId/media/wav')
  @HttpCode(200)
  async wav(@Param('waId') waId: string, @Body() body: WavDto): Promise<{ ok: true }> {
    await this.core.media.playWav(waId, body.path);
    return { ok: true };
  }

  @Post(':waId/media/stop')
  @HttpCode(200)
  stop(@Param('waId') waId: string): { ok: true } {
    this.core.media.stop(waId);
    return { ok: true };
  }

  @Post(':waId/media/cut')
  @HttpCode(200)
  cut(@Param('waId') waId: string): { ok: true } {
    this.core.media.cutNetwork(waId);
    return { ok: true };
  }

  @Post(':waId/media/dtmf')
  @HttpCode(200)
  async dtmf(@Param('waId') waId: string, @Body() body: DtmfDto): Promise<{ ok: true }> {
    await this.core.media.dtmf(waId, body.digits, body.durationMs);
    return { ok: true };
  }

  @Get(':waId/media/analysis')
  analysis(@Param('waId') waId: string, @Query() query: AnalysisQueryDto): Record<string, unknown> {
    return this.core.media.analysis(waId, query.frequencyHz);
  }
}
