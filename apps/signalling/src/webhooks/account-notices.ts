import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from '@wagw/logging';
import { adviseOnCallingSettings, type AccountUpdateEvent, type SettingsUpdateEvent } from '@wagw/whatsapp';
import { CrmEventBus } from '../events/crm-event-bus';
import { SIGNALLING_LOGGER } from '../signalling.tokens';

/**
 * What WhatsApp says about the business number itself (reference §2.9), for operators: a restriction of
 * calling or a quality violation (`account_update`) is logged as a warning, saying what stops working and
 * until when, and goes to the CRM as `account.update`; a change of the calling settings
 * (`account_settings_update`, also for the gateway's own changes) is logged, as a warning when calling is off,
 * and each other setting that stops calls or that Meta ignores (adviseOnCallingSettings) as a warning.
 */
@Injectable()
export class AccountNotices {
  constructor(
    @Inject(SIGNALLING_LOGGER) private readonly logger: Logger,
    private readonly events: CrmEventBus,
  ) {}

  onAccountUpdate(event: AccountUpdateEvent): void {
    const restrictions = event.restrictions.map((r) => ({ type: r.type, ...(r.expiration !== undefined ? { expiresAt: r.expiration * 1000 } : {}) }));
    const fields = { phoneNumber: event.phoneNumber, wabaId: event.wabaId };
    if (event.event === 'account_violation') {
      this.logger.warn({ ...fields, violationType: event.violationType }, `WhatsApp reports a calling quality violation (${event.violationType ?? 'type not given'}): restrictions may follow`);
    } else if (restrictions.length === 0) {
      this.logger.info(fields, 'WhatsApp lifted the calling restrictions of the business number');
    } else {
      const list = restrictions.map((r) => `${r.type}${r.expiresAt !== undefined ? ` until ${new Date(r.expiresAt).toISOString()}` : ''}`).join(', ');
      this.logger.warn({ ...fields, restrictions }, `WhatsApp restricted calling on the business number: ${list}`);
    }
    this.events.publish('account.update', {
      event: event.event,
      ...(event.phoneNumber ? { phoneNumber: event.phoneNumber } : {}),
      ...(event.violationType ? { violationType: event.violationType } : {}),
      restrictions,
    });
  }

  onSettingsUpdate(event: SettingsUpdateEvent): void {
    const c = event.calling;
    const fields = { phoneNumberId: event.phoneNumberId, status: c.status, callIconVisibility: c.callIconVisibility, callbackPermissionStatus: c.callbackPermissionStatus, sipStatus: c.sip?.status };
    if (c.status === 'DISABLED') this.logger.warn(fields, 'WhatsApp calling settings changed: calling is DISABLED on this number, no calls can be made or received');
    else this.logger.info(fields, 'WhatsApp calling settings changed');
    // the rest of what stops calls or is ignored (SIP mode, voicemail); calling off was said above
    for (const a of adviseOnCallingSettings(c.raw)) {
      if (a.level === 'warning' && a.code !== 'CALLING_DISABLED' && a.code !== 'CALLING_NOT_SET') this.logger.warn({ code: a.code }, `WhatsApp calling settings: ${a.message}`);
    }
  }
}
