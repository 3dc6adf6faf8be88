import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseWebhook } from './webhook.parser';

/** Every captured/reconstructed payload shape of reference §2 parses to the expected events (good/), and every defect is named (bad/). */
const FIXTURES = join(__dirname, '..', '..', '..', '..', 'test', 'fixtures', 'webhooks');
const load = (dir: 'good' | 'bad', name: string): unknown => JSON.parse(readFileSync(join(FIXTURES, dir, `${name}.json`), 'utf8'));
const names = (dir: 'good' | 'bad') => readdirSync(join(FIXTURES, dir)).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -5)).sort();

const WABA = '102290129340398';
const PNID = '106540352242922';
const BIZ = '15550001111';
const USER = '15552223333';
const BSUID = 'US.13491208655302741918';
const UIC_ID = 'wacid.HBgLMTU1NTIyMjMzMzMVAgARGCA4QTE5RkU3MDdBQzFCQzM1MUFCNDI3RjM2Nzc1MjMA';
const BIC_ID = 'wacid.HBgLMTIxODU1NTI4MjgVAgARGCAyODRQIAFRoA';
const REQUEST_WAMID = 'wamid.HBgLMTU1NTIyMjMzMzMVAgARGBI5QTNDQTVCM0Q0Q0Q2RTY3RTcA';
const SOURCE = { wabaId: WABA, phoneNumberId: PNID, displayPhoneNumber: BIZ };
const JANE = { contactName: 'Jane Doe', contactWaId: USER, contactUserId: BSUID };
const CRLF_SDP = expect.stringMatching(/^v=0\r\n(?:[^\r\n]+\r\n)+$/);

const bicStatus = (status: string, timestamp: number, opaque: string | undefined) => ({
  kind: 'call.status',
  ...SOURCE,
  contactName: undefined,
  waCallId: BIC_ID,
  status,
  timestamp,
  recipientId: '12185552828',
  recipientUserId: 'US.55550000111122223333',
  recipientParentUserId: undefined,
  bizOpaqueCallbackData: opaque,
});

const reply = (over: Record<string, unknown>) => ({ kind: 'permission.reply', ...SOURCE, ...JANE, from: USER, fromUserId: BSUID, timestamp: 1767170000, ...over });

interface GoodCase {
  events: Record<string, unknown>[];
  ignored?: { path: string; reason: RegExp }[];
}

const GOOD: Record<string, GoodCase> = {
  'uic-connect': {
    events: [
      {
        kind: 'call.connect',
        ...SOURCE,
        ...JANE,
        contactUsername: '@janedoe',
        waCallId: UIC_ID,
        direction: 'user_initiated',
        from: USER,
        to: BIZ,
        fromUserId: BSUID,
        toUserId: undefined,
        timestamp: 1767168000,
        ctaPayload: 'queue=billing',
        deeplinkPayload: undefined,
        bizOpaqueCallbackData: undefined,
        sdpType: 'offer',
        sdp: CRLF_SDP,
      },
    ],
  },
  'uic-connect-username-only': {
    events: [
      {
        kind: 'call.connect',
        direction: undefined,
        from: undefined,
        fromUserId: 'BR.99887766554433221100',
        fromParentUserId: 'BR.1122',
        contactWaId: undefined,
        contactUserId: 'BR.99887766554433221100',
        contactUsername: '@anon',
        timestamp: 1767168100,
        deeplinkPayload: 'campaign=spring',
        sdpType: 'offer',
      },
    ],
  },
  'bic-connect': {
    events: [
      {
        kind: 'call.connect',
        ...SOURCE,
        contactName: 'Sam Callee',
        contactWaId: '12185552828',
        waCallId: BIC_ID,
        direction: 'business_initiated',
        from: BIZ,
        to: '12185552828',
        toUserId: 'US.55550000111122223333',
        timestamp: 1767169000,
        bizOpaqueCallbackData: 'crm-ticket-8812',
        sdpType: 'answer',
        sdp: CRLF_SDP,
      },
    ],
  },
  'bic-status-ringing': { events: [bicStatus('ringing', 1767169010, 'crm-ticket-8812')] },
  'bic-status-accepted': { events: [bicStatus('accepted', 1767169020, 'crm-ticket-8812')] },
  'bic-status-rejected': { events: [bicStatus('rejected', 1767169030, undefined)] },
  'terminate-completed': {
    events: [
      {
        kind: 'call.terminate',
        ...SOURCE,
        ...JANE,
        waCallId: UIC_ID,
        direction: 'user_initiated',
        status: 'completed',
        timestamp: 1767168130,
        startTime: 1767168010,
        endTime: 1767168130,
        durationSeconds: 120,
        bizOpaqueCallbackData: 'agent-42',
        ctaPayload: 'queue=billing',
        errors: [],
      },
    ],
  },
  'terminate-completed-unanswered': {
    events: [{ kind: 'call.terminate', waCallId: 'wacid.UNANSWERED0002', status: 'completed', timestamp: 1767168200, startTime: undefined, durationSeconds: undefined, errors: [] }],
  },
  'terminate-failed-errors': {
    events: [
      {
        kind: 'call.terminate',
        waCallId: BIC_ID,
        direction: 'business_initiated',
        status: 'failed',
        durationSeconds: 80,
        bizOpaqueCallbackData: 'crm-ticket-8812',
        contactName: 'Sam Callee',
        errors: [
          {
            code: 138021,
            title: 'Media receive timeout',
            message: 'Media receive timeout',
            href: 'https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/',
            details: 'Client received no media for too long',
          },
        ],
      },
    ],
  },
  'permission-reply-temporary-accept': {
    events: [
      reply({
        messageId: 'wamid.sH0kFlaCGg0xcvZbgmg90lHrg2dL',
        response: 'accept',
        isPermanent: false,
        expiresAt: 1767774800,
        responseSource: 'user_action',
        contextId: REQUEST_WAMID,
        contextKind: 'message',
      }),
    ],
  },
  'permission-reply-permanent-accept': {
    events: [reply({ messageId: 'wamid.PERMANENT0003', response: 'accept', isPermanent: true, expiresAt: undefined, responseSource: 'user_action', contextId: REQUEST_WAMID, contextKind: 'message' })],
  },
  'permission-reply-permanent-from-profile': {
    events: [reply({ messageId: 'wamid.PROFILE0004', response: 'accept', isPermanent: true, expiresAt: undefined, responseSource: 'user_action', contextId: undefined, contextKind: undefined })],
  },
  'permission-reply-user-reject': {
    events: [reply({ messageId: 'wamid.REJECT0005', response: 'reject', isPermanent: false, expiresAt: undefined, responseSource: 'user_action', contextKind: 'message' })],
  },
  'permission-reply-automatic-callback': {
    events: [reply({ messageId: 'wamid.AUTOCALLBACK0006', response: 'accept', isPermanent: false, expiresAt: 1767774900, responseSource: 'automatic', contextId: UIC_ID, contextKind: 'call' })],
  },
  'permission-reply-auto-revoke': {
    events: [reply({ messageId: 'wamid.AUTOREVOKE0007', response: 'reject', isPermanent: false, responseSource: 'automatic', contextId: undefined, contextKind: undefined })],
  },
  voicemail: {
    events: [
      {
        kind: 'call.voicemail',
        ...SOURCE,
        ...JANE,
        waCallId: 'wacid.VOICEMAIL0008',
        from: USER,
        fromUserId: BSUID,
        timestamp: 1767171000,
        audio: {
          mediaId: '938884519013999',
          mimeType: 'audio/ogg; codecs=opus',
          sha256: '5d0f4e2d3c1b0a9f8e7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a392817',
          url: undefined,
        },
      },
    ],
  },
  'message-status-delivered': {
    events: [{ kind: 'message.status', ...SOURCE, messageId: REQUEST_WAMID, status: 'delivered', timestamp: 1767169500, recipientId: USER, recipientUserId: BSUID, errors: [] }],
  },
  'message-status-failed-outdated-client': {
    events: [
      {
        kind: 'message.status',
        messageId: 'wamid.OUTDATED0009',
        status: 'failed',
        timestamp: 1767169600,
        errors: [{ code: 131026, title: 'Message undeliverable', details: 'Receiver is incapable of receiving this message' }],
      },
    ],
  },
  'account-settings-update': {
    events: [
      {
        kind: 'settings.update',
        wabaId: WABA,
        phoneNumberId: PNID,
        timestamp: 1767172000,
        calling: {
          status: 'ENABLED',
          callIconVisibility: 'DEFAULT',
          callbackPermissionStatus: 'ENABLED',
          srtpKeyExchangeProtocol: 'DTLS',
          sip: { status: 'DISABLED', servers: [] },
          raw: expect.objectContaining({ call_hours: { status: 'DISABLED' } }),
        },
      },
    ],
  },
  'account-update-violation': {
    events: [{ kind: 'account.update', wabaId: WABA, event: 'account_violation', phoneNumber: BIZ, timestamp: 1767173000, violationType: 'USER_INITIATED_CALLS_LOW_PICKUP_RATE', restrictions: [] }],
  },
  'account-update-restriction': {
    events: [
      {
        kind: 'account.update',
        event: 'account_restriction',
        violationType: undefined,
        timestamp: 1767173100,
        restrictions: [
          { type: 'RESTRICTED_USER_INITIATED_CALLING_CALL_BUTTON_HIDDEN', expiration: 1767777000 },
          { type: 'RESTRICTED_BIZ_INITIATED_AND_USER_INITIATED_CALLING', expiration: 1767777100 },
        ],
      },
    ],
  },
  'ignored-text-message': { events: [], ignored: [{ path: 'entry[0].changes[0].value.messages[0]', reason: /message type "text" is not handled/ }] },
  'ignored-other-field': { events: [], ignored: [{ path: 'entry[0].changes[0]', reason: /field "message_template_status_update" is not handled/ }] },
  'batch-two-entries': {
    events: [
      { kind: 'call.connect', waCallId: 'wacid.BATCHA0011', sdpType: 'offer' },
      { kind: 'call.status', waCallId: BIC_ID, status: 'ringing', timestamp: 1767175001 },
    ],
    ignored: [{ path: 'entry[1].changes[1].value.messages[0]', reason: /message type "sticker" is not handled/ }],
  },
};

interface BadCase {
  path: string;
  reason: RegExp;
  /** Valid neighbours of the bad item still parse. */
  events?: number;
}

const BAD: Record<string, BadCase> = {
  'not-an-object': { path: '$', reason: /^body must be a JSON object, got an array$/ },
  'wrong-object': { path: '$', reason: /^object: must be "whatsapp_business_account"$/ },
  'entry-not-an-array': { path: '$', reason: /^entry: must be an array$/ },
  'change-without-field': { path: 'entry[0].changes[0]', reason: /^field is missing/ },
  'calls-without-phone-number-id': { path: 'entry[0].changes[0].value', reason: /^metadata\.phone_number_id is missing/ },
  'contacts-not-an-array': { path: 'entry[0].changes[0].value', reason: /^contacts: .*expected array/ },
  'connect-without-session': { path: 'entry[0].changes[0].value.calls[0]', reason: /^session is missing/ },
  'connect-sdp-not-sdp': { path: 'entry[0].changes[0].value.calls[0]', reason: /^session\.sdp: must start with "v=0"$/ },
  'connect-unknown-sdp-type': { path: 'entry[0].changes[0].value.calls[0]', reason: /^session\.sdp_type: .*got "pranswer"$/ },
  'connect-without-call-id': { path: 'entry[0].changes[0].value.calls[0]', reason: /^id is missing/ },
  'call-without-event': { path: 'entry[0].changes[0].value.calls[0]', reason: /^event is missing \(must be "connect" or "terminate"\)$/ },
  'terminate-unknown-status': { path: 'entry[0].changes[0].value.calls[0]', reason: /^status: expected one of "completed" \| "failed".*got "HUNG_UP"$/ },
  'terminate-timestamp-not-digits': { path: 'entry[0].changes[0].value.calls[0]', reason: /^timestamp: expected Unix seconds.*got "yesterday"$/ },
  'call-status-unknown-value': { path: 'entry[0].changes[0].value.statuses[0]', reason: /^status: expected one of "ringing" \| "accepted" \| "rejected".*got "BUSY"$/ },
  'call-status-without-id': { path: 'entry[0].changes[0].value.statuses[0]', reason: /^id is missing/ },
  'permission-reply-unknown-response': { path: 'entry[0].changes[0].value.messages[0]', reason: /^interactive\.call_permission_reply\.response: .*got "maybe"$/ },
  'permission-reply-without-reply-block': { path: 'entry[0].changes[0].value.messages[0]', reason: /^interactive\.call_permission_reply is missing/ },
  'permission-reply-bad-expiration': { path: 'entry[0].changes[0].value.messages[0]', reason: /^interactive\.call_permission_reply\.expiration_timestamp: .*got "next week"$/ },
  'voicemail-without-audio': { path: 'entry[0].changes[0].value.messages[0]', reason: /^audio is missing/ },
  'message-without-type': { path: 'entry[0].changes[0].value.messages[0]', reason: /^type is missing/ },
  'settings-unknown-calling-status': { path: 'entry[0].changes[0].value', reason: /^phone_number_settings\.calling\.status: .*got "ON"$/ },
  'account-update-without-event': { path: 'entry[0].changes[0].value', reason: /^event is missing/ },
  'message-status-negative-timestamp': { path: 'entry[0].changes[0].value.statuses[0]', reason: /^timestamp: must not be negative$/ },
  'one-bad-call-beside-a-good-one': { path: 'entry[0].changes[0].value.calls[0]', reason: /^id: must not be empty$/, events: 1 },
};

describe('webhook fixtures', () => {
  it('every fixture file has an expectation and every expectation a file', () => {
    expect(names('good')).toEqual(Object.keys(GOOD).sort());
    expect(names('bad')).toEqual(Object.keys(BAD).sort());
  });

  it.each(Object.entries(GOOD))('good/%s.json parses to the expected events', (name, expected) => {
    const parsed = parseWebhook(load('good', name));
    expect(parsed.rejected).toEqual([]);
    expect(parsed.events).toMatchObject(expected.events);
    expect(parsed.ignored).toEqual((expected.ignored ?? []).map((i) => ({ path: i.path, reason: expect.stringMatching(i.reason) })));
  });

  it.each(Object.entries(BAD))('bad/%s.json is rejected with a reason naming the defect', (name, expected) => {
    const body = load('bad', name);
    const parsed = parseWebhook(body);
    expect(parsed.rejected).toEqual([{ path: expected.path, reason: expect.stringMatching(expected.reason), raw: expect.anything() }]);
    expect(parsed.events).toHaveLength(expected.events ?? 0);
    expect(parsed.ignored).toEqual([]);
  });
});
