import type { Logger } from '@wagw/logging';
import type { SipMessage } from 'sip';
import { makeResponse } from 'sip';
import { signRequest, type DigestContext } from 'sip/digest';
import type { Dialog, DialogRequestOptions } from '../dialog/dialog';
import { TwoXxRetransmitter } from '../dialog/two-xx-retransmitter';
import { buildDtmfRelay, formatReason, headerValue, parseDtmfInfo, parseReason, type SipReason } from '../message/headers';
import { InvalidStateError, reasonPhrase } from '../sip.errors';
import type { CallEndedEvent, CallLegEvents, DigestCredentials, InfoEvent } from '../sip.types';
import type { TransportProtocol } from '../transport/sip-transport';
import { TypedEmitter } from '../typed-emitter';
import { requestFinal, type DialogRequestHandler, type LegContext } from './leg-context';

/**
 * What both legs share once a dialog exists: in-dialog requests in (BYE, INFO, re-INVITE/UPDATE refreshes,
 * OPTIONS, ACK) and out (BYE, INFO), 2xx retransmission until ACK (RFC 3261 §13.3.1.4), and the single
 * `ended` event. Session timers (RFC 4028) are tolerated: a refresh is answered 200 with our current SDP.
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
  protected credentials: DigestCredentials | undefined;
  protected digest: DigestContext | undefined;
  readonly #retransmitters = new Map<number, TwoXxRetransmitter>();
  #initialSeq: number | undefined;
  #pendingBye: { reason: SipReason | undefined; resolve: (status: number | undefined) => void } | undefined;
  #terminated = false;

  protected constructor(ctx: LegContext, callId: string, transport: TransportProtocol, logger: Logger) {
    super(logger);
    this.ctx = ctx;
    this.callId = callId;
    this.transport = transport;
    this.log = logger;
  }

  /** True once the leg is over (ended, failed, rejected or cancelled). */
  get terminated(): boolean {
    return this.#terminated;
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
  protected onAcked(): void {
    // the UAS leg emits `acked`
  }

  /** Sends an in-dialog request and answers one 401/407 with our credentials. */
  protected async sendInDialog(method: string, options: DialogRequestOptions): Promise<{ response: SipMessage; local: boolean }> {
    const dialog = this.dialog;
    if (!dialog) throw new InvalidStateError(`send ${method}`, 'no dialog');
    const send = (rq: SipMessage) => requestFinal(this.ctx, rq, { transport: dialog.transport, hop: dialog.nextHop });
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
    for (const r of this.#retransmitters.values()) r.stop();
    this.#retransmitters.clear();
    this.clearTimers();
    if (this.dialog) this.ctx.unregisterDialog(this.dialog.id);
    this.ctx.legTerminated(this);
    if (event) {
      this.log.info({ by: event.by, cause: event.cause, reason: event.reason }, 'call ended');
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

  async #sendBye(reason: SipReason | undefined, cause: 'bye' | 'no-ack'): Promise<number | undefined> {
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
    if (seq !== this.#initialSeq) return;
    this.#lastRetransmissions = retransmitter.retransmissions;
    this.onAcked();
    const pending = this.#pendingBye;
    if (pending) {
      this.#pendingBye = undefined;
      void this.#sendBye(pending.reason, 'bye').then(pending.resolve);
    }
  }

  #answerRefresh(request: SipMessage): void {
    this.dialog?.refreshTarget(request);
    const isInvite = request.method === 'INVITE';
    const hasOffer = /application\/sdp/i.test(headerValue(request, 'content-type') ?? '') && !!request.content;
    const body = isInvite || hasOffer ? this.localSdp : undefined;
    const headers: Record<string, unknown> = { contact: [this.ctx.contact(this.transport)], allow: this.ctx.allow };
    if (body !== undefined) headers['content-type'] = 'application/sdp';
    this.log.info({ method: request.method }, 'session refresh answered with the current SDP');
    const response = makeResponse(request, 200, 'OK', body === undefined ? { headers } : { headers, content: body });
    if (isInvite) this.sendTwoXx(response, false);
    else this.ctx.sendResponse(response);
  }
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
