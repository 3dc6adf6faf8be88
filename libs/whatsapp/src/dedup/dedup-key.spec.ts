import type { AccountUpdateEvent, CallStatusEvent, SettingsUpdateEvent, WebhookEvent } from '../webhooks/webhook-events.types';
import { parseWebhook } from '../webhooks/webhook.parser';
import { contentHash, dedupKeyOf } from './dedup-key';

const META = { phone_number_id: '106540352242922' };
const SDP = 'v=0\r\ns=-\r\n';
const callsBody = (value: Record<string, unknown>) => ({
  object: 'whatsapp_business_account',
  entry: [{ id: 'W', changes: [{ field: 'calls', value: { metadata: META, ...value } }] }],
});
const eventsOf = (b: unknown): WebhookEvent[] => parseWebhook(b).events;

describe('dedupKeyOf', () => {
  it('keys call events on (call id, event), so a redelivery collides and the terminate does not', () => {
    const connect = { id: 'wacid.A', event: 'connect', timestamp: '1', session: { sdp_type: 'offer', sdp: SDP } };
    const terminate = { id: 'wacid.A', event: 'terminate', timestamp: '2', status: 'COMPLETED' };
    const [c1] = eventsOf(callsBody({ calls: [connect] }));
    const [c2] = eventsOf(callsBody({ calls: [{ ...connect, timestamp: '5' }] }));
    const [t] = eventsOf(callsBody({ calls: [terminate] }));
    expect(dedupKeyOf(c1!)).toBe('call:wacid.A:connect');
    expect(dedupKeyOf(c2!)).toBe(dedupKeyOf(c1!));
    expect(dedupKeyOf(t!)).toBe('call:wacid.A:terminate');
  });

  it('keys call statuses on (call id, status), whatever the casing on the wire', () => {
    const status = (s: string) => eventsOf(callsBody({ statuses: [{ id: 'wacid.B', type: 'call', status: s, timestamp: '1' }] }))[0] as CallStatusEvent;
    expect(dedupKeyOf(status('RINGING'))).toBe('call:wacid.B:status:ringing');
    expect(dedupKeyOf(status('ringing'))).toBe(dedupKeyOf(status('RINGING')));
    expect(dedupKeyOf(status('ACCEPTED'))).not.toBe(dedupKeyOf(status('RINGING')));
  });

  it('keys messages on message id (+ status), and keeps voicemail apart from the call events', () => {
    const base = { wabaId: 'W', phoneNumberId: 'P', displayPhoneNumber: undefined, timestamp: 1 };
    const status: WebhookEvent = { kind: 'message.status', ...base, messageId: 'wamid.M', status: 'read', recipientId: undefined, recipientUserId: undefined, bizOpaqueCallbackData: undefined, errors: [] };
    expect(dedupKeyOf(status)).toBe('msg:wamid.M:status:read');
    expect(dedupKeyOf({ ...status, status: 'delivered' })).toBe('msg:wamid.M:status:delivered');
    const contact = { contactName: undefined, contactUsername: undefined, contactWaId: undefined, contactUserId: undefined };
    const voicemail: WebhookEvent = { kind: 'call.voicemail', ...base, ...contact, waCallId: 'wacid.V', from: '1', fromUserId: undefined, audio: { mediaId: 'm', mimeType: undefined, sha256: undefined, url: undefined } };
    expect(dedupKeyOf(voicemail)).toBe('call:wacid.V:voicemail');
  });

  it('keys settings updates on their content: same delivery collides, a later change with the same values does not', () => {
    const settings = (timestamp: number | undefined, status: 'ENABLED' | 'DISABLED'): SettingsUpdateEvent => ({
      kind: 'settings.update',
      wabaId: 'W',
      phoneNumberId: 'P',
      timestamp,
      calling: { status, raw: { status } },
    });
    expect(dedupKeyOf(settings(10, 'ENABLED'))).toBe(dedupKeyOf(settings(10, 'ENABLED')));
    expect(dedupKeyOf(settings(10, 'ENABLED'))).toMatch(/^settings:P:[0-9a-f]{32}$/);
    expect(dedupKeyOf(settings(10, 'ENABLED'))).not.toBe(dedupKeyOf(settings(10, 'DISABLED')));
    expect(dedupKeyOf(settings(10, 'ENABLED'))).not.toBe(dedupKeyOf(settings(99, 'ENABLED')));
  });

  it('keys account updates on their content', () => {
    const update = (violationType: string): AccountUpdateEvent => ({
      kind: 'account.update',
      wabaId: 'W',
      event: 'account_violation',
      phoneNumber: '1',
      timestamp: 5,
      violationType,
      restrictions: [],
    });
    expect(dedupKeyOf(update('LOW_CALLING_QUALITY'))).toMatch(/^account:W:[0-9a-f]{32}$/);
    expect(dedupKeyOf(update('LOW_CALLING_QUALITY'))).not.toBe(dedupKeyOf(update('USER_INITIATED_CALLS_LOW_PICKUP_RATE')));
  });
});

describe('contentHash', () => {
  it('ignores key order and undefined members but not array order or values', () => {
    expect(contentHash({ a: 1, b: { c: [1, 2], d: undefined } })).toBe(contentHash({ b: { c: [1, 2] }, a: 1 }));
    expect(contentHash({ c: [1, 2] })).not.toBe(contentHash({ c: [2, 1] }));
    expect(contentHash({ a: '1' })).not.toBe(contentHash({ a: 1 }));
  });
});
