/**
 * The OpenAPI 3.1 description of the signalling app's public HTTP API, served at GET /openapi.json and
 * rendered at GET /docs. Hand-written against the controllers (calls/, permissions/, contacts/, events/,
 * webhooks/, health/); `openapi.document.spec.ts` fails when a route is missing here or documented but
 * not served.
 */
import { CRM_EVENT_TYPES } from '../events/crm-event.types';
import { OPENAPI_SCHEMAS } from './openapi.schemas';
import { OPERATIONS_OPENAPI_PATHS } from '../admin/operations.openapi';

type Json = Record<string, unknown>;

const ref = (name: string): Json => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: Json, description: string): Json => ({ description, content: { 'application/json': { schema } } });
const error = (description: string): Json => json(ref('Error'), description);
/** 429 answers carry `retryAt` in the body and the same moment as Retry-After (seconds). */
const tooMany = (description: string): Json => ({
  ...error(description),
  headers: { 'Retry-After': { description: 'Seconds until retryAt.', schema: { type: 'integer', minimum: 0 } } },
});
const UNAUTHORIZED = error('Missing or wrong bearer token.');
const bearer = [{ bearer: [] }];
const waIdParam = { name: 'waId', in: 'path', required: true, description: 'The WhatsApp user number, E.164 digits (a leading + is accepted).', schema: { type: 'string' } };
const callIdParam = { name: 'id', in: 'path', required: true, description: 'Our call id, or the WhatsApp call id (wacid.…).', schema: { type: 'string' } };
const html = (description: string): Json => ({ description, content: { 'text/html': { schema: { type: 'string' } } } });

const calls: Json = {
  '/v1/calls': {
    post: {
      tags: ['calls'],
      operationId: 'startCall',
      summary: 'An agent calls a WhatsApp user',
      description:
        "Places a business-initiated call: the agent's phone rings first (PBX), then the user's WhatsApp. Without permission a call permission " +
        'request is sent and the call waits in `permission-pending` until the user answers it (then it is placed, or ends when declined).',
      security: bearer,
      requestBody: { required: true, content: { 'application/json': { schema: ref('StartCallRequest') } } },
      responses: {
        '201': json(ref('CallStarted'), 'The user already granted permission: the call starts now (state `dialing-pbx`).'),
        '202': json(ref('CallPendingPermission'), 'A permission request was sent; the call is `permission-pending`.'),
        '400': error('Invalid body (to, agent).'),
        '401': UNAUTHORIZED,
        '403': error('PERMISSION_DECLINED: the user chose never to allow calls.'),
        '429': tooMany('PERMISSION_QUOTA (no permission and no request left) or DAILY_CALL_CAP; `retryAt` says when to try again.'),
        '503': error('GATEWAY_DRAINING: this signalling app is shutting down and takes no new calls (try another instance).'),
        '502': error('WhatsApp Graph API failed or was unreachable.'),
      },
    },
    get: {
      tags: ['calls'],
      operationId: 'listCalls',
      summary: 'Active calls and recent call detail records',
      security: bearer,
      parameters: [
        { name: 'state', in: 'query', required: false, description: 'Only calls in this state.', schema: { type: 'string', enum: (OPENAPI_SCHEMAS['CallRecord'] as { properties: { state: { enum: string[] } } }).properties.state.enum } },
        { name: 'limit', in: 'query', required: false, description: 'Recent records to return (1-500, default 50).', schema: { type: 'integer', minimum: 1, maximum: 500 } },
      ],
      responses: { '200': json(ref('CallList'), 'Active calls (oldest first) and recent ended ones (newest first).'), '401': UNAUTHORIZED },
    },
  },
  '/v1/cdrs': {
    get: {
      tags: ['calls'],
      operationId: 'exportCdrs',
      summary: 'Call detail records by end time, a page at a time (JSON or CSV)',
      description:
        'Ended calls, oldest first, for billing and reporting: pull with `since` (and `until`), then follow `next` (also in `X-Next-Cursor` and a ' +
        '`Link: <...>; rel="next"` header) until it is null; a system that pulls regularly passes its last `next` as `after` and gets every CDR ' +
        "once. CDRs are kept `signalling.cdrRetentionHours` (default 7 days), at most the `signalling.cdrMax` newest (default 10,000). CSV (`format=csv` or `Accept: text/csv`): " +
        'a header of the CdrExport fields, one row per CDR, times in ISO 8601 UTC, text a spreadsheet would run as a formula prefixed with an apostrophe.',
      security: bearer,
      parameters: [
        { name: 'since', in: 'query', required: false, description: 'Ended at or after: epoch ms, an ISO 8601 date-time with its zone, or a date (UTC midnight).', schema: { type: 'string' } },
        { name: 'until', in: 'query', required: false, description: 'Ended before (same forms as since).', schema: { type: 'string' } },
        { name: 'after', in: 'query', required: false, description: 'The `next` of the page before.', schema: { type: 'string' } },
        { name: 'limit', in: 'query', required: false, description: 'CDRs per page (1-1000, default 100).', schema: { type: 'integer', minimum: 1, maximum: 1000 } },
        { name: 'format', in: 'query', required: false, description: '`json` (default) or `csv`.', schema: { type: 'string', enum: ['json', 'csv'] } },
      ],
      responses: {
        '200': {
          description: 'A page of CDRs.',
          headers: { 'X-Next-Cursor': { description: 'The `next` of this page, when more follow.', schema: { type: 'string' } } },
          content: { 'application/json': { schema: ref('CdrPage') }, 'text/csv': { schema: { type: 'string' } } },
        },
        '400': error('A bad query parameter, with why (a time that is not one, a limit out of range, a cursor this API did not hand out, an unknown parameter).'),
        '401': UNAUTHORIZED,
      },
    },
  },
  '/v1/calls/{id}': {
    get: {
      tags: ['calls'],
      operationId: 'getCall',
      summary: 'One call (live state, or its CDR once ended)',
      security: bearer,
      parameters: [callIdParam],
      responses: { '200': json(ref('CallRecord'), 'The call.'), '401': UNAUTHORIZED, '404': error('No such call.') },
    },
  },
  '/v1/calls/{id}/voicemail': {
    get: {
      tags: ['calls'],
      operationId: 'getCallVoicemail',
      summary: 'The voicemail the user left after the call (the audio)',
      description:
        "Meta's recording of the caller (an Ogg Opus voice note, reference §2.9), fetched from Meta with the gateway's token (`GET /<MEDIA_ID>`, then its download link) and checked against Meta's SHA-256. The CRM event `call.voicemail` names this path as `audioPath`. Recently fetched recordings are kept 10 minutes. Media ids from webhooks live 7 days at Meta.",
      security: bearer,
      parameters: [callIdParam],
      responses: {
        '200': { description: 'The audio, as Meta gave it (`audio/ogg; codecs=opus`); `X-WA-Media-Id` names the media.', content: { 'audio/ogg': { schema: { type: 'string', format: 'binary' } } } },
        '401': UNAUTHORIZED,
        '404': error('No such call, or no voicemail on it (`NO_VOICEMAIL`).'),
        '410': error('Meta no longer has the recording (`VOICEMAIL_EXPIRED`).'),
        '502': error('Meta refused or failed the request, or sent bytes that do not match its SHA-256 (`WA_GRAPH_*`).'),
      },
    },
  },
  '/v1/calls/{id}/hangup': {
    post: {
      tags: ['calls'],
      operationId: 'hangupCall',
      summary: 'Hang up a call (also cancels one waiting for permission)',
      description: 'Releases every leg; answers with the record once it ended (`endedBy: api`). Hanging up an ended call returns its record.',
      security: bearer,
      parameters: [callIdParam],
      responses: { '200': json(ref('CallRecord'), 'The ended call.'), '401': UNAUTHORIZED, '404': error('No such call.') },
    },
  },
  '/v1/calls/{id}/transfer': {
    post: {
      tags: ['calls'],
      operationId: 'transferCall',
      summary: "Transfer an active call's desk-phone side to another extension or SIP URI",
      description:
        'A blind transfer through the call\'s trunk: the target is called as the WhatsApp user while the call goes on; when it answers, the user is bridged to it and the phone the call was on is released (BYE). The outcome comes as the CRM event `call.transferred` or `call.transfer_failed` (the call then stays where it was). With several signalling processes, a call another process holds is handed to it: 202 with `heldBy`, and its refusals (no desk phone on the call, a transfer under way) come as `call.transfer_failed`.',
      security: bearer,
      parameters: [callIdParam],
      requestBody: {
        required: true,
        content: {
          'application/json': {
            schema: {
              type: 'object',
              required: ['to'],
              properties: { to: { type: 'string', description: 'An extension on the call\'s trunk (1002) or a SIP URI (sip:1002@pbx.example.com).' } },
            },
          },
        },
      },
      responses: {
        '202': json(
          {
            type: 'object',
            required: ['callId', 'to'],
            properties: { callId: { type: 'string' }, to: { type: 'string' }, heldBy: { type: 'string', description: 'The signalling process the transfer was handed to (it holds the call), when not this one.' } },
          },
          'The transfer started (or was handed to the process holding the call).',
        ),
        '400': error('`to` is neither an extension nor a SIP URI.'),
        '401': UNAUTHORIZED,
        '404': error('No such call.'),
        '409': error('CALL_NOT_TRANSFERABLE: the call is not active, has no desk phone on it, or is being transferred.'),
      },
    },
  },
};

const permissions: Json = {
  '/v1/permissions/{waId}': {
    get: {
      tags: ['permissions'],
      operationId: 'getPermission',
      summary: "A user's call permission, request quota and what a call would do now",
      security: bearer,
      parameters: [waIdParam],
      responses: { '200': json(ref('PermissionView'), 'The permission (state `none` for a user never asked).'), '400': error('Not a phone number.'), '401': UNAUTHORIZED },
    },
  },
  '/v1/permissions/{waId}/request': {
    post: {
      tags: ['permissions'],
      operationId: 'requestPermission',
      summary: 'Send a call permission request to the user (without placing a call)',
      security: bearer,
      parameters: [waIdParam],
      requestBody: {
        required: false,
        content: { 'application/json': { schema: { type: 'object', properties: { bodyText: { type: 'string', minLength: 1, maxLength: 1024, description: 'Text of the request message.' } } } } },
      },
      responses: {
        '202': json(ref('PermissionRequested'), 'The request message was sent; the reply arrives as a permission.* event.'),
        '401': UNAUTHORIZED,
        '403': error('PERMISSION_DECLINED.'),
        '429': tooMany('PERMISSION_QUOTA or DAILY_CALL_CAP, with `retryAt`.'),
        '502': error('WhatsApp Graph API failed.'),
      },
    },
  },
  '/v1/contacts': {
    get: {
      tags: ['contacts'],
      operationId: 'listContacts',
      summary: 'WhatsApp users the gateway has seen, most recent first',
      security: bearer,
      responses: { '200': json({ type: 'object', required: ['contacts'], properties: { contacts: { type: 'array', items: ref('Contact') } } }, 'The contacts.'), '401': UNAUTHORIZED },
    },
  },
  '/v1/contacts/{waId}/call-button': {
    post: {
      tags: ['contacts'],
      operationId: 'sendCallButton',
      summary: 'Send the user a WhatsApp call button (interactive voice_call message)',
      description:
        "The user's tap calls the business; the call carries `payload` (`entryPoint` `call_button`, `entryPayload`), which `pbx.routes[].entryPoints` may route on and the PBX gets as `X-WA-Entry-Payload`. " +
        'Meta allows it inside the 24 h customer-service window; error 131009 means the user\'s country does not support it.',
      security: bearer,
      parameters: [waIdParam],
      requestBody: {
        required: true,
        content: {
          'application/json': {
            schema: {
              type: 'object',
              required: ['bodyText'],
              additionalProperties: false,
              properties: {
                bodyText: { type: 'string', minLength: 1, maxLength: 1024, description: 'The message text above the button.' },
                displayText: { type: 'string', minLength: 1, maxLength: 20, description: 'The button label (Meta\'s default "Call Now").' },
                ttlMinutes: { type: 'integer', minimum: 1, maximum: 43200, description: 'Minutes the button works (Meta\'s default 10080, 7 days).' },
                payload: { type: 'string', maxLength: 512, description: 'Comes back with the call as its entry payload, e.g. `queue=billing`.' },
              },
            },
          },
        },
      },
      responses: {
        '201': json(
          {
            type: 'object',
            required: ['messageId', 'to', 'expiresAt'],
            properties: { messageId: { type: 'string', description: 'Meta\'s message id (wamid).' }, to: { type: 'string' }, payload: { type: 'string' }, expiresAt: { type: 'integer', description: 'Epoch ms when the button stops working.' } },
          },
          'The button was sent.',
        ),
        '400': error('Invalid request (field named), or WA_GRAPH_API_ERROR with Meta\'s code (e.g. 131009).'),
        '401': UNAUTHORIZED,
        '502': error('WhatsApp Graph API failed.'),
      },
    },
  },
};

const events: Json = {
  '/v1/events': {
    get: {
      tags: ['events'],
      operationId: 'streamEvents',
      summary: 'CRM events as Server-Sent Events',
      description:
        'Each event is `id: <event id>`, `event: <type>`, `data: <CrmEvent JSON>`. A comment line is sent every 15 s to keep the connection open. ' +
        'On reconnect, send `Last-Event-ID` (EventSource does it by itself) to get the buffered events published since; if that id is no longer ' +
        'buffered, every buffered event is replayed (de-duplicate by id). The token may be given as `?token=` because EventSource cannot set headers.',
      security: [{ bearer: [] }, { tokenQuery: [] }],
      parameters: [
        { name: 'types', in: 'query', required: false, description: `Comma-separated event types to receive (default all): ${CRM_EVENT_TYPES.join(', ')}.`, schema: { type: 'string' }, example: 'call.incoming,call.ended' },
        { name: 'Last-Event-ID', in: 'header', required: false, description: 'Replay buffered events after this id.', schema: { type: 'string' } },
        { name: 'lastEventId', in: 'query', required: false, description: 'Same as the Last-Event-ID header.', schema: { type: 'string' } },
      ],
      responses: {
        '200': {
          description: 'An endless event stream.',
          content: { 'text/event-stream': { schema: { type: 'string' }, example: 'id: m1x2-7\nevent: call.ended\ndata: {"id":"m1x2-7","type":"call.ended","at":1767225600000,"data":{...}}\n\n' } },
        },
        '400': error('Unknown event type in `types`.'),
        '401': UNAUTHORIZED,
      },
    },
  },
};

const operations: Json = {
  '/webhooks/whatsapp': {
    get: {
      tags: ['whatsapp'],
      operationId: 'verifyWebhook',
      summary: "Meta's webhook verification handshake",
      parameters: [
        { name: 'hub.mode', in: 'query', required: true, schema: { type: 'string', const: 'subscribe' } },
        { name: 'hub.verify_token', in: 'query', required: true, description: 'Must equal whatsapp.verifyToken.', schema: { type: 'string' } },
        { name: 'hub.challenge', in: 'query', required: true, schema: { type: 'string' } },
      ],
      responses: { '200': { description: 'The challenge, echoed.', content: { 'text/plain': { schema: { type: 'string' } } } }, '403': error('Wrong mode or verify token.') },
    },
    post: {
      tags: ['whatsapp'],
      operationId: 'receiveWebhook',
      summary: 'WhatsApp Cloud API webhooks (calls, call permission replies, message statuses)',
      description:
        'Signed by Meta with `X-Hub-Signature-256: sha256=<hex HMAC of the raw body keyed with the app secret>`. Acknowledged at once; processed ' +
        'after the acknowledgement, de-duplicated. Bodies of unknown shape are acknowledged and parked as dead letters.',
      parameters: [{ name: 'X-Hub-Signature-256', in: 'header', required: true, schema: { type: 'string', pattern: '^sha256=[0-9a-f]{64}$' } }],
      requestBody: { required: true, content: { 'application/json': { schema: { type: 'object', description: "Meta's webhook envelope: { object: whatsapp_business_account, entry: [...] }." } } } },
      responses: {
        '200': json({ type: 'object', required: ['received'], properties: { received: { const: true } } }, 'Received.'),
        '400': error('The body is not JSON.'),
        '401': error('Missing or wrong signature.'),
      },
    },
  },
  '/v1/webhooks/dead-letters': {
    get: {
      tags: ['operations'],
      operationId: 'listDeadLetters',
      summary: 'Webhooks acknowledged but not applied (unknown or invalid shape)',
      security: bearer,
      parameters: [{ name: 'limit', in: 'query', required: false, schema: { type: 'integer', minimum: 1, maximum: 1000 } }],
      responses: {
        '200': json({ type: 'object', required: ['total', 'items'], properties: { total: { type: 'integer' }, items: { type: 'array', items: ref('DeadLetter') } } }, 'Newest first.'),
        '401': UNAUTHORIZED,
      },
    },
  },
  '/health': {
    get: {
      tags: ['operations'],
      operationId: 'health',
      summary: 'Liveness and readiness (Redis reachable)',
      responses: {
        '200': json({ type: 'object', properties: { status: { const: 'ok' }, redis: { const: 'up' } } }, 'Healthy.'),
        '503': json(
          { type: 'object', properties: { status: { enum: ['error', 'draining'] }, redis: { const: 'down' }, reason: { type: 'string' } } },
          'Redis does not answer (status error), or the app is shutting down and takes no new calls (status draining).',
        ),
      },
    },
  },
  '/openapi.json': {
    get: { tags: ['operations'], operationId: 'openapi', summary: 'This document', responses: { '200': json({ type: 'object' }, 'OpenAPI 3.1.') } },
  },
  '/docs': { get: { tags: ['operations'], operationId: 'docs', summary: 'This document as a readable page', responses: { '200': html('HTML.') } } },
  '/console': { get: { tags: ['console'], operationId: 'console', summary: 'The agent console (an example CRM page built only on this API)', responses: { '200': html('HTML.') } } },
  '/console/{file}': {
    get: {
      tags: ['console'],
      operationId: 'consoleAsset',
      summary: "The console's script and style sheet",
      parameters: [{ name: 'file', in: 'path', required: true, schema: { type: 'string', enum: ['console.js', 'console.css'] } }],
      responses: { '200': { description: 'The file.' }, '404': error('No such file.') },
    },
  },
};

const webhooks: Json = {
  crmEvent: {
    post: {
      summary: 'Every CRM event, POSTed to crm.webhookUrl',
      description:
        'Signed: `X-Wagw-Signature-256: sha256=<hex HMAC-SHA256 of the raw body keyed with crm.webhookSecret>`; `X-Wagw-Event-Id` is the ' +
        'de-duplication key (at-least-once: a non-2xx answer or a network error is retried with exponential backoff up to ' +
        'crm.webhookMaxAttempts). Events of one user (or one call) arrive in order.',
      parameters: [
        { name: 'X-Wagw-Signature-256', in: 'header', required: true, schema: { type: 'string', pattern: '^sha256=[0-9a-f]{64}$' } },
        { name: 'X-Wagw-Event-Id', in: 'header', required: true, schema: { type: 'string' } },
        { name: 'X-Wagw-Event-Type', in: 'header', required: true, schema: { type: 'string', enum: [...CRM_EVENT_TYPES] } },
        { name: 'X-Wagw-Delivery-Attempt', in: 'header', required: true, schema: { type: 'integer', minimum: 1 } },
      ],
      requestBody: { required: true, content: { 'application/json': { schema: ref('CrmEvent') } } },
      responses: { '2XX': { description: 'Delivered.' }, default: { description: 'Retried later.' } },
    },
  },
};

export const OPENAPI_DOCUMENT = Object.freeze({
  openapi: '3.1.0',
  info: {
    title: 'WhatsApp-to-SIP gateway: signalling API',
    version: '1.0.0',
    description:
      'WhatsApp Business Calling <-> SIP/PBX gateway. `/v1/*` is the CRM and operator API (bearer `signalling.apiToken`); ' +
      '`/webhooks/whatsapp` is the callback URL registered with Meta. Times are epoch milliseconds; numbers are E.164 digits.',
  },
  servers: [{ url: '/' }],
  tags: [
    { name: 'calls', description: 'Place, watch and hang up calls.' },
    { name: 'permissions', description: 'Call permission of WhatsApp users (Meta requires it before a business calls).' },
    { name: 'contacts', description: 'WhatsApp users the gateway has seen.' },
    { name: 'events', description: 'CRM events: Server-Sent Events here, and signed webhooks (see webhooks).' },
    { name: 'whatsapp', description: 'Called by Meta.' },
    { name: 'operations', description: 'Health, dead letters, this document.' },
    { name: 'console', description: 'The agent console.' },
  ],
  paths: { ...calls, ...permissions, ...events, ...operations, ...OPERATIONS_OPENAPI_PATHS },
  webhooks,
  components: {
    securitySchemes: {
      bearer: { type: 'http', scheme: 'bearer', description: 'signalling.apiToken' },
      tokenQuery: { type: 'apiKey', in: 'query', name: 'token', description: 'signalling.apiToken, for EventSource clients (GET /v1/events only).' },
    },
    schemas: OPENAPI_SCHEMAS,
  },
});
