import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/** The console's files and their content types; nothing else is served (no path from the request reaches the disk). */
export const CONSOLE_FILES = {
  'index.html': 'text/html; charset=utf-8',
  'console.js': 'text/javascript; charset=utf-8',
  'console.css': 'text/css; charset=utf-8',
} as const;

export type ConsoleFile = keyof typeof CONSOLE_FILES;

const SOURCE_DIR = join('apps', 'signalling', 'src', 'console', 'assets');

/**
 * Where the console's static files are: `assets/` next to this module when run from the sources (ts-node,
 * jest), or the same folder in the sources above `dist/` (tsc copies no static files, so a built app reads
 * them from the repository checkout or the image, which keeps apps/ next to dist/).
 */
export function findConsoleAssetDir(start: string = __dirname): string | undefined {
  const local = join(start, 'assets');
  if (existsSync(join(local, 'index.html'))) return local;
  for (let dir = resolve(start); ; dir = dirname(dir)) {
    const candidate = join(dir, SOURCE_DIR);
    if (existsSync(join(candidate, 'index.html'))) return candidate;
    if (dirname(dir) === dir) return undefined;
  }
}

/** Reads every console file once; undefined when the folder is not there (an image built without it). */
export function loadConsoleAssets(dir: string | undefined = findConsoleAssetDir()): Record<ConsoleFile, Buffer> | undefined {
  if (!dir) return undefined;
  const out = {} as Record<ConsoleFile, Buffer>;
  for (const name of Object.keys(CONSOLE_FILES) as ConsoleFile[]) out[name] = readFileSync(join(dir, name));
  return out;
}
