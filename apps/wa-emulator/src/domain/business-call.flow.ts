import type { Logger } from '@wagw/logging';
import type { CallLifecycle } from './call-lifecycle';
import type { EmulatedCall } from './call.record';
import type { Clock } from './clock';
import { ControlError, GraphError, duplicateCall, invalidParameter } from './emulator.errors';
import { checkOfferSdp, checkSdpType } from './sdp-checks';
import type { TimerRegistry } from './timers';
import type { SimulatedUser, UserRegistry } from './users.registry';
import type { WebhookEmitter } from './webhook.emitter';

export interface BusinessCallFlowDeps {
  clock: Clock;
  timers: TimerRegistry;
  users: UserRegistry;
  lifecycle: CallLifecycle;
  emitter: WebhookEmitter;
  ringTimeoutMs: number;
  logger: Logger;
}

export interface ConnectInput {
  to?: string;
  recipient?: string;
  sdpType: unknown;
  sdp: unknown;
  bizOpaqueCallbackData?: string;
}

/**
 * Business-initiated calls (reference §2.4-§2.5, §3.1; BIC-2511/2606): the business connects with its
 * offer; WhatsApp answers in a `connect` webhook, the phone rings (RINGING), and the user answers
 * (ACCEPTED), declines (REJECTED, then terminate) or lets it ring out (terminate).
 */
export class BusinessCallFlow {
  constructor(private readonly deps: BusinessCallFlowDeps) {}

  #resolveUser(input: ConnectInput): SimulatedUser {
    if (input.to !== undefined) return this.deps.users.ensure(input.to); // `to` wins over `recipient` (BIC-2606)
    const user = this.deps.users.findByBsuid(input.recipient as string);
    if (!user) throw new GraphError(138001, 400, 'Receiver is not callable', { details: `recipient ${input.recipient} is not a WhatsApp user` });
    return user;
  }

  /** connect: 138003 busy, 138006 no permission, 138012 daily cap, 100 bad SDP; then webhooks and the ring. */
  async connect(input: ConnectInput): Promise<EmulatedCall> {
    const { clock, lifecycle } = this.deps;
    const user = this.#resolveUser(input);
    const now = clock.now();
    if (user.currentCallId) throw duplicateCall(user.waId);
    user.permissions.assertCanBeCalled(now);
    user.permissions.assertUnderCallCap(now);
    const problem = checkSdpType(input.sdpType) ?? checkOfferSdp(input.sdp);
    if (problem) throw invalidParameter(`connect: ${problem}`);
    const call = lifecycle.begin('BUSINESS_INITIATED', user);
    call.offerSdp = input.sdp as string;
    call.bizOpaqueCallbackData = input.bizOpaqueCallbackData;
    let answer: string;
    try {
      answer = await call.session.answerOffer(call.offerSdp);
    } catch (err) {
      lifecycle.abandon(call, user);
      throw invalidParameter(`connect: the SDP offer could not be applied: ${err instanceof Error ? err.message : String(err)}`);
    }
    if (call.ended) throw invalidParameter(`connect: call ${call.id} ended while WhatsApp's answer was being built`);
    call.answerSdp = answer;
    call.note(clock.now(), 'business_connected');
    lifecycle.watchMediaConnection(call);
    this.deps.emitter.callStarted(call.id);
    this.deps.emitter.callConnect(call, user, answer);
    this.deps.emitter.callStatus(call, user, 'RINGING');
    call.note(clock.now(), 'ringing');
    call.setTimer(
      'ringTimeout',
      this.deps.timers.set(this.deps.ringTimeoutMs, () => {
        if (call.ended || call.state !== 'ringing') return;
        call.note(clock.now(), 'ring_timeout');
        lifecycle.end(call, 'ring_timeout');
      }),
    );
    this.#applyBehaviour(call, user);
    this.deps.logger.info({ waCallId: call.id, waId: user.waId, direction: call.direction }, 'business called the user');
    return call;
  }

  #applyBehaviour(call: EmulatedCall, user: SimulatedUser): void {
    const { incomingCall, answerAfterMs } = user.behaviour;
    if (incomingCall === 'ignore') return;
    call.setTimer(
      'userBehaviour',
      this.deps.timers.set(answerAfterMs, () => {
        if (call.ended || call.state !== 'ringing') return;
        if (incomingCall === 'accept') this.#answer(call, user);
        else this.#decline(call, user);
      }),
    );
  }

  #ringingCallOf(waId: string): { call: EmulatedCall; user: SimulatedUser } {
    const user = this.deps.users.get(waId);
    const call = user.currentCallId ? this.deps.lifecycle.find(user.currentCallId) : undefined;
    if (!call || call.direction !== 'BUSINESS_INITIATED' || call.state !== 'ringing') {
      throw new ControlError('conflict', `user ${waId} has no ringing business-initiated call`);
    }
    return { call, user };
  }

  /** The user picks up (control API or behaviour). */
  answer(waId: string): EmulatedCall {
    const { call, user } = this.#ringingCallOf(waId);
    this.#answer(call, user);
    return call;
  }

  /** The user declines (control API or behaviour). */
  decline(waId: string): EmulatedCall {
    const { call, user } = this.#ringingCallOf(waId);
    this.#decline(call, user);
    return call;
  }

  #answer(call: EmulatedCall, user: SimulatedUser): void {
    call.cancelTimer('ringTimeout');
    call.cancelTimer('userBehaviour');
    call.note(this.deps.clock.now(), 'user_answered');
    this.deps.emitter.callStatus(call, user, 'ACCEPTED');
    this.deps.lifecycle.markConnected(call, user);
  }

  #decline(call: EmulatedCall, user: SimulatedUser): void {
    call.note(this.deps.clock.now(), 'user_declined');
    this.deps.emitter.callStatus(call, user, 'REJECTED');
    this.deps.lifecycle.end(call, 'user_reject');
  }
}
