import { Body, Controller, Get, HttpCode, Inject, Param, Post, Put, Req, Res, UseFilters } from '@nestjs/common';
import type { Request, Response } from 'express';
import type { EmulatorCore } from '../domain/emulator.core';
import { EMULATOR_CORE } from '../emulator.tokens';
import { ControlExceptionFilter } from '../http/control-exception.filter';
import type { BrowserJobEnvelope } from '../media/browser-media.hub';
import type { UserMediaMode } from '../media/media-mode.factory';
import { BrowserJobResultDto, BrowserMediaReportDto, MediaModeDto } from './browser-media.dto';
import { PHONE_SERVICES, type PhoneServices } from './phone.tokens';

/** A comment line keeps proxies and the browser from timing out an idle job stream. */
const HEARTBEAT_MS = 15_000;

export interface MediaModeView {
  waId: string;
  mode: UserMediaMode;
  /** A phone page has the user's job stream open. */
  pageConnected: boolean;
}

/**
 * The user's media mode and the browser media relay (apps/wa-emulator/README.md "Phone page"): the job
 * stream a `?media=browser` phone page listens to (Server-Sent Events), its answers, and its media reports.
 */
@Controller('emulator/users')
@UseFilters(ControlExceptionFilter)
export class BrowserMediaController {
  constructor(
    @Inject(EMULATOR_CORE) private readonly core: EmulatorCore,
    @Inject(PHONE_SERVICES) private readonly phone: PhoneServices,
  ) {}

  @Get(':waId/media-mode')
  mediaMode(@Param('waId') waId: string): MediaModeView {
    this.core.users.get(waId);
    return this.#view(waId);
  }

  /** Which media serves the user's next call: `simulated` (werift), `browser` (the phone page) or `sdp-only` (load runs). */
  @Put(':waId/media-mode')
  setMediaMode(@Param('waId') waId: string, @Body() body: MediaModeDto): MediaModeView {
    this.core.users.ensure(waId);
    this.phone.media.setMode(waId, body.mode);
    return this.#view(waId);
  }

  /** Server-Sent Events: `ready` once, then one `job` event per job (JSON BrowserJobEnvelope). */
  @Get(':waId/browser-media/jobs')
  jobs(@Param('waId') waId: string, @Req() req: Request, @Res() res: Response): void {
    this.core.users.ensure(waId);
    res.status(200).set({ 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    res.flushHeaders();
    res.write('retry: 1000\n\nevent: ready\ndata: {}\n\n');
    const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), HEARTBEAT_MS);
    const stop = (): void => clearInterval(heartbeat);
    const unsubscribe = this.phone.hub.subscribe(waId, {
      send: (job: BrowserJobEnvelope) => res.write(`event: job\ndata: ${JSON.stringify(job)}\n\n`),
      end: () => {
        stop();
        res.end();
      },
    });
    req.on('close', () => {
      stop();
      unsubscribe();
    });
  }

  @Post(':waId/browser-media/jobs/:jobId')
  @HttpCode(200)
  jobResult(@Param('waId') waId: string, @Param('jobId') jobId: string, @Body() body: BrowserJobResultDto): { ok: true } {
    this.phone.hub.complete(waId, jobId, {
      ...(body.sdp !== undefined ? { sdp: body.sdp } : {}),
      ...(body.error !== undefined ? { error: body.error } : {}),
    });
    return { ok: true };
  }

  /** `accepted: false` when the call's media is gone (the call ended): the page may stop reporting. */
  @Post(':waId/browser-media/report')
  @HttpCode(200)
  report(@Param('waId') waId: string, @Body() body: BrowserMediaReportDto): { accepted: boolean } {
    this.core.users.get(waId);
    if (this.core.lifecycle.find(body.callId)?.waId !== waId) return { accepted: false };
    return { accepted: this.phone.hub.report({ ...body }) };
  }

  #view(waId: string): MediaModeView {
    return { waId, mode: this.phone.media.mode(waId), pageConnected: this.phone.hub.pageConnected(waId) };
  }
}
