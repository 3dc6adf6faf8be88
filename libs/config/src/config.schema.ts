import { z } from 'zod';
import { businessHoursSchema } from './business-hours.schema';

/**
 * The gateway's configuration, one tree for every app. Each leaf has a description: the README's config
 * reference is generated from it (`npm run config:doc`), and a spec fails when a key lacks one.
 *
 * Every key can be overridden by an environment variable named after its path: `signalling.httpPort`
 * becomes `SIGNALLING_HTTP_PORT` (camelCase to UPPER_SNAKE, dots to underscores).
 */
const port = z.number().int().min(1).max(65535);
const portOrZero = z.number().int().min(0).max(65535);
const url = z.string().url();
/** A count of calls at once (media.maxCalls, a trunk's maxCalls); 0: no limit. */
const callLimit = z.number().int().min(0).max(100000).default(0);
/** Name of one media app instance (media.instanceId, signalling.mediaInstances). */
const mediaInstanceName = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,31}$/, 'lower-case letters, digits, - and _ (at most 32)');

export const redisSchema = z
  .object({
    url: z.string().regex(/^rediss?:\/\//, 'a redis:// or rediss:// URL').describe('Redis server URL (call state, events, the signalling <-> media bus).'),
    keyPrefix: z.string().min(1).describe('Prefix of every Redis key the gateway writes, so several gateways can share a Redis.'),
  })
  .strict();

export const logSchema = z
  .object({
    level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace']).describe('pino log level. SDP, ICE and RTP detail is logged at debug only.'),
    pretty: z.boolean().describe('Human-readable logs instead of JSON lines (development only).'),
  })
  .strict();

export const whatsappSchema = z
  .object({
    graphBaseUrl: url.describe('Base URL of the Graph API. https://graph.facebook.com for Meta; the emulator URL in the demo and tests.'),
    graphApiVersion: z.string().regex(/^v\d+\.\d+$/, 'a version such as v23.0').describe('Graph API version used in every request path.'),
    accessToken: z.string().describe('Bearer token for the Graph API (system user token). Never logged.'),
    appSecret: z.string().describe('App secret that signs webhooks (X-Hub-Signature-256). Never logged.'),
    verifyToken: z.string().describe('Token Meta echoes in the GET hub.challenge handshake. Never logged.'),
    phoneNumberId: z.string().regex(/^\d+$/, 'digits').describe('Phone number ID of the business number whose calls this gateway handles.'),
    businessNumber: z.string().regex(/^\d{6,15}$/, 'E.164 digits without +').describe('The business number in E.164 without the plus, as Meta writes it in webhooks.'),
    requestTimeoutMs: z.number().int().min(100).max(60000).describe('Deadline of one Graph API HTTP request.'),
    maxRetries: z.number().int().min(0).max(10).describe('Retries of a Graph request on 429/5xx (only where repeating cannot duplicate a side effect).'),
    retryBaseDelayMs: z.number().int().min(1).max(10000).describe('First retry delay; doubles on each retry, with jitter.'),
    webhookDedupTtlS: z.number().int().min(60).max(30 * 86400).describe('How long a delivered webhook is remembered for de-duplication.'),
    staleConnectS: z.number().int().min(10).max(600).describe('A connect webhook older than this (by its timestamp) is not acted on: the accept window has passed.'),
  })
  .strict();

const missedCallFollowUpSchema = z
  .object({
    action: z
      .enum(['off', 'call_button', 'permission_request'])
      .default('off')
      .describe(
        "After a WhatsApp user's call nobody answered (the PBX busy or not answering, after hours, the user giving up while it rang), send the user: call_button, a call button to call back (payload below); permission_request, a call permission request, so an agent can call them (Meta's request limits apply; none when the user already allowed calls or said never); off: nothing. The user's call opened the 24 h service window these messages need.",
      ),
    bodyText: z.string().min(1).max(1024).default('Sorry we missed your call. Tap the button to call us back.').describe('Text of the follow-up message.'),
    displayText: z.string().min(1).max(20).default('Call us').describe('Label of the call button (call_button).'),
    payload: z.string().max(512).default('missed-call').describe('Payload of the call button: the call back carries it (routes[].entryPoints may route on it). Empty: none.'),
    ttlMinutes: z.number().int().min(1).max(43200).default(1440).describe('How long the call button works, in minutes.'),
    minIntervalS: z
      .number()
      .int()
      .min(0)
      .max(30 * 86400)
      .default(86400)
      .describe('At most one follow-up per user this often, however many calls they miss (0: one per missed call).'),
  })
  .strict();

export const signallingSchema = z
  .object({
    httpHost: z.string().min(1).describe('Address the signalling HTTP server (webhooks, CRM API, health) binds to.'),
    httpPort: port.describe('Port of the signalling HTTP server.'),
    apiToken: z.string().min(16, 'at least 16 characters').describe('Bearer token of the CRM/operator API (/v1/*). Never logged.'),
    deadLetterMax: z.number().int().min(10).max(100000).describe('Webhooks of unknown or invalid shape kept for operators (newest first).'),
    mediaRequestTimeoutMs: z.number().int().min(100).max(30000).describe('Deadline of a request from signalling to the media app over the bus.'),
    mediaInstances: z
      .array(mediaInstanceName)
      .refine((names) => new Set(names).size === names.length, 'each instance once')
      .default([])
      .describe(
        'Media app instances to spread calls over, by their media.instanceId (e.g. one per core). A call stays on the instance its first leg was made on; a new call goes to a live one (heartbeat in Redis). Empty: one media app with no instanceId.',
      ),
    permissionReconcileAfterMs: z
      .number()
      .int()
      .min(0)
      .max(7 * 86400000)
      .describe('Before a business-initiated call, our permission record older than this is checked against GET call_permissions (0: always).'),
    agentRingTimeoutMs: z.number().int().min(3000).max(120000).describe("How long an agent's phone rings for an agent-initiated call before the call is given up."),
    agentRingback: z
      .enum(['eu', 'us', 'uk', 'off'])
      .default('eu')
      .describe(
        "What the agent hears once their phone answered an agent-initiated call, while the WhatsApp customer's phone rings: ringback of ITU-T E.180 (eu: 425 Hz 1 s on 4 s off, CEPT and most countries; us: 440+480 Hz 2 s on 4 s off; uk: 400+450 Hz double ring), or off (silence). Played in the PBX leg's G.711 or G.722 codec; an Opus leg gets none.",
      ),
    transferRingback: z
      .enum(['eu', 'us', 'uk', 'off'])
      .default('eu')
      .describe(
        "What the WhatsApp user hears while the target of a blind transfer (REFER from the desk phone, or the API's transfer) rings: ringback (styles as agentRingback) in place of the desk phone's audio, until the target answers; should the transfer fail while the first desk phone is still there, the user hears it again. off: the first desk phone's audio (usually silence). Attended transfers (REFER with Replaces) have no ringing phase. None when the PBX leg passes Opus through.",
      ),
    permissionWaitMs: z.number().int().min(10000).max(7 * 86400000).describe('How long a call waits for the user to answer its permission request before it is given up.'),
    drainTimeoutS: z
      .number()
      .int()
      .min(0)
      .max(86400)
      .default(30)
      .describe(
        'On shutdown (SIGTERM), how long the calls in progress may go on while no new call is taken (/health answers 503 draining); those still up then are ended cleanly (BYE, WhatsApp terminate, CDR cause "gateway shutting down"). Give the process manager a longer stop timeout.',
      ),
    cdrRetentionHours: z
      .number()
      .int()
      .min(1)
      .max(24 * 366)
      .default(168)
      .describe('How long the CDR of an ended call is kept (GET /v1/calls/{id}, GET /v1/cdrs): a billing or reporting system pulls GET /v1/cdrs more often than this. Each CDR takes about 2 KB of Redis memory.'),
    cdrMax: z
      .number()
      .int()
      .min(100)
      .max(1_000_000)
      .default(10_000)
      .describe('Most CDRs kept, the oldest dropped first, whatever their age: at 20,000 calls a day, 10,000 is half a day (raise it, about 2 KB of Redis memory each, or pull more often).'),
    orphanLegSweepMs: z
      .number()
      .int()
      .min(0)
      .max(3600000)
      .refine((ms) => ms === 0 || ms >= 1000, '0 (off) or at least 1000')
      .default(60000)
      .describe(
        'Every this often, each signalling process lists the legs the media apps hold and closes those at least this old whose call has no live record (a signalling process that died between asking for a call\'s legs and recording them, a close lost on the bus): their ports and admission are released. Keep it well above a call\'s set-up time. 0: off.',
      ),
    autoAcceptWithoutPbx: z
      .boolean()
      .describe('Answer user-initiated calls with the media app alone (test tone) when no PBX is configured. Demo and foundation tests only.'),
    missedCallFollowUp: missedCallFollowUpSchema,
  })
  .strict();

export const mediaSchema = z
  .object({
    httpHost: z.string().min(1).describe('Address the media app health server binds to.'),
    httpPort: port.describe('Port of the media app health server.'),
    instanceId: z
      .union([z.literal(''), mediaInstanceName])
      .default('')
      .describe('Name of this media app among several (listed in signalling.mediaInstances); its bus requests come on channels of its own. Empty: the single media app.'),
    publicAddress: z.string().describe('IPv4 address advertised in ICE candidates toward WhatsApp. Empty: the host addresses.'),
    iceInterfaceAddress: z.string().describe('Local IPv4 address the WebRTC legs bind to. Empty: all interfaces.'),
    stunServer: z.string().describe('Optional STUN server (host:port) for a server-reflexive candidate. Empty: host candidates only.'),
    iceConnectTimeoutMs: z.number().int().min(1000).max(60000).describe('A WhatsApp leg that has not connected (ICE+DTLS) within this time is failed.'),
    testToneHz: z.number().int().min(0).max(4000).describe('Frequency of the tone the media app plays on an auto-accepted call with no PBX (0: silence).'),
    rtpPortMin: port.describe('Lowest UDP port of the RTP legs toward the PBX.'),
    rtpPortMax: port.describe('Highest UDP port of the RTP legs toward the PBX.'),
    opusComplexity: z
      .number()
      .int()
      .min(0)
      .max(10)
      .default(5)
      .describe('Opus encoder complexity toward WhatsApp on transcoded (G.711) calls: CPU against quality. 5 costs ~70 µs per 20 ms frame, 1 about half of that (README "Performance").'),
    maxCalls: callLimit.describe(
      'Calls this media app carries at once (0: no limit). A new call over it is refused before anything is allocated (a WhatsApp call rejected, a PBX INVITE answered 503, the API 503 MEDIA_AT_CAPACITY), so the calls carried keep their quality; README "Performance" says how many one process carries.',
    ),
    rtpTimeoutS: z
      .number()
      .int()
      .min(0)
      .max(86400)
      .default(60)
      .describe(
        'Media timeout: a bridged call whose PBX side or WhatsApp side has sent no RTP and no RTCP for this long is ended (a PBX or phone gone without a BYE); the CDR says which side (0: never).',
      ),
    rtpHoldTimeoutS: z
      .number()
      .int()
      .min(0)
      .max(86400)
      .default(3600)
      .describe('The media timeout of the PBX side while the PBX holds the call (sendonly, inactive or c=0.0.0.0: it may send nothing), in seconds (0: never).'),
  })
  .strict();

const sipUri = z.string().regex(/^sips?:[^\s@]+@?[^\s]*$/, 'a SIP URI such as sip:1001@pbx.example.com');
const HOST_PORT = /^[A-Za-z0-9.\-:[\]]+:\d{1,5}$/;
const DOMAIN = /^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*$/;
/** A trunk host: host:port, or a domain (or address) alone: its SIP SRV records (RFC 3263), else port 5060/5061. */
const trunkHost = z.string().refine((v) => HOST_PORT.test(v) || DOMAIN.test(v), 'host:port, or a domain name alone (looked up as SRV)');

export const trunkSchema = z
  .object({
    name: z.string().regex(/^[a-z0-9][a-z0-9_-]*$/, 'lower-case letters, digits, - and _').describe('Trunk name, referenced by routes.'),
    hosts: z
      .array(trunkHost)
      .describe(
        'PBX hosts in failover order: host:port, or a domain alone, which is looked up in DNS as SRV (RFC 3263: _sip._udp, _sip._tcp or _sips._tcp by transport) and stands for its targets in priority and weight order (without SRV records: its address on 5060, 5061 for TLS). Empty only with registrar: true (the PBX registers to the gateway).',
      ),
    transport: z.enum(['udp', 'tcp', 'tls']).describe('SIP transport toward the trunk.'),
    username: z.string().describe('Digest username toward the trunk (empty: no authentication).'),
    password: z.string().describe('Digest password toward the trunk. Never logged.'),
    fromUser: z.string().describe('User part of From on calls we place (empty: the WhatsApp caller number).'),
    fromDomain: z.string().describe('Domain of From/To on calls we place (empty: the first host).'),
    codecs: z
      .array(z.enum(['PCMU', 'PCMA', 'G722', 'opus']))
      .min(1)
      .describe('Codecs offered to the PBX, in preference order: PCMU, PCMA (G.711), G722 (wideband, HD voice on desk phones), opus (passed through without transcoding).'),
    srtp: z
      .enum(['off', 'optional', 'mandatory'])
      .default('off')
      .describe(
        'SRTP toward the trunk with SDES keys (RFC 4568, AES_CM_128_HMAC_SHA1_80/_32): off (plain RTP; an RTP/SAVP offer is refused), optional (offers RTP/AVP with a=crypto; SRTP when the PBX takes it), mandatory (RTP/SAVP only; plain offers and answers refused with 488). The keys travel in the SDP: use transport tls.',
      ),
    allowFrom: z.array(z.string()).describe('Source IPs (or CIDRs) allowed to send INVITEs on this trunk (empty: the trunk hosts).'),
    optionsIntervalMs: z
      .number()
      .int()
      .min(0)
      .max(3600000)
      .refine((v) => v === 0 || v >= 200, '0 (off) or at least 200')
      .default(30000)
      .describe('OPTIONS keep-alive to each host every this many ms; a host marked down is tried only after the up ones (0: off, hosts tried in order).'),
    downAfterFailures: z.number().int().min(1).max(100).default(2).describe('Consecutive failed OPTIONS (no answer by the next one, 408, 503, transport error) before a host is marked down.'),
    upAfterSuccesses: z.number().int().min(1).max(100).default(2).describe('Consecutive answered OPTIONS before a down host is marked up again.'),
    failoverTimeoutMs: z
      .number()
      .int()
      .min(0)
      .max(32000)
      .default(3000)
      .describe('An INVITE with no response at all (not even 100 Trying) from a host within this time goes to the next host (0: wait for the SIP transaction timeout).'),
    maxRedirects: z
      .number()
      .int()
      .min(0)
      .max(5)
      .default(3)
      .describe('Redirections (300-302, call forwarding by the PBX) followed per call toward the trunk: the INVITE again to the Contact of highest q, then to the next ones by q if it fails, always through the same trunk host (0: a 3xx fails the call).'),
    inboundUsername: z.string().default('').describe('Digest username the PBX must present on INVITEs it sends us (empty: the IP allow-list alone).'),
    inboundPassword: z.string().default('').describe('Digest password for inboundUsername. Never logged.'),
    assertIdentity: z
      .boolean()
      .default(false)
      .describe('Send P-Asserted-Identity (RFC 3325) with the WhatsApp user as sip:+<number>@<fromDomain> on calls toward the trunk, for PBXs that take the caller ID from it (trusted trunks only).'),
    maxCalls: callLimit.describe(
      'Calls on this trunk at once (channels), both directions, counted across signalling instances in Redis: over it a call toward the trunk fails at once with 503 (a route with onFailure: next tries its next destination) and an INVITE from the trunk is answered 503 with a Warning (0: no limit).',
    ),
    registrar: z
      .boolean()
      .default(false)
      .describe(
        'The PBX registers to the gateway on this trunk, as to a SIP provider (REGISTER with inboundUsername/inboundPassword as the address of record and digest credentials); calls toward the trunk go to where it registered from, with its Contact as Request-URI and the destination in To. hosts may then be empty.',
      ),
    register: z
      .boolean()
      .default(false)
      .describe(
        'The gateway registers to the trunk (REGISTER to its first host in health order, the next one after a failed attempt, as a phone or a registering trunk of the PBX does): address of record sip:<username>@<fromDomain, else the first host>, digest username/password, refreshed before it runs out, retried with back-off when refused, removed (Expires: 0) at shutdown. The PBX then sends its calls for WhatsApp users to the gateway\'s registered Contact, the WhatsApp number in the Request-URI (or, when that names the registered user, in To).',
      ),
    registerExpiresS: z.number().int().min(60).max(86400).default(600).describe('Registration interval asked for with register: true, in seconds (the registrar may grant another; a 423 Min-Expires is followed).'),
  })
  .strict()
  .refine((t) => t.hosts.length > 0 || t.registrar, { message: 'at least one host:port (or registrar: true, where the PBX registers to the gateway)', path: ['hosts'] })
  .refine((t) => !t.register || (t.username !== '' && t.hosts.length > 0), { message: 'register: true needs username (the address of record and digest user) and a host to register to', path: ['register'] })
  .refine((t) => !(t.register && t.registrar), { message: 'register (the gateway registers to the PBX) and registrar (the PBX registers to the gateway) exclude each other', path: ['register'] })
  .refine((t) => !t.registrar || (t.inboundUsername !== '' && t.inboundPassword !== ''), { message: 'registrar: true needs inboundUsername and inboundPassword (what the PBX registers with)', path: ['registrar'] });

const destinationSchema = z
  .object({
    uri: sipUri.describe('Extension or queue URI on the trunk, e.g. sip:1001@pbx.example.com.'),
    trunk: z.string().describe('Trunk name.'),
    ringTimeoutMs: z.number().int().min(1000).max(55000).describe('Ring time before trying the next destination (Meta allows ~30-60 s in all).'),
  })
  .strict();

const entryPointSchema = z
  .object({
    payload: z.string().min(1).max(512).describe('The call button payload or deep link biz_payload, matched exactly (e.g. queue=billing).'),
    destinations: z.array(destinationSchema).min(1).describe('Destinations tried in order for calls with this payload.'),
  })
  .strict();

export const routeSchema = z
  .object({
    businessNumber: z.string().regex(/^\d{6,15}$/, 'E.164 digits without +').describe('WhatsApp business number this route serves.'),
    destinations: z.array(destinationSchema).min(1).describe('Destinations tried in order.'),
    onFailure: z.enum(['reject', 'next']).describe('When a destination fails: reject the WhatsApp call, or try the next destination.'),
    hours: businessHoursSchema(destinationSchema).optional().describe('Business hours (time zone, weekly ranges, holidays) and the after-hours action. Absent: always open.'),
    entryPoints: z
      .array(entryPointSchema)
      .optional()
      .describe(
        "Calls placed from a WhatsApp call button or deep link whose payload (cta_payload, deeplink_payload) equals an entry's `payload` ring that entry's destinations instead of the route's (the route's onFailure and hours apply alike). Absent or no match: the route's destinations.",
      ),
  })
  .strict()
  .superRefine((route, ctx) => {
    const seen = new Set<string>();
    route.entryPoints?.forEach((e, i) => {
      if (seen.has(e.payload)) ctx.addIssue({ code: 'custom', path: ['entryPoints', i, 'payload'], message: `payload ${JSON.stringify(e.payload)} is given twice in this route` });
      seen.add(e.payload);
    });
  });

export const pbxSchema = z
  .object({
    listenHost: z.string().min(1).describe('Address the SIP stack binds to.'),
    publicHost: z.string().describe('Host written in Via/Contact/SDP toward the PBX (empty: listenHost).'),
    udpPort: portOrZero.describe('SIP UDP port (0: off).'),
    tcpPort: portOrZero.describe('SIP TCP port (0: off).'),
    tlsPort: portOrZero.describe('SIP TLS port (0: off).'),
    tlsCertFile: z.string().describe('PEM certificate for SIP TLS (needed when tlsPort is set).'),
    tlsKeyFile: z.string().describe('PEM private key for SIP TLS.'),
    tlsCaFile: z
      .string()
      .describe("PEM CA certificates trusted for TLS connections to trunks, instead of Node's public bundle (empty: the bundle). For a PBX with a private or self-signed certificate; the certificate must still name the trunk host (for an SRV target of a trunk given as a domain: the domain or the target)."),
    transactionTimeoutMs: z
      .number()
      .int()
      .min(500)
      .max(32000)
      .describe('Timer B/F (RFC 3261 §17.1.1.2): a SIP request toward the PBX with no response this long fails, and the trunk counts as unreachable. 64*T1 = 32000 is the RFC value and the maximum.'),
    sessionExpiresS: z
      .number()
      .int()
      .min(0)
      .max(86400)
      .describe(
        'Session timers (RFC 4028): the session interval our INVITEs ask for and a PBX that supports timers but asks for none gets; a dialog not refreshed within it (UPDATE or re-INVITE, by whichever side the two agreed on) is ended with BYE, Reason Q.850 102. 0: session timers off (an INVITE with Require: timer then gets 420).',
      ),
    sessionMinSeS: z
      .number()
      .int()
      .min(1)
      .max(86400)
      .describe('Shortest session interval accepted (Min-SE): a PBX asking for less gets 422. RFC 4028 says at least 90; lower only for tests.'),
    dnsServers: z
      .array(z.string().regex(/^(?:\d{1,3}(?:\.\d{1,3}){3}|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/, 'an IPv4 address or [IPv6] address, with an optional :port'))
      .describe('DNS servers for trunk host names and SRV records (ip or ip:port, [ipv6]:port), asked instead of the system resolver (empty: the system resolver, /etc/hosts included). A reload applies a change at once (every trunk host resolved again).'),
    dnsRefreshS: z.number().int().min(10).max(86400).describe('Trunk hosts given by name are resolved again this often (seconds): SRV targets added or gone, addresses changed.'),
    authFailureLimit: z
      .number()
      .int()
      .min(0)
      .max(1000)
      .describe('Failed digest authentications (wrong password, unknown user) from one source address within authFailureWindowS after which its INVITEs and REGISTERs get 403 for authBlockS (0: never block).'),
    maxInboundConnections: z
      .number()
      .int()
      .min(1)
      .max(100000)
      .describe('TCP and TLS connections peers may hold open to the SIP ports at once; one more is closed at its accept (before TLS), logged and counted (wagw_sip_connections_refused_total). Keep it under the process\'s open-file limit.'),
    maxInboundConnectionsPerAddress: z
      .number()
      .int()
      .min(1)
      .max(100000)
      .describe('TCP and TLS connections one IP address may hold open to the SIP ports at once (a PBX keeps one or a few); one more is closed at its accept, logged and counted.'),
    authFailureWindowS: z.number().int().min(1).max(86400).describe('Window for authFailureLimit, in seconds.'),
    authBlockS: z.number().int().min(1).max(86400).describe('How long a source over authFailureLimit is refused, in seconds.'),
    requestPermissionOnInvite: z
      .boolean()
      .describe('A PBX call to a WhatsApp user who has not allowed calls sends them a permission request (the INVITE is still answered 480).'),
    trunks: z.array(trunkSchema).describe('PBX trunks (YAML list; env PBX_TRUNKS takes a YAML/JSON list). Empty: no PBX.'),
    routes: z.array(routeSchema).describe('Where calls to each business number ring (YAML list; env PBX_ROUTES).'),
  })
  .strict();

export const emulatorSchema = z
  .object({
    httpHost: z.string().min(1).describe('Address the WhatsApp Cloud API emulator binds to.'),
    httpPort: port.describe('Port of the emulator (Graph endpoints, control API, user phone pages).'),
    webhookUrl: url.describe('Where the emulator POSTs signed webhooks (the signalling app).'),
    webhookMaxAttempts: z.number().int().min(1).max(20).describe('Delivery attempts per webhook (at-least-once).'),
    webhookRetryBaseDelayMs: z.number().int().min(10).max(60000).describe('Delay before the second delivery attempt of a webhook; doubles on each further attempt (capped at 30 s).'),
    wabaId: z.string().regex(/^\d+$/, 'digits').describe('WhatsApp Business Account id the emulator writes as entry[].id in every webhook.'),
    dailyConnectedCallCap: z.number().int().min(1).max(100000).describe('Connected business-initiated calls per business+user pair per 24 h (Meta: 100).'),
    mediaTimeoutMs: z.number().int().min(1000).max(120000).describe('A call whose business side sent no media (RTP or RTCP: Meta counts both) this long after accept ends FAILED (Meta: 20 s at the start, 30 s mid-call).'),
    acceptWindowMs: z.number().int().min(1000).max(300000).describe('A user-initiated call not accepted within this time ends as not answered (Meta: 30-60 s).'),
    ringTimeoutMs: z.number().int().min(1000).max(300000).describe('A business-initiated call the user does not answer within this time ends unanswered.'),
    userIceAddress: z.string().describe('Address the simulated users media binds to and advertises.'),
  })
  .strict();

export const crmSchema = z
  .object({
    webhookUrl: z
      .string()
      .regex(/^(https?:\/\/\S+)?$/, 'empty, or an http:// or https:// URL')
      .describe('Where every CRM event (call.*, permission.*) is POSTed as JSON, signed. Empty: CRM webhooks off.'),
    webhookSecret: z
      .string()
      .describe('HMAC-SHA256 key signing CRM webhooks (header X-Wagw-Signature-256: sha256= and the hex HMAC of the raw body). Needed when crm.webhookUrl is set. Never logged.'),
    webhookMaxAttempts: z.number().int().min(1).max(20).describe('Delivery attempts per CRM webhook (at-least-once; retried on non-2xx and network errors).'),
    webhookRetryBaseDelayMs: z.number().int().min(10).max(60000).describe('Delay before the second attempt of a CRM webhook; doubles on each further attempt (capped at 60 s).'),
    eventBufferSize: z.number().int().min(0).max(100000).describe('Recent CRM events kept in memory so an SSE client reconnecting with Last-Event-ID gets what it missed.'),
  })
  .strict()
  .superRefine((crm, ctx) => {
    if (crm.webhookUrl && crm.webhookSecret.length < 16) {
      ctx.addIssue({ code: 'custom', path: ['webhookSecret'], message: 'at least 16 characters when crm.webhookUrl is set' });
    }
  });

export const appConfigSchema = z
  .object({
    log: logSchema,
    redis: redisSchema,
    whatsapp: whatsappSchema,
    signalling: signallingSchema,
    media: mediaSchema,
    pbx: pbxSchema,
    emulator: emulatorSchema,
    crm: crmSchema,
  })
  .strict()
  .superRefine((cfg, ctx) => {
    if (cfg.pbx.sessionExpiresS > 0 && cfg.pbx.sessionExpiresS < cfg.pbx.sessionMinSeS) {
      ctx.addIssue({ code: 'custom', path: ['pbx', 'sessionExpiresS'], message: `at least pbx.sessionMinSeS (${cfg.pbx.sessionMinSeS}), or 0 for no session timers` });
    }
    if (cfg.media.rtpPortMin > cfg.media.rtpPortMax) {
      ctx.addIssue({ code: 'custom', path: ['media', 'rtpPortMax'], message: `at least media.rtpPortMin (${cfg.media.rtpPortMin})` });
    }
    if (/graph\.facebook\.com/.test(cfg.whatsapp.graphBaseUrl)) {
      // against Meta, the demo's published secrets would let anyone forge webhooks or drive the CRM API
      const demo: [string[], string, string][] = [
        [['whatsapp', 'accessToken'], cfg.whatsapp.accessToken, 'emulator-token'],
        [['whatsapp', 'appSecret'], cfg.whatsapp.appSecret, 'emulator-app-secret'],
        [['whatsapp', 'verifyToken'], cfg.whatsapp.verifyToken, 'emulator-verify-token'],
        [['signalling', 'apiToken'], cfg.signalling.apiToken, 'dev-api-token-change-me'],
      ];
      for (const [path, value, demoValue] of demo) {
        if (value === demoValue || value === '') ctx.addIssue({ code: 'custom', path, message: 'your own secret when whatsapp.graphBaseUrl is Meta (not the demo default)' });
      }
    }
    const trunks = new Set(cfg.pbx.trunks.map((t) => t.name));
    cfg.pbx.routes.forEach((r, i) =>
      r.destinations.forEach((d, j) => {
        if (!trunks.has(d.trunk)) {
          ctx.addIssue({ code: 'custom', path: ['pbx', 'routes', i, 'destinations', j, 'trunk'], message: `one of the configured trunks (${[...trunks].join(', ') || 'none configured'})` });
        }
      }),
    );
    cfg.pbx.routes.forEach((r, i) =>
      r.entryPoints?.forEach((e, k) =>
        e.destinations.forEach((d, j) => {
          if (!trunks.has(d.trunk)) {
            ctx.addIssue({ code: 'custom', path: ['pbx', 'routes', i, 'entryPoints', k, 'destinations', j, 'trunk'], message: `one of the configured trunks (${[...trunks].join(', ') || 'none configured'})` });
          }
        }),
      ),
    );
    cfg.pbx.routes.forEach((r, i) =>
      r.hours?.afterHours.destinations?.forEach((d, j) => {
        if (!trunks.has(d.trunk)) {
          ctx.addIssue({ code: 'custom', path: ['pbx', 'routes', i, 'hours', 'afterHours', 'destinations', j, 'trunk'], message: `one of the configured trunks (${[...trunks].join(', ') || 'none configured'})` });
        }
      }),
    );
    if (cfg.pbx.tlsPort > 0 && (!cfg.pbx.tlsCertFile || !cfg.pbx.tlsKeyFile)) {
      ctx.addIssue({ code: 'custom', path: ['pbx', 'tlsCertFile'], message: 'a certificate and key file when pbx.tlsPort is set' });
    }
  });

export type AppConfig = z.infer<typeof appConfigSchema>;
