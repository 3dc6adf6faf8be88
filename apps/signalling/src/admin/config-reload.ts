import { configKeys, type AppConfig } from '@wagw/config';

/** Keys a reload applies to a running gateway; every other change needs a restart. */
export const RELOADABLE_KEYS = ['pbx.trunks', 'pbx.routes', 'pbx.dnsServers'] as const;

export interface ReloadPlan {
  /** Reloadable keys whose value changed (applied by the reload). */
  apply: string[];
  /** Other keys whose value differs from what the gateway runs with (reported, not applied). */
  restartNeeded: string[];
}

function valueAt(config: Readonly<AppConfig>, path: string): string {
  const v = path.split('.').reduce<unknown>((node, part) => (node as Record<string, unknown> | undefined)?.[part], config);
  return JSON.stringify(v) ?? 'undefined';
}

/**
 * What a reload to `next` changes: reloadable keys are compared with the configuration in force
 * (`current`: the boot one, or the last reload's), the others with the one the process started with
 * (`boot`), since they were never applied. Only key paths are returned, never values (secrets).
 */
export function planReload(boot: Readonly<AppConfig>, current: Readonly<AppConfig>, next: Readonly<AppConfig>): ReloadPlan {
  const reloadable = new Set<string>(RELOADABLE_KEYS);
  const plan: ReloadPlan = { apply: [], restartNeeded: [] };
  for (const { path } of configKeys()) {
    if (reloadable.has(path)) {
      if (valueAt(current, path) !== valueAt(next, path)) plan.apply.push(path);
    } else if (valueAt(boot, path) !== valueAt(next, path)) {
      plan.restartNeeded.push(path);
    }
  }
  return plan;
}
