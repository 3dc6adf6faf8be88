import { timingSafeEqual } from 'node:crypto';
import type { AppConfig } from '@wagw/config';
import type { Logger } from '@wagw/logging';
import type { UserMediaFactory } from '@wagw/media-bridge';
import { type AccountEventInput, AccountEventsFlow } from './account-events.flow';
import { BusinessCallFlow } from './business-call.flow';
import { CallLifecycle } from './call-lifecycle';
import { Clock } from './clock';
import { ControlError, callingNotEnabled, invalidToken, sipEnabledNumber, unknownObject } from './emulator.errors';
import { type GraphFailureRule, type GraphFaultAction, GraphFaults, callsFaultAction } from './graph-faults';
import { type GraphRequestRecord, type GraphRequestRefs, GraphRequestLog, requestRefs } from './graph-request.log';
import { parseCallsRequest } from './graph-requests';
import type { MediaLinkQuery } from './media-link.signer';
import { MediaUploadFlow } from './media-upload.flow';
import { MediaControl } from './media.control';
import { MediaFlow } from './media.flow';
import { MediaStore, type StoredMedia } from './media.store';
import { META_PERMISSION_LIMITS, type PermissionChoice } from './permission.book';
import { PermissionFlow, type ReplyResult } from './permission.flow';
import { SettingsStore } from './settings.store';
import { TimerRegistry } from './timers';
import { UserCallFlow, type UserCallOptions } from './user-call.flow';
import { type UserBehaviour, UserRegistry } from './users.registry';
import { callDetail, callSummary, deliveryView, userView } from './views';
import { type LeaveVoicemailInput, type VoicemailLeft, VoicemailFlow } from './voicemail.flow';
import type { WebhookChange } from './webhook-payloads';
import { WebhookEmitter } from './webhook.emitter';
import { type WebhookFaults, WebhookSender, type WebhookTransport, keepAliveWebhookTransport } from './webhook.sender';

/** A partial update without keys set to undefined (they must not erase stored values). */
function definedOnly<T extends object>(patch: Partial<T>): Partial<T> {
  return Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Every test switch: webhook delivery faults plus the armed Graph failures (README "Fault switches"). */
export interface EmulatorFaults extends WebhookFaults {
  graphFailures: GraphFailureRule[];
}

export interface EmulatorCoreOptions {
  config: Readonly<AppConfig>;
  userMediaFactory: UserMediaFactory;
  logger: Logger;
  clock?: Clock;
  /** How webhooks leave the process; HTTP by default, an in-memory fake in unit tests. */
  webhookTransport?: WebhookTransport;
}

/**
 * The emulated WhatsApp Cloud API (Calling): Graph operations of the business, control operations of the
 * simulated users, and the switches tests need. Plain TypeScript; the Nest controllers only translate HTTP.
 */
export class EmulatorCore {
  readonly clock: Clock;
  readonly timers = new TimerRegistry();
  readonly users: UserRegistry;
  readonly settings: SettingsStore;
  readonly graphFaults = new GraphFaults();
  readonly graphRequests = new GraphRequestLog();
  readonly sender: WebhookSender;
  readonly lifecycle: CallLifecycle;
  readonly permissions: PermissionFlow;
  readonly userCalls: UserCallFlow;
  readonly businessCalls: BusinessCallFlow;
  readonly voicemails: VoicemailFlow;
  readonly account: AccountEventsFlow;
  readonly media: MediaControl;
  /** The users' recordings (voicemails) and the business's uploads, served by GET /<MEDIA_ID> and its download URL. */
  readonly mediaStore: MediaStore;
  readonly #mediaFlow: MediaFlow;
  readonly #mediaUpload: MediaUploadFlow;
  readonly #config: Readonly<AppConfig>;
  readonly #emitter: WebhookEmitter;
  readonly #logger: Logger;
  #closed = false;
  /** The default transport's connection pool (none when the caller brought a transport). */
  readonly #ownTransport: ReturnType<typeof keepAliveWebhookTransport> | undefined;

  constructor(options: EmulatorCoreOptions) {
    const { config, logger } = options;
    const e = config.emulator;
    this.#config = config;
    this.#logger = logger;
    this.clock = options.clock ?? new Clock();
    this.mediaStore = new MediaStore(this.clock);
    this.#mediaFlow = new MediaFlow({ clock: this.clock, store: this.mediaStore, phoneNumberId: config.whatsapp.phoneNumberId });
    this.#mediaUpload = new MediaUploadFlow({ store: this.mediaStore, logger: logger.child({ component: 'media-upload' }) });
    this.settings = new SettingsStore(this.mediaStore);
    this.users = new UserRegistry({ ...META_PERMISSION_LIMITS, dailyConnectedCallCap: e.dailyConnectedCallCap });
    this.#ownTransport = options.webhookTransport ? undefined : keepAliveWebhookTransport();
    this.sender = new WebhookSender({
      url: e.webhookUrl,
      appSecret: config.whatsapp.appSecret,
      maxAttempts: e.webhookMaxAttempts,
      retryBaseDelayMs: e.webhookRetryBaseDelayMs,
      transport: options.webhookTransport ?? (this.#ownTransport as WebhookTransport),
      timers: this.timers,
      logger: logger.child({ component: 'webhooks' }),
    });
    const biz = { wabaId: e.wabaId, phoneNumberId: config.whatsapp.phoneNumberId, businessNumber: config.whatsapp.businessNumber };
    const emitter = new WebhookEmitter(biz, this.sender, this.clock);
    this.#emitter = emitter;
    const common = { clock: this.clock, timers: this.timers, users: this.users, emitter, logger };
    this.permissions = new PermissionFlow(common);
    this.lifecycle = new CallLifecycle({
      ...common,
      media: options.userMediaFactory,
      settings: this.settings,
      permissionEvents: this.permissions,
      timing: { acceptWindowMs: e.acceptWindowMs, ringTimeoutMs: e.ringTimeoutMs, mediaTimeoutMs: e.mediaTimeoutMs },
    });
    this.userCalls = new UserCallFlow({ ...common, lifecycle: this.lifecycle, settings: this.settings, acceptWindowMs: e.acceptWindowMs });
    this.businessCalls = new BusinessCallFlow({ ...common, lifecycle: this.lifecycle, ringTimeoutMs: e.ringTimeoutMs });
    this.voicemails = new VoicemailFlow({ ...common, lifecycle: this.lifecycle, settings: this.settings, media: this.mediaStore });
    this.account = new AccountEventsFlow(common);
    this.media = new MediaControl(this.users, this.lifecycle);
  }

  // ---- Graph API (the business's side) -------------------------------------------------------------

  /** Bearer token (401/190) and phone number id (400/100, subcode 33), in Meta's order. */
  authorize(authorization: string | undefined, phoneNumberId: string): void {
    this.authorizeToken(authorization);
    if (phoneNumberId !== this.#config.whatsapp.phoneNumberId) throw unknownObject(phoneNumberId);
  }

  /** Bearer token only (401/190): requests not addressed to the phone number (media, media downloads). */
  authorizeToken(authorization: string | undefined): void {
    const match = /^Bearer\s+(.+)$/i.exec(authorization?.trim() ?? '');
    const given = Buffer.from(match?.[1] ?? '');
    const expected = Buffer.from(this.#config.whatsapp.accessToken);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw invalidToken();
  }

  /** POST /<PHONE_NUMBER_ID>/calls (reference §3.1-§3.4), logged, with the armed Graph failures around it. */
  async callsAction(body: unknown): Promise<Record<string, unknown>> {
    const action = callsFaultAction(body);
    const record = this.graphRequests.open('POST', action ?? 'calls', requestRefs(body));
    try {
      this.graphFaults.before(action);
      return this.#settle(record, action, await this.#callsAction(body));
    } catch (err) {
      throw this.graphRequests.failed(record, err);
    }
  }

  async #callsAction(body: unknown): Promise<Record<string, unknown>> {
    const cmd = parseCallsRequest(body);
    if (this.settings.sipEnabled()) throw sipEnabledNumber();
    switch (cmd.action) {
      case 'connect': {
        if (!this.settings.callingEnabled()) throw callingNotEnabled();
        const call = await this.businessCalls.connect(cmd);
        return { messaging_product: 'whatsapp', calls: [{ id: call.id }] };
      }
      case 'pre_accept':
        await this.userCalls.preAccept(cmd.callId, cmd.sdpType, cmd.sdp);
        break;
      case 'accept':
        await this.userCalls.accept(cmd.callId, cmd.sdpType, cmd.sdp, cmd.bizOpaqueCallbackData);
        break;
      case 'reject':
        this.userCalls.reject(cmd.callId);
        break;
      case 'terminate': {
        const call = this.lifecycle.requireLive(cmd.callId, 'terminate');
        call.note(this.clock.now(), 'business_terminated');
        this.lifecycle.end(call, 'business_terminate');
        break;
      }
    }
    return { messaging_product: 'whatsapp', success: true };
  }

  /** POST /<PHONE_NUMBER_ID>/messages (reference §3.6). */
  sendMessage(body: unknown): Record<string, unknown> {
    return this.#graph('POST', 'messages', requestRefs(body), () => this.permissions.sendMessage(body));
  }

  /** GET /<PHONE_NUMBER_ID>/call_permissions (reference §3.7). */
  callPermissions(query: { user_wa_id?: unknown; recipient?: unknown }): Record<string, unknown> {
    return this.#graph('GET', 'call_permissions', requestRefs(query), () => this.permissions.callPermissions(query));
  }

  /** GET /<PHONE_NUMBER_ID>/settings: the calling block, plus `restrictions` while any is in force (§5.2). */
  getSettings(): Record<string, unknown> {
    return this.#graph('GET', 'settings', {}, () => {
      const restrictionsList = this.account.restrictionsList(this.clock.now());
      const calling = this.settings.calling();
      return restrictionsList.length > 0 ? { calling, restrictions: { restrictions_list: restrictionsList } } : { calling };
    });
  }

  /** POST /<PHONE_NUMBER_ID>/settings, then the account_settings_update webhook (reference §2.9, §5.1). */
  updateSettings(body: unknown): Record<string, unknown> {
    return this.#graph('POST', 'settings', {}, () => {
      const calling = this.settings.update(body);
      this.#emitter.settingsUpdate(calling);
      return { success: true };
    });
  }

  /** POST /<PHONE_NUMBER_ID>/media (Cloud API "Media", upload): the raw multipart body, checked and stored (MediaUploadFlow). */
  uploadMedia(contentType: string | undefined, body: unknown): { id: string } {
    return this.#graph('POST', 'media_upload', {}, () => this.#mediaUpload.upload(contentType, body));
  }

  /** GET /<MEDIA_ID> (Cloud API "Media"): metadata and a download URL on `origin` (MediaFlow.info). */
  getMedia(mediaId: string, query: { phone_number_id?: unknown }, origin: string): Record<string, unknown> {
    return this.#graph('GET', 'media', { mediaId }, () => this.#mediaFlow.info(mediaId, query, origin));
  }

  /** GET of a download URL that getMedia gave, the token checked by the caller (MediaFlow.download). */
  downloadMedia(query: MediaLinkQuery): StoredMedia {
    const refs = typeof query.mid === 'string' ? { mediaId: query.mid } : {};
    return this.#graph('GET', 'media_download', refs, () => this.#mediaFlow.download(query));
  }

  /** A synchronous Graph operation, logged, between the `before` and `after` Graph failure checks. */
  #graph<T extends object>(method: 'GET' | 'POST', action: GraphFaultAction, refs: GraphRequestRefs, run: () => T): T {
    const record = this.graphRequests.open(method, action, refs);
    try {
      this.graphFaults.before(action);
      return this.#settle(record, action, run());
    } catch (err) {
      throw this.graphRequests.failed(record, err);
    }
  }

  /** The operation succeeded: note its ids, then the `after` fault may still answer an error. */
  #settle<T extends object>(record: GraphRequestRecord, action: GraphFaultAction | undefined, result: T): T {
    this.graphRequests.noteResult(record, result);
    this.graphFaults.after(action);
    this.graphRequests.succeeded(record);
    return result;
  }

  // ---- simulated users (control API) -----------------------------------------------------------------

  createUser(waId: string, name?: string): Record<string, unknown> {
    return this.userView(this.users.ensure(waId, name).waId);
  }

  userView(waId: string): Record<string, unknown> {
    const user = this.users.get(waId);
    const call = user.currentCallId ? this.lifecycle.find(user.currentCallId) : undefined;
    return userView(user, this.clock.now(), call);
  }

  listUsers(): Record<string, unknown>[] {
    return this.users.list().map((u) => this.userView(u.waId));
  }

  setBehaviour(waId: string, patch: Partial<UserBehaviour>): UserBehaviour {
    const user = this.users.ensure(waId);
    user.behaviour = { ...user.behaviour, ...definedOnly(patch) };
    return user.behaviour;
  }

  async userCall(waId: string, options: UserCallOptions = {}): Promise<{ waCallId: string }> {
    const call = await this.userCalls.startCall(waId, options);
    return { waCallId: call.id };
  }

  /**
   * The user taps a call button it received (the named one, else the newest; reference §3.8): a user call
   * as `userCall` places it, its `connect` carrying the button's payload as `cta_payload`.
   */
  async tapCallButton(waId: string, messageId?: string): Promise<{ waCallId: string; messageId: string; payload: string | null }> {
    const button = this.users.get(waId).callButtons.tappable(this.clock.now(), messageId);
    const { waCallId } = await this.userCall(waId, button.payload !== undefined ? { ctaPayload: button.payload } : {});
    this.#logger.info({ waId, waCallId, messageId: button.messageId }, 'user tapped a call button');
    return { waCallId, messageId: button.messageId, payload: button.payload ?? null };
  }

  /** The user hangs up (or, while a business call rings, declines it). */
  hangup(waId: string): Record<string, unknown> {
    const user = this.users.get(waId);
    const call = user.currentCallId ? this.lifecycle.find(user.currentCallId) : undefined;
    if (!call || call.ended) throw new ControlError('conflict', `user ${waId} is not in a call`);
    if (call.direction === 'BUSINESS_INITIATED' && call.state === 'ringing') return callSummary(this.businessCalls.decline(waId));
    call.note(this.clock.now(), 'user_hung_up');
    this.lifecycle.end(call, 'user_hangup');
    return callSummary(call);
  }

  answer(waId: string): Record<string, unknown> {
    return callSummary(this.businessCalls.answer(waId));
  }

  reject(waId: string): Record<string, unknown> {
    return callSummary(this.businessCalls.decline(waId));
  }

  /** The user leaves a voicemail on an unanswered call of theirs: the `messages` audio webhook (§2.9). */
  leaveVoicemail(waId: string, input: LeaveVoicemailInput = {}): VoicemailLeft {
    return this.voicemails.leave(waId, input);
  }

  permissionReply(waId: string, input: { choice: PermissionChoice; requestId?: string; fromProfile?: boolean }): ReplyResult {
    return this.permissions.reply(waId, input);
  }

  revoke(waId: string, notify = false): Record<string, unknown> {
    this.permissions.revoke(waId, notify);
    return this.userView(waId);
  }

  registerPermissionTemplate(name: string): string[] {
    this.permissions.registerPermissionTemplate(name);
    return this.permissions.permissionTemplates();
  }

  // ---- account, calls, clock, faults, webhooks --------------------------------------------------------

  /** An account_update of the business number (§2.9); restrictions show in GET settings until they expire. */
  accountEvent(input: AccountEventInput): WebhookChange {
    return this.account.send(input);
  }

  listCalls(): Record<string, unknown>[] {
    return this.lifecycle.list().map(callSummary);
  }

  callView(waCallId: string): Record<string, unknown> {
    const call = this.lifecycle.find(waCallId);
    if (!call) throw new ControlError('not_found', `no call ${waCallId}`);
    return callDetail(call);
  }

  clockView(): { now: number; iso: string; offsetMs: number } {
    const now = this.clock.now();
    return { now, iso: new Date(now).toISOString(), offsetMs: this.clock.offsetMs };
  }

  advanceClock(ms: number): { now: number; iso: string; offsetMs: number } {
    this.clock.advance(ms);
    this.#logger.info({ offsetMs: this.clock.offsetMs }, 'emulator clock advanced');
    return this.clockView();
  }

  faults(): EmulatorFaults {
    return { ...this.sender.faults, graphFailures: this.graphFaults.rules };
  }

  /** Webhook faults are merged into the current ones; `graphFailures`, when sent, replaces the armed list. */
  setFaults(patch: Partial<EmulatorFaults>): EmulatorFaults {
    const { graphFailures, ...webhook } = patch;
    this.sender.setFaults(definedOnly(webhook));
    if (graphFailures !== undefined) this.graphFaults.arm(graphFailures.map((r) => definedOnly(r) as GraphFailureRule));
    const faults = this.faults();
    this.#logger.info({ faults }, 'faults set');
    return faults;
  }

  webhookLog(filter: { key?: string; kind?: string } = {}): Record<string, unknown>[] {
    return this.sender
      .log()
      .filter((r) => (filter.key === undefined || r.key === filter.key) && (filter.kind === undefined || r.kind === filter.kind))
      .map(deliveryView);
  }

  /** Resolves when no webhook is queued or in flight. */
  webhooksIdle(): Promise<void> {
    return this.sender.idle();
  }

  /**
   * Back to a fresh emulator (tests): calls dropped without webhooks (with their voicemails and the stored
   * recordings and uploads), users (with their call buttons), settings, account restrictions, faults, log, clock.
   */
  async reset(): Promise<void> {
    this.sender.reset();
    this.graphFaults.clear();
    this.graphRequests.clear();
    this.timers.cancelAll();
    await this.lifecycle.clear();
    this.users.clear();
    this.mediaStore.clear();
    this.settings.reset();
    this.account.reset();
    this.permissions.reset();
    this.clock.offsetMs = 0;
    this.#logger.info('emulator reset');
  }

  /** Cancels every timer, stops deliveries, closes every user's media. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.timers.close();
    this.sender.close();
    this.#ownTransport?.close();
    await this.lifecycle.clear();
  }
}
