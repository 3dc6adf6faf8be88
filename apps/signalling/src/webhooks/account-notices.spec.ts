import type { Logger } from '@wagw/logging';
import { silentLogger } from '@wagw/logging';
import type { AccountUpdateEvent, SettingsUpdateEvent } from '@wagw/whatsapp';
import { CrmEventBus } from '../events/crm-event-bus';
import type { CrmEvent } from '../events/crm-event.types';
import { AccountNotices } from './account-notices';

/** A logger that keeps `[level, message, fields]`. */
function recordingLogger(lines: [string, string, Record<string, unknown>][]): Logger {
  const at =
    (level: string) =>
    (fields: Record<string, unknown>, msg: string): void =>
      void lines.push([level, msg, fields]);
  const log = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'), child: () => log } as unknown as Logger;
  return log;
}

function setup() {
  const lines: [string, string, Record<string, unknown>][] = [];
  const bus = new CrmEventBus(silentLogger());
  const events: CrmEvent[] = [];
  bus.subscribe((e) => void events.push(e));
  return { notices: new AccountNotices(recordingLogger(lines), bus), lines, events };
}

const base = { kind: 'account.update', wabaId: '100000000000002', phoneNumber: '15550001111', timestamp: 1_800_000_000 } as const;

describe('AccountNotices', () => {
  it('warns of a restriction with what and until when, and tells the CRM (expiry in epoch ms)', () => {
    const { notices, lines, events } = setup();
    notices.onAccountUpdate({ ...base, event: 'account_restriction', violationType: undefined, restrictions: [{ type: 'RESTRICTED_USER_INITIATED_CALLING', expiration: 1_800_086_400 }] } as AccountUpdateEvent);
    expect(lines.map(([level, msg]) => [level, msg])).toEqual([['warn', 'WhatsApp restricted calling on the business number: RESTRICTED_USER_INITIATED_CALLING until 2027-01-16T08:00:00.000Z']]);
    expect(events.map((e) => [e.type, e.data])).toEqual([
      ['account.update', { event: 'account_restriction', phoneNumber: '15550001111', restrictions: [{ type: 'RESTRICTED_USER_INITIATED_CALLING', expiresAt: 1_800_086_400_000 }] }],
    ]);
  });

  it('says when the restrictions are lifted, and warns of a quality violation', () => {
    const { notices, lines, events } = setup();
    notices.onAccountUpdate({ ...base, event: 'account_restriction', violationType: undefined, restrictions: [] } as AccountUpdateEvent);
    notices.onAccountUpdate({ ...base, event: 'account_violation', violationType: 'USER_INITIATED_CALLS_LOW_PICKUP_RATE', restrictions: [] } as AccountUpdateEvent);
    expect(lines.map(([level, msg]) => [level, msg])).toEqual([
      ['info', 'WhatsApp lifted the calling restrictions of the business number'],
      ['warn', 'WhatsApp reports a calling quality violation (USER_INITIATED_CALLS_LOW_PICKUP_RATE): restrictions may follow'],
    ]);
    expect(events.map((e) => e.data)).toEqual([
      { event: 'account_restriction', phoneNumber: '15550001111', restrictions: [] },
      { event: 'account_violation', phoneNumber: '15550001111', violationType: 'USER_INITIATED_CALLS_LOW_PICKUP_RATE', restrictions: [] },
    ]);
  });

  it('logs a settings change, as a warning when calling is off', () => {
    const { notices, lines, events } = setup();
    const settings = (status: 'ENABLED' | 'DISABLED'): SettingsUpdateEvent => ({ kind: 'settings.update', wabaId: undefined, phoneNumberId: '100000000000001', timestamp: undefined, calling: { status, raw: {} } });
    notices.onSettingsUpdate(settings('ENABLED'));
    notices.onSettingsUpdate(settings('DISABLED'));
    expect(lines.map(([level, msg, f]) => [level, msg, f['status']])).toEqual([
      ['info', 'WhatsApp calling settings changed', 'ENABLED'],
      ['warn', 'WhatsApp calling settings changed: calling is DISABLED on this number, no calls can be made or received', 'DISABLED'],
    ]);
    expect(events).toEqual([]);
  });
});
