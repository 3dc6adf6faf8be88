import type { Logger } from '@wagw/logging';
import type { Registration, RegistrationOptions, RegistrationStatus } from '@wagw/sip';
import { trunkDomain, type TrunkConfig } from '../sip/trunk-directory';

export interface TrunkOutboundRegistrationsDeps {
  /** A registration through the SIP stack (SipStack.registration). */
  registration(options: RegistrationOptions): Registration;
  /** The trunk's hosts, best first (the health monitor's order): the first is the registrar. */
  hostsInOrder(trunk: TrunkConfig): string[];
  logger: Logger;
}

interface Entry {
  /** What the registration was made from: another value (config reload) makes a new one. */
  key: string;
  trunk: TrunkConfig;
  registration: Registration;
}

/**
 * The gateway's own registrations, one per trunk with `register: true` (the gateway registers to the PBX as
 * a phone or a registering trunk does): `sip:<username>@<trunk domain>` at the trunk's first host (in health
 * order when the registration starts; after a failed attempt the next host), with its digest credentials. A config reload starts new
 * ones and removes (Expires: 0) those of trunks gone or changed; `stop` removes them all.
 */
export class TrunkOutboundRegistrations {
  readonly #deps: TrunkOutboundRegistrationsDeps;
  readonly #entries = new Map<string, Entry>();
  #stopped = false;

  constructor(deps: TrunkOutboundRegistrationsDeps) {
    this.#deps = deps;
  }

  /** Applies the configured trunks: starts, keeps or removes registrations. */
  setTrunks(trunks: readonly TrunkConfig[]): void {
    if (this.#stopped) return;
    const wanted = new Map(trunks.filter((t) => t.register).map((t) => [t.name, t]));
    for (const [name, entry] of this.#entries) {
      const next = wanted.get(name);
      if (next && registrationKey(next) === entry.key) {
        entry.trunk = next;
        continue;
      }
      this.#entries.delete(name);
      this.#deps.logger.info({ trunk: name }, next ? 'trunk registration changed: registering again' : 'trunk no longer registers: removing its registration');
      void entry.registration.stop();
    }
    for (const [name, trunk] of wanted) if (!this.#entries.has(name)) this.#start(trunk);
  }

  /** The registration state of a trunk with `register: true`, else undefined. */
  status(trunk: string): RegistrationStatus | undefined {
    return this.#entries.get(trunk)?.registration.status;
  }

  /** Trunks registering, with whether their registration is live now (metrics). */
  states(): { trunk: string; registered: boolean }[] {
    return [...this.#entries.values()].map((e) => ({ trunk: e.trunk.name, registered: e.registration.status.state === 'registered' }));
  }

  /** The user a trunk registers as (its Contact's user: an INVITE naming it carries the WhatsApp number in To). */
  registeredUser(trunk: TrunkConfig): string | undefined {
    return this.#entries.has(trunk.name) ? trunk.username : undefined;
  }

  /** Removes every registration (Expires: 0) and starts no more. */
  async stop(): Promise<void> {
    this.#stopped = true;
    const all = [...this.#entries.values()];
    this.#entries.clear();
    await Promise.all(all.map((e) => e.registration.stop().catch((err: unknown) => this.#deps.logger.warn({ err, trunk: e.trunk.name }, 'unregistering failed'))));
  }

  #start(trunk: TrunkConfig): void {
    const hosts = this.#deps.hostsInOrder(trunk);
    const registrars = hosts.length > 0 ? hosts : trunk.hosts;
    const host = registrars[0];
    if (!host) return;
    const registration = this.#deps.registration({
      registrar: registrars,
      transport: trunk.transport,
      user: trunk.username,
      domain: trunkDomain(trunk),
      ...(trunk.password ? { auth: { username: trunk.username, password: trunk.password } } : {}),
      expiresS: trunk.registerExpiresS,
    });
    this.#entries.set(trunk.name, { key: registrationKey(trunk), trunk, registration });
    this.#deps.logger.info({ trunk: trunk.name, registrar: host, aor: `sip:${trunk.username}@${trunkDomain(trunk)}` }, 'registering to the trunk');
    registration.start();
  }
}

function registrationKey(t: TrunkConfig): string {
  return JSON.stringify([t.hosts, t.transport, t.username, t.password, t.fromDomain, t.registerExpiresS]);
}
