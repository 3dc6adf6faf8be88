import type { AppConfig } from '@wagw/config';

type PbxConfig = AppConfig['pbx'];
export type TrunkConfig = PbxConfig['trunks'][number];
export type RouteConfig = PbxConfig['routes'][number];

/**
 * The domain of SIP URIs on a trunk: its fromDomain, else its first host. A registrar trunk may have neither
 * (its calls go to the Contact its PBX registered, the domain only shows in To): `invalid` (RFC 6761).
 */
export function trunkDomain(trunk: Pick<TrunkConfig, 'fromDomain' | 'hosts'>): string {
  return trunk.fromDomain || trunk.hosts[0]?.replace(/:\d+$/, '') || 'invalid';
}

/** An extension (`1002`) as `sip:1002@<trunk domain>`; a SIP URI as given. */
export function uriOnTrunk(target: string, trunk: Pick<TrunkConfig, 'fromDomain' | 'hosts'>): string {
  return /^sips?:/i.test(target) ? target : `sip:${target}@${trunkDomain(trunk)}`;
}

export interface ResolvedDestination {
  uri: string;
  ringTimeoutMs: number;
  trunk: TrunkConfig;
}

export interface ResolvedRoute {
  businessNumber: string;
  destinations: ResolvedDestination[];
  onFailure: RouteConfig['onFailure'];
  /** Business hours (routing/business-hours.ts); absent: always open. */
  hours?: NonNullable<RouteConfig['hours']>;
  /** Where calls ring outside the hours (afterHours.action `route`); empty otherwise. */
  afterHoursDestinations: ResolvedDestination[];
  /** Destinations of calls from a call button or deep link, by its payload (routes[].entryPoints); often empty. */
  entryPoints: ReadonlyMap<string, ResolvedDestination[]>;
}

/**
 * Trunks and routes from the configuration, resolved once: where a call to a business number rings, and
 * which trunk host to send it to. Pure; the SIP adapter asks it, the config reload replaces it.
 */
export class TrunkDirectory {
  #trunks = new Map<string, TrunkConfig>();
  #routes = new Map<string, ResolvedRoute>();

  constructor(pbx: PbxConfig) {
    this.replace(pbx);
  }

  /**
   * Swaps in new trunks and routes (config reload). Calls in progress keep the route objects they were
   * given; only lookups after this see the new ones.
   */
  replace(pbx: Pick<PbxConfig, 'trunks' | 'routes'>): void {
    const trunks = new Map(pbx.trunks.map((t) => [t.name, t]));
    const resolve = (d: RouteConfig['destinations'][number]): ResolvedDestination => ({ uri: d.uri, ringTimeoutMs: d.ringTimeoutMs, trunk: TrunkDirectory.#trunkIn(trunks, d.trunk) });
    this.#routes = new Map(
      pbx.routes.map((r) => [
        r.businessNumber,
        {
          businessNumber: r.businessNumber,
          onFailure: r.onFailure,
          destinations: r.destinations.map(resolve),
          ...(r.hours ? { hours: r.hours } : {}),
          afterHoursDestinations: (r.hours?.afterHours.destinations ?? []).map(resolve),
          entryPoints: new Map((r.entryPoints ?? []).map((e) => [e.payload, e.destinations.map(resolve)])),
        },
      ]),
    );
    this.#trunks = trunks;
  }

  get hasTrunks(): boolean {
    return this.#trunks.size > 0;
  }

  trunks(): TrunkConfig[] {
    return [...this.#trunks.values()];
  }

  /** The route of a business number; undefined when none is configured. */
  routeFor(businessNumber: string): ResolvedRoute | undefined {
    return this.#routes.get(businessNumber.replace(/^\+/, ''));
  }

  static #trunkIn(trunks: Map<string, TrunkConfig>, name: string): TrunkConfig {
    const t = trunks.get(name);
    // config validation guarantees route trunks exist; reaching this is a bug
    if (!t) throw new TypeError(`route refers to unknown trunk ${name}`);
    return t;
  }
}
