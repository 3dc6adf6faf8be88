import { BadRequestException, Controller, ForbiddenException, Get, Header, HttpCode, Inject, Post, Query, Req, UseGuards } from '@nestjs/common';
import type { Request } from 'express';
import { APP_CONFIG, type AppConfig } from '@wagw/config';
import { answerVerificationChallenge } from '@wagw/whatsapp';
import type { Logger } from '@wagw/logging';
import { SIGNALLING_LOGGER } from '../signalling.tokens';
import { WebhookSignatureGuard } from './webhook-signature.guard';
import { WebhookIngestService } from './webhook-ingest.service';

export const WEBHOOK_PATH = 'webhooks/whatsapp';

/**
 * Meta's callback URL. GET answers the hub.challenge handshake; POST verifies the signature (guard), parses
 * the JSON (400 if it is not JSON), acknowledges at once and processes after the ack.
 */
@Controller(WEBHOOK_PATH)
export class WebhookController {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(SIGNALLING_LOGGER) private readonly logger: Logger,
    private readonly ingest: WebhookIngestService,
  ) {}

  @Get()
  @Header('Content-Type', 'text/plain')
  verify(@Query() query: Record<string, unknown>): string {
    const result = answerVerificationChallenge(query, this.config.whatsapp.verifyToken);
    if (!result.ok) {
      this.logger.warn({ reason: result.reason }, 'webhook verification refused');
      throw new ForbiddenException(result.reason);
    }
    this.logger.info('webhook verification handshake answered');
    return result.challenge;
  }

  @Post()
  @HttpCode(200)
  @UseGuards(WebhookSignatureGuard)
  receive(@Req() req: Request): { received: true } {
    const raw = req.body as Buffer;
    let body: unknown;
    try {
      body = JSON.parse(raw.toString('utf8'));
    } catch (err) {
      this.logger.warn({ bytes: raw.length, error: (err as Error).message }, 'webhook refused: body is not JSON');
      throw new BadRequestException(`body is not JSON: ${(err as Error).message}`);
    }
    this.ingest.enqueue(body);
    return { received: true };
  }
}
