import { Body, Controller, Get, Inject, Param, Post, UseGuards } from '@nestjs/common';
import type { Logger } from '@wagw/logging';
import { CALL_BUTTON_LIMITS, type WhatsAppGraphClient } from '@wagw/whatsapp';
import { ApiTokenGuard } from '../api/api-token.guard';
import { normalizeWaId } from '../calls/start-agent-call.use-case';
import { CONTACTS, GRAPH_CLIENT, SIGNALLING_LOGGER } from '../signalling.tokens';
import { SendCallButtonDto } from './call-button.dto';
import type { Contact, ContactsRepository } from './contacts.repository';

/** The WhatsApp users the gateway has dealt with, newest first (the agent console's conversation list), and call buttons sent to them. */
@Controller('v1/contacts')
@UseGuards(ApiTokenGuard)
export class ContactsController {
  constructor(
    @Inject(CONTACTS) private readonly contacts: ContactsRepository,
    @Inject(GRAPH_CLIENT) private readonly graph: WhatsAppGraphClient,
    @Inject(SIGNALLING_LOGGER) private readonly logger: Logger,
  ) {}

  @Get()
  async list(): Promise<{ contacts: Contact[] }> {
    return { contacts: await this.contacts.list() };
  }

  /**
   * Sends the user a call button (201 with Meta's message id and when the button stops working); the user's
   * tap calls the business with `payload` as the call's entry payload. Graph errors (e.g. 131009, the
   * user's country does not support it) come back as WA_GRAPH_API_ERROR with Meta's code and reason.
   */
  @Post(':waId/call-button')
  async sendCallButton(@Param('waId') waId: string, @Body() body: SendCallButtonDto): Promise<{ messageId: string; to: string; payload?: string; expiresAt: number }> {
    const to = normalizeWaId(waId);
    const sentAt = Date.now();
    const { messageId } = await this.graph.sendCallButton({
      to,
      bodyText: body.bodyText,
      ...(body.displayText !== undefined ? { displayText: body.displayText } : {}),
      ...(body.ttlMinutes !== undefined ? { ttlMinutes: body.ttlMinutes } : {}),
      ...(body.payload ? { payload: body.payload } : {}),
    });
    const expiresAt = sentAt + (body.ttlMinutes ?? CALL_BUTTON_LIMITS.ttlMinutesDefault) * 60_000;
    this.logger.info({ waId: to, messageId, ...(body.payload ? { payload: body.payload } : {}), expiresAt: new Date(expiresAt).toISOString() }, 'call button sent');
    this.contacts.touch(to).catch((err: unknown) => this.logger.warn({ err, waId: to }, 'contact not updated'));
    return { messageId, to, ...(body.payload ? { payload: body.payload } : {}), expiresAt };
  }
}
