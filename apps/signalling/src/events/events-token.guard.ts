import { type CanActivate, type ExecutionContext, Inject, Injectable, UnauthorizedException } from '@nestjs/common';
import { timingSafeEqual } from 'node:crypto';
import type { Request } from 'express';
import { APP_CONFIG, type AppConfig } from '@wagw/config';

/**
 * The API token for the event stream, from `Authorization: Bearer <token>` or, because a browser's
 * EventSource cannot set headers, from `?token=<token>`. Compared in constant time. Prefer the header
 * where the client can set it: a query string may end up in proxy access logs.
 */
@Injectable()
export class EventsTokenGuard implements CanActivate {
  readonly #expected: Buffer;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.#expected = Buffer.from(config.signalling.apiToken);
  }

  canActivate(context: ExecutionContext): boolean {
    const req = context.switchToHttp().getRequest<Request>();
    const bearer = /^Bearer\s+(.+)$/i.exec((req.header('authorization') ?? '').trim())?.[1];
    const query = typeof req.query['token'] === 'string' ? req.query['token'] : undefined;
    const token = bearer ?? query;
    if (!token) throw new UnauthorizedException('missing token (Authorization: Bearer <signalling.apiToken>, or ?token= for EventSource)');
    const given = Buffer.from(token);
    if (given.length !== this.#expected.length || !timingSafeEqual(given, this.#expected)) throw new UnauthorizedException('invalid token');
    return true;
  }
}
