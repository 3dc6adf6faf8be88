import type { Logger } from '@wagw/logging';
import type { NameAddr, SipMessage } from 'sip';
import { makeResponse } from 'sip';
import { InboundCall } from '../call/inbound-call';
import { MIN_SE, sessionIntervalTooSmall } from '../call/session-timer';
import type { DialogRequestHandler, LegContext } from '../call/leg-context';
import { dialogKey } from '../dialog/dialog';
import { genericHeaders, normaliseHeaders, parseDeltaSeconds, partyOf, tagOf, uriString } from '../message/headers';
import { reasonPhrase } from '../sip.errors';
import type { InboundRequestInfo, InviteAuthDecision, InviteAuthorizer, RegisterHandler, RegisterRequestInfo, SipAuthFailure } from '../sip.types';
import type { Endpoint, TransportProtocol } from '../transport/sip-transport';
import { DigestVerifier } from './digest-verifier';

export type InviteHandler = (call: InboundCall) => void | Promise<void>;

export interface RouterDeps {
  ctx: LegContext;
  log: Logger;
  dialogs: Map<string, DialogRequestHandler>;
  legs: Set<{ dispose(): void }>;
  contact(transport: TransportProtocol): NameAddr;
  isClosed(): boolean;
}

/** Methods that only make sense inside a dialog: outside one they get 481 (RFC 3261 §12.2.2). */
const DIALOG_ONLY = new Set(['BYE', 'INFO', 'UPDATE', 'PRACK']);

/**
 * Routes requests that opened a new server transaction: in-dialog ones to their leg (481 when the dialog
 * is unknown), CANCEL to the INVITE it targets, OPTIONS answered here, new INVITEs through the authoriser
 * to the application's handler as InboundCalls (after an immediate `100 Trying`).
 */
export class IncomingRequestRouter {
  inviteHandler: InviteHandler | undefined;
  authorizer: InviteAuthorizer | undefined;
  registerHandler: RegisterHandler | undefined;
  readonly #deps: RouterDeps;
  readonly #digest = new DigestVerifier();
  /** Told of each request whose credentials failed (wrong password, unknown user): logs, metrics. */
  onAuthFailure: ((failure: SipAuthFailure) => void) | undefined;
  /** Inbound calls by Call-ID and INVITE branch, for CANCEL matching (RFC 3261 §9.2). */
  readonly #byBranch = new Map<string, InboundCall>();

  constructor(deps: RouterDeps) {
    this.#deps = deps;
  }

  route(request: SipMessage, remote: Endpoint): void {
    const toTag = tagOf(request.headers.to);
    if (request.method === 'CANCEL') return this.#onCancel(request);
    if (toTag) {
      const fromTag = tagOf(request.headers.from) ?? '';
      const handler = this.#deps.dialogs.get(dialogKey(request.headers['call-id'], toTag, fromTag));
      if (handler) return handler.onDialogRequest(request);
      if (request.method !== 'ACK') this.#respond(request, 481);
      return;
    }
    switch (request.method) {
      case 'ACK':
        return; // stray ACK for a 2xx we no longer know: nothing to do
      case 'INVITE':
        return void this.#onInvite(request, remote);
      case 'OPTIONS':
        return this.#respond(request, 200, { allow: this.#deps.ctx.allow, accept: 'application/sdp' });
      case 'REGISTER':
        return void this.#onRegister(request, remote);
      default:
        return this.#respond(request, DIALOG_ONLY.has(request.method ?? '') ? 481 : 405, { allow: this.#deps.ctx.allow });
    }
  }

  /** Drops a terminated leg from the CANCEL index. */
  forget(leg: object): void {
    if (leg instanceof InboundCall) this.#byBranch.delete(branchKey(leg.callId, leg.branch));
  }

  #respond(request: SipMessage, status: number, headers: Record<string, unknown> = {}, reason?: string): void {
    this.#deps.ctx.sendResponse(makeResponse(request, status, reason ?? reasonPhrase(status), { headers }));
  }

  #onCancel(cancel: SipMessage): void {
    const branch = String(cancel.headers.via[0]?.params['branch'] ?? '');
    const call = this.#byBranch.get(branchKey(cancel.headers['call-id'], branch));
    if (call) call.onCancel(cancel);
    else this.#respond(cancel, 481);
  }

  async #onInvite(invite: SipMessage, remote: Endpoint): Promise<void> {
    const log = this.#deps.log.child({ sipCallId: invite.headers['call-id'], sipDirection: 'inbound' });
    const policy = this.#deps.ctx.sessionTimer;
    // 100rel (RFC 3262): the InboundCall sends its 180/183 reliably
    const unsupported = requiredOptions(invite).filter((o) => !(o === 'timer' && policy) && o !== '100rel');
    if (unsupported.length > 0) {
      log.info({ unsupported }, 'INVITE requires extensions we lack: 420');
      return this.#respond(invite, 420, { unsupported: unsupported.join(', ') }, 'Bad Extension');
    }
    if (policy && sessionIntervalTooSmall(invite, policy)) {
      log.info({ sessionExpires: invite.headers['session-expires'] ?? invite.headers['x'], minSeS: policy.minSeS }, 'INVITE asks for a session interval below our Min-SE: 422');
      return this.#respond(invite, 422, { [MIN_SE]: String(policy.minSeS) }, 'Session Interval Too Small');
    }
    this.#respond(invite, 100, {}, 'Trying');
    if (!(await this.#authorized(invite, remote, log))) return;
    if (this.#deps.isClosed()) return;
    const handler = this.inviteHandler;
    if (!handler) {
      log.warn('INVITE without an onInvite handler: 480');
      return this.#respond(invite, 480);
    }
    const call = new InboundCall(this.#deps.ctx, invite, remote, this.#deps.log);
    this.#deps.legs.add(call);
    this.#byBranch.set(branchKey(call.callId, call.branch), call);
    log.info({ from: call.from.uri, to: call.to.uri, source: `${remote.address}:${remote.port}` }, 'incoming call');
    try {
      await handler(call);
    } catch (err) {
      log.error({ err }, 'onInvite handler failed');
      if (call.state === 'offered' || call.state === 'early') call.reject(500);
    }
  }

  /** REGISTER (RFC 3261 §10.3): the registrar's authorisation (digest, 401), then its answer with the bindings. */
  async #onRegister(request: SipMessage, remote: Endpoint): Promise<void> {
    const handler = this.registerHandler;
    if (!handler) return this.#respond(request, 405, { allow: this.#deps.ctx.allow });
    const log = this.#deps.log.child({ sipCallId: request.headers['call-id'], sipDirection: 'inbound' });
    const info = registerInfo(request, remote);
    if (!(await this.#authorized(request, remote, log, () => handler.authorize(info)))) return;
    try {
      const result = await handler.register(info);
      if (result.status === 200 && 'bindings' in result) {
        const contact = result.bindings.map((b) => ({ uri: b.uri, params: { expires: String(b.expires) } }));
        return this.#respond(request, 200, contact.length > 0 ? { contact, date: new Date().toUTCString() } : { date: new Date().toUTCString() });
      }
      const failed = result as Extract<typeof result, { reason?: string }>;
      this.#respond(request, failed.status, normaliseHeaders(failed.headers ?? {}), failed.reason);
    } catch (err) {
      log.error({ err }, 'registrar failed: 500');
      this.#respond(request, 500);
    }
  }

  /**
   * Applies an authoriser (the INVITE one unless `decide` is given); answers the request itself (403,
   * 401/407 challenge, 500) when it does not pass.
   */
  async #authorized(invite: SipMessage, remote: Endpoint, log: Logger, decide?: () => InviteAuthDecision | Promise<InviteAuthDecision>): Promise<boolean> {
    const authorizer = this.authorizer;
    const method = invite.method ?? 'request';
    if (!decide && !authorizer) return true;
    try {
      const decision = decide ? await decide() : await (authorizer as InviteAuthorizer)(requestInfo(invite, remote));
      if (decision.action === 'accept') return true;
      if (decision.action === 'reject') {
        log.info({ status: decision.status, source: remote.address }, `${method} refused by the authoriser`);
        this.#respond(invite, decision.status, normaliseHeaders(decision.headers), decision.reason);
        return false;
      }
      const checked = await this.#digest.check(invite, decision);
      if (checked.outcome === 'ok') return true;
      if (checked.outcome === 'unknown-user' || checked.outcome === 'bad-password') {
        const failure: SipAuthFailure = { method, reason: checked.outcome, username: checked.username ?? '', source: { address: remote.address, port: remote.port } };
        log.warn(failure, `${method} digest authentication failed (${checked.outcome === 'bad-password' ? 'wrong password' : 'unknown user'})`);
        this.onAuthFailure?.(failure);
      }
      log.info({ source: remote.address }, `${method} challenged (digest)`);
      this.#deps.ctx.sendResponse(this.#digest.challenge(invite, decision));
      return false;
    } catch (err) {
      log.error({ err }, `${method} authoriser failed: 500`);
      this.#respond(invite, 500);
      return false;
    }
  }
}

function requiredOptions(request: SipMessage): string[] {
  const value = request.headers['require'];
  if (typeof value !== 'string') return [];
  return value.split(',').map((o) => o.trim().toLowerCase()).filter((o) => o !== '');
}

function branchKey(callId: string, branch: string): string {
  return `${callId}|${branch}`;
}

export function requestInfo(request: SipMessage, remote: Endpoint): InboundRequestInfo {
  return {
    method: request.method ?? '',
    callId: request.headers['call-id'],
    requestUri: uriString(request.uri ?? ''),
    from: partyOf(request.headers.from),
    to: partyOf(request.headers.to),
    source: { address: remote.address, port: remote.port },
    transport: remote.protocol,
    headers: genericHeaders(request),
  };
}

/**
 * A REGISTER's contacts (with their expires parameters), wildcard and Expires header. An expiry that is not
 * delta-seconds is left out (the registrar's default applies), never read as 0, which removes the binding.
 */
export function registerInfo(request: SipMessage, remote: Endpoint): RegisterRequestInfo {
  const raw: unknown = request.headers.contact;
  const list = Array.isArray(raw) ? (raw as { uri?: unknown; params?: Record<string, unknown> }[]) : [];
  const contacts: RegisterRequestInfo['contacts'] = [];
  let wildcard = false;
  for (const c of list) {
    const uri = typeof c.uri === 'string' ? c.uri : '';
    if (uri === '*' || uri === '') {
      wildcard = uri === '*' || wildcard;
      continue;
    }
    const e = parseDeltaSeconds(c.params?.['expires']);
    contacts.push(e !== undefined ? { uri, expires: e } : { uri });
  }
  if (typeof raw === 'string' && raw.trim() === '*') wildcard = true;
  const header = parseDeltaSeconds(request.headers['expires']);
  return { ...requestInfo(request, remote), contacts, wildcard, ...(header !== undefined ? { expires: header } : {}) };
}
