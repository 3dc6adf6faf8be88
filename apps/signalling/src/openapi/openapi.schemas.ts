/**
 * Component schemas of the public API (JSON Schema 2020-12, as OpenAPI 3.1 uses it). Written by hand from
 * the types they describe: `CallRecord` (libs/call-state call-record.types.ts), `PermissionView`
 * (signalling permissions/permission.service.ts), the CRM event envelope (events/crm-event.types.ts).
 */
import { CALL_DIRECTIONS, CALL_STATES, END_PARTIES } from '@wagw/call-state';
import { PERMISSION_STATES } from '@wagw/permissions';
import { CRM_EVENT_TYPES } from '../events/crm-event.types';
import { CDR_COLUMNS } from '../calls/cdr-export';

type Schema = Record<string, unknown>;

const epochMs = (description: string): Schema => ({ type: 'integer', format: 'int64', minimum: 0, description: `${description} (epoch milliseconds)` });
const str = (description: string): Schema => ({ type: 'string', description });
const ref = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` });
const obj = (required: string[], properties: Record<string, Schema>, description?: string): Schema => ({
  type: 'object',
  ...(description ? { description } : {}),
  required,
  properties,
});

const callRecord = obj(
  ['callId', 'direction', 'state', 'version', 'createdAt', 'updatedAt', 'businessNumber', 'phoneNumberId'],
  {
    callId: str('Our call id (`call_` + time-sortable id).'),
    direction: { type: 'string', enum: [...CALL_DIRECTIONS], description: '`inbound`: the WhatsApp user called; `outbound`: the business called the user.' },
    state: { type: 'string', enum: [...CALL_STATES] },
    version: { type: 'integer', description: 'Bumped on every change of the record.' },
    createdAt: epochMs('When the call was created'),
    updatedAt: epochMs('Last change'),
    answeredAt: epochMs('When both legs were up'),
    endedAt: epochMs('When the call ended'),
    durationMs: { type: 'integer', minimum: 0, description: 'Talk time: endedAt - answeredAt, 0 if never answered.' },
    businessNumber: str('The business number, E.164 digits.'),
    phoneNumberId: str('Graph phone number id of the business number.'),
    userWaId: str('The WhatsApp user (wa_id, E.164 digits).'),
    userName: str('The user profile name, when WhatsApp gave it.'),
    destination: str('Inbound: where the call rings on the PBX (SIP URI or extension).'),
    entryPoint: { type: 'string', enum: ['call_button', 'deep_link'], description: 'Inbound: the user called from a call button (`POST /v1/contacts/{waId}/call-button`, Meta\'s `cta_payload`) or a deep link (`deeplink_payload`), when WhatsApp said so.' },
    entryPayload: str('Inbound: the call button\'s payload or the deep link\'s biz_payload; `pbx.routes[].entryPoints` route on it, and the PBX gets it as `X-WA-Entry-Payload`.'),
    voicemailMediaId: str('Inbound: the voicemail the user left after the call (Meta\'s media id of the audio; GET /v1/calls/{id}/voicemail gives the audio).'),
    redirectedTo: str('Where the PBX redirected the call (the Contact of its 300-302, which the gateway followed), when it did: where the call rang in the end.'),
    agent: str('Outbound: the agent (extension or SIP URI) who placed the call.'),
    waCallId: str('WhatsApp call id (`wacid.…`).'),
    sipCallId: str('SIP Call-ID of the PBX leg.'),
    waLegId: str('Media app leg id toward WhatsApp.'),
    pbxLegId: str('Media app leg id toward the PBX.'),
    waSdp: str('Our SDP toward WhatsApp.'),
    codec: str('Codec on the PBX leg, e.g. PCMU/8000.'),
    pbxSrtp: str('SRTP crypto suite on the PBX leg (SDES keys, trunk srtp), e.g. AES_CM_128_HMAC_SHA1_80; absent when the PBX leg is plain RTP.'),
    permissionMessageId: str('Outbound: message id (wamid) of the permission request sent for this call.'),
    endCause: str('Why the call ended, in words.'),
    endedBy: { type: 'string', enum: [...END_PARTIES], description: '`wa` the user, `pbx` the PBX side, `api` a hang-up through this API, `system` a timeout or failure.' },
    waCause: str('WhatsApp terminate status/reason.'),
    sipCause: str('SIP status or Reason of the PBX leg.'),
    waDurationS: { type: 'integer', minimum: 0, description: "The call's duration as WhatsApp counts it, whole seconds (Meta's terminate webhook `duration`, sent only for an answered call; it may arrive just after `ended` when the gateway ended the call)." },
    waBillablePulses: { type: 'integer', minimum: 0, description: 'Outbound (business-initiated) calls: what Meta bills, 6-second pulses of `waDurationS` rounded up (a 56 s call is 10). User-initiated calls are free and have none.' },
    pbxDialog: str('The PBX leg\'s SIP dialog once established (JSON: Call-ID, tags, route set, remote target, CSeq), kept so that another signalling process can send the BYE if the one holding the call dies.'),
    pbxInvite: str('The PBX leg\'s INVITE while the PBX rings (JSON: Request-URI, Via, From, To, Call-ID, CSeq, Route, destination), kept so that another signalling process can CANCEL it if the one holding the call dies before the answer.'),
    pbxIncomingInvite: str('The PBX\'s INVITE of a PBX call to a WhatsApp user (JSON: Vias, From, our To tag, Call-ID, CSeq, source), kept so that another signalling process can answer it 503 if the one holding the call dies before the user answers.'),
    signallingInstance: str('The signalling process holding the call (its instance id, new at every start); if it dies, another one ends the call with the cause `signalling instance <id> lost`.'),
    mediaMode: { type: 'string', enum: ['transcode', 'passthrough'], description: 'A bridged call, noted as its bridge stopped, before the record says `ended`: Opus transcoded to the PBX codec, or passed through.' },
    waPacketsReceived: { type: 'integer', minimum: 0, description: 'A bridged call: RTP packets the gateway received from the WhatsApp user.' },
    waPacketsLost: { type: 'integer', minimum: 0, description: 'A bridged call: packets of the WhatsApp user\'s stream lost on the way (RFC 3550 cumulative loss).' },
    waJitterMs: { type: 'integer', minimum: 0, description: 'A bridged call: interarrival jitter of the WhatsApp user\'s stream at the end (RFC 3550), ms.' },
    pbxPacketsReceived: { type: 'integer', minimum: 0, description: 'A bridged call: RTP packets the gateway received from the PBX side.' },
    pbxPacketsLost: { type: 'integer', minimum: 0, description: 'A bridged call: packets of the PBX side\'s stream lost on the way (RFC 3550).' },
    pbxJitterMs: { type: 'integer', minimum: 0, description: 'A bridged call: interarrival jitter of the PBX side\'s stream at the end (RFC 3550), ms.' },
  },
  'One call; once `ended` it is the call detail record.',
);

const quota = obj(['canRequest', 'left24h', 'left7d'], {
  canRequest: { type: 'boolean', description: 'A permission request may be sent now.' },
  left24h: { type: 'integer', minimum: 0, description: 'Requests left in the rolling 24 h (Meta: 1).' },
  left7d: { type: 'integer', minimum: 0, description: 'Requests left in the rolling 7 days (Meta: 2).' },
  nextRequestAt: epochMs('When a request becomes possible again; only when canRequest is false'),
  blockedByMetaUntil: epochMs('WhatsApp forbade requests until then'),
});

const dailyCap = obj(['canCall', 'used'], {
  canCall: { type: 'boolean' },
  used: { type: 'integer', minimum: 0, description: 'Connected business-initiated calls in the rolling 24 h.' },
  nextCallAt: epochMs('When the next call may be placed; only when canCall is false'),
  blockedByMetaUntil: epochMs('WhatsApp reported the cap reached until then'),
});

const decision = obj(['action'], {
  action: { type: 'string', enum: ['call', 'request', 'refuse'], description: '`call`: a grant covers a call now; `request`: POST /v1/calls sends a permission request first; `refuse`: see code and reason.' },
  state: { type: 'string', enum: [...PERMISSION_STATES] },
  code: { type: 'string', enum: ['PERMISSION_DECLINED', 'PERMISSION_QUOTA', 'DAILY_CALL_CAP', 'PERMISSION_PENDING'], description: 'Only for `refuse`.' },
  reason: str('Only for `refuse`: a sentence an agent can read.'),
  retryAt: epochMs('Only for `refuse`, when waiting helps'),
  expiresAt: epochMs('Only for `call` on a temporary grant'),
  nextRequestAt: epochMs('Only for `request`: when another request could follow'),
});

const permissionView = obj(
  ['waId', 'businessNumber', 'state', 'quota', 'decision'],
  {
    waId: str('The WhatsApp user, E.164 digits.'),
    businessNumber: str('The business number, E.164 digits.'),
    state: {
      type: 'string',
      enum: [...PERMISSION_STATES],
      description: '`granted-once`: temporary grant until expiresAt; `granted-always`: permanent; `declined`: the user chose never; `revoked`: a grant was withdrawn; `expired`: a temporary grant ran out.',
    },
    expiresAt: epochMs('End of a temporary grant (granted-once only)'),
    quota,
    dailyCap,
    decision,
  },
  'Call permission of one WhatsApp user toward the business number.',
);

const crmEvent = obj(
  ['id', 'type', 'at', 'data'],
  {
    id: str('Unique event id, increasing within one gateway process (`<epoch>-<seq>`). The de-duplication key.'),
    type: { type: 'string', enum: [...CRM_EVENT_TYPES] },
    at: epochMs('When the event was published'),
    data: {
      type: 'object',
      description:
        'By type. call.incoming {callId, waId?, userName?, businessNumber, destination?, entryPoint?: call_button|deep_link, entryPayload?}; call.ringing {callId, waId?, side: agent|user|desk-phone}; ' +
        'call.connected {callId, waId?, direction, codec?}; call.ended {callId, waId?, direction, cause, endedBy?, durationMs}; ' +
        'call.dtmf {callId, digit, direction: wa-to-pbx|pbx-to-wa, durationMs}; call.held and call.resumed {callId, waId?} (the PBX holds or resumes the call); call.transferred {callId, waId?, to, by: pbx|api, attended}; call.transfer_failed {callId, waId?, to, by, cause}; permission.requested {waId, businessNumber, messageId, callId?}; ' +
        'permission.granted {waId, businessNumber, kind: once|always, expiresAt?, source: user_action|automatic}; permission.declined {waId, businessNumber}; ' +
        'permission.revoked {waId, businessNumber, reason}; permission.expired {waId, businessNumber, expiredAt}; ' +
        'call.voicemail {waCallId, callId?, waId?, userName?, mediaId, mimeType?, audioPath?} (the user left a voicemail; Meta\'s media id; audioPath, GET /v1/calls/{callId}/voicemail, gives the audio); ' +
        'call.follow_up_sent {callId, waId, action: call_button|permission_request, messageId} (a missed call was followed up, signalling.missedCallFollowUp); ' +
        'account.update {event: account_violation|account_restriction, phoneNumber?, violationType?, restrictions: [{type, expiresAt?}]} (WhatsApp restricted calling on the number, or reported a quality violation; an empty list lifts the restrictions).',
    },
  },
  'The envelope of every CRM event, the same on the SSE stream and in webhooks.',
);

const error = obj(['error'], {
  error: obj(['code', 'message'], {
    code: str('A stable code, e.g. PERMISSION_DECLINED, CALL_NOT_FOUND, HTTP_401.'),
    message: { description: 'What went wrong (a string; a list of strings for request validation errors).', oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }] },
    retryAt: epochMs('For 429: when trying again may succeed'),
  }),
});

export const OPENAPI_SCHEMAS: Record<string, Schema> = {
  CallRecord: callRecord,
  StartCallRequest: obj(['to', 'agent'], {
    to: { type: 'string', pattern: '^\\+?[\\d\\s().-]{6,20}$', description: 'The WhatsApp user number, E.164 with or without +.', examples: ['+15552223333'] },
    agent: { type: 'string', minLength: 1, maxLength: 200, description: "The agent's phone on the PBX: an extension (1001) or a SIP URI.", examples: ['1001'] },
  }),
  CallStarted: { allOf: [ref('CallRecord')], description: '201: the call is being placed (state dialing-pbx).' },
  CallPendingPermission: {
    allOf: [
      ref('CallRecord'),
      obj([], { messageId: str('wamid of the permission request sent to the user.'), permission: ref('PermissionView') }),
    ],
    description: '202: a permission request was sent; the call (state permission-pending) is placed when the user accepts.',
  },
  CdrExport: obj(
    ['callId', 'direction', 'createdAt', 'businessNumber'],
    Object.fromEntries(CDR_COLUMNS.map((c) => [c, (callRecord['properties'] as Record<string, Schema>)[c] as Schema])),
    'An ended call as the CDR export gives it: the CallRecord fields a billing or reporting system keeps; absent ones are left out (empty cells in CSV).',
  ),
  CdrPage: obj(['cdrs', 'next'], { cdrs: { type: 'array', items: ref('CdrExport') }, next: { type: ['string', 'null'], description: 'Pass it as `after` for the next page; null on the last.' } }),
  CallList: obj(['active', 'recent'], { active: { type: 'array', items: ref('CallRecord') }, recent: { type: 'array', items: ref('CallRecord') } }),
  PermissionView: permissionView,
  PermissionRequested: obj(['messageId', 'permission'], { messageId: str('wamid of the request message.'), permission: ref('PermissionView') }),
  Contact: obj(['waId', 'lastSeenAt'], { waId: str('E.164 digits.'), name: str('Profile name, when known.'), lastSeenAt: epochMs('Last contact') }),
  CrmEvent: crmEvent,
  DeadLetter: obj(['receivedAt', 'path', 'reason', 'raw'], {
    receivedAt: { type: 'string', format: 'date-time' },
    path: str('JSON path of the problem in the webhook body.'),
    reason: str('Why it was not applied.'),
    raw: { description: 'The offending part of the payload, as received.' },
  }),
  Error: error,
};
