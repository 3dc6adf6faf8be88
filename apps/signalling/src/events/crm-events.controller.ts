import { BadRequestException, Controller, Get, Query, Req, Res, UseGuards } from '@nestjs/common';
import type { Request, Response } from 'express';
import { CRM_EVENT_TYPES } from './crm-event.types';
import { CrmEventStreamService } from './crm-event-stream.service';
import { EventsTokenGuard } from './events-token.guard';
import { parseTypeFilter } from './sse-format';

/** A client this far behind (bytes the socket has not taken) is dropped; it reconnects with Last-Event-ID. */
const MAX_BACKLOG_BYTES = 1024 * 1024;

/**
 * GET /v1/events: CRM events as Server-Sent Events. `Last-Event-ID` (header, as EventSource sends it on a
 * reconnect, or `?lastEventId=`) replays buffered events after that id; `?types=call.ended,call.incoming`
 * filters. The subscription ends when the connection closes.
 */
@Controller('v1/events')
@UseGuards(EventsTokenGuard)
export class CrmEventsController {
  constructor(private readonly events: CrmEventStreamService) {}

  @Get()
  stream(@Req() req: Request, @Res() res: Response, @Query('types') types?: string, @Query('lastEventId') lastEventIdQuery?: string): void {
    const filter = parseTypeFilter(types, CRM_EVENT_TYPES);
    if (filter.unknown.length > 0) {
      throw new BadRequestException(`unknown event types: ${filter.unknown.join(', ')} (known: ${CRM_EVENT_TYPES.join(', ')})`);
    }
    const lastEventId = req.header('last-event-id') ?? lastEventIdQuery;
    res.status(200);
    res.setHeader('content-type', 'text/event-stream; charset=utf-8');
    res.setHeader('cache-control', 'no-cache, no-transform');
    res.setHeader('connection', 'keep-alive');
    res.setHeader('x-accel-buffering', 'no'); // nginx: do not buffer the stream
    res.flushHeaders();
    req.socket.setNoDelay(true);
    const detach = this.events.stream.attach(
      {
        write: (chunk) => {
          if (res.writableEnded || res.destroyed) return false;
          res.write(chunk);
          return res.writableLength <= MAX_BACKLOG_BYTES;
        },
        end: () => {
          if (!res.writableEnded) res.end();
        },
      },
      { ...(lastEventId ? { lastEventId } : {}), ...(filter.types ? { types: filter.types } : {}) },
    );
    res.on('close', detach);
  }
}
