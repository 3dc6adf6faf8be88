import type { Logger } from '@wagw/logging';
import type { InviteAuthDecision, RegisterRequestInfo, RegisterResult } from '@wagw/sip';
import type { TrunkConfig } from '../sip/trunk-directory';

/** Shortest registration taken (shorter asks get 423 with Min-Expires, RFC 3261 §10.3 step 7). */
export const MIN_EXPIRES_S = 60;
/** Longest registration granted (a longer ask gets this); also the default when the PBX names none. */
export const MAX_EXPIRES_S = 3600;

/** Where a PBX that registered on a trunk is reached now. */
export interface TrunkBinding {
  trunk: string;
  /** The Contact it registered (the Request-URI of our INVITEs toward it). */
  contact: string;
  /** The address its REGISTER came from: our INVITEs go there (it may sit behind NAT). */
  source: { address: string; port: number };
  transport: RegisterRequestInfo['transport'];
  registeredAt: number;
  expiresAt: number;
}

export interface TrunkRegistrationsOptions {
  logger: Logger;
  /** Epoch ms. */
  now?: () => number;
}

/**
 * The gateway as registrar for trunks with `registrar: true`: a PBX (Asterisk, FreePBX, 3CX...) that
 * treats the gateway as its SIP provider registers with the trunk's inboundUsername/inboundPassword (digest,
 * 401), and calls toward the trunk then go to where it registered from, with its Contact as Request-URI.
 * One binding per trunk (a new REGISTER replaces it); it lapses at its expiry unless refreshed.
 */
export class TrunkRegistrations {
  readonly #log: Logger;
  readonly #now: () => number;
  readonly #bindings = new Map<string, { binding: TrunkBinding; timer: NodeJS.Timeout }>();
  #trunks: TrunkConfig[] = [];

  constructor(options: TrunkRegistrationsOptions) {
    this.#log = options.logger;
    this.#now = options.now ?? Date.now;
  }

  /** The configured trunks (config reload): bindings of trunks gone, or no longer registrar trunks, are dropped. */
  setTrunks(trunks: readonly TrunkConfig[]): void {
    this.#trunks = trunks.filter((t) => t.registrar);
    for (const name of [...this.#bindings.keys()]) {
      const t = this.#trunks.find((x) => x.name === name);
      if (!t) this.#drop(name, 'trunk no longer takes registrations');
    }
  }

  /** Registrar trunk whose inbound user is the AOR's user part. */
  #trunkFor(req: RegisterRequestInfo): TrunkConfig | undefined {
    const user = /^sips?:([^@;>]+)@/i.exec(req.to.uri)?.[1];
    return user === undefined ? undefined : this.#trunks.find((t) => t.inboundUsername === decodeURIComponent(user));
  }

  /** Digest (401) with the trunk's inbound credentials; 404 for an address of record on no registrar trunk. */
  authorize(req: RegisterRequestInfo, realm: string): InviteAuthDecision {
    const trunk = this.#trunkFor(req);
    if (!trunk) {
      this.#log.warn({ aor: req.to.uri, source: req.source }, 'REGISTER refused: no trunk takes registrations for this user');
      return { action: 'reject', status: 404, reason: 'Not Found', headers: { Warning: `399 ${realm} "no trunk takes registrations for ${req.to.uri}"` } };
    }
    return { action: 'digest', realm, password: (username) => (username === trunk.inboundUsername ? trunk.inboundPassword : undefined) };
  }

  /** Applies an authorised REGISTER (RFC 3261 §10.3): binds, refreshes, removes, or answers a query. */
  register(req: RegisterRequestInfo): RegisterResult {
    const trunk = this.#trunkFor(req);
    if (!trunk) return { status: 404, reason: 'Not Found' };
    if (req.wildcard) {
      if (req.expires !== 0 || req.contacts.length > 0) return { status: 400, reason: 'Bad Request (Contact: * needs Expires: 0 and no other contact)' };
      this.#drop(trunk.name, 'PBX unregistered');
      return { status: 200, bindings: [] };
    }
    const contact = req.contacts[0];
    if (!contact) return { status: 200, bindings: this.#current(trunk.name) };
    const asked = contact.expires ?? req.expires ?? MAX_EXPIRES_S;
    if (asked === 0) {
      this.#drop(trunk.name, 'PBX unregistered');
      return { status: 200, bindings: [] };
    }
    if (asked < MIN_EXPIRES_S) return { status: 423, reason: 'Interval Too Brief', headers: { 'Min-Expires': String(MIN_EXPIRES_S) } };
    const granted = Math.min(asked, MAX_EXPIRES_S);
    this.#bind(trunk, req, contact.uri, granted);
    return { status: 200, bindings: [{ uri: contact.uri, expires: granted }] };
  }

  /** The trunk's live binding, if its PBX is registered. */
  binding(trunkName: string): TrunkBinding | undefined {
    const b = this.#bindings.get(trunkName)?.binding;
    return b && b.expiresAt > this.#now() ? b : undefined;
  }

  /** Every live binding, in no particular order. */
  bindings(): TrunkBinding[] {
    return [...this.#bindings.keys()].flatMap((n) => this.binding(n) ?? []);
  }

  /** Stops every expiry timer (shutdown). */
  close(): void {
    for (const { timer } of this.#bindings.values()) clearTimeout(timer);
    this.#bindings.clear();
  }

  #current(trunkName: string): { uri: string; expires: number }[] {
    const b = this.binding(trunkName);
    return b ? [{ uri: b.contact, expires: Math.max(0, Math.round((b.expiresAt - this.#now()) / 1000)) }] : [];
  }

  #bind(trunk: TrunkConfig, req: RegisterRequestInfo, contact: string, expiresS: number): void {
    const previous = this.#bindings.get(trunk.name);
    if (previous) clearTimeout(previous.timer);
    const now = this.#now();
    const binding: TrunkBinding = { trunk: trunk.name, contact, source: { ...req.source }, transport: req.transport, registeredAt: previous?.binding.registeredAt ?? now, expiresAt: now + expiresS * 1000 };
    const timer = setTimeout(() => this.#drop(trunk.name, 'registration expired'), expiresS * 1000);
    timer.unref();
    this.#bindings.set(trunk.name, { binding, timer });
    const moved = previous && (previous.binding.contact !== contact || previous.binding.source.address !== req.source.address || previous.binding.source.port !== req.source.port);
    const fields = { trunk: trunk.name, contact, source: `${req.source.address}:${req.source.port}`, transport: req.transport, expiresS };
    if (!previous) this.#log.info(fields, 'PBX registered on the trunk');
    else if (moved) this.#log.info(fields, 'PBX registered on the trunk from a new address');
    else this.#log.debug(fields, 'PBX registration refreshed');
  }

  #drop(trunkName: string, why: string): void {
    const entry = this.#bindings.get(trunkName);
    if (!entry) return;
    clearTimeout(entry.timer);
    this.#bindings.delete(trunkName);
    this.#log.info({ trunk: trunkName, contact: entry.binding.contact }, why);
  }
}
