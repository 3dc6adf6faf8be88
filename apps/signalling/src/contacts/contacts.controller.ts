import { Controller, Get, Inject, UseGuards } from '@nestjs/common';
import { ApiTokenGuard } from '../api/api-token.guard';
import { CONTACTS } from '../signalling.tokens';
import type { Contact, ContactsRepository } from './contacts.repository';

/** The WhatsApp users the gateway has dealt with, newest first (the agent console's conversation list). */
@Controller('v1/contacts')
@UseGuards(ApiTokenGuard)
export class ContactsController {
  constructor(@Inject(CONTACTS) private readonly contacts: ContactsRepository) {}

  @Get()
  async list(): Promise<{ contacts: Contact[] }> {
    return { contacts: await this.contacts.list() };
  }
}
