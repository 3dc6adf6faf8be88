import { Inject, Injectable, Optional } from '@nestjs/common';
import { APP_CONFIG, ConfigError, type AppConfig } from '@wagw/config';
import type { Logger } from '@wagw/logging';
import { SIGNALLING_LOGGER } from '../signalling.tokens';
import { SipStackService } from '../sip/sip-stack.service';
import { TrunkDirectory } from '../sip/trunk-directory';
import { TrunkHealthService } from '../trunks/trunk-health.service';
import { planReload } from './config-reload';

/** Reads the configuration again (config/default.yaml, CONFIG_FILE, environment), validated. */
export const CONFIG_SOURCE = Symbol('CONFIG_SOURCE');
export type ConfigSource = () => Readonly<AppConfig>;

/** A reload whose configuration does not validate: nothing was changed. */
export class ConfigReloadRefusedError extends Error {
  readonly code = 'CONFIG_INVALID' as const;
  readonly httpStatus = 422;
  readonly details: { problems: readonly string[] };
  constructor(problems: readonly string[]) {
    super(`configuration refused, nothing changed:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigReloadRefusedError';
    this.details = { problems };
  }
}

export interface ReloadResult {
  /** Keys applied now (pbx.trunks, pbx.routes, pbx.dnsServers), when they changed. */
  applied: string[];
  /** Keys that changed but only take effect after a restart (ports, Redis URL, tokens...). */
  restartNeeded: string[];
  trunks: number;
  routes: number;
}

/**
 * POST /v1/admin/reload and SIGHUP: re-reads and validates the configuration, then swaps trunks, routes and
 * business hours, and the DNS servers trunk hosts are resolved with (every trunk host is resolved again at
 * once). A call in progress keeps the route and trunk objects it started with; the next call sees the new
 * ones. A configuration that does not validate changes nothing.
 */
@Injectable()
export class ConfigReloadService {
  #current: Readonly<AppConfig>;
  readonly #log: Logger;

  constructor(
    @Inject(APP_CONFIG) private readonly boot: AppConfig,
    @Inject(CONFIG_SOURCE) private readonly source: ConfigSource,
    @Inject(SIGNALLING_LOGGER) logger: Logger,
    private readonly directory: TrunkDirectory,
    private readonly health: TrunkHealthService,
    @Optional() private readonly sip?: SipStackService,
  ) {
    this.#current = boot;
    this.#log = logger.child({ component: 'config-reload' });
  }

  reload(): ReloadResult {
    let next: Readonly<AppConfig>;
    try {
      next = this.source();
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      this.#log.warn({ problems: err.problems }, 'configuration reload refused: nothing changed');
      throw new ConfigReloadRefusedError(err.problems);
    }
    const plan = planReload(this.boot, this.#current, next);
    if (plan.apply.length > 0) {
      // before the trunks are set: setting them resolves every trunk host again, with these servers
      if (plan.apply.includes('pbx.dnsServers')) this.sip?.dns.setServers(next.pbx.dnsServers);
      this.directory.replace(next.pbx);
      this.health.setTrunks(next.pbx.trunks);
      this.#current = next;
    }
    const result: ReloadResult = { applied: plan.apply, restartNeeded: plan.restartNeeded, trunks: this.directory.trunks().length, routes: this.#current.pbx.routes.length };
    this.#log.info(result, plan.apply.length > 0 ? 'configuration reloaded' : 'configuration reloaded: no runtime change');
    if (plan.restartNeeded.length > 0) this.#log.warn({ restartNeeded: plan.restartNeeded }, 'changed keys take effect only after a restart');
    return result;
  }
}
