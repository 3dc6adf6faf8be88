import type { AppConfig } from '@wagw/config';

type PbxConfig = AppConfig['pbx'];
export type TrunkConfig = PbxConfig['trunks'][number];
export type RouteConfig = PbxConfig['routes'][number];

export interface ResolvedDestination {
  uri: string;
  ringTimeoutMs: number;
  trunk: TrunkConfig;
}

export interface ResolvedRoute {
  businessNumber: string;
  destinations: ResolvedDestination[];
  onFailure: RouteConfig['onFailure'];
}

/**
 * Trunks and routes from the configuration, resolved once: where a call to a business number rings, and
 * which trunk host to send it to. Pure; the SIP adapter asks it, the config reload replaces it.
 */
export class TrunkDirectory {
  readonly #trunks: Map<string, TrunkConfig>;
  readonly #routes: Map<string, ResolvedRoute>;

  constructor(pbx: PbxConfig) {
    this.#trunks = new Map(pbx.trunks.map((t) => [t.name, t]));
    this.#routes = new Map(
      pbx.routes.map((r) => [
        r.businessNumber,
        {
          businessNumber: r.businessNumber,
          onFailure: r.onFailure,
          destinations: r.destinations.map((d) => ({ uri: d.uri, ringTimeoutMs: d.ringTimeoutMs, trunk: this.#trunk(d.trunk) })),
        },
      ]),
    );
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

  #trunk(name: string): TrunkConfig {
    const t = this.#trunks.get(name);
    // config validation guarantees route trunks exist; reaching this is a bug
    if (!t) throw new TypeError(`route refers to unknown trunk ${name}`);
    return t;
  }
}
