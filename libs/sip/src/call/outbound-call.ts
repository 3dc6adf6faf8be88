import type { Logger } from '@wagw/logging';
import type { SipMessage } from 'sip';
import { signRequest } from 'sip/digest';
import { Dialog } from '../dialog/dialog';
import { formatReason, genericHeaders, headerValue, nameAddr, normaliseHeaders, parseReason, parseRetryAfter, randomToken, sdpBody, tagOf, uriString, type SipReason } from '../message/headers';
import { causeFromStatus, type CallCause } from '../sip.errors';
import type { CallFailedEvent, InviteOptions, OutboundCallEvents } from '../sip.types';
import type { Endpoint, TransportProtocol } from '../transport/sip-transport';
import { CallLeg, signCreds } from './call-leg';
import { requestFinal, type LegContext, type SentRequest } from './leg-context';
import { snapshotOfInvite, type PendingInviteSnapshot } from './pending-invite';
import { optionTags, parseMinSe, sessionTimerFromResponse, sessionTimerRequestHeaders } from './session-timer';

export type OutboundCallState = 'calling' | 'proceeding' | 'confirmed' | 'terminated';

/**
 * The UAC leg toward the PBX (RFC 3261 §13.2): INVITE with our offer, 1xx as `trying`/`progress`, a 2xx
 * answered with ACK (route set from Record-Route reversed, remote target from Contact), failures as
 * `failed` with a cause. One 401/407 is answered with credentials (new CSeq, same Call-ID); CANCEL only
 * after a provisional (§9.1); a 2xx that crosses our CANCEL is ACKed and hung up with BYE.
 */
export class OutboundCall extends CallLeg<OutboundCallEvents> {
  readonly target: string;
  #state: OutboundCallState = 'calling';
  #invite: SipMessage;
  /** Early dialogs with reliable provisionals (RFC 3262), by the UAS's To tag: the dialog and the last RSeq PRACKed. */
  readonly #early = new Map<string, { dialog: Dialog; rseq: number }>();
  #sent: SentRequest | undefined;
  #destination: Endpoint | undefined;
  readonly #proxy: string | undefined;
  readonly #tlsIdentity: string | undefined;
  #ack: SipMessage | undefined;
  #authTried = false;
  /** Session-Expires of our INVITE (raised by a 422), undefined when session timers are off. */
  #sessionExpiresS: number | undefined;
  #sessionRetries = 0;
  #redirectsLeft: number;
  /** The other Contacts of the 3xx followed last, by q: tried in turn when its target fails (RFC 3261 §8.1.3.4). */
  #alternates: string[] = [];
  #redirectStatus = 0;
  #tried = false;
  #cancel: { reason: SipReason | undefined; cause: CallCause; sent: boolean } | undefined;
  #ringTimer: NodeJS.Timeout | undefined;
  #cancelTimer: NodeJS.Timeout | undefined;

  constructor(ctx: LegContext, options: InviteOptions, transport: TransportProtocol, proxy: string | undefined, logger: Logger) {
    const callId = options.callId ?? `${randomToken(12)}@${ctx.advertisedHost}`;
    super(ctx, callId, transport, logger.child({ sipCallId: callId, sipDirection: 'outbound' }));
    this.target = options.target;
    this.#proxy = proxy;
    this.#tlsIdentity = options.tlsIdentity;
    this.localSdp = options.sdp;
    this.#sessionExpiresS = ctx.sessionTimer?.expiresS;
    this.#redirectsLeft = options.maxRedirects ?? 0;
    if (options.auth) this.credentials = options.auth;
    this.#invite = this.#buildInvite(options);
    if (options.ringTimeoutMs !== undefined) {
      this.#ringTimer = setTimeout(() => this.#onRingTimeout(), options.ringTimeoutMs);
    }
  }

  get state(): OutboundCallState {
    return this.#state;
  }

  /** Sends the INVITE (the stack calls this once, after listeners could be attached). */
  async start(): Promise<void> {
    this.log.info({ target: this.target, transport: this.transport }, 'sending INVITE');
    await this.#sendInvite(this.#invite);
  }

  /**
   * Cancels a call not yet answered (RFC 3261 §9.1). Before any provisional response the CANCEL waits for
   * one. Resolves once the CANCEL is sent or scheduled; the outcome arrives as `failed` (cause `cancelled`).
   */
  cancel(reason?: SipReason): void {
    this.#requestCancel(reason, 'cancelled');
  }

  /**
   * The INVITE as another process needs it to CANCEL it (see PendingInviteSnapshot): only while the call
   * rings (a provisional came, RFC 3261 §9.1) and no CANCEL was asked for; undefined otherwise.
   */
  pendingInviteSnapshot(): PendingInviteSnapshot | undefined {
    if (this.#state !== 'proceeding' || this.#cancel || !this.#destination) return undefined;
    return snapshotOfInvite(this.#invite, uriString(this.#invite.uri ?? ''), this.#destination);
  }

  /** CANCEL before the answer, BYE after it; nothing once terminated. */
  async hangup(reason?: SipReason): Promise<void> {
    if (this.#state === 'confirmed') await this.bye(reason);
    else if (this.#state !== 'terminated') this.cancel(reason);
  }

  override dispose(): void {
    if (this.#state !== 'confirmed' && this.#state !== 'terminated') {
      this.#sent?.shutdown();
      this.#fail({ status: 503, reason: 'Stack Closed', cause: 'unreachable' });
      return;
    }
    this.#state = 'terminated';
    super.dispose();
  }

  protected clearTimers(): void {
    clearTimeout(this.#ringTimer);
    clearTimeout(this.#cancelTimer);
    this.#ringTimer = undefined;
    this.#cancelTimer = undefined;
  }

  #buildInvite(o: InviteOptions): SipMessage {
    const fromUri = `sip:${encodeURIComponent(o.from.user)}@${o.from.host ?? this.ctx.advertisedHost}`;
    const to = typeof o.to === 'string' ? { uri: o.to } : (o.to ?? { uri: o.target });
    return {
      method: 'INVITE',
      uri: o.target,
      headers: {
        via: [],
        'max-forwards': 70,
        from: nameAddr(fromUri, o.from.displayName, randomToken(6)),
        to: nameAddr(to.uri, 'displayName' in to ? to.displayName : undefined),
        'call-id': this.callId,
        cseq: { seq: 1, method: 'INVITE' },
        contact: [this.ctx.contact(this.transport)],
        allow: this.ctx.allow,
        'content-type': 'application/sdp',
        ...(this.ctx.sessionTimer && this.#sessionExpiresS ? sessionTimerRequestHeaders(this.#sessionExpiresS, this.ctx.sessionTimer.minSeS, false) : {}),
        // reliable provisional responses (RFC 3262) are PRACKed: a PBX that requires them takes our calls
        supported: this.ctx.sessionTimer && this.#sessionExpiresS ? 'timer, 100rel' : '100rel',
        ...normaliseHeaders(o.headers),
      },
      content: o.sdp,
    };
  }

  async #sendInvite(invite: SipMessage): Promise<void> {
    this.#invite = invite;
    this.#early.clear(); // early dialogs belong to the INVITE they answered
    const options = {
      transport: this.transport,
      ...(this.#tlsIdentity ? { tlsIdentity: this.#tlsIdentity } : {}),
      onResponse: (rs: SipMessage, local: boolean) => this.#onResponse(invite, rs, local),
    };
    const sent = await this.ctx.sendRequest(invite, this.#proxy ? { ...options, proxy: this.#proxy } : options);
    if (invite !== this.#invite) return;
    this.#sent = sent;
    this.#destination = sent?.destination;
    if (this.#cancel && !this.#cancel.sent && this.#state === 'proceeding') this.#sendCancel();
  }

  #onResponse(invite: SipMessage, rs: SipMessage, local: boolean): void {
    const status = rs.status ?? 0;
    if (status >= 200 && status < 300) return this.#onSuccess(invite, rs);
    if (invite !== this.#invite || this.#state === 'terminated') return;
    if (status < 200) return this.#onProvisional(rs, status);
    this.#onFailure(rs, status, local);
  }

  #onProvisional(rs: SipMessage, status: number): void {
    if (status === 100) {
      if (!this.#tried) {
        this.#tried = true;
        this.safeEmit('trying');
      }
      return;
    }
    if (optionTags(rs, 'require').includes('100rel') && !this.#prack(rs)) return; // a retransmission, already PRACKed
    if (this.#state === 'calling') this.#state = 'proceeding';
    if (this.#cancel && !this.#cancel.sent) this.#sendCancel();
    if (status !== 180 && status !== 183) return void this.log.debug({ status }, 'provisional response ignored');
    const sdp = sdpBody(rs);
    this.safeEmit('progress', sdp ? { status, reason: rs.reason ?? '', sdp } : { status, reason: rs.reason ?? '' });
  }

  /**
   * A reliable provisional (RFC 3262 §4): PRACKed in its early dialog when its RSeq is the next one of that
   * dialog (the first one: any). False for a retransmission or one out of order, which is not processed.
   */
  #prack(rs: SipMessage): boolean {
    const tag = tagOf(rs.headers.to);
    const rseq = Number(headerValue(rs, 'rseq'));
    if (!tag || !Number.isInteger(rseq) || rseq < 1) {
      this.log.warn({ status: rs.status, rseq: headerValue(rs, 'rseq') }, 'reliable provisional response without a To tag or RSeq: not acknowledged');
      return true;
    }
    const early = this.#early.get(tag);
    if (early && rseq !== early.rseq + 1) return false;
    const dialog = early?.dialog ?? Dialog.asUac(this.#invite, rs, this.transport);
    this.#early.set(tag, { dialog, rseq });
    const prack = dialog.createRequest('PRACK', { headers: { RAck: `${rseq} ${this.#invite.headers.cseq.seq} INVITE` } });
    void requestFinal(this.ctx, prack, { transport: dialog.transport, hop: dialog.nextHop }).then(({ response }) => {
      const status = response.status ?? 0;
      if (status >= 300) this.log.warn({ status, rseq }, 'PRACK refused');
    });
    return true;
  }

  #onSuccess(invite: SipMessage, rs: SipMessage): void {
    const tag = tagOf(rs.headers.to);
    if (this.dialog && this.dialog.remoteTag === tag) {
      if (this.#ack) void this.ctx.sendAck(this.#ack, this.dialog.nextHop, this.dialog.transport); // 2xx retransmission
      return;
    }
    // after PRACKs in the early dialog, our next request's CSeq goes on from theirs
    const dialog = Dialog.asUac(invite, rs, this.transport, this.#early.get(tag ?? '')?.dialog.localSeq);
    const ack = dialog.createAck(invite.headers.cseq.seq);
    void this.ctx.sendAck(ack, dialog.nextHop, dialog.transport);
    if (this.dialog || this.#state === 'terminated' || this.#cancel) {
      // a second (forked) 2xx, or one that crossed our CANCEL or came after we gave up: ACK, then BYE
      this.log.info({ tag, crossedCancel: !!this.#cancel }, 'unwanted 2xx: ACK and BYE');
      void this.#byeUnwanted(dialog);
      if (this.#cancel && this.#state !== 'terminated') {
        this.#fail({ status: 487, reason: 'Request Terminated', cause: this.#cancel.cause });
      }
      return;
    }
    this.#ack = ack;
    this.#state = 'confirmed';
    this.clearTimers();
    this.establish(dialog);
    this.peerAllow = headerValue(rs, 'allow');
    this.log.info({ status: rs.status }, 'call answered');
    this.startSessionTimer(sessionTimerFromResponse(rs));
    const answer = sdpBody(rs);
    this.remoteSdp = answer;
    this.safeEmit('answered', answer ? { sdp: answer, headers: genericHeaders(rs) } : { headers: genericHeaders(rs) });
  }

  #onFailure(rs: SipMessage, status: number, local: boolean): void {
    if (!local && (status === 401 || status === 407) && this.credentials && !this.#authTried && !this.#cancel) {
      this.#authTried = true;
      if (this.#retryWithAuth(rs)) return;
    }
    if (!local && status === 422 && !this.#cancel && this.#retryWithLongerSession(rs)) return;
    if (!local && status >= 300 && status <= 302 && !this.#cancel && this.#followRedirect(rs)) return;
    // a target of a redirect that fails (not a 6xx: a global refusal) gives way to the 3xx's next Contact
    if (status < 600 && !this.#cancel && this.#tryAlternate(status)) return;
    let cause: CallCause;
    if (this.#cancel) cause = this.#cancel.cause;
    else if (local) cause = 'unreachable';
    else cause = causeFromStatus(status);
    const event: CallFailedEvent = { status, reason: rs.reason || (local ? 'No Response' : ''), cause };
    const retryAfter = parseRetryAfter(headerValue(rs, 'retry-after'));
    if (retryAfter !== undefined) event.retryAfter = retryAfter;
    const sipReason = parseReason(headerValue(rs, 'reason'));
    if (sipReason) event.sipReason = sipReason;
    this.#fail(event);
  }

  /** Re-sends the INVITE with credentials (RFC 3261 §22.2): CSeq + 1, same Call-ID and tags, new branch. */
  #retryWithAuth(challenge: SipMessage): boolean {
    const creds = this.credentials;
    if (!creds) return false;
    const next = this.#nextInvite();
    try {
      this.digest = {};
      signRequest(this.digest, next, challenge, signCreds(creds));
    } catch (err) {
      this.log.warn({ err, status: challenge.status }, 'cannot answer the digest challenge');
      return false;
    }
    this.log.info({ status: challenge.status }, 'answering digest challenge');
    void this.#sendInvite(next);
    return true;
  }

  /**
   * 422 Session Interval Too Small (RFC 4028 §7.3): the INVITE again (CSeq + 1, same Call-ID and tags,
   * credentials kept) asking for the far end's Min-SE. Twice at most; false when the 422 gives nothing to use.
   */
  #retryWithLongerSession(rs: SipMessage): boolean {
    const policy = this.ctx.sessionTimer;
    const minSe = parseMinSe(rs);
    if (!policy || this.#sessionExpiresS === undefined || minSe === undefined || minSe <= this.#sessionExpiresS || this.#sessionRetries >= 2) return false;
    this.#sessionRetries += 1;
    this.#sessionExpiresS = minSe;
    const next = this.#nextInvite({ headers: sessionTimerRequestHeaders(minSe, Math.max(minSe, policy.minSeS), false) });
    if (this.digest?.nonce && this.credentials) {
      try {
        signRequest(this.digest, next, undefined, signCreds(this.credentials)); // the next nonce count
      } catch (err) {
        this.log.warn({ err }, 'cannot sign the INVITE again after 422');
      }
    }
    this.log.info({ minSe }, '422 Session Interval Too Small: INVITE again with the interval the far end asks for');
    void this.#sendInvite(next);
    return true;
  }

  /**
   * A 300-302 (RFC 3261 §8.1.3.4): the INVITE again to the Contact of highest q (CSeq + 1, same Call-ID,
   * From and To), while redirects are left; through the outbound proxy when there is one, else only to the
   * host and port the call was sent to. Should that target fail, the 3xx's next Contacts are tried in turn
   * (up to MAX_ALTERNATE_CONTACTS). False leaves the 3xx to fail the call.
   */
  #followRedirect(rs: SipMessage): boolean {
    if (this.#redirectsLeft <= 0) return false;
    const contacts = redirectTargets(rs);
    if (contacts.length === 0) {
      this.log.info({ status: rs.status }, 'redirect without a usable SIP Contact: the call fails');
      return false;
    }
    const current = uriString(this.#invite.uri ?? '');
    const usable = this.#proxy ? contacts : contacts.filter((c) => sameHostPort(c, current));
    if (usable.length < contacts.length) {
      const refused = contacts.filter((c) => !usable.includes(c));
      this.log.warn({ status: rs.status, contacts: refused }, 'redirect to another host refused (no outbound proxy)');
    }
    const [target, ...others] = usable;
    if (!target) return false;
    this.#redirectsLeft -= 1;
    this.#redirectStatus = rs.status ?? 0;
    this.#alternates = others.slice(0, MAX_ALTERNATE_CONTACTS);
    this.log.info({ status: rs.status, target, alternates: this.#alternates.length }, 'call redirected: INVITE to the new target');
    this.#inviteTarget(target);
    return true;
  }

  /** The INVITE to the next Contact of the 3xx followed last, after its previous target failed; false if none is left. */
  #tryAlternate(status: number): boolean {
    const target = this.#alternates.shift();
    if (target === undefined) return false;
    this.log.info({ status, target, alternatesLeft: this.#alternates.length }, 'redirect target failed: INVITE to the next Contact of the redirect');
    this.#inviteTarget(target);
    return true;
  }

  #inviteTarget(target: string): void {
    this.#authTried = false; // the new target may challenge on its own
    const next = this.#nextInvite({ uri: target });
    delete next.headers['authorization'];
    delete next.headers['proxy-authorization'];
    this.safeEmit('redirected', { status: this.#redirectStatus, target });
    void this.#sendInvite(next);
  }

  /**
   * The INVITE sent again in the same transaction chain (RFC 3261 §8.1.3.5): same Call-ID, tags and body,
   * CSeq + 1, a new Via; `uri` and `headers` replace the previous ones where given.
   */
  #nextInvite(change: { uri?: string; headers?: Record<string, unknown> } = {}): SipMessage {
    const prev = this.#invite;
    return {
      method: 'INVITE',
      uri: change.uri ?? prev.uri,
      headers: { ...prev.headers, ...change.headers, via: [], cseq: { seq: prev.headers.cseq.seq + 1, method: 'INVITE' } },
      content: prev.content,
    };
  }

  #requestCancel(reason: SipReason | undefined, cause: CallCause): void {
    if (this.#state === 'confirmed' || this.#state === 'terminated' || this.#cancel) return;
    this.#cancel = { reason, cause, sent: false };
    clearTimeout(this.#ringTimer);
    if (this.#state === 'proceeding' && this.#destination) this.#sendCancel();
    else this.log.info('CANCEL waits for a provisional response (RFC 3261 §9.1)');
  }

  #sendCancel(): void {
    const cancel = this.#cancel;
    const destination = this.#destination;
    if (!cancel || cancel.sent || !destination) return;
    cancel.sent = true;
    const invite = this.#invite;
    const via = invite.headers.via[0];
    const request: SipMessage = {
      method: 'CANCEL',
      uri: invite.uri,
      headers: {
        via: via ? [{ ...via, params: { ...via.params } }] : [],
        'max-forwards': 70,
        to: invite.headers.to,
        from: invite.headers.from,
        'call-id': invite.headers['call-id'],
        cseq: { seq: invite.headers.cseq.seq, method: 'CANCEL' },
        ...(invite.headers.route ? { route: invite.headers.route } : {}),
        ...(cancel.reason ? { reason: formatReason(cancel.reason) } : {}),
      },
    };
    this.log.info({ cause: cancel.cause }, 'sending CANCEL');
    void this.ctx.sendRequest(request, { transport: destination.protocol, destination });
    // RFC 3261 §9.1: without a final response 64*T1 after the CANCEL, the INVITE transaction is abandoned
    this.#cancelTimer = setTimeout(() => {
      this.#sent?.shutdown();
      this.#fail({ status: 408, reason: 'No Final Response After CANCEL', cause: cancel.cause });
    }, this.ctx.timers.transactionTimeoutMs);
  }

  #onRingTimeout(): void {
    this.#ringTimer = undefined;
    this.log.info('ring timeout: cancelling');
    this.#requestCancel({ protocol: 'SIP', cause: 408, text: 'Ring timeout' }, 'no-answer');
  }

  async #byeUnwanted(dialog: Dialog): Promise<void> {
    const bye = dialog.createRequest('BYE', { headers: { reason: formatReason({ protocol: 'SIP', cause: 487, text: 'Call cancelled' }) } });
    await this.ctx.sendRequest(bye, { transport: dialog.transport, hop: dialog.nextHop });
  }

  #fail(event: CallFailedEvent): void {
    if (this.#state === 'terminated') return;
    this.#state = 'terminated';
    this.finish(undefined);
    this.log.info({ status: event.status, cause: event.cause }, 'call failed');
    this.safeEmit('failed', event);
  }
}

/** Contacts of one 3xx tried after its first one fails, at most: a long list would hold the call up for minutes. */
const MAX_ALTERNATE_CONTACTS = 4;

/** The SIP Contacts of a 3xx, highest q first (in their order among equals), without their header parts. */
export function redirectTargets(rs: SipMessage): string[] {
  const contacts = rs.headers.contact;
  if (!Array.isArray(contacts)) return [];
  const q = (c: { params?: Record<string, unknown> }): number => {
    const v = Number(c.params?.['q'] ?? 1);
    return Number.isFinite(v) ? v : 0;
  };
  const uris = contacts
    .map((c, i) => ({ uri: uriString(c.uri).replace(/\?.*$/, ''), q: q(c), i }))
    .filter((c) => /^sips?:[^@\s]+@[^\s]+$/i.test(c.uri) || /^sips?:[^\s@]+$/i.test(c.uri))
    .sort((a, b) => b.q - a.q || a.i - b.i)
    .map((c) => c.uri);
  return [...new Set(uris)];
}

/** True when two SIP URIs name the same host and port (the scheme's default port when none). */
export function sameHostPort(a: string, b: string): boolean {
  const hp = (u: string): string | undefined => {
    const m = /^(sips?):(?:[^@]*@)?(\[[^\]]+\]|[^:;?]+)(?::(\d+))?/i.exec(u);
    if (!m?.[1] || !m[2]) return undefined;
    const port = m[3] ?? (m[1].toLowerCase() === 'sips' ? '5061' : '5060');
    return `${m[2].toLowerCase()}:${port}`;
  };
  const x = hp(a);
  return x !== undefined && x === hp(b);
}
