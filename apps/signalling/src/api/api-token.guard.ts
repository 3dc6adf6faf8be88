import { CanActivate, ExecutionContext, Inject, Injectable, UnauthorizedException } from '@nestjs/common';
import { timingSafeEqual } from 'node:crypto';
import type { Request } from 'express';
import { APP_CONFIG, type AppConfig } from '@wagw/config';

/** Bearer token of the CRM/operator API (`signalling.apiToken`), compared in constant time. */
@Injectable()
export class ApiTokenGuard implements CanActivate {
  readonly #expected: Buffer;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.#expected = Buffer.from(config.signalling.apiToken);
  }

  canActivate(context: ExecutionContext): boolean {
    const req = context.switchToHttp().getRequest<Request>();
    const header = req.header('authorization') ?? '';
    const match = /^Bearer\s+(.+)$/i.exec(header.trim());
    if (!match?.[1]) throw new UnauthorizedException('missing bearer token (Authorization: Bearer <signalling.apiToken>)');
    const given = Buffer.from(match[1]);
    if (given.length !== this.#expected.length || !timingSafeEqual(given, this.#expected)) {
      throw new UnauthorizedException('invalid bearer token');
    }
    return true;
  }
}
