/**
 * OpenAPI paths of the trunk operations endpoints (admin/): merged into the signalling app's document
 * (openapi/openapi.document.ts), whose spec checks them against the served routes.
 */
type Json = Record<string, unknown>;

const json = (schema: Json, description: string): Json => ({ description, content: { 'application/json': { schema } } });
const errorRef = { $ref: '#/components/schemas/Error' };
const bearer = [{ bearer: [] }];
const UNAUTHORIZED = json(errorRef, 'Missing or wrong bearer token.');

const hostHealth: Json = {
  type: 'object',
  required: ['trunk', 'host', 'state', 'since', 'consecutiveFailures', 'consecutiveSuccesses'],
  properties: {
    trunk: { type: 'string' },
    host: { type: 'string', description: 'host:port as configured, or a target of the SRV records of a trunk host configured as a domain' },
    srvDomain: { type: 'string', description: 'When the host is an SRV target: the configured domain it stands for' },
    state: { type: 'string', enum: ['unknown', 'up', 'down'], description: 'unknown: keep-alives off or no answer yet' },
    since: { type: 'integer', description: 'Last state change (epoch milliseconds)' },
    consecutiveFailures: { type: 'integer' },
    consecutiveSuccesses: { type: 'integer' },
    lastProbe: { type: 'object', properties: { at: { type: 'integer' }, status: { type: 'integer' }, reason: { type: 'string' }, rttMs: { type: 'integer' } } },
    lastFailure: { type: 'object', properties: { at: { type: 'integer' }, reason: { type: 'string' } } },
  },
};

const settingsView: Json = {
  type: 'object',
  required: ['phoneNumberId', 'calling', 'restrictions', 'advice', 'readAt'],
  properties: {
    phoneNumberId: { type: 'string' },
    calling: { type: 'object', additionalProperties: true, description: "The calling block as Meta keeps it (Meta's snake_case)." },
    restrictions: { type: 'array', items: { type: 'object', required: ['type'], properties: { type: { type: 'string' }, reason: { type: 'string' }, expiresAt: { type: 'integer', description: 'Epoch ms' } } } },
    advice: {
      type: 'array',
      items: { type: 'object', required: ['level', 'code', 'message'], properties: { level: { type: 'string', enum: ['warning', 'notice'] }, code: { type: 'string' }, message: { type: 'string' } } },
    },
    readAt: { type: 'integer', description: 'Epoch ms' },
  },
};

export const OPERATIONS_OPENAPI_PATHS: Json = {
  '/v1/trunks': {
    get: {
      tags: ['operations'],
      operationId: 'listTrunks',
      summary: 'Trunks and the health of each host (OPTIONS keep-alives)',
      description: 'Calls try up (and unknown) hosts first in configured order, down hosts last.',
      security: bearer,
      responses: {
        '200': json(
          {
            type: 'object',
            required: ['trunks'],
            properties: {
              trunks: {
                type: 'array',
                items: {
                  type: 'object',
                  required: ['name', 'transport', 'srtp', 'codecs', 'optionsIntervalMs', 'maxCalls', 'hosts'],
                  properties: {
                    name: { type: 'string' },
                    transport: { type: 'string', enum: ['udp', 'tcp', 'tls'] },
                    srtp: { type: 'string', enum: ['off', 'optional', 'mandatory'], description: 'SRTP with SDES keys toward the trunk.' },
                    codecs: { type: 'array', items: { type: 'string', enum: ['PCMU', 'PCMA', 'G722', 'opus'] }, description: 'Codecs offered to the trunk, in preference order.' },
                    optionsIntervalMs: { type: 'integer' },
                    maxCalls: { type: 'integer', description: 'Calls on the trunk at once, both directions (0: no limit).' },
                    channelsInUse: {
                      type: ['integer', 'null'],
                      description: 'Trunks with maxCalls only: calls on the trunk now, counted by every signalling instance (null: Redis did not answer).',
                    },
                    hosts: { type: 'array', items: hostHealth },
                    outboundRegistration: {
                      description: 'Trunks with register: true only: the gateway\'s registration to the PBX.',
                      type: 'object',
                      required: ['state'],
                      properties: {
                        state: { type: 'string', enum: ['registering', 'registered', 'failed', 'stopped'] },
                        registrar: { type: 'string', description: 'The trunk host of the last attempt.' },
                        registeredAt: { type: 'integer', description: 'Epoch ms of the last successful REGISTER.' },
                        expiresAt: { type: 'integer', description: 'Epoch ms the registration runs out.' },
                        lastStatus: { type: 'integer', description: 'Final status of the last REGISTER (408: no answer).' },
                        lastError: { type: 'string', description: 'Why the last attempt failed.' },
                        nextAttemptAt: { type: 'integer', description: 'Epoch ms of the next refresh or retry.' },
                      },
                    },
                    registration: {
                      description: 'Trunks with registrar: true only. Where the PBX is registered from (null: not registered).',
                      oneOf: [
                        { type: 'null' },
                        {
                          type: 'object',
                          required: ['trunk', 'contact', 'source', 'transport', 'registeredAt', 'expiresAt'],
                          properties: {
                            trunk: { type: 'string' },
                            contact: { type: 'string', description: 'The Contact it registered: the Request-URI of calls toward it.' },
                            source: { type: 'object', properties: { address: { type: 'string' }, port: { type: 'integer' } } },
                            transport: { type: 'string', enum: ['udp', 'tcp', 'tls'] },
                            registeredAt: { type: 'integer', description: 'Epoch ms.' },
                            expiresAt: { type: 'integer', description: 'Epoch ms.' },
                          },
                        },
                      ],
                    },
                  },
                },
              },
            },
          },
          'In configured order.',
        ),
        '401': UNAUTHORIZED,
      },
    },
  },
  '/v1/admin/reload': {
    post: {
      tags: ['operations'],
      operationId: 'reloadConfig',
      summary: 'Re-read the configuration and apply trunks, routes, business hours and the trunks\' DNS servers',
      description:
        'Reads config/default.yaml, CONFIG_FILE and the environment again, validated. Calls in progress keep the route they ' +
        'started with; the next call uses the new one. New pbx.dnsServers resolve every trunk host again at once. Other changed keys are listed as restartNeeded, not applied. SIGHUP does the same.',
      security: bearer,
      responses: {
        '200': json(
          {
            type: 'object',
            required: ['applied', 'restartNeeded', 'trunks', 'routes'],
            properties: {
              applied: { type: 'array', items: { type: 'string', enum: ['pbx.trunks', 'pbx.routes'] } },
              restartNeeded: { type: 'array', items: { type: 'string' }, description: 'Config key paths' },
              trunks: { type: 'integer' },
              routes: { type: 'integer' },
            },
          },
          'Reloaded.',
        ),
        '401': UNAUTHORIZED,
        '422': json(errorRef, 'The configuration does not validate (error.code CONFIG_INVALID, error.problems name each key); nothing changed.'),
      },
    },
  },
  '/v1/admin/whatsapp-settings': {
    get: {
      tags: ['operations'],
      operationId: 'getWhatsAppSettings',
      summary: "The business number's calling settings at Meta, its restrictions, and what an operator should know",
      description:
        "GET /<PHONE_NUMBER_ID>/settings at Meta. `advice` lists warnings (calling off; Meta's SIP mode on, which refuses the Graph calling API the gateway uses; voicemail settings Meta ignores or advises against; restrictions) and notices (call icon hidden or limited to countries, call hours, when Meta takes an unanswered call to voicemail). The gateway logs the warnings at start-up too.",
      security: bearer,
      responses: { '200': json(settingsView, 'The settings as read.'), '401': UNAUTHORIZED, '502': json(errorRef, 'Meta could not be reached or failed (WA_GRAPH_*).') },
    },
    post: {
      tags: ['operations'],
      operationId: 'changeWhatsAppSettings',
      summary: "Change the business number's calling settings at Meta",
      description:
        "Sends `calling` as POST /<PHONE_NUMBER_ID>/settings at Meta, in Meta's own shape (snake_case: status, call_icon_visibility, call_icons, call_hours, callback_permission_status, audio, voicemail, sip, ...). Fields left out stay as they are; sending `call_hours` replaces it whole (leaving out holiday_schedule deletes the holidays). Answers the settings read back after the change.",
      security: bearer,
      requestBody: {
        required: true,
        content: { 'application/json': { schema: { type: 'object', required: ['calling'], properties: { calling: { type: 'object', additionalProperties: true } } }, example: { calling: { voicemail: { status: 'ENABLED', triggers: ['REJECT'] } } } } },
      },
      responses: {
        '200': json(settingsView, 'Changed; the settings as read back.'),
        '400': json(errorRef, 'No `calling` object, or Meta refused a field or value (WA_SETTINGS_REFUSED, with Meta\'s reason).'),
        '401': UNAUTHORIZED,
        '502': json(errorRef, 'Meta could not be reached or failed (WA_GRAPH_*).'),
      },
    },
  },
  '/v1/admin/whatsapp-voicemail-announcement': {
    post: {
      tags: ['operations'],
      operationId: 'uploadVoicemailAnnouncement',
      summary: 'Upload a voicemail announcement (greeting) to Meta',
      description:
        "The body is the file itself: Ogg Opus under 60 s (Content-Type audio/ogg), checked here before it goes to Meta as `use_case=call_voicemail_announcement` media (POST /<PHONE_NUMBER_ID>/media). `apply=true` then names it in the voicemail settings (`calling.voicemail.audio.default.announcement_media_id`, the rest of the block kept); the number must have voicemail settings already.",
      security: bearer,
      parameters: [{ name: 'apply', in: 'query', required: false, schema: { type: 'string', enum: ['true', 'false'] }, description: 'Also name it in the voicemail settings.' }],
      requestBody: { required: true, content: { 'audio/ogg': { schema: { type: 'string', format: 'binary' } } } },
      responses: {
        '201': json(
          {
            type: 'object',
            required: ['mediaId', 'durationS', 'applied'],
            properties: { mediaId: { type: 'string' }, durationS: { type: 'number' }, applied: { type: 'boolean' }, settings: settingsView },
          },
          'Uploaded (and applied, with the settings read back).',
        ),
        '400': json(errorRef, 'No file, not Ogg Opus, empty, or 60 s or longer (ANNOUNCEMENT_INVALID); Meta refused it (WA_GRAPH_API_ERROR).'),
        '401': UNAUTHORIZED,
        '409': json(errorRef, 'apply=true but the number has no voicemail settings (NO_VOICEMAIL_SETTINGS); nothing uploaded.'),
        '413': json(errorRef, 'Over 16 MB.'),
        '502': json(errorRef, 'Meta could not be reached or failed (WA_GRAPH_*).'),
      },
    },
  },
  '/metrics': {
    get: {
      tags: ['operations'],
      operationId: 'metrics',
      summary: 'Prometheus metrics (wagw_trunk_host_up{trunk,host}, ...)',
      responses: { '200': { description: 'Prometheus text format.', content: { 'text/plain': { schema: { type: 'string' } } } } },
    },
  },
};
