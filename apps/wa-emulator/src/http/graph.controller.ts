import { Body, Controller, Get, Headers, HttpCode, Inject, Post, Query, UseFilters, UseGuards } from '@nestjs/common';
import type { EmulatorCore } from '../domain/emulator.core';
import { EMULATOR_CORE } from '../emulator.tokens';
import { GraphAuthGuard } from './graph-auth.guard';
import { GraphExceptionFilter } from './graph-exception.filter';

/**
 * Meta's Graph endpoints for the business number (reference §3, §5.1-§5.2) and the Cloud API media upload.
 * Bodies are Meta's wire format, parsed and judged by the core (100 with error_data on problems), so no DTO
 * whitelist applies here.
 */
@Controller(':version/:phoneNumberId')
@UseGuards(GraphAuthGuard)
@UseFilters(GraphExceptionFilter)
export class GraphController {
  constructor(@Inject(EMULATOR_CORE) private readonly core: EmulatorCore) {}

  @Post('calls')
  @HttpCode(200)
  calls(@Body() body: unknown): Promise<Record<string, unknown>> {
    return this.core.callsAction(body);
  }

  @Post('messages')
  @HttpCode(200)
  messages(@Body() body: unknown): Record<string, unknown> {
    return this.core.sendMessage(body);
  }

  /** Cloud API "Media", upload: the multipart body arrives as raw bytes (body-parsing.ts), read by the core. */
  @Post('media')
  @HttpCode(200)
  uploadMedia(@Headers('content-type') contentType: string | undefined, @Body() body: unknown): { id: string } {
    return this.core.uploadMedia(contentType, body);
  }

  @Get('call_permissions')
  callPermissions(@Query() query: Record<string, unknown>): Record<string, unknown> {
    return this.core.callPermissions(query);
  }

  @Get('settings')
  settings(): Record<string, unknown> {
    return this.core.getSettings();
  }

  @Post('settings')
  @HttpCode(200)
  updateSettings(@Body() body: unknown): Record<string, unknown> {
    return this.core.updateSettings(body);
  }
}
