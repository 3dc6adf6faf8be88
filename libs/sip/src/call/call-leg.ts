import type { Logger } from '@wagw/logging';
import type { SipMessage } from 'sip';
import { makeResponse } from 'sip';
import { signRequest, type DigestContext } from 'sip/digest';
import type { Dialog, DialogRequestOptions, DialogSnapshot } from '../dialog/dialog';
import { TwoXxRetransmitter } from '../dialog/two-xx-retransmitter';
import { buildDtmfRelay, formatReason, headerValue, parseDtmfInfo, parseReason, sdpBody, type SipReason } from '../message/headers';
import { InvalidStateError, reasonPhrase, SipError } from '../sip.errors';
import type { CallEndedEvent, CallLegEvents, DigestCredentials, EndedCause, InfoEvent } from '../sip.types';
import type { TransportProtocol } from '../transport/sip-transport';
import { TypedEmitter } from '../typed-emitter';
import { requestFinal, type DialogRequestHandler, type LegContext } from './leg-context';
import { parseReferTo, referToUri } from './refer-to';
import { SESSION_EXPIRED_REASON, SessionRefresher } from './session-refresher';
import { MIN_SE, sessionIntervalTooSmall, type SessionTimerTerms } from './session-timer';

/**
 * Mid-call SDP from the far end (RFC 3264 §8), for the owner of the media: `offer` gets a re-INVITE's or
 * UPDATE's new offer and resolves with our answer (rejecting with a SipError answers with its status, e.g.
 * 488, any other rejection with 500: the session stays as it was, RFC 3261 §14.2); `answer` gets the answer
 * in the ACK to the offer we put in the 2xx of a re-INVITE without SDP.
 */
export interface RemoteSdpHandler {
  offer(sdp: string): Promise<string>;
  answer(sdp: string): Promise<void>;
}

/**
 * A transfer the far end asked for (REFER, RFC 3515): the REFER was accepted (202) and a NOTIFY `100 Trying`
 * sent; the handler places the call to `referTo` and reports its progress and outcome with `notify` (a final
 * status, 200-699, ends the implicit subscription). Blind when `replaces` is absent; attended when the
 * Refer-To URI carried a Replaces header (RFC 3891): the INVITE to the target carries it, so that the target
 * replaces its consultation call with the transferor by this one.
 */
export interface TransferRequest {
  /** The Refer-To URI without its header part (`?...`). */
  referTo: string;
  referredBy?: string;
  /** Attended transfer: the Replaces value (`call-id;to-tag=...;from-tag=...`), unescaped. */
  replaces?: string;
  notify(status: number, reason: string): Promise<void>;
}
export type TransferHandler = (request: TransferRequest) => void;

/**
 * What both legs share once a dialog exists: in-dialog requests in (BYE, INFO, re-INVITE/UPDATE, OPTIONS,
 * ACK) and out (BYE, INFO), 2xx retransmission until ACK (RFC 3261 §13.3.1.4), and the single `ended`
 * event. A re-INVITE or UPDATE is answered with our current SDP (session timers, RFC 4028) unless a
 * RemoteSdpHandler is set: then a new offer in it goes to the handler (media moves, hold, resume), and a
 * re-INVITE without SDP gets our SDP as an offer whose answer, in the ACK, goes there too.
 */
export abstract class CallLeg<E extends CallLegEvents & { [K in keyof E]: unknown[] }>
  extends TypedEmitter<E>
  implements DialogRequestHandler
{
  readonly callId: string;
  readonly transport: TransportProtocol;
  protected readonly ctx: LegContext;
  protected readonly log: Logger;
  protected dialog: Dialog | undefined;
  /** Our current SDP (offer for the UAC leg, answer for the UAS leg): refreshes are answered with it. */
  protected localSdp: string | undefined;
  /** The far end's current SDP (its offer or answer, as last taken): a refresh answered with another is applied. */
  protected remoteSdp: string | undefined;
  protected credentials: DigestCredentials | undefined;
  protected digest: DigestContext | undefined;
  readonly #retransmitters = new Map<number, TwoXxRetransmitter>();
  #initialSeq: number | undefined;
  #pendingBye: { reason: SipReason | undefined; resolve: (status: number | undefined) => void } | undefined;
  #terminated = false;
  readonly #onTerminated: (() => void)[] = [];
  #sdpHandler: RemoteSdpHandler | undefined;
  #transferHandler: TransferHandler | undefined;
  /** A far-end offer is with the handler: another re-INVITE waits (500 with Retry-After, RFC 3261 §14.2). */
  #offerPending = false;
  /** CSeqs of re-INVITE 2xx responses that carried our offer: their ACK carries the answer. */
  readonly #offersInTwoXx = new Set<number>();
  /** The far end's Allow (from its INVITE or its 2xx): our session refreshes use UPDATE when it has it. */
  protected peerAllow: string | undefined;
  readonly #session: SessionRefresher;
  /** Our refresh re-INVITE is under way: a far-end re-INVITE meanwhile gets 491 (RFC 3261 §14.2). */
  #localInvitePending = false;

  protected constructor(ctx: LegContext, callId: string, transport: TransportProtocol, logger: Logger) {
    super(logger);
    this.ctx = ctx;
    this.callId = callId;
    this.transport = transport;
    this.log = logger;
    this.#session = new SessionRefresher({
      log: logger,
      policy: ctx.sessionTimer,
      alive: () => this.dialog !== undefined && !this.#terminated,
      peerAllowsUpdate: () => allows(this.peerAllow, 'UPDATE'),
      reinviteBlocked: () => this.#localInvitePending || this.#offerPending || this.localSdp === undefined,
      send: (method, headers) => this.#sendRefresh(method, headers),
      end: () => void this.#sendBye(SESSION_EXPIRED_REASON, 'session-expired'),
    });
  }

  /** The established dialog as plain JSON (see DialogSnapshot), undefined before the answer or once over. */
  dialogSnapshot(): DialogSnapshot | undefined {
    return this.#terminated ? undefined : this.dialog?.snapshot();
  }

  /** True once the leg is over (ended, failed, rejected or cancelled). */
  get terminated(): boolean {
    return this.#terminated;
  }

  /** The dialog's session timer (RFC 4028) as negotiated, or undefined when none runs. */
  get sessionTimer(): SessionTimerTerms | undefined {
    return this.#session.terms;
  }

  /**
   * Runs `listener` once the leg is over, however it ends (BYE either way, rejected, cancelled, failed, no
   * ACK, disposed); at once when it is over already. A throwing listener is logged.
   */
  onTerminated(listener: () => void): void {
    if (this.#terminated) return this.#runTerminated(listener);
    this.#onTerminated.push(listener);
  }

  #runTerminated(listener: () => void): void {
    try {
      listener();
    } catch (err) {
      this.log.error({ err }, 'leg termination listener threw');
    }
  }

  /** Retransmissions of the initial 2xx so far (UAS leg; 0 otherwise). */
  get answerRetransmissions(): number {
    return this.#initialSeq === undefined ? 0 : (this.#retransmitters.get(this.#initialSeq)?.retransmissions ?? this.#lastRetransmissions);
  }
  #lastRetransmissions = 0;

  /**
   * Ends a confirmed call with BYE (optionally with a `Reason`, RFC 3326) and emits `ended` at once.
   * Resolves with the BYE's final status (408 when unanswered). A UAS leg still awaiting the ACK sends the
   * BYE when the ACK arrives or the retransmissions give up (RFC 3261 §15).
   */
  async bye(reason?: SipReason): Promise<number | undefined> {
    if (!this.dialog || this.#terminated) return undefined;
    if (this.#initialSeq !== undefined && this.#retransmitters.has(this.#initialSeq)) {
      return new Promise((resolve) => {
        this.#pendingBye = { reason, resolve };
      });
    }
    return this.#sendBye(reason, 'bye');
  }

  /** Sends INFO in the dialog; resolves with the final status. */
  async sendInfo(contentType: string, body: string): Promise<number> {
    if (!this.dialog || this.#terminated) throw new InvalidStateError('send INFO', this.#terminated ? 'terminated' : 'not answered');
    const { response } = await this.sendInDialog('INFO', { body, contentType });
    return response.status ?? 0;
  }

  /** Sends one DTMF digit as `application/dtmf-relay` INFO. */
  sendDtmf(digit: string, durationMs = 160): Promise<number> {
    return this.sendInfo('application/dtmf-relay', buildDtmfRelay(digit, durationMs));
  }

  /** Takes mid-call SDP from now on (see RemoteSdpHandler); without one, refreshes get our current SDP. */
  setSdpHandler(handler: RemoteSdpHandler): void {
    this.#sdpHandler = handler;
  }

  /** Takes REFER (blind transfer) from now on; without a handler a REFER is answered 501. */
  setTransferHandler(handler: TransferHandler): void {
    this.#transferHandler = handler;
  }

  /** Stops every timer and forgets the dialog (stack shutdown); emits `ended` (shutdown) if the call was up. */
  dispose(): void {
    this.finish(this.dialog ? { by: 'local', cause: 'shutdown' } : undefined);
  }

  onDialogRequest(request: SipMessage): void {
    const dialog = this.dialog;
    if (!dialog || this.#terminated) return this.respond(request, 481);
    if (request.method === 'ACK') return this.#onAck(request);
    if (!dialog.acceptRemoteSeq(request)) return this.respond(request, 500, { 'retry-after': '1' });
    switch (request.method) {
      case 'BYE':
        this.respond(request, 200);
        this.finish({ by: 'remote', cause: 'bye', ...optionalReason(parseReason(headerValue(request, 'reason'))) });
        return;
      case 'INFO':
        this.respond(request, 200);
        this.emitInfo(infoEvent(request));
        return;
      case 'INVITE':
      case 'UPDATE':
        return this.#answerRefresh(request);
      case 'OPTIONS':
        return this.respond(request, 200, { allow: this.ctx.allow, accept: 'application/sdp' });
      case 'REFER':
        return this.#onRefer(request);
      default:
        return this.respond(request, 501);
    }
  }

  protected respond(request: SipMessage, status: number, headers: Record<string, unknown> = {}, content?: string, reason?: string): void {
    const ext: { headers: Record<string, unknown>; content?: string } = { headers };
    if (content !== undefined) ext.content = content;
    this.ctx.sendResponse(makeResponse(request, status, reason ?? reasonPhrase(status), ext));
  }

  /** Records the dialog and routes its requests to this leg. */
  protected establish(dialog: Dialog): void {
    this.dialog = dialog;
    this.ctx.registerDialog(dialog.id, this);
  }

  /** Sends a 2xx and retransmits it until its ACK; `initial` marks the answer to the dialog-creating INVITE. */
  protected sendTwoXx(response: SipMessage, initial: boolean): void {
    const seq = response.headers.cseq.seq;
    if (initial) this.#initialSeq = seq;
    const retransmitter = new TwoXxRetransmitter(() => this.ctx.sendResponse(response), this.ctx.timers, () => {
      this.#retransmitters.delete(seq);
      if (initial) this.#lastRetransmissions = retransmitter.retransmissions;
      this.log.warn({ seq }, 'no ACK for our 2xx within 64*T1: ending the call with BYE');
      const pending = this.#pendingBye;
      this.#pendingBye = undefined;
      void this.#sendBye(pending?.reason, 'no-ack').then((s) => pending?.resolve(s));
    });
    this.#retransmitters.set(seq, retransmitter);
    retransmitter.start();
  }

  /** Hook: the ACK for the initial 2xx arrived. */
  protected onAcked(_ack: SipMessage): void {
    // the UAS leg emits `acked`
  }

  /** Sends an in-dialog request and answers one 401/407 with our credentials. */
  protected async sendInDialog(method: string, options: DialogRequestOptions): Promise<{ response: SipMessage; local: boolean }> {
    const dialog = this.dialog;
    if (!dialog) throw new InvalidStateError(`send ${method}`, 'no dialog');
    // a 2xx to our re-INVITE, and each retransmission of it, gets its ACK (RFC 3261 §13.2.2.4)
    const ackTwoXx = (rs: SipMessage): void => void this.ctx.sendAck(dialog.createAck(rs.headers.cseq.seq), dialog.nextHop, dialog.transport);
    const send = (rq: SipMessage) => requestFinal(this.ctx, rq, { transport: dialog.transport, hop: dialog.nextHop }, method === 'INVITE' ? ackTwoXx : undefined);
    const first = await send(dialog.createRequest(method, options));
    const status = first.response.status;
    const creds = this.credentials;
    if (first.local || (status !== 401 && status !== 407) || !creds) return first;
    const retry = dialog.createRequest(method, options);
    try {
      this.digest ??= {};
      signRequest(this.digest, retry, first.response, signCreds(creds));
    } catch (err) {
      this.log.warn({ err, method }, 'cannot answer the challenge to an in-dialog request');
      return first;
    }
    return send(retry);
  }

  /** Marks the leg over: stops retransmissions and timers, releases the dialog, emits `ended` if given. */
  protected finish(event: CallEndedEvent | undefined): void {
    if (this.#terminated) return;
    this.#terminated = true;
    this.#session.stop();
    for (const r of this.#retransmitters.values()) r.stop();
    this.#retransmitters.clear();
    this.clearTimers();
    if (this.dialog) this.ctx.unregisterDialog(this.dialog.id);
    this.ctx.legTerminated(this);
    for (const listener of this.#onTerminated.splice(0)) this.#runTerminated(listener);
    if (event) {
      this.log.info({ by: event.by, cause: event.cause, reason: event.reason }, 'SIP call ended');
      this.emitEnded(event);
    }
  }

  /** Subclasses clear their own timers here. */
  protected abstract clearTimers(): void;

  protected emitEnded(event: CallEndedEvent): void {
    this.safeEmit('ended', ...([event] as E['ended']));
  }

  protected emitInfo(event: InfoEvent): void {
    this.safeEmit('info', ...([event] as E['info']));
  }

  async #sendBye(reason: SipReason | undefined, cause: EndedCause): Promise<number | undefined> {
    this.finish({ by: 'local', cause, ...optionalReason(reason) });
    const headers = reason ? { reason: formatReason(reason) } : {};
    const { response } = await this.sendInDialog('BYE', { headers });
    return response.status;
  }

  #onAck(request: SipMessage): void {
    const seq = request.headers.cseq.seq;
    const retransmitter = this.#retransmitters.get(seq);
    if (!retransmitter) return; // a retransmitted ACK, or one for a 2xx we no longer track
    retransmitter.stop();
    this.#retransmitters.delete(seq);
    if (this.#offersInTwoXx.delete(seq)) this.#takeAnswerInAck(request);
    if (seq !== this.#initialSeq) return;
    this.#lastRetransmissions = retransmitter.retransmissions;
    this.onAcked(request);
    const pending = this.#pendingBye;
    if (pending) {
      this.#pendingBye = undefined;
      void this.#sendBye(pending.reason, 'bye').then(pending.resolve);
    }
  }

  #answerRefresh(request: SipMessage): void {
    const isInvite = request.method === 'INVITE';
    const offer = sdpBody(request);
    const hasOffer = offer !== undefined;
    if (this.#offerPending && (isInvite || hasOffer)) {
      // RFC 3261 §14.2: a second offer while the first is being answered waits (random 0-10 s)
      this.respond(request, 500, { 'retry-after': String(Math.floor(Math.random() * 11)) }, undefined, 'Offer In Progress');
      return;
    }
    if (isInvite && this.#localInvitePending) {
      this.respond(request, 491); // our refresh re-INVITE crossed theirs (RFC 3261 §14.2)
      return;
    }
    const policy = this.ctx.sessionTimer;
    if (policy && sessionIntervalTooSmall(request, policy)) {
      this.log.info({ sessionExpires: headerValue(request, 'session-expires') ?? headerValue(request, 'x'), minSeS: policy.minSeS }, 'session refresh asks for less than our Min-SE: 422');
      return this.respond(request, 422, { [MIN_SE]: String(policy.minSeS) }, undefined, 'Session Interval Too Small');
    }
    if (this.dialog?.refreshTarget(request)) {
      this.log.info({ target: this.dialog.remoteTarget, method: request.method }, 'the far end moved the dialog to a new target');
      this.safeEmit('targetRefresh', ...([{ target: this.dialog.remoteTarget }] as E['targetRefresh']));
    }
    if (offer !== undefined && this.#sdpHandler) {
      void this.#answerOffer(request, offer, this.#sdpHandler, isInvite);
      return;
    }
    const body = isInvite || hasOffer ? this.localSdp : undefined;
    const session = this.sessionAnswer(request);
    const headers: Record<string, unknown> = { contact: [this.ctx.contact(this.transport)], allow: this.ctx.allow, ...session.headers };
    if (body !== undefined) headers['content-type'] = 'application/sdp';
    this.log.info({ method: request.method }, 'session refresh answered with the current SDP');
    const response = makeResponse(request, 200, 'OK', body === undefined ? { headers } : { headers, content: body });
    // a re-INVITE without SDP makes our SDP in the 2xx an offer: its answer comes in the ACK (RFC 3261 §14.1)
    if (isInvite && !hasOffer && body !== undefined && this.#sdpHandler) this.#offersInTwoXx.add(request.headers.cseq.seq);
    if (isInvite) this.sendTwoXx(response, false);
    else this.ctx.sendResponse(response);
    this.startSessionTimer(session.terms);
  }

  /** Starts (or restarts, on each refresh) the dialog's session timer; nothing when none was negotiated. */
  protected startSessionTimer(terms: SessionTimerTerms | undefined): void {
    this.#session.start(terms);
  }

  /** The session-timer headers of our 2xx to `request` (an INVITE or UPDATE) and the timer it leaves (RFC 4028 §9). */
  protected sessionAnswer(request: SipMessage): { headers: Record<string, string>; terms: SessionTimerTerms | undefined } {
    return this.#session.answer(request);
  }

  /** Our session refresh (SessionRefresher): UPDATE, or a re-INVITE with our SDP during which theirs get 491. */
  async #sendRefresh(method: 'UPDATE' | 'INVITE', headers: Record<string, unknown>): Promise<{ response: SipMessage; local: boolean }> {
    if (method === 'UPDATE') return this.sendInDialog('UPDATE', { headers });
    this.#localInvitePending = true;
    let result: { response: SipMessage; local: boolean };
    try {
      result = await this.sendInDialog('INVITE', { headers: { ...headers, contact: [this.ctx.contact(this.transport)], allow: this.ctx.allow }, body: this.localSdp ?? '' });
    } finally {
      this.#localInvitePending = false;
    }
    const status = result.response.status ?? 0;
    if (status >= 200 && status < 300) this.#takeRefreshAnswer(sdpBody(result.response));
    return result;
  }

  /**
   * The answer in the 2xx to our refresh re-INVITE (RFC 4028 §7.4: the offer is our current SDP). Mostly the
   * far end's SDP as before; one that differs (a PBX that moved its media, e.g. to another media server) goes
   * to the handler like any answer, else the call's media would keep sending to the old address.
   */
  #takeRefreshAnswer(sdp: string | undefined): void {
    if (sdp === undefined || this.#terminated || sameSdp(sdp, this.remoteSdp)) return;
    const handler = this.#sdpHandler;
    if (!handler) {
      this.log.warn('the answer to our session refresh changed the far end SDP, and nothing takes mid-call SDP: media unchanged');
      return;
    }
    this.#applyAnswer(handler, sdp, 'the answer to our session refresh changed the far end SDP: applied', 'the answer to our session refresh changed the far end SDP and is not usable: media unchanged');
  }

  /** Hands an SDP answer to the media owner; once taken, it is the far end's current SDP. Logs either way. */
  #applyAnswer(handler: RemoteSdpHandler, sdp: string, applied: string, refused: string): void {
    handler.answer(sdp).then(
      () => {
        this.remoteSdp = sdp;
        this.log.info(applied);
      },
      (err: unknown) => this.log.warn({ err }, refused),
    );
  }

  /** A far-end offer mid-call: the handler's answer in a 200, or its refusal (the session stays as it was). */
  async #answerOffer(request: SipMessage, offer: string, handler: RemoteSdpHandler, isInvite: boolean): Promise<void> {
    this.#offerPending = true;
    let answer: string;
    try {
      answer = await handler.offer(offer);
    } catch (err) {
      this.#offerPending = false;
      if (this.#terminated) return;
      const refusal = err instanceof SipError ? err : new SipError(500, 'Server Internal Error');
      this.log.warn({ err, method: request.method, status: refusal.status }, 'mid-call SDP offer refused: the session stays as it was');
      this.respond(request, refusal.status, { ...refusal.headers }, undefined, refusal.reason);
      return;
    }
    this.#offerPending = false;
    if (this.#terminated) return;
    this.localSdp = answer;
    this.remoteSdp = offer;
    const session = this.sessionAnswer(request);
    const headers: Record<string, unknown> = { contact: [this.ctx.contact(this.transport)], allow: this.ctx.allow, 'content-type': 'application/sdp', ...session.headers };
    this.log.info({ method: request.method }, 'mid-call SDP offer answered');
    const response = makeResponse(request, 200, 'OK', { headers, content: answer });
    if (isInvite) this.sendTwoXx(response, false);
    else this.ctx.sendResponse(response);
    this.startSessionTimer(session.terms);
  }

  /** REFER (RFC 3515): 202 and NOTIFY 100, then the handler; blind, or attended with Replaces (RFC 3891). */
  #onRefer(request: SipMessage): void {
    const handler = this.#transferHandler;
    if (!handler) return this.respond(request, 501);
    const target = parseReferTo(referToUri(request));
    if (typeof target === 'string') {
      this.log.info({ referTo: referToUri(request), why: target }, 'REFER refused: bad Refer-To');
      return this.respond(request, 400, {}, undefined, 'Bad Refer-To');
    }
    const uri = target.uri;
    this.respond(request, 202, { contact: [this.ctx.contact(this.transport)] }, undefined, 'Accepted');
    this.log.info({ referTo: uri, ...(target.replaces ? { replaces: target.replaces } : {}) }, target.replaces ? 'REFER accepted: attended transfer (Replaces)' : 'REFER accepted: blind transfer');
    let done = false;
    // one NOTIFY at a time, each once the previous one is answered: sent back to back (100, then a fast
    // target's 180), a later one could overtake an earlier one and the transferor read the progress wrongly
    let sent: Promise<void> = Promise.resolve();
    const notify = (status: number, reason: string): Promise<void> => {
      if (done || this.#terminated) return sent;
      const final = status >= 200;
      done = final;
      const headers = { event: 'refer', 'subscription-state': final ? 'terminated;reason=noresource' : 'active;expires=60' };
      sent = sent.then(async () => {
        if (this.#terminated) return;
        await this.sendInDialog('NOTIFY', { headers, contentType: 'message/sipfrag;version=2.0', body: `SIP/2.0 ${status} ${reason}\r\n` }).catch((err: unknown) =>
          this.log.warn({ err, status }, 'transfer NOTIFY not delivered'),
        );
      });
      return sent;
    };
    void notify(100, 'Trying');
    const referredBy = headerValue(request, 'referred-by') ?? headerValue(request, 'b');
    handler({ referTo: uri, notify, ...(referredBy ? { referredBy } : {}), ...(target.replaces ? { replaces: target.replaces } : {}) });
  }

  /** The answer to our offer in a re-INVITE's 2xx, from its ACK; an ACK without one leaves the session as it was. */
  #takeAnswerInAck(ack: SipMessage): void {
    const handler = this.#sdpHandler;
    const sdp = sdpBody(ack);
    if (!handler || !sdp) {
      this.log.warn('ACK without the SDP answer to our offer in a re-INVITE 2xx: media unchanged');
      return;
    }
    this.#applyAnswer(handler, sdp, 'mid-call SDP answer from the ACK applied', 'mid-call SDP answer in the ACK not usable: media unchanged');
  }
}

/** Whether two SDP bodies say the same, line endings and trailing blanks aside; one missing: not the same. */
export function sameSdp(a: string, b: string | undefined): boolean {
  if (b === undefined) return false;
  const lines = (sdp: string): string => sdp.split(/\r?\n/).map((l) => l.trimEnd()).filter((l) => l !== '').join('\n');
  return lines(a) === lines(b);
}

/** True when an Allow header value lists `method`. */
export function allows(allow: string | undefined, method: string): boolean {
  return (allow ?? '').split(',').some((m) => m.trim().toUpperCase() === method);
}

export function optionalReason(reason: SipReason | undefined): { reason?: SipReason } {
  return reason ? { reason } : {};
}

export function signCreds(c: DigestCredentials): { user: string; password: string; realm?: string } {
  return c.realm ? { user: c.username, password: c.password, realm: c.realm } : { user: c.username, password: c.password };
}

function infoEvent(request: SipMessage): InfoEvent {
  const contentType = headerValue(request, 'content-type') ?? '';
  const body = request.content ?? '';
  const dtmf = parseDtmfInfo(contentType, body);
  return dtmf ? { contentType, body, dtmf } : { contentType, body };
}
