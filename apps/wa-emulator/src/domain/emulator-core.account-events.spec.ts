import { parseWebhook } from '@wagw/whatsapp';
import { type TestCore, freshTestCore } from '../../test/core-harness';
import { HOUR_MS } from './clock';

describe('EmulatorCore: account restrictions and violations (reference §2.9, §5.2)', () => {
  let h: TestCore;

  freshTestCore((c) => (h = c));

  const nowS = (): number => Math.floor(h.core.clock.now() / 1000);
  const restrictionsList = (): unknown => (h.core.getSettings()['restrictions'] as { restrictions_list?: unknown } | undefined)?.restrictions_list;

  it("ACCOUNT_RESTRICTION sends account_update with restriction_info (expiration in Unix seconds on the emulator clock), in Meta's shape", async () => {
    h.core.advanceClock(5 * HOUR_MS);
    const sent = h.core.accountEvent({
      event: 'ACCOUNT_RESTRICTION',
      restrictions: [{ type: 'RESTRICTED_USER_INITIATED_CALLING', expiresInS: 3600 }, { type: 'RESTRICTED_BUSINESS_INITIATED_CALLING' }],
    });
    await h.core.webhooksIdle();

    const value = {
      phone_number: h.config.whatsapp.businessNumber,
      event: 'ACCOUNT_RESTRICTION',
      restriction_info: [{ restriction_type: 'RESTRICTED_USER_INITIATED_CALLING', expiration: nowS() + 3600 }, { restriction_type: 'RESTRICTED_BUSINESS_INITIATED_CALLING' }],
    };
    expect(sent).toEqual({ field: 'account_update', value });
    expect(h.transport.signaturesValid).toEqual([true]);
    expect(h.transport.bodies).toEqual([
      { object: 'whatsapp_business_account', entry: [{ id: h.config.emulator.wabaId, time: nowS(), changes: [{ field: 'account_update', value }] }] },
    ]);
    expect(h.core.webhookLog({ key: 'account' })).toEqual([expect.objectContaining({ kind: 'account_update', state: 'delivered' })]);
  });

  it("the gateway's parseWebhook reads the restriction as account.update with each type and expiration", async () => {
    h.core.accountEvent({ event: 'ACCOUNT_RESTRICTION', restrictions: [{ type: 'RESTRICTED_USER_INITIATED_CALLING_CALL_BUTTON_HIDDEN', expiresInS: 86_400 }] });
    await h.core.webhooksIdle();

    const parsed = parseWebhook(h.transport.bodies[0]);
    expect(parsed.rejected).toEqual([]);
    expect(parsed.ignored).toEqual([]);
    expect(parsed.events).toEqual([
      {
        kind: 'account.update',
        wabaId: h.config.emulator.wabaId,
        event: 'account_restriction',
        phoneNumber: h.config.whatsapp.businessNumber,
        timestamp: nowS(),
        violationType: undefined,
        restrictions: [{ type: 'RESTRICTED_USER_INITIATED_CALLING_CALL_BUTTON_HIDDEN', expiration: nowS() + 86_400 }],
      },
    ]);
  });

  it('ACCOUNT_VIOLATION sends account_update with violation_info, read by parseWebhook as account.update; no restriction follows', async () => {
    const sent = h.core.accountEvent({ event: 'ACCOUNT_VIOLATION', violationType: 'USER_INITIATED_CALLS_LOW_PICKUP_RATE' });
    await h.core.webhooksIdle();

    expect(sent).toEqual({
      field: 'account_update',
      value: { phone_number: h.config.whatsapp.businessNumber, event: 'ACCOUNT_VIOLATION', violation_info: { violation_type: 'USER_INITIATED_CALLS_LOW_PICKUP_RATE' } },
    });
    const parsed = parseWebhook(h.transport.bodies[0]);
    expect(parsed.rejected).toEqual([]);
    expect(parsed.events).toEqual([
      {
        kind: 'account.update',
        wabaId: h.config.emulator.wabaId,
        event: 'account_violation',
        phoneNumber: h.config.whatsapp.businessNumber,
        timestamp: nowS(),
        violationType: 'USER_INITIATED_CALLS_LOW_PICKUP_RATE',
        restrictions: [],
      },
    ]);
    expect(h.core.getSettings()).not.toHaveProperty('restrictions');
  });

  it('GET settings shows the restrictions in force as restrictions.restrictions_list with type, reason and expiration', () => {
    expect(h.core.getSettings()).toEqual({ calling: expect.any(Object) });
    h.core.accountEvent({ event: 'ACCOUNT_RESTRICTION', restrictions: [{ type: 'RESTRICTED_USER_INITIATED_CALLING', expiresInS: 600 }] });

    expect(h.core.getSettings()).toEqual({
      calling: h.core.settings.calling(),
      restrictions: { restrictions_list: [{ type: 'RESTRICTED_USER_INITIATED_CALLING', reason: expect.any(String), expiration: nowS() + 600 }] },
    });
  });

  it('a restriction leaves GET settings when it expires on the emulator clock; one without expiresInS stays', () => {
    h.core.accountEvent({
      event: 'ACCOUNT_RESTRICTION',
      restrictions: [{ type: 'RESTRICTED_BUSINESS_INITIATED_CALLING', expiresInS: 3600 }, { type: 'RESTRICTED_BIZ_INITIATED_AND_USER_INITIATED_CALLING' }],
    });
    h.core.advanceClock(HOUR_MS - 1);
    expect(restrictionsList()).toEqual([
      expect.objectContaining({ type: 'RESTRICTED_BUSINESS_INITIATED_CALLING' }),
      expect.objectContaining({ type: 'RESTRICTED_BIZ_INITIATED_AND_USER_INITIATED_CALLING' }),
    ]);
    h.core.advanceClock(1);
    expect(restrictionsList()).toEqual([{ type: 'RESTRICTED_BIZ_INITIATED_AND_USER_INITIATED_CALLING', reason: expect.any(String) }]);
    h.core.advanceClock(365 * 24 * HOUR_MS);
    expect(restrictionsList()).toHaveLength(1);
  });

  it('a restriction event replaces the restrictions; an empty list lifts them and sends restriction_info []', async () => {
    h.core.accountEvent({ event: 'ACCOUNT_RESTRICTION', restrictions: [{ type: 'RESTRICTED_USER_INITIATED_CALLING' }] });
    h.core.accountEvent({ event: 'ACCOUNT_RESTRICTION', restrictions: [{ type: 'RESTRICTED_BUSINESS_INITIATED_CALLING' }] });
    expect(restrictionsList()).toEqual([expect.objectContaining({ type: 'RESTRICTED_BUSINESS_INITIATED_CALLING' })]);

    const lifted = h.core.accountEvent({ event: 'ACCOUNT_RESTRICTION', restrictions: [] });
    await h.core.webhooksIdle();

    expect(lifted.value).toEqual({ phone_number: h.config.whatsapp.businessNumber, event: 'ACCOUNT_RESTRICTION', restriction_info: [] });
    expect(h.core.getSettings()).not.toHaveProperty('restrictions');
    expect(h.transport.types()).toEqual(['account_update.ACCOUNT_RESTRICTION', 'account_update.ACCOUNT_RESTRICTION', 'account_update.ACCOUNT_RESTRICTION']);
    expect(parseWebhook(h.transport.bodies.at(-1)).events).toEqual([expect.objectContaining({ kind: 'account.update', event: 'account_restriction', restrictions: [] })]);
  });

  it('reset lifts the restrictions', async () => {
    h.core.accountEvent({ event: 'ACCOUNT_RESTRICTION', restrictions: [{ type: 'RESTRICTED_USER_INITIATED_CALLING' }] });
    await h.core.reset();
    expect(h.core.getSettings()).not.toHaveProperty('restrictions');
  });
});
