import { createHash, randomBytes } from 'node:crypto';
import type { z } from 'zod';
import { type CallingSettingsUpdate, callingSettingsWireSchema, toCallingSettings, toCallingSettingsWire } from '../calling-settings.schema';
import { describeIssues } from '../zod-issues';
import { GraphResponseError, type GraphApiError } from '../whatsapp.errors';
import {
  type CallAction,
  callActionBody,
  callButtonBody,
  callPermissionsResponseSchema,
  connectBody,
  connectResponseSchema,
  mediaInfoResponseSchema,
  mediaUploadResponseSchema,
  messageSendResponseSchema,
  permissionRequestBody,
  restrictionEntrySchema,
  settingsResponseSchema,
  successResponseSchema,
  templateBody,
} from './graph-api.dto';
import type {
  CallPermissionQuery,
  CallPermissions,
  ConnectCallInput,
  ConnectCallResult,
  MediaDownload,
  MediaInfo,
  MediaUploadInput,
  MessageSendResult,
  NumberCallingSettings,
  SendCallButtonInput,
  SendPermissionRequestInput,
  SendPermissionTemplateInput,
} from './graph-api.types';
import { type GraphBytes, GraphHttp, type GraphHttpOptions, type GraphRequest } from './graph-http';

export interface WhatsAppGraphClientOptions extends GraphHttpOptions {
  /** The business number whose `/calls`, `/messages`, `/call_permissions` and `/settings` are used. */
  phoneNumberId: string;
}

/** A media id as Meta writes them (digits) and as the emulator makes them, with room; nothing that shapes a path. */
const MEDIA_ID = /^(?!\.+$)[A-Za-z0-9._-]{1,64}$/;

/**
 * WhatsApp Cloud API calling client (reference §3; Meta "Calling API reference", REF-2511). Body shapes
 * follow Meta's samples. Errors: `GraphApiError` subclasses from `mapGraphError` (reference §7),
 * `GraphOutcomeUnknownError` when a connect or message send may or may not have happened,
 * `GraphUnreachableError` when retries are exhausted on network errors, `GraphResponseError` for a 2xx
 * with an unexpected body. Retry rules: `GraphRequest.idempotent`.
 */
export class WhatsAppGraphClient {
  readonly #http: GraphHttp;
  readonly #phonePath: string;
  /** Against an https Graph API, media downloads must be https too (they carry the token). */
  readonly #secure: boolean;

  constructor(options: WhatsAppGraphClientOptions) {
    const { phoneNumberId, ...http } = options;
    if (!/^\d+$/.test(phoneNumberId)) throw new TypeError(`phoneNumberId must be digits, got ${JSON.stringify(phoneNumberId)}`);
    this.#http = new GraphHttp(http);
    this.#phonePath = `/${phoneNumberId}`;
    this.#secure = http.baseUrl.startsWith('https:');
  }

  /** Business-initiated call with our SDP offer. Not idempotent: a 5xx or timeout gives GraphOutcomeUnknownError. */
  async connect(input: ConnectCallInput): Promise<ConnectCallResult> {
    const body = connectBody(input);
    const res = await this.#send({ operation: 'calls.connect', method: 'POST', path: `${this.#phonePath}/calls`, body, idempotent: false }, connectResponseSchema);
    const first = res.calls[0];
    if (!first) throw new GraphResponseError('calls.connect', 'calls is empty');
    return { waCallId: first.id };
  }

  /** Sends our SDP answer early so ICE/DTLS come up before accept (reference §3.2). */
  async preAccept(waCallId: string, sdp: string): Promise<void> {
    await this.#callAction(waCallId, 'pre_accept', sdp);
  }

  /** Answers the call; `sdp` must equal the pre_accept SDP if one was sent (reference §3.3). */
  async accept(waCallId: string, sdp: string, bizOpaqueCallbackData?: string): Promise<void> {
    await this.#callAction(waCallId, 'accept', sdp, bizOpaqueCallbackData);
  }

  async reject(waCallId: string): Promise<void> {
    await this.#callAction(waCallId, 'reject');
  }

  /** Ends an active call; call it even after an RTCP BYE, billing depends on it (reference §3.4). */
  async terminate(waCallId: string): Promise<void> {
    await this.#callAction(waCallId, 'terminate');
  }

  /** Free-form interactive `call_permission_request` (reference §3.6). Not idempotent. */
  async sendPermissionRequest(input: SendPermissionRequestInput): Promise<MessageSendResult> {
    return this.#sendMessage('messages.call_permission_request', permissionRequestBody(input.to, input.bodyText));
  }

  /** A template with the `call_permission_request` component (reference §3.6). Not idempotent. */
  async sendPermissionRequestTemplate(input: SendPermissionTemplateInput): Promise<MessageSendResult> {
    return this.#sendMessage('messages.call_permission_template', templateBody(input.to, input.templateName, input.languageCode, input.components));
  }

  /** Interactive `voice_call` message, a call button (reference §3.8). Not idempotent. */
  async sendCallButton(input: SendCallButtonInput): Promise<MessageSendResult> {
    return this.#sendMessage('messages.voice_call', callButtonBody(input.to, input));
  }

  /** `GET call_permissions` by phone number or BSUID (reference §3.7). */
  async getCallPermissions(query: CallPermissionQuery): Promise<CallPermissions> {
    const q: Record<string, string> = {};
    if (query.userWaId) q['user_wa_id'] = query.userWaId;
    else if (query.recipient) q['recipient'] = query.recipient;
    else throw new TypeError('getCallPermissions needs userWaId or recipient');
    const req: GraphRequest = { operation: 'call_permissions.get', method: 'GET', path: `${this.#phonePath}/call_permissions`, query: q, idempotent: true };
    const res = await this.#send(req, callPermissionsResponseSchema);
    const actions = (res.actions ?? []).map((a) => ({
      name: a.action_name,
      canPerform: a.can_perform_action,
      limits: (a.limits ?? []).map((l) => ({
        timePeriod: l.time_period,
        maxAllowed: l.max_allowed,
        currentUsage: l.current_usage,
        limitExpiresAt: l.limit_expiration_time,
      })),
    }));
    return {
      status: res.permission.status,
      expiresAt: res.permission.expiration_time ?? res.permission.expiration,
      actions,
      canStartCall: actions.find((a) => a.name === 'start_call')?.canPerform,
      canRequestPermission: actions.find((a) => a.name === 'send_call_permission_request')?.canPerform,
    };
  }

  /**
   * `GET settings`, the `calling` block (reference §5.2), with a restricted number's restrictions. An absent
   * block reads as no settings.
   */
  async getCallingSettings(): Promise<NumberCallingSettings> {
    const req: GraphRequest = { operation: 'settings.get', method: 'GET', path: `${this.#phonePath}/settings`, idempotent: true };
    const res = await this.#send(req, settingsResponseSchema);
    const raw = res.calling ?? {};
    const parsed = callingSettingsWireSchema.safeParse(raw);
    if (!parsed.success) throw new GraphResponseError('settings.get', `calling: ${describeIssues(parsed.error.issues)}`);
    const settings = toCallingSettings(raw, parsed.data);
    const restrictions = (res.restrictions?.restrictions_list ?? []).flatMap((entry) => {
      const r = restrictionEntrySchema.safeParse(entry);
      if (!r.success) return [];
      return [{ type: r.data.type, ...(r.data.reason !== undefined ? { reason: r.data.reason } : {}), ...(r.data.expiration !== undefined ? { expiresAt: r.data.expiration * 1000 } : {}) }];
    });
    return restrictions.length > 0 ? { ...settings, restrictions } : settings;
  }

  /** `POST settings` with a `calling` block (reference §5.1). Sending `call_hours` replaces it whole. */
  async updateCallingSettings(calling: CallingSettingsUpdate): Promise<void> {
    const body = { calling: toCallingSettingsWire(calling) };
    await this.#send({ operation: 'settings.update', method: 'POST', path: `${this.#phonePath}/settings`, body, idempotent: true }, successResponseSchema);
  }

  /**
   * `GET /<MEDIA_ID>?phone_number_id=<ours>` (Meta "Media": retrieve a media URL): where a received media
   * object, such as a voicemail's audio, can be downloaded in the next 5 minutes. Media ids from webhooks
   * live 7 days at Meta; an older or unknown one gives GraphApiError 100.
   */
  async getMedia(mediaId: string): Promise<MediaInfo> {
    if (!MEDIA_ID.test(mediaId)) throw new TypeError(`mediaId must be 1-64 letters, digits, '.', '_' or '-', got ${JSON.stringify(mediaId)}`);
    const req: GraphRequest = { operation: 'media.get', method: 'GET', path: `/${mediaId}`, query: { phone_number_id: this.#phonePath.slice(1) }, idempotent: true };
    const res = await this.#send(req, mediaInfoResponseSchema);
    if (this.#secure && !res.url.startsWith('https:')) throw new GraphResponseError('media.get', 'url is not https: the access token is not sent over plain HTTP');
    return {
      mediaId,
      url: res.url,
      mimeType: res.mime_type,
      ...(res.sha256 !== undefined ? { sha256: res.sha256.toLowerCase() } : {}),
      ...(res.file_size !== undefined ? { fileSize: res.file_size } : {}),
    };
  }

  /**
   * Downloads a media object from the URL `getMedia` gave (with the access token, as Meta requires). At most
   * `maxBytes` (default 16 MB, Meta's audio limit); a `sha256` that does not match the bytes is refused.
   */
  async downloadMedia(media: MediaInfo, maxBytes = 16 * 1024 * 1024): Promise<MediaDownload> {
    const req: GraphRequest = { operation: 'media.download', method: 'GET', path: '', url: media.url, binary: { maxBytes }, idempotent: true };
    const body = (await this.#http.request(req)) as GraphBytes;
    if (media.sha256 !== undefined) {
      const got = createHash('sha256').update(body.bytes).digest('hex');
      if (got !== media.sha256) throw new GraphResponseError('media.download', `the ${body.bytes.length} bytes have SHA-256 ${got}, not the ${media.sha256} Meta announced`);
    }
    return { bytes: body.bytes, mimeType: body.contentType ?? media.mimeType };
  }

  /**
   * `POST /<PHONE_NUMBER_ID>/media` (Meta "Media": upload), multipart/form-data with `messaging_product`,
   * `type`, `use_case` when given and the `file`; the new media id. Not idempotent (a repeat would upload a
   * second copy): retried only when nothing was sent.
   */
  async uploadMedia(input: MediaUploadInput): Promise<{ mediaId: string }> {
    if (!/^[\w.+-]+\/[\w.+-]+$/.test(input.mimeType)) throw new TypeError(`mimeType must be a MIME type such as audio/ogg, got ${JSON.stringify(input.mimeType)}`);
    const boundary = `----wagw${randomBytes(12).toString('hex')}`;
    const fields: [string, string][] = [
      ['messaging_product', 'whatsapp'],
      ['type', input.mimeType],
      ...(input.useCase ? ([['use_case', input.useCase]] as [string, string][]) : []),
    ];
    const fileName = input.fileName.replace(/[^\w.-]/g, '_').slice(0, 100) || 'file';
    const parts: Buffer[] = fields.map(([name, value]) => Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`, 'utf8'));
    parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${fileName}"\r\nContent-Type: ${input.mimeType}\r\n\r\n`, 'utf8'));
    parts.push(input.bytes, Buffer.from(`\r\n--${boundary}--\r\n`, 'utf8'));
    const req: GraphRequest = {
      operation: 'media.upload',
      method: 'POST',
      path: `${this.#phonePath}/media`,
      rawBody: { contentType: `multipart/form-data; boundary=${boundary}`, bytes: Buffer.concat(parts) },
      idempotent: false,
    };
    const res = await this.#send(req, mediaUploadResponseSchema);
    return { mediaId: res.id };
  }

  /** pre_accept / accept / reject / terminate on one call id: Meta applies a repeat at most once, so they retry. */
  async #callAction(waCallId: string, action: CallAction, sdp?: string, bizOpaqueCallbackData?: string): Promise<void> {
    const body = callActionBody(waCallId, action, sdp, bizOpaqueCallbackData);
    const endsCall = action === 'terminate' || action === 'reject';
    await this.#send(
      {
        operation: `calls.${action}`,
        method: 'POST',
        path: `${this.#phonePath}/calls`,
        body,
        idempotent: true,
        // a retried terminate/reject that Meta refuses (100: call already ended) means the first one worked
        ...(endsCall ? { doneOnRetry: { when: (e: GraphApiError) => e.kind === 'invalid_parameter', body: { messaging_product: 'whatsapp', success: true } } } : {}),
      },
      successResponseSchema,
    );
  }

  async #sendMessage(operation: string, body: Record<string, unknown>): Promise<MessageSendResult> {
    const res = await this.#send({ operation, method: 'POST', path: `${this.#phonePath}/messages`, body, idempotent: false }, messageSendResponseSchema);
    const first = res.messages[0];
    if (!first) throw new GraphResponseError(operation, 'messages is empty');
    return { messageId: first.id };
  }

  async #send<S extends z.ZodType>(req: GraphRequest, schema: S): Promise<z.output<S>> {
    const body = await this.#http.request(req);
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new GraphResponseError(req.operation, 'body is not a JSON object');
    const parsed = schema.safeParse(body);
    if (!parsed.success) throw new GraphResponseError(req.operation, describeIssues(parsed.error.issues));
    return parsed.data;
  }
}
