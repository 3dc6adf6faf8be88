import { Resolver, lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { TransportProtocol } from './sip-transport';

/**
 * Name resolution for SIP destinations (a subset of RFC 3263): A records for host names, and SRV records
 * for a domain given without a port (`_sip._udp.`, `_sip._tcp.` or `_sips._tcp.` by transport, ordered by
 * priority and, within one priority, by weight as RFC 2782 says). NAPTR is not consulted: the transport is
 * the trunk's.
 *
 * With no `servers` it asks the system: A through getaddrinfo (so /etc/hosts counts), SRV through the
 * resolvers of /etc/resolv.conf. With `servers` (`ip` or `ip:port`), both go to those servers only.
 */

export interface SrvTarget {
  host: string;
  port: number;
}

export class DnsLookupError extends Error {
  override readonly name = 'DnsLookupError';
  constructor(
    message: string,
    /** The resolver's code: ENOTFOUND / ENODATA mean the name has no such record; the others that DNS failed. */
    readonly code: string,
  ) {
    super(message);
  }
}

/** The narrow part of node:dns/promises' Resolver used here (a fake in unit tests). */
export interface DnsQueries {
  resolveSrv(name: string): Promise<{ name: string; port: number; priority: number; weight: number }[]>;
  resolve4(name: string): Promise<string[]>;
}

export interface SipDnsOptions {
  /** DNS servers (`ip` or `ip:port`); empty or absent: the system's. */
  servers?: readonly string[];
  /** Per query (default 2000 ms, two tries). */
  timeoutMs?: number;
  /** For tests: the queries (then `servers` is ignored), and the random source of the weighted order. */
  queries?: DnsQueries;
  random?: () => number;
}

const SRV_PREFIX: Record<TransportProtocol, string> = { udp: '_sip._udp.', tcp: '_sip._tcp.', tls: '_sips._tcp.' };

/** ENOTFOUND (NXDOMAIN) and ENODATA (the name exists, the record type does not): nothing published. */
export function isNoRecord(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === 'ENOTFOUND' || code === 'ENODATA';
}

export class SipDns {
  #queries: DnsQueries;
  readonly #random: () => number;
  /** Whether A lookups go to getaddrinfo (no servers configured, no fake). */
  #system: boolean;
  readonly #fake: boolean;
  readonly #timeoutMs: number;

  constructor(options: SipDnsOptions = {}) {
    this.#random = options.random ?? Math.random;
    this.#fake = options.queries !== undefined;
    this.#timeoutMs = options.timeoutMs ?? 2000;
    if (options.queries) {
      this.#queries = options.queries;
      this.#system = false;
      return;
    }
    [this.#queries, this.#system] = this.#resolverFor(options.servers ?? []);
  }

  /**
   * Asks `servers` from the next lookup on (empty: the system's resolver); lookups under way finish where they
   * started (a configuration reload). A SipDns made with fake queries keeps them.
   */
  setServers(servers: readonly string[]): void {
    if (this.#fake) return;
    [this.#queries, this.#system] = this.#resolverFor(servers);
  }

  /** A resolver of its own (no module-wide one), and whether A lookups go to getaddrinfo instead. */
  #resolverFor(servers: readonly string[]): [DnsQueries, boolean] {
    // with no servers: SRV from those of /etc/resolv.conf, A through getaddrinfo (/etc/hosts included)
    if (servers.length === 0) return [new Resolver(), true];
    const r = new Resolver({ timeout: this.#timeoutMs, tries: 2 });
    r.setServers([...servers]);
    return [r, false];
  }

  /** The IPv4 address of `host` (an IP literal is returned as it is). */
  async address(host: string): Promise<string> {
    if (isIP(host)) return host;
    try {
      if (this.#system) return (await lookup(host, { family: 4 })).address;
      const [first] = await this.#queries.resolve4(host);
      if (first === undefined) throw Object.assign(new Error('no A record'), { code: 'ENODATA' });
      return first;
    } catch (err) {
      const code = String((err as { code?: unknown }).code ?? 'EFAIL');
      throw new DnsLookupError(`cannot resolve ${host}: ${(err as Error).message}`, code);
    }
  }

  /**
   * The SRV targets of `domain` for `transport`, in the order to try them; an empty list when the domain
   * publishes none (the caller then uses its A record on the default port). Throws DnsLookupError when DNS
   * itself failed (timeout, server failure, refused).
   */
  async srv(domain: string, transport: TransportProtocol): Promise<SrvTarget[]> {
    const name = SRV_PREFIX[transport] + domain;
    let records: Awaited<ReturnType<DnsQueries['resolveSrv']>>;
    try {
      records = await this.#queries.resolveSrv(name);
    } catch (err) {
      if (isNoRecord(err)) return [];
      const code = String((err as { code?: unknown }).code ?? 'EFAIL');
      throw new DnsLookupError(`SRV lookup of ${name} failed: ${(err as Error).message}`, code);
    }
    // RFC 2782: a single record with target "." means the service is decidedly not available here; a port
    // of 0 is no place to send to either
    const usable = records.filter((r) => r.name !== '' && r.name !== '.' && r.port > 0 && r.port < 65536);
    return srvOrder(usable, this.#random).map((r) => ({ host: r.name, port: r.port }));
  }
}

/**
 * RFC 2782's order: priorities ascending; within one priority, repeatedly pick a record with probability
 * proportional to its weight (records of weight 0 first in the running sum, so they are picked rarely).
 */
export function srvOrder<T extends { priority: number; weight: number }>(records: readonly T[], random: () => number): T[] {
  const byPriority = new Map<number, T[]>();
  for (const r of records) byPriority.set(r.priority, [...(byPriority.get(r.priority) ?? []), r]);
  const out: T[] = [];
  for (const priority of [...byPriority.keys()].sort((a, b) => a - b)) {
    const left = [...(byPriority.get(priority) ?? [])].sort((a, b) => a.weight - b.weight);
    while (left.length > 0) {
      const total = left.reduce((s, r) => s + r.weight, 0);
      const pick = Math.floor(random() * (total + 1)); // 0..total
      let sum = 0;
      let index = left.length - 1;
      for (let i = 0; i < left.length; i++) {
        sum += (left[i] as T).weight;
        if (sum >= pick) {
          index = i;
          break;
        }
      }
      out.push(...left.splice(index, 1));
    }
  }
  return out;
}
