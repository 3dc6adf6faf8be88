import { BadRequestException, Controller, Get, Inject, Query, Res, UseGuards } from '@nestjs/common';
import type { Response } from 'express';
import type { CallRepository, EndedQuery } from '@wagw/call-state';
import { ApiTokenGuard } from '../api/api-token.guard';
import { limitParam } from '../api/limit-param';
import { CALL_REPOSITORY } from '../signalling.tokens';
import { cdrCsvHeader, cdrCsvRows, cdrOf, decodeCdrCursor, encodeCdrCursor, parseCdrTime, type Cdr } from './cdr-export';

const DEFAULT_LIMIT = 100;
const MAX_LIMIT = 1000;

/** One value of a query parameter (Express gives an array when it is repeated). */
function single(name: string, value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new BadRequestException(`${name} must be given once, as text`);
  return value;
}

function orBadRequest<T>(parsed: T | { error: string }): T {
  if (typeof parsed === 'object' && parsed !== null && 'error' in parsed) throw new BadRequestException(parsed.error);
  return parsed as T;
}

/**
 * CDR export for billing and reporting: ended calls by end time, oldest first, a page at a time (the
 * `next` cursor carries on where a page ended, so a system that pulls every few minutes misses none and
 * repeats none). JSON, or CSV with `format=csv` (or `Accept: text/csv`).
 */
@Controller('v1/cdrs')
@UseGuards(ApiTokenGuard)
export class CdrsController {
  constructor(@Inject(CALL_REPOSITORY) private readonly calls: CallRepository) {}

  @Get()
  async list(@Query() query: Record<string, unknown>, @Res({ passthrough: true }) res: Response): Promise<{ cdrs: Cdr[]; next: string | null } | string> {
    const q = this.#parse(query);
    const format = single('format', query['format']) ?? (/\btext\/csv\b/.test(res.req.get('accept') ?? '') ? 'csv' : 'json');
    if (format !== 'json' && format !== 'csv') throw new BadRequestException(`format must be json or csv, got ${JSON.stringify(format.slice(0, 40))}`);
    const page = await this.calls.listEnded(q);
    const next = page.next ? encodeCdrCursor(page.next) : null;
    res.setHeader('x-cdr-count', String(page.records.length));
    if (next) {
      res.setHeader('x-next-cursor', next);
      const params = new URLSearchParams();
      for (const [k, v] of Object.entries(query)) if (k !== 'after' && typeof v === 'string') params.set(k, v);
      params.set('after', next);
      res.setHeader('link', `</v1/cdrs?${params.toString()}>; rel="next"`);
    }
    if (format === 'json') return { cdrs: page.records.map(cdrOf), next };
    res.setHeader('content-type', 'text/csv; charset=utf-8');
    res.setHeader('content-disposition', 'attachment; filename="cdrs.csv"');
    return cdrCsvHeader() + cdrCsvRows(page.records);
  }

  #parse(query: Record<string, unknown>): EndedQuery {
    const known = new Set(['since', 'until', 'after', 'limit', 'format']);
    const unknown = Object.keys(query).filter((k) => !known.has(k));
    if (unknown.length > 0) throw new BadRequestException(`unknown query parameter(s) ${unknown.join(', ')}: since, until, after, limit and format are understood`);
    const since = single('since', query['since']);
    const until = single('until', query['until']);
    const after = single('after', query['after']);
    const q: EndedQuery = { limit: limitParam(query['limit'], DEFAULT_LIMIT, MAX_LIMIT) };
    if (since !== undefined) q.since = orBadRequest(parseCdrTime('since', since));
    if (until !== undefined) q.until = orBadRequest(parseCdrTime('until', until));
    if (after !== undefined) q.after = orBadRequest(decodeCdrCursor(after));
    if (q.since !== undefined && q.until !== undefined && q.until <= q.since) throw new BadRequestException('until must be after since');
    return q;
  }
}
