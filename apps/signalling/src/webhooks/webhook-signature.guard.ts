import { CanActivate, ExecutionContext, Inject, Injectable, UnauthorizedException } from '@nestjs/common';
import type { Request } from 'express';
import { APP_CONFIG, type AppConfig } from '@wagw/config';
import { verifyWebhookSignature } from '@wagw/whatsapp';
import { SIGNALLING_LOGGER } from '../signalling.tokens';
import type { Logger } from '@wagw/logging';

/**
 * Checks X-Hub-Signature-256 over the raw request bytes (the route is mounted with a raw body parser).
 * A missing, malformed or wrong signature is a 401 and nothing is applied.
 */
@Injectable()
export class WebhookSignatureGuard implements CanActivate {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(SIGNALLING_LOGGER) private readonly logger: Logger,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    const req = context.switchToHttp().getRequest<Request>();
    const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const check = verifyWebhookSignature(raw, req.header('x-hub-signature-256'), this.config.whatsapp.appSecret);
    if (check.ok) return true;
    this.logger.warn({ reason: check.reason, bytes: raw.length, ip: req.ip }, 'webhook refused: bad signature');
    throw new UnauthorizedException(`X-Hub-Signature-256 ${check.reason}`);
  }
}
