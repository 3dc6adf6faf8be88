import type { Logger } from '@wagw/logging';
import type { NameAddr, SipMessage } from 'sip';
import { makeResponse } from 'sip';
import { Dialog, dialogKey } from '../dialog/dialog';
import { formatReason, genericHeaders, headerValue, normaliseHeaders, parseReason, partyOf, randomToken, sdpBody, tagOf, uriString, withTag, type SipParty, type SipReason } from '../message/headers';
import { InvalidStateError, reasonPhrase } from '../sip.errors';
import type { IncomingInviteSnapshot } from './incoming-invite';
import type { CallEndedEvent, InboundCallEvents, RejectOptions } from '../sip.types';
import type { Endpoint } from '../transport/sip-transport';
import { CallLeg, optionalReason } from './call-leg';
import type { LegContext } from './leg-context';
import { ReliableProvisionals } from './reliable-provisionals';
import { optionTags } from './session-timer';

export type InboundCallState = 'offered' | 'early' | 'answered' | 'confirmed' | 'terminated';

/**
 * The UAS leg for an INVITE from the PBX (RFC 3261 §13.3). The stack has already sent `100 Trying`.
 * Provisional and final responses carry our To tag, our Contact and the request's Record-Route (§12.1.1);
 * the 2xx is retransmitted until the ACK (`acked`), and without one after 64*T1 the call ends
 * (`ended`, cause `no-ack`) with a BYE. A CANCEL before the answer gets 200, the INVITE 487 (`cancelled`).
 * An INVITE with `Require: 100rel` gets its 180/183 reliably (RFC 3262, ReliableProvisionals): each waits
 * for its PRACK before the next, and a 2xx waits for the PRACK of one that carried SDP.
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
  /** RFC 3262, when the INVITE requires it (`Require: 100rel`). */
  readonly #reliable: ReliableProvisionals | undefined;
  /** Our answer, held until the PRACK of a reliable provisional that carried SDP. */
  #deferredAnswer: string | undefined;

  constructor(ctx: LegContext, invite: SipMessage, remote: Endpoint, logger: Logger) {
    const callId = invite.headers['call-id'];
    super(ctx, callId, remote.protocol, logger.child({ sipCallId: callId, sipDirection: 'inbound' }));
    this.#invite = invite;
    this.#localTo = withTag(invite.headers.to, randomToken(6));
    this.from = partyOf(invite.headers.from);
    this.to = partyOf(invite.headers.to);
    this.requestUri = uriString(invite.uri ?? '');
    this.sdp = sdpBody(invite);
    this.remoteSdp = this.sdp;
    this.headers = genericHeaders(invite);
    this.source = { address: remote.address, port: remote.port };
    this.peerAllow = headerValue(invite, 'allow');
    if (optionTags(invite, 'require').includes('100rel')) {
      const earlyDialog = dialogKey(callId, tagOf(this.#localTo) ?? '', tagOf(invite.headers.from) ?? '');
      this.#reliable = new ReliableProvisionals({
        timers: ctx.timers,
        inviteSeq: invite.headers.cseq.seq,
        send: (r) => this.ctx.sendResponse(r),
        listen: () => this.ctx.registerDialog(earlyDialog, this),
        unlisten: () => {
          if (this.dialog?.id !== earlyDialog) this.ctx.unregisterDialog(earlyDialog);
        },
        onAcknowledged: () => this.#afterPrack(),
        onTimeout: () => this.#prackTimedOut(),
        log: this.log,
      });
    }
  }

  get state(): InboundCallState {
    return this.#state;
  }

  /** The INVITE requires reliable provisionals (`Require: 100rel`): a 180/183 with SDP waits for its PRACK. */
  get reliableProvisionals(): boolean {
    return this.#reliable !== undefined;
  }

  /** Via branch of the INVITE: with the Call-ID it identifies the transaction a CANCEL targets. */
  get branch(): string {
    return String(this.#invite.headers.via[0]?.params['branch'] ?? '');
  }

  /**
   * The INVITE as another process needs it to send its final response (see IncomingInviteSnapshot): only
   * while no final response went (offered or early); undefined otherwise.
   */
  incomingInviteSnapshot(): IncomingInviteSnapshot | undefined {
    if (this.#state !== 'offered' && this.#state !== 'early') return undefined;
    const h = this.#invite.headers;
    const via = h.via.map((v) => {
      const params: Record<string, string | null> = {};
      for (const [k, val] of Object.entries(v.params)) if (val !== undefined) params[k] = val;
      return { ...v, params };
    });
    return { via, from: h.from, to: this.#localTo, callId: h['call-id'], cseq: h.cseq.seq, source: { protocol: this.transport, ...this.source } };
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

  /**
   * Sends the 2xx with our answer (our offer, when the INVITE had none) and retransmits it until the ACK.
   * After a reliable provisional with SDP, the 2xx goes once that one is PRACKed (RFC 3262 §3).
   */
  answer(sdp: string): void {
    this.#assertOpen('answer');
    if (this.#reliable?.holdsFinal()) {
      this.#deferredAnswer = sdp;
      this.log.info('answer held until the PRACK of our reliable provisional with SDP');
      return;
    }
    this.#reliable?.stop();
    this.#sendAnswer(sdp);
  }

  #sendAnswer(sdp: string): void {
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
    this.#reliable?.stop();
    this.#deferredAnswer = undefined;
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
    if (request.method === 'PRACK') {
      // our offer went in a reliable provisional (an INVITE without SDP): its PRACK carries the answer
      const awaitingAnswer = this.sdp === undefined && this.remoteSdp === undefined && this.localSdp !== undefined;
      if (!this.#reliable?.onPrack(request, () => this.respond(request, 200))) return this.respond(request, 481); // matches none of ours (RFC 3262 §3)
      const sdp = sdpBody(request);
      if (sdp === undefined) return;
      if (awaitingAnswer && this.remoteSdp === undefined) {
        this.remoteSdp = sdp;
        this.log.info('the answer to our offer came in the PRACK');
        this.safeEmit('prackAnswer', { sdp });
      } else {
        this.log.warn('a PRACK carried SDP that is not the answer to an offer of ours: not applied (its 200 carries no answer)');
      }
      return;
    }
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
    if (sdp !== undefined && this.remoteSdp === undefined) this.remoteSdp = sdp; // an INVITE without SDP: the answer to our 2xx's offer
    this.safeEmit('acked', sdp ? { sdp } : {});
  }

  protected override finish(event: CallEndedEvent | undefined): void {
    if (event) this.#state = 'terminated';
    super.finish(event);
  }

  protected clearTimers(): void {
    // the 2xx retransmission belongs to CallLeg; reliable provisionals are retransmitted here
    this.#reliable?.stop();
  }

  #provisional(status: 180 | 183, sdp: string | undefined): void {
    this.#assertOpen(status === 180 ? 'ring' : 'send progress');
    if (this.#deferredAnswer !== undefined) return; // answered already: no more provisionals
    this.#state = 'early';
    if (sdp !== undefined) this.localSdp = sdp;
    const headers = sdp === undefined ? {} : { 'content-type': 'application/sdp' };
    if (this.#reliable) return this.#reliable.send((extra) => this.#response(status, { ...headers, ...extra }, sdp), sdp !== undefined);
    this.ctx.sendResponse(this.#response(status, headers, sdp));
  }

  /** The PRACK came: a held answer goes now. */
  #afterPrack(): void {
    const sdp = this.#deferredAnswer;
    if (sdp === undefined || (this.#state !== 'offered' && this.#state !== 'early')) return;
    this.#deferredAnswer = undefined;
    this.#reliable?.stop();
    this.#sendAnswer(sdp);
  }

  /** RFC 3262 §3: a reliable provisional unacknowledged for 64*T1 rejects the INVITE with a 5xx. */
  #prackTimedOut(): void {
    if (this.#state !== 'offered' && this.#state !== 'early') return;
    this.log.warn('no PRACK for our reliable provisional response within 64*T1: INVITE rejected with 504');
    this.#deferredAnswer = undefined;
    this.ctx.sendResponse(this.#response(504, {}, undefined, 'Server Time-out (no PRACK)'));
    this.#state = 'terminated';
    this.finish({ by: 'local', cause: 'no-prack' });
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
