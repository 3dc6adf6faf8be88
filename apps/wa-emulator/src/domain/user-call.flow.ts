import type { Logger } from '@wagw/logging';
import type { CallLifecycle } from './call-lifecycle';
import type { EmulatedCall } from './call.record';
import type { Clock } from './clock';
import { ControlError, invalidParameter } from './emulator.errors';
import { checkAnswerSdp, checkSdpType } from './sdp-checks';
import type { SettingsStore } from './settings.store';
import type { TimerRegistry } from './timers';
import type { UserRegistry } from './users.registry';
import type { WebhookEmitter } from './webhook.emitter';

export interface UserCallFlowDeps {
  clock: Clock;
  timers: TimerRegistry;
  users: UserRegistry;
  lifecycle: CallLifecycle;
  emitter: WebhookEmitter;
  settings: SettingsStore;
  acceptWindowMs: number;
  logger: Logger;
}

export interface UserCallOptions {
  ctaPayload?: string;
  deeplinkPayload?: string;
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Where two SDPs first differ, for the accept != pre_accept error. */
function firstDifference(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return n;
}

/**
 * User-initiated calls (reference §2.3, §3.2-§3.4, §6.2; UIC-2511/2606): the user dials, WhatsApp sends
 * `connect` with its offer, the business pre-accepts and/or accepts with its answer within the accept window,
 * or rejects. The accept SDP must be byte-for-byte the pre_accept SDP.
 */
export class UserCallFlow {
  constructor(private readonly deps: UserCallFlowDeps) {}

  /** The user calls the business: offer from the user's media, connect webhook, accept window armed. */
  async startCall(waId: string, options: UserCallOptions = {}): Promise<EmulatedCall> {
    const { users, lifecycle, settings } = this.deps;
    const user = users.ensure(waId);
    if (user.currentCallId) throw new ControlError('conflict', `user ${waId} is already in call ${user.currentCallId}`);
    if (!settings.callingEnabled()) throw new ControlError('conflict', 'calling is DISABLED on the business number: the user sees no call button');
    if (settings.sipEnabled()) throw new ControlError('conflict', 'SIP is ENABLED on the business number: the emulator does not emulate SIP signaling');
    const call = lifecycle.begin('USER_INITIATED', user);
    call.ctaPayload = options.ctaPayload;
    call.deeplinkPayload = options.deeplinkPayload;
    let offer: string;
    try {
      offer = await call.session.createOffer();
    } catch (err) {
      lifecycle.abandon(call, user);
      throw new ControlError('conflict', `the user's media could not create an offer: ${errorText(err)}`);
    }
    if (call.ended) throw new ControlError('conflict', `call ${call.id} ended while the user's offer was being built`);
    call.offerSdp = offer;
    call.note(this.deps.clock.now(), 'user_called', options.ctaPayload || options.deeplinkPayload ? { ...options } : undefined);
    this.deps.emitter.callStarted(call.id);
    this.deps.emitter.callConnect(call, user, offer);
    call.setTimer(
      'acceptWindow',
      this.deps.timers.set(this.deps.acceptWindowMs, () => {
        if (call.ended || call.state === 'accepted') return;
        call.note(this.deps.clock.now(), 'accept_window_expired');
        lifecycle.end(call, 'not_answered');
      }),
    );
    this.deps.logger.info({ waCallId: call.id, waId, direction: call.direction }, 'user called the business');
    return call;
  }

  #requireUserCall(callId: string, action: string): EmulatedCall {
    const call = this.deps.lifecycle.requireLive(callId, action);
    if (call.direction !== 'USER_INITIATED') throw invalidParameter(`${action} applies to user-initiated calls; call ${callId} is business-initiated`);
    return call;
  }

  #checkAnswer(action: string, sdpType: unknown, sdp: unknown): string {
    const problem = checkSdpType(sdpType) ?? checkAnswerSdp(sdp);
    if (problem) throw invalidParameter(`${action}: ${problem}`);
    return sdp as string;
  }

  async #applyAnswer(call: EmulatedCall, action: string, sdp: string): Promise<void> {
    try {
      await call.session.applyAnswer(sdp);
    } catch (err) {
      throw invalidParameter(`${action}: the SDP answer could not be applied: ${errorText(err)}`);
    }
    this.deps.lifecycle.watchMediaConnection(call);
  }

  /** pre_accept: ICE/DTLS may start; repeating it with the same SDP is harmless. */
  async preAccept(callId: string, sdpType: unknown, rawSdp: unknown): Promise<void> {
    const call = this.#requireUserCall(callId, 'pre_accept');
    const sdp = this.#checkAnswer('pre_accept', sdpType, rawSdp);
    if (call.state === 'accepted') throw invalidParameter(`pre_accept: call ${callId} is already accepted`);
    if (call.state === 'pre_accepted') {
      if (call.preAcceptSdp === sdp) return;
      throw invalidParameter(`pre_accept: call ${callId} was already pre-accepted with a different SDP`);
    }
    await this.#applyAnswer(call, 'pre_accept', sdp);
    if (call.ended) throw invalidParameter(`pre_accept: call ${callId} has already ended`);
    call.preAcceptSdp = sdp;
    call.state = 'pre_accepted';
    call.note(this.deps.clock.now(), 'pre_accepted');
  }

  /** accept: same SDP as pre_accept (UIC-2511); the call is connected and the media watchdog starts. */
  async accept(callId: string, sdpType: unknown, rawSdp: unknown, bizOpaqueCallbackData?: string): Promise<void> {
    const call = this.#requireUserCall(callId, 'accept');
    const sdp = this.#checkAnswer('accept', sdpType, rawSdp);
    if (call.state === 'accepted') throw invalidParameter(`accept: call ${callId} is already in progress (accepted)`);
    if (call.preAcceptSdp !== undefined && call.preAcceptSdp !== sdp) {
      const at = firstDifference(call.preAcceptSdp, sdp);
      throw invalidParameter(`accept: the SDP must be identical to the SDP sent with pre_accept (first difference at character ${at})`, {
        first_difference_at: at,
      });
    }
    if (call.preAcceptSdp === undefined) await this.#applyAnswer(call, 'accept', sdp);
    if (call.ended) throw invalidParameter(`accept: call ${callId} has already ended`);
    call.acceptSdp = sdp;
    if (bizOpaqueCallbackData !== undefined) call.bizOpaqueCallbackData = bizOpaqueCallbackData;
    call.cancelTimer('acceptWindow');
    const user = this.deps.users.get(call.waId);
    this.deps.lifecycle.markConnected(call, user);
    this.deps.logger.info({ waCallId: call.id, direction: call.direction }, 'business accepted the call');
  }

  /** reject: only before the call is accepted (after that, terminate). */
  reject(callId: string): void {
    const call = this.#requireUserCall(callId, 'reject');
    if (call.state === 'accepted') throw invalidParameter(`reject: call ${callId} is already accepted; use terminate`);
    call.note(this.deps.clock.now(), 'business_rejected');
    this.deps.lifecycle.end(call, 'business_reject');
  }
}
