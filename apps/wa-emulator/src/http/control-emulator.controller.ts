import { Body, Controller, Get, HttpCode, Inject, Param, Post, Put, Query, UseFilters } from '@nestjs/common';
import type { EmulatorCore, EmulatorFaults } from '../domain/emulator.core';
import { EMULATOR_CORE } from '../emulator.tokens';
import { ControlExceptionFilter } from './control-exception.filter';
import { AccountEventDto, ClockAdvanceDto, FaultsDto, GraphRequestQueryDto, TemplateDto, WebhookLogQueryDto, sentFields, toAccountEventInput } from './control.dto';
import type { GraphRequestRecord } from '../domain/graph-request.log';
import type { WebhookChange } from '../domain/webhook-payloads';

/** Account events, calls, clock, faults, delivery log, templates and reset: /emulator/* (see apps/wa-emulator/README.md). */
@Controller('emulator')
@UseFilters(ControlExceptionFilter)
export class ControlEmulatorController {
  constructor(@Inject(EMULATOR_CORE) private readonly core: EmulatorCore) {}

  /** Sends `account_update` (README "Account restrictions and violations"); answers the change sent. */
  @Post('account/events')
  @HttpCode(200)
  accountEvent(@Body() body: AccountEventDto): WebhookChange {
    return this.core.accountEvent(toAccountEventInput(body));
  }

  @Get('calls')
  calls(): Record<string, unknown>[] {
    return this.core.listCalls();
  }

  @Get('calls/:waCallId')
  call(@Param('waCallId') waCallId: string): Record<string, unknown> {
    return this.core.callView(waCallId);
  }

  @Get('clock')
  clock(): Record<string, unknown> {
    return this.core.clockView();
  }

  @Post('clock/advance')
  @HttpCode(200)
  advance(@Body() body: ClockAdvanceDto): Record<string, unknown> {
    return this.core.advanceClock(body.ms);
  }

  @Get('faults')
  faults(): EmulatorFaults {
    return this.core.faults();
  }

  @Put('faults')
  setFaults(@Body() body: FaultsDto): EmulatorFaults {
    return this.core.setFaults(sentFields(body));
  }

  /** Graph requests the business made (authorised ones), oldest first. */
  @Get('graph-requests')
  graphRequests(@Query() query: GraphRequestQueryDto): GraphRequestRecord[] {
    return this.core.graphRequests.list(sentFields(query));
  }

  @Get('webhooks')
  webhooks(@Query() query: WebhookLogQueryDto): Record<string, unknown>[] {
    return this.core.webhookLog(sentFields(query));
  }

  @Post('templates')
  @HttpCode(200)
  registerTemplate(@Body() body: TemplateDto): { callPermissionTemplates: string[] } {
    return { callPermissionTemplates: this.core.registerPermissionTemplate(body.name) };
  }

  @Get('templates')
  templates(): { callPermissionTemplates: string[] } {
    return { callPermissionTemplates: this.core.permissions.permissionTemplates() };
  }

  @Post('reset')
  @HttpCode(200)
  async reset(): Promise<{ ok: true }> {
    await this.core.reset();
    return { ok: true };
  }
}
