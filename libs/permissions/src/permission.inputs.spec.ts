import type { CallPermissions, MessageStatusEvent, PermissionReplyEvent } from '@wagw/whatsapp';
import { permissionKeyOfReply, reconciledInputOf, replyInputOf, requestFailedInputOf } from './permission.inputs';

const source = { wabaId: 'W', phoneNumberId: '100', displayPhoneNumber: '15550001111' };
const contact = { contactName: 'Jane', contactUsername: undefined, contactWaId: '15552223333', contactUserId: undefined };

function replyEvent(fields: Partial<PermissionReplyEvent>): PermissionReplyEvent {
  return {
    kind: 'permission.reply',
    ...source,
    ...contact,
    messageId: 'wamid.REPLY',
    from: '15552223333',
    fromUserId: undefined,
    timestamp: 1_767_168_000,
    response: 'accept',
    isPermanent: false,
    expiresAt: 1_767_772_800,
    responseSource: 'user_action',
    contextId: 'wamid.REQ',
    contextKind: 'message',
    ...fields,
  };
}

describe('inputs from webhooks and Graph results', () => {
  it('a temporary accept becomes a reply input in milliseconds, keyed by the business number and the user', () => {
    const event = replyEvent({});
    expect(permissionKeyOfReply(event)).toEqual({ phoneNumberId: '100', waId: '15552223333' });
    expect(replyInputOf(event)).toEqual({
      type: 'reply',
      response: 'accept',
      isPermanent: false,
      source: 'user_action',
      expiresAt: 1_767_772_800_000,
      contextId: 'wamid.REQ',
      contextKind: 'message',
      at: 1_767_168_000_000,
    });
  });

  it('a missing response_source reads as automatic only for a reject without context', () => {
    expect(replyInputOf(replyEvent({ response: 'reject', responseSource: undefined, contextId: undefined, contextKind: undefined, expiresAt: undefined })).source).toBe('automatic');
    expect(replyInputOf(replyEvent({ response: 'reject', responseSource: undefined })).source).toBe('user_action');
    expect(replyInputOf(replyEvent({ responseSource: undefined, contextId: undefined, contextKind: undefined })).source).toBe('user_action');
  });

  it('the user key falls back to the contact wa_id and is absent without either', () => {
    expect(permissionKeyOfReply(replyEvent({ from: undefined }))).toEqual({ phoneNumberId: '100', waId: '15552223333' });
    expect(permissionKeyOfReply(replyEvent({ from: undefined, contactWaId: undefined }))).toBeUndefined();
  });

  it('only a failed message status becomes request.failed', () => {
    const status: MessageStatusEvent = { kind: 'message.status', ...source, messageId: 'wamid.REQ', status: 'failed', timestamp: 10, recipientId: '1', recipientUserId: undefined, bizOpaqueCallbackData: undefined, errors: [] };
    expect(requestFailedInputOf(status)).toEqual({ type: 'request.failed', messageId: 'wamid.REQ', at: 10_000 });
    expect(requestFailedInputOf({ ...status, status: 'delivered' })).toBeUndefined();
  });

  it("a call_permissions result carries Meta's status, expiry and blocked actions", () => {
    const result: CallPermissions = {
      status: 'temporary',
      expiresAt: 1_745_343_479,
      actions: [
        { name: 'send_call_permission_request', canPerform: false, limits: [{ timePeriod: 'PT24H', maxAllowed: 1, currentUsage: 1, limitExpiresAt: 1_745_300_000 }, { timePeriod: 'P7D', maxAllowed: 2, currentUsage: 1, limitExpiresAt: undefined }] },
        { name: 'start_call', canPerform: true, limits: [{ timePeriod: 'PT24H', maxAllowed: 100, currentUsage: 3, limitExpiresAt: undefined }] },
      ],
      canStartCall: true,
      canRequestPermission: false,
    };
    expect(reconciledInputOf(result, 42)).toEqual({ type: 'reconciled', status: 'temporary', expiresAt: 1_745_343_479_000, requestBlockedUntil: 1_745_300_000_000, at: 42 });
    expect(reconciledInputOf({ status: 'permanent', expiresAt: undefined, actions: [], canStartCall: undefined, canRequestPermission: undefined }, 7)).toEqual({ type: 'reconciled', status: 'permanent', at: 7 });
  });
});
