import type { NameAddr, SipMessage, SipUri } from 'sip';
import { parseUri } from 'sip';
import { tagOf, uriString } from '../message/headers';
import type { TransportProtocol } from '../transport/sip-transport';

/**
 * Dialog state (RFC 3261 §12): identifiers, route set, remote target and CSeq spaces, and the in-dialog
 * requests built from them (§12.2.1.1, loose and strict routing).
 */

export interface DialogRequestOptions {
  headers?: Record<string, unknown>;
  body?: string;
  contentType?: string;
}

function contactUri(m: SipMessage): string | undefined {
  const c = m.headers.contact;
  if (!Array.isArray(c) || !c[0]) return undefined;
  return uriString(c[0].uri);
}

function copyRoute(r: NameAddr): NameAddr {
  const copy: NameAddr = { uri: typeof r.uri === 'string' ? r.uri : { ...r.uri, params: { ...r.uri.params } }, params: { ...(r.params ?? {}) } };
  if (r.name) copy.name = r.name;
  return copy;
}

function isLooseRoute(r: NameAddr): boolean {
  const uri = typeof r.uri === 'string' ? parseUri(r.uri) : r.uri;
  return uri !== undefined && 'lr' in uri.params;
}

/**
 * What another process needs to send a request in a dialog it did not set up (a BYE for the calls of a
 * signalling process that died): identifiers, route set, remote target and our last CSeq. Plain JSON.
 */
export interface DialogSnapshot {
  callId: string;
  local: NameAddr;
  remote: NameAddr;
  transport: TransportProtocol;
  routeSet: NameAddr[];
  remoteTarget: string;
  localSeq: number;
}

const TRANSPORTS: readonly string[] = ['udp', 'tcp', 'tls'];

/** Checks a snapshot read back (e.g. from Redis): throws TypeError naming what is wrong. */
export function assertDialogSnapshot(value: unknown): asserts value is DialogSnapshot {
  const s = value as Partial<DialogSnapshot> | null;
  const nameAddr = (n: unknown): boolean => typeof n === 'object' && n !== null && 'uri' in n;
  if (typeof s !== 'object' || s === null) throw new TypeError('dialog snapshot: not an object');
  if (typeof s.callId !== 'string' || s.callId === '') throw new TypeError('dialog snapshot: callId');
  if (!nameAddr(s.local) || !tagOf(s.local as NameAddr) || !nameAddr(s.remote) || !tagOf(s.remote as NameAddr)) throw new TypeError('dialog snapshot: local and remote need their tags');
  if (typeof s.transport !== 'string' || !TRANSPORTS.includes(s.transport)) throw new TypeError('dialog snapshot: transport');
  if (!Array.isArray(s.routeSet) || !s.routeSet.every(nameAddr)) throw new TypeError('dialog snapshot: routeSet');
  if (typeof s.remoteTarget !== 'string' || s.remoteTarget === '') throw new TypeError('dialog snapshot: remoteTarget');
  if (!Number.isSafeInteger(s.localSeq) || (s.localSeq as number) < 0) throw new TypeError('dialog snapshot: localSeq');
}

export function dialogKey(callId: string, localTag: string, remoteTag: string): string {
  return `${callId}|${localTag}|${remoteTag}`;
}

export class Dialog {
  readonly callId: string;
  readonly local: NameAddr;
  readonly remote: NameAddr;
  readonly localTag: string;
  readonly remoteTag: string;
  readonly transport: TransportProtocol;
  readonly routeSet: readonly NameAddr[];
  #remoteTarget: string;
  #localSeq: number;
  #remoteSeq: number | undefined;

  private constructor(init: DialogSnapshot & { remoteSeq?: number }) {
    this.callId = init.callId;
    this.local = init.local;
    this.remote = init.remote;
    this.localTag = tagOf(init.local) ?? '';
    this.remoteTag = tagOf(init.remote) ?? '';
    this.transport = init.transport;
    this.routeSet = init.routeSet;
    this.#remoteTarget = init.remoteTarget;
    this.#localSeq = init.localSeq;
    this.#remoteSeq = init.remoteSeq;
  }

  /**
   * UAC side, from our INVITE and the 2xx (or, for an early dialog, the provisional) to it: route set is
   * Record-Route reversed (§12.1.2). `localSeq`: the last CSeq used (an early dialog's PRACKs count).
   */
  static asUac(invite: SipMessage, response: SipMessage, transport: TransportProtocol, localSeq = invite.headers.cseq.seq): Dialog {
    return new Dialog({
      callId: invite.headers['call-id'],
      local: invite.headers.from,
      remote: response.headers.to,
      transport,
      routeSet: (response.headers['record-route'] ?? []).map(copyRoute).reverse(),
      remoteTarget: contactUri(response) ?? uriString(invite.uri ?? ''),
      localSeq,
    });
  }

  /** UAS side, from the INVITE and our To tag: route set is Record-Route in order (§12.1.1). */
  static asUas(invite: SipMessage, localTo: NameAddr, transport: TransportProtocol): Dialog {
    return new Dialog({
      callId: invite.headers['call-id'],
      local: localTo,
      remote: invite.headers.from,
      transport,
      routeSet: (invite.headers['record-route'] ?? []).map(copyRoute),
      remoteTarget: contactUri(invite) ?? uriString(invite.headers.from.uri),
      localSeq: 0,
      remoteSeq: invite.headers.cseq.seq,
    });
  }

  /**
   * A dialog rebuilt from a snapshot, its CSeq `seqAhead` past the snapshot's: requests sent in the dialog
   * after the snapshot was taken (refreshes, INFO) are not in it, and a CSeq not above the last one used
   * would be refused (RFC 3261 §12.2.2).
   */
  static fromSnapshot(s: DialogSnapshot, seqAhead = 0): Dialog {
    assertDialogSnapshot(s);
    return new Dialog({ ...s, routeSet: s.routeSet.map(copyRoute), localSeq: s.localSeq + seqAhead });
  }

  snapshot(): DialogSnapshot {
    return {
      callId: this.callId,
      local: this.local,
      remote: this.remote,
      transport: this.transport,
      routeSet: this.routeSet.map(copyRoute),
      remoteTarget: this.#remoteTarget,
      localSeq: this.#localSeq,
    };
  }

  /** The CSeq of our last request in this dialog. */
  get localSeq(): number {
    return this.#localSeq;
  }

  get id(): string {
    return dialogKey(this.callId, this.localTag, this.remoteTag);
  }

  get remoteTarget(): string {
    return this.#remoteTarget;
  }

  /** Where in-dialog requests go (§8.1.2): the first route (loose or strict), else the remote target. */
  get nextHop(): string | SipUri {
    return this.routeSet[0]?.uri ?? this.#remoteTarget;
  }

  /**
   * Checks the CSeq of a request received in the dialog (§12.2.2): false when it is lower than the last one
   * (the request must get a 500). ACK and CANCEL reuse their INVITE's number and are not checked.
   */
  acceptRemoteSeq(request: SipMessage): boolean {
    if (request.method === 'ACK' || request.method === 'CANCEL') return true;
    const seq = request.headers.cseq.seq;
    if (this.#remoteSeq !== undefined && seq < this.#remoteSeq) return false;
    this.#remoteSeq = seq;
    return true;
  }

  /** A target refresh (re-INVITE/UPDATE with Contact) replaces the remote target (§12.2.2); true when it changed. */
  refreshTarget(request: SipMessage): boolean {
    const uri = contactUri(request);
    if (!uri || uri === this.#remoteTarget) return false;
    this.#remoteTarget = uri;
    return true;
  }

  /** A new in-dialog request with the next local CSeq. */
  createRequest(method: string, options: DialogRequestOptions = {}): SipMessage {
    this.#localSeq += 1;
    return this.#build(method, this.#localSeq, options);
  }

  /** The ACK for the 2xx to the INVITE numbered `inviteSeq` (§13.2.2.4): same CSeq number, method ACK. */
  createAck(inviteSeq: number): SipMessage {
    return this.#build('ACK', inviteSeq, {});
  }

  #build(method: string, seq: number, options: DialogRequestOptions): SipMessage {
    const routes = this.routeSet.map(copyRoute);
    let uri: string | SipUri = this.#remoteTarget;
    const first = routes[0];
    if (first && !isLooseRoute(first)) {
      // strict routing (§12.2.1.1): the first route becomes the Request-URI, the remote target the last route
      routes.shift();
      const strict = typeof first.uri === 'string' ? parseUri(first.uri) : first.uri;
      uri = strict ? { ...strict, params: {}, headers: {} } : uriString(first.uri);
      routes.push({ uri: this.#remoteTarget, params: {} });
    }
    const headers: SipMessage['headers'] = {
      via: [],
      'max-forwards': 70,
      to: this.remote,
      from: this.local,
      'call-id': this.callId,
      cseq: { seq, method },
      ...(routes.length > 0 ? { route: routes } : {}),
      ...(options.headers ?? {}),
    };
    const request: SipMessage = { method, uri, headers };
    if (options.body !== undefined) {
      request.content = options.body;
      headers['content-type'] = options.contentType ?? 'application/sdp';
    }
    return request;
  }
}
