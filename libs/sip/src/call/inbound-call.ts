import type { Logger } from '@wagw/logging';
import type { NameAddr, SipMessage } from 'sip';
import { makeResponse } from 'sip';
import { Dialog } from '../dialog/dialog';
import { formatReason, genericHeaders, headerValue, normaliseHeaders, parseReason, partyOf, randomToken, sdpBody, uriString, withTag, type SipParty, type SipReason } from '../message/headers';
import { InvalidStateError, reasonPhrase } from '../sip.errors';
import type { CallEndedEvent, InboundCallEvents, RejectOptions } from '../sip.types';
import type { Endpoint } from '../transport/sip-transport';
import { CallLeg, optionalReason } from './call-leg';
import type { LegContext } from './leg-context';

export type InboundCallState = 'offered' | 'early' | 'answered' | 'confirmed' | 'terminated';

/**
 * The UAS leg for an INVITE from the PBX (RFC 3261 §13.3). The stack has already sent `100 Trying`.
 * Provisional and final responses carry our To tag, our Contact and the request's Record-Route (§12.1.1);
 * the 2xx is retransmitted until the ACK (`acked`), and without one after 64*T1 the call ends
 * (`ended`, cause `no-ack`) with a BYE. A CANCEL before the answer gets 200, the INVITE 487 (`cancelled`).
 */
export class InboundCall extends CallLeg<InboundCallEvents> {
  readonly from: SipParty;
  readonly to: SipParty;
  readonly requestUri: string;
  /** The offer, when the INVITE carried one. */
  readonly sdp: string | undefined;
  /** Generic headers of the INVITE (lowercase names). */
  readonly headers: Readonly<Record<string, string>>;
  readonly source: { address: string; port: number };
  #state: InboundCallState = 'offered';
  readonly #invite: SipMessage;
  readonly #localTo: NameAddr;

  constructor(ctx: LegContext, invite: SipMessage, remote: Endpoint, logger: Logger) {
    const callId = invite.headers['call-id'];
    super(ctx, callId, remote.protocol, logger.child({ sipCallId: callId, sipDirection: 'inbound' }));
    this.#invite = invite;
    this.#localTo = withTag(invite.headers.to, randomToken(6));
    this.from = partyOf(invite.headers.from);
    this.to = partyOf(invite.headers.to);
    this.requestUri = uriString(invite.uri ?? '');
    this.sdp = sdpBody(invite);
    this.headers = genericHeaders(invite);
    this.source = { address: remote.address, port: remote.port };
    this.peerAllow = headerValue(invite, 'allow');
  }

  get state(): InboundCallState {
    return this.#state;
  }

  /** Via branch of the INVITE: with the Call-ID it identifies the transaction a CANCEL targets. */
  get branch(): string {
    return String(this.#invite.headers.via[0]?.params['branch'] ?? '');
  }

  /** (Re)sends `100 Trying`; the stack already sent one when the INVITE arrived. */
  trying(): void {
    if (this.#state === 'offered') this.ctx.sendResponse(makeResponse(this.#invite, 100, 'Trying'));
  }

  /** Sends `180 Ringing`, with early media SDP if given. */
  ringing(sdp?: string): void {
    this.#provisional(180, sdp);
  }

  /** Sends `183 Session Progress` with early media SDP. */
  progress(sdp: string): void {
    this.#provisional(183, sdp);
  }

  /** Sends the 2xx with our answer (our offer, when the INVITE had none) and retransmits it until the ACK. */
  answer(sdp: string): void {
    this.#assertOpen('answer');
    this.localSdp = sdp;
    const dialog = Dialog.asUas(this.#invite, this.#localTo, this.transport);
    this.establish(dialog);
    this.#state = 'answered';
    this.log.info('answering call');
    const session = this.sessionAnswer(this.#invite);
    this.sendTwoXx(this.#response(200, { 'content-type': 'application/sdp', ...session.headers }, sdp), true);
    this.startSessionTimer(session.terms);
  }

  /**
   * Rejects the call with a final response (3xx-6xx), e.g. `reject(486)`,
   * `reject(503, 'Service Unavailable', { headers: { 'Retry-After': '30' } })`.
   */
  reject(status: number, reason?: string, options: RejectOptions = {}): void {
    this.#assertOpen('reject');
    if (status < 300 || status > 699) throw new RangeError(`not a failure status: ${status}`);
    const headers: Record<string, unknown> = normaliseHeaders(options.headers);
    if (options.reason) headers['reason'] = formatReason(options.reason);
    this.ctx.sendResponse(this.#response(status, headers, undefined, reason ?? reasonPhrase(status)));
    this.log.info({ status }, 'call rejected');
    this.#state = 'terminated';
    this.finish(undefined);
  }

  /** BYE after the answer; before it, a 480 rejection (or the status the reason names). */
  async hangup(reason?: SipReason): Promise<void> {
    if (this.#state === 'terminated') return;
    if (this.#state === 'offered' || this.#state === 'early') {
      const status = reason?.protocol === 'SIP' && reason.cause >= 300 ? reason.cause : 480;
      this.reject(status, undefined, reason ? { reason } : {});
      return;
    }
    this.#state = 'terminated';
    await this.bye(reason);
  }

  /** The caller's CANCEL (RFC 3261 §9.2): 200 to it, 487 to the INVITE if still unanswered. */
  onCancel(cancel: SipMessage): void {
    this.ctx.sendResponse(makeResponse(cancel, 200, 'OK'));
    if (this.#state !== 'offered' && this.#state !== 'early') return;
    this.ctx.sendResponse(this.#response(487, {}));
    this.#state = 'terminated';
    this.finish(undefined);
    const reason = parseReason(headerValue(cancel, 'reason'));
    this.log.info({ reason }, 'call cancelled by the caller');
    this.safeEmit('cancelled', optionalReason(reason));
  }

  override onDialogRequest(request: SipMessage): void {
    if (request.method === 'BYE' && this.#state !== 'terminated') this.#state = 'terminated';
    super.onDialogRequest(request);
  }

  override dispose(): void {
    this.#state = 'terminated';
    super.dispose();
  }

  protected override onAcked(ack: SipMessage): void {
    if (this.#state === 'answered') this.#state = 'confirmed';
    const sdp = sdpBody(ack);
    this.safeEmit('acked', sdp ? { sdp } : {});
  }

  protected override finish(event: CallEndedEvent | undefined): void {
    if (event) this.#state = 'terminated';
    super.finish(event);
  }

  protected clearTimers(): void {
    // no timers of its own: the 2xx retransmission belongs to CallLeg
  }

  #provisional(status: 180 | 183, sdp: string | undefined): void {
    this.#assertOpen(status === 180 ? 'ring' : 'send progress');
    this.#state = 'early';
    if (sdp !== undefined) this.localSdp = sdp;
    const headers = sdp === undefined ? {} : { 'content-type': 'application/sdp' };
    this.ctx.sendResponse(this.#response(status, headers, sdp));
  }

  #response(status: number, headers: Record<string, unknown>, content?: string, reason?: string): SipMessage {
    const all: Record<string, unknown> = { to: this.#localTo, ...headers };
    if (status < 300) {
      all['contact'] = [this.ctx.contact(this.transport)];
      if (this.#invite.headers['record-route']) all['record-route'] = this.#invite.headers['record-route'];
      if (status >= 200) all['allow'] = this.ctx.allow;
    }
    const ext: { headers: Record<string, unknown>; content?: string } = { headers: all };
    if (content !== undefined) ext.content = content;
    return makeResponse(this.#invite, status, reason ?? reasonPhrase(status), ext);
  }

  #assertOpen(operation: string): void {
    if (this.#state !== 'offered' && this.#state !== 'early') throw new InvalidStateError(operation, this.#state);
  }
}
