import type { Logger } from '@wagw/logging';
import type { UserMediaFactory } from '@wagw/media-bridge';
import type { Clock } from './clock';
import { type CallDirection, EmulatedCall, type EndReason } from './call.record';
import { invalidParameter } from './emulator.errors';
import { newCallId } from './ids';
import type { SettingsStore } from './settings.store';
import type { TimerRegistry } from './timers';
import type { SimulatedUser, UserRegistry } from './users.registry';
import type { WebhookEmitter } from './webhook.emitter';
import type { WebhookError } from './webhook-payloads';

/** Permission side effects of call endings, implemented by the permission flow. */
export interface CallPermissionEvents {
  /** 4 unanswered/rejected business calls in a row revoked the permission: reject/automatic webhook. */
  autoRevoked(user: SimulatedUser): void;
  /** A user called while callback_permission_status is ENABLED: temporary permission, accept/automatic. */
  callbackGranted(user: SimulatedUser, callId: string): void;
}

export interface CallTiming {
  acceptWindowMs: number;
  ringTimeoutMs: number;
  mediaTimeoutMs: number;
}

export interface CallLifecycleDeps {
  clock: Clock;
  timers: TimerRegistry;
  users: UserRegistry;
  emitter: WebhookEmitter;
  media: UserMediaFactory;
  settings: SettingsStore;
  permissionEvents: CallPermissionEvents;
  timing: CallTiming;
  logger: Logger;
}

/** Meta's docs link for failure entries of terminate webhooks (§2.6 `href`). */
const ERRORS_HREF = 'https://developers.facebook.com/docs/whatsapp/cloud-api/calling/troubleshooting';

/**
 * The parts of a call's life shared by both directions: creation (media session, user reservation),
 * connection (quota reset, media watchdog), and the one `end()` that every ending goes through (terminate
 * webhook, media closed, permission consequences).
 */
export class CallLifecycle {
  readonly #calls = new Map<string, EmulatedCall>();
  readonly #closing = new Set<Promise<void>>();

  constructor(private readonly deps: CallLifecycleDeps) {}

  /** Creates the call and its media session and marks the user busy. */
  begin(direction: CallDirection, user: SimulatedUser): EmulatedCall {
    const id = newCallId();
    const session = this.deps.media.create({ waId: user.waId, callId: id });
    const call = new EmulatedCall({ id, direction, waId: user.waId, createdAt: this.deps.clock.now(), session });
    this.#calls.set(id, call);
    user.currentCallId = id;
    user.lastSession = { callId: id, session };
    return call;
  }

  /** Undoes begin() when setup failed before any webhook went out. */
  abandon(call: EmulatedCall, user: SimulatedUser): void {
    this.#calls.delete(call.id);
    if (user.currentCallId === call.id) user.currentCallId = undefined;
    this.#closeSession(call);
  }

  find(id: string): EmulatedCall | undefined {
    return this.#calls.get(id);
  }

  /** The call a Graph action names: 100 for an unknown id or an ended call (§3.4 documented errors). */
  requireLive(id: string, action: string): EmulatedCall {
    const call = this.#calls.get(id);
    if (!call) throw invalidParameter(`${action}: call_id ${id} is not a valid call id`);
    if (call.ended) {
      throw invalidParameter(`${action}: call ${id} has already ended (${call.terminateStatus ?? 'COMPLETED'}, ${call.endReason ?? 'unknown'})`, {
        call_status: call.terminateStatus,
      });
    }
    return call;
  }

  list(): EmulatedCall[] {
    return [...this.#calls.values()];
  }

  /** The call is answered: quota and streak reset, the media watchdog starts. */
  markConnected(call: EmulatedCall, user: SimulatedUser): void {
    const now = this.deps.clock.now();
    call.state = 'accepted';
    call.connectedAt = now;
    call.note(now, 'connected');
    user.permissions.recordConnectedCall(now, call.direction);
    this.#armWatchdog(call, 0);
  }

  /** Records in the timeline when ICE+DTLS come up (diagnostics only; rules read stats()). */
  watchMediaConnection(call: EmulatedCall): void {
    call.session.connected(this.deps.timing.mediaTimeoutMs).then(
      () => {
        if (!call.ended) call.note(this.deps.clock.now(), 'media_connected');
      },
      (err: unknown) => {
        if (!call.ended) call.note(this.deps.clock.now(), 'media_not_connected', { error: err instanceof Error ? err.message : String(err) });
      },
    );
  }

  /**
   * Meta drops a call whose business side sends nothing: at least one packet within the first 20 s after
   * the start, and then never a gap of 30 s (TS-2512). Emulated with one period, mediaTimeoutMs: at each
   * tick the packets received from the business must have grown, else the call ends FAILED (138021).
   * RTP and RTCP both count: "keep sending at least RTCP during silence or IVR waits" (TS-2512), so a call
   * the PBX holds without music lives on the business's RTCP reports.
   */
  #armWatchdog(call: EmulatedCall, seen: number): void {
    call.setTimer(
      'mediaWatchdog',
      this.deps.timers.set(this.deps.timing.mediaTimeoutMs, () => {
        if (call.ended) return;
        const stats = call.session.stats();
        const received = stats.packetsReceived + (stats.rtcpReceived ?? 0);
        if (received > seen) {
          this.#armWatchdog(call, received);
          return;
        }
        const details = seen === 0 ? `No media received from the business within ${this.deps.timing.mediaTimeoutMs} ms of the call start` : `No media received from the business for ${this.deps.timing.mediaTimeoutMs} ms`;
        this.end(call, 'media_timeout', [{ code: 138021, message: 'Media receive timeout', href: ERRORS_HREF, error_data: { details } }]);
      }),
    );
  }

  /**
   * Every ending goes through here exactly once: cancel the call's timers, send terminate (COMPLETED, or
   * FAILED with value-level errors), close the user's media, and apply the permission consequences.
   */
  end(call: EmulatedCall, reason: EndReason, errors?: WebhookError[]): void {
    if (call.ended) return;
    const now = this.deps.clock.now();
    call.cancelTimers();
    call.state = 'ended';
    call.endedAt = now;
    call.endReason = reason;
    call.terminateStatus = errors?.length ? 'FAILED' : 'COMPLETED';
    call.note(now, 'terminated', { reason, status: call.terminateStatus, ...(errors?.length ? { errors: errors.map((e) => e.code) } : {}) });
    const user = this.deps.users.get(call.waId);
    if (user.currentCallId === call.id) user.currentCallId = undefined;
    this.deps.emitter.callTerminate(call, user, errors);
    this.deps.logger.info({ waCallId: call.id, direction: call.direction, reason, status: call.terminateStatus }, 'call ended');
    this.#closeSession(call);
    this.#permissionConsequences(call, user, reason);
  }

  #permissionConsequences(call: EmulatedCall, user: SimulatedUser, reason: EndReason): void {
    const now = this.deps.clock.now();
    if (call.direction === 'BUSINESS_INITIATED' && call.connectedAt === undefined && (reason === 'user_reject' || reason === 'ring_timeout')) {
      // Unanswered or declined business calls count toward auto-revocation (UCP-2606; SIP 480/486 in TS-2512).
      // A business that cancels its own ringing call (SIP 487) does not count.
      if (user.permissions.recordUnansweredBusinessCall(now)) this.deps.permissionEvents.autoRevoked(user);
    }
    if (call.direction === 'USER_INITIATED' && this.deps.settings.callbackPermissionEnabled() && user.permissions.current(now).status !== 'permanent') {
      this.deps.permissionEvents.callbackGranted(user, call.id);
    }
  }

  #closeSession(call: EmulatedCall): void {
    const closing = call.session.close().catch((err: unknown) => {
      this.deps.logger.warn({ waCallId: call.id, error: err instanceof Error ? err.message : String(err) }, 'closing user media failed');
    });
    this.#closing.add(closing);
    void closing.finally(() => this.#closing.delete(closing));
  }

  /** Forgets every call without webhooks (reset/close): timers cancelled, live media closed, pending closes awaited. */
  async clear(): Promise<void> {
    const calls = [...this.#calls.values()];
    this.#calls.clear();
    for (const call of calls) {
      call.cancelTimers();
      if (call.ended) continue;
      call.state = 'ended';
      this.#closeSession(call);
    }
    await Promise.allSettled([...this.#closing]);
  }
}
