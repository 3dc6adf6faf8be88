import { Controller, Get, Inject, Param, Query, Req, Res, UseFilters, UseGuards } from '@nestjs/common';
import type { Request, Response } from 'express';
import type { EmulatorCore } from '../domain/emulator.core';
import { EMULATOR_CORE } from '../emulator.tokens';
import { BearerTokenGuard, GraphTokenGuard } from './graph-auth.guard';
import { GraphExceptionFilter } from './graph-exception.filter';

/**
 * `<scheme>://<host>` the request came to (its Host header), so download URLs point at whatever address and
 * port the client reached the emulator on; the socket's local address when the header is missing or odd.
 */
export function requestOrigin(req: Request): string {
  const header = req.get('host');
  const local = req.socket.localAddress ?? '127.0.0.1';
  const host = header !== undefined && /^[A-Za-z0-9.\-_:[\]]+$/.test(header) ? header : `${local.includes(':') ? `[${local}]` : local}:${req.socket.localPort}`;
  return `${req.protocol}://${host}`;
}

/**
 * Cloud API "Media", retrieve a media URL: `GET /<version>/<MEDIA_ID>[?phone_number_id=]`. Registered after
 * every other two-segment route (control, phone page) and after MediaDownloadController, whose path it would
 * also match; the phone-number check of the business routes does not apply (the id is the media's).
 */
@Controller(':version/:mediaId')
@UseGuards(GraphTokenGuard)
@UseFilters(GraphExceptionFilter)
export class GraphMediaController {
  constructor(@Inject(EMULATOR_CORE) private readonly core: EmulatorCore) {}

  @Get()
  media(@Param('mediaId') mediaId: string, @Query() query: Record<string, unknown>, @Req() req: Request): Record<string, unknown> {
    return this.core.getMedia(mediaId, query, requestOrigin(req));
  }
}

/**
 * The download URL GET /<MEDIA_ID> gives, Meta's lookaside path on the emulator's server:
 * `GET /whatsapp_business/attachments/?mid=&ext=&hash=` with the bearer token. The body is the stored bytes as
 * they are (written on the raw response, so no serialiser or interceptor touches them).
 */
@Controller('whatsapp_business/attachments')
@UseGuards(BearerTokenGuard)
@UseFilters(GraphExceptionFilter)
export class MediaDownloadController {
  constructor(@Inject(EMULATOR_CORE) private readonly core: EmulatorCore) {}

  @Get()
  download(@Query() query: Record<string, unknown>, @Res() res: Response): void {
    const media = this.core.downloadMedia(query);
    res.writeHead(200, { 'Content-Type': media.mimeType, 'Content-Length': String(media.fileSize) });
    res.end(media.bytes);
  }
}
