import { configKeys } from './load-config';
import { loadConfig } from './load-config';

/** The README's configuration reference: one row per key with its env variable, default and meaning. */
export function renderConfigReference(configDir?: string): string {
  const defaults = loadConfig({ env: {}, ...(configDir ? { configDir } : {}) }) as unknown as Record<string, unknown>;
  const rows = configKeys().map((k) => {
    const value = k.path.split('.').reduce<unknown>((node, part) => (node as Record<string, unknown>)?.[part], defaults);
    const shown = /token|secret/i.test(k.path) ? '(set it)' : `\`${JSON.stringify(value)}\``;
    return `| \`${k.path}\` | \`${k.envName}\` | ${shown} | ${k.description} |`;
  });
  return ['| key | environment | default | meaning |', '|---|---|---|---|', ...rows].join('\n');
}
