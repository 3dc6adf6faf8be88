import { isIP } from 'node:net';
import { defaultPort, DnsLookupError, type SipDns, type TransportProtocol } from '@wagw/sip';
import type { Logger } from '@wagw/logging';
import type { TrunkConfig } from '../sip/trunk-directory';

/** What the resolver needs of DNS (SipDns). */
export type TrunkDns = Pick<SipDns, 'address' | 'srv'>;

/** A trunk's hosts as calls use them: `host:port` targets in the order to try, with where each came from. */
export interface ResolvedHosts {
  /** host:port targets, SRV-expanded, in failover order. */
  hosts: string[];
  /** IPv4 addresses of the targets (a trunk's default inbound allow-list). */
  addresses: string[];
  /** target -> its address (names resolved; what a failed lookup keeps). */
  addressOf: Map<string, string>;
  /** target -> the configured domain it is an SRV target of (absent: configured as it is). */
  srvDomain: Map<string, string>;
}

export interface TrunkHostResolverDeps {
  dns: TrunkDns;
  logger: Logger;
  /** How often the hosts of trunks with host names are resolved again. */
  refreshMs: number;
  /** Called when a trunk's targets or addresses changed after a resolution. */
  onChange: () => void;
}

/** `host` of `host:port` (brackets of an IPv6 literal removed). */
function hostPart(hostPort: string): string {
  const h = hostPort.replace(/:\d+$/, '');
  return h.startsWith('[') && h.endsWith(']') ? h.slice(1, -1) : h;
}

function hasPort(entry: string): boolean {
  return /:\d{1,5}$/.test(entry) && !(isIP(entry) === 6);
}

/** A trunk's hosts before (or without) DNS: each entry, with the default port where it has none. */
export function configuredHosts(trunk: Pick<TrunkConfig, 'hosts' | 'transport'>): ResolvedHosts {
  const hosts = trunk.hosts.map((e) => (hasPort(e) ? e : `${e}:${defaultPort(trunk.transport)}`));
  const addressOf = new Map(hosts.filter((h) => isIP(hostPart(h)) !== 0).map((h) => [h, hostPart(h)]));
  return { hosts, addresses: [...new Set(addressOf.values())], srvDomain: new Map(), addressOf };
}

function sameHosts(a: ResolvedHosts | undefined, b: ResolvedHosts): boolean {
  return a !== undefined && a.hosts.join() === b.hosts.join() && a.addresses.join() === b.addresses.join();
}

/**
 * Expands trunk hosts through DNS (RFC 3263, as far as a trunk needs it): an entry without a port that is a
 * name is looked up as SRV for the trunk's transport and stands for its targets in RFC 2782 order (none
 * published: the name itself on 5060/5061); an entry with a name is resolved to its address for the
 * trunk's default inbound allow-list. Resolved again every `refreshMs`; when DNS fails, a trunk keeps what
 * it had (or its configured hosts). Plain class: the DNS is injected.
 */
export class TrunkHostResolver {
  readonly #deps: TrunkHostResolverDeps;
  /** trunk name -> what its hosts resolved to, and for which hosts and transport (a reload may change them). */
  readonly #resolved = new Map<string, { key: string; hosts: ResolvedHosts }>();
  #trunks: readonly TrunkConfig[] = [];
  #generation = 0;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(deps: TrunkHostResolverDeps) {
    this.#deps = deps;
  }

  /** The targets of `trunk`, best first by DNS (its configured hosts until resolved). */
  resolved(trunk: TrunkConfig): ResolvedHosts {
    const r = this.#resolved.get(trunk.name);
    return r && r.key === keyOf(trunk) ? r.hosts : configuredHosts(trunk);
  }

  /** New trunks: resolved at once (the promise settles when done) and then every refreshMs. */
  async setTrunks(trunks: readonly TrunkConfig[]): Promise<void> {
    this.#trunks = trunks;
    for (const [name, r] of [...this.#resolved]) if (!trunks.some((t) => t.name === name && keyOf(t) === r.key)) this.#resolved.delete(name);
    await this.#resolveAll();
    this.#schedule();
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #schedule(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#stopped || !this.#trunks.some(needsDns)) return;
    this.#timer = setTimeout(() => void this.#resolveAll().then(() => this.#schedule()), this.#deps.refreshMs);
    this.#timer.unref();
  }

  async #resolveAll(): Promise<void> {
    const generation = ++this.#generation;
    const trunks = this.#trunks;
    const results = await Promise.all(trunks.map(async (t) => [t, await this.#resolve(t)] as const));
    if (generation !== this.#generation || this.#stopped) return; // newer trunks came meanwhile
    let changed = false;
    for (const [t, r] of results) {
      const before = this.#resolved.get(t.name)?.hosts;
      if (sameHosts(before, r)) continue;
      this.#resolved.set(t.name, { key: keyOf(t), hosts: r });
      if (!needsDns(t)) continue;
      changed = true;
      this.#deps.logger.info({ trunk: t.name, configured: t.hosts, hosts: r.hosts, addresses: r.addresses, before: before?.hosts }, 'trunk hosts resolved');
    }
    if (changed) this.#deps.onChange();
  }

  async #resolve(trunk: TrunkConfig): Promise<ResolvedHosts> {
    const out: ResolvedHosts = { hosts: [], addresses: [], srvDomain: new Map(), addressOf: new Map() };
    const previous = this.#resolved.get(trunk.name)?.hosts;
    for (const entry of trunk.hosts) {
      const targets = await this.#targets(trunk, entry, previous);
      for (const target of targets) {
        if (out.hosts.includes(target)) continue;
        out.hosts.push(target);
        if (!hasPort(entry)) out.srvDomain.set(target, entry);
      }
    }
    for (const target of out.hosts) {
      const address = await this.#address(trunk, target, previous);
      if (address === undefined) continue;
      out.addressOf.set(target, address);
      if (!out.addresses.includes(address)) out.addresses.push(address);
    }
    return out;
  }

  /** host:port targets of one configured entry. */
  async #targets(trunk: TrunkConfig, entry: string, previous: ResolvedHosts | undefined): Promise<string[]> {
    const transport: TransportProtocol = trunk.transport;
    if (hasPort(entry)) return [entry];
    const fallback = `${entry}:${defaultPort(transport)}`;
    if (isIP(entry)) return [fallback];
    try {
      const srv = await this.#deps.dns.srv(entry, transport);
      if (srv.length === 0) return [fallback];
      return srv.map((s) => `${s.host}:${s.port}`);
    } catch (err) {
      const kept = previous ? [...previous.srvDomain].filter(([, d]) => d === entry).map(([target]) => target) : [];
      const code = err instanceof DnsLookupError ? err.code : undefined;
      this.#deps.logger.warn({ trunk: trunk.name, host: entry, code, err: (err as Error).message, kept }, 'SRV lookup of a trunk host failed: keeping what it resolved to before');
      return kept.length > 0 ? kept : [fallback];
    }
  }

  async #address(trunk: TrunkConfig, target: string, previous: ResolvedHosts | undefined): Promise<string | undefined> {
    const host = hostPart(target);
    if (isIP(host)) return host;
    try {
      return await this.#deps.dns.address(host);
    } catch (err) {
      this.#deps.logger.warn({ trunk: trunk.name, host, err: (err as Error).message }, 'trunk host name does not resolve: INVITEs from it are not recognised by address');
      return previous?.addressOf.get(target);
    }
  }
}

function keyOf(trunk: Pick<TrunkConfig, 'hosts' | 'transport'>): string {
  return `${trunk.transport} ${trunk.hosts.join(' ')}`;
}

/** A trunk with a host name (not an address) somewhere in its hosts. */
function needsDns(trunk: TrunkConfig): boolean {
  return trunk.hosts.some((e) => isIP(hostPart(e)) === 0);
}
