import { UsageError } from './cli.errors';

/** The environment variables `wagw` reads (main.ts hands them over; nothing else reads process.env). */
export interface CliEnv {
  /** WAGW_URL: the signalling app (default http://127.0.0.1:8080). */
  url: string;
  /** WAGW_TOKEN: bearer token of the /v1 API (signalling.apiToken). */
  token: string | undefined;
  /** WAGW_EMULATOR_URL: the WhatsApp emulator (default http://127.0.0.1:8090). */
  emulatorUrl: string;
}

export const DEFAULT_URL = 'http://127.0.0.1:8080';
export const DEFAULT_EMULATOR_URL = 'http://127.0.0.1:8090';

/** An http(s) URL without a trailing slash; the option or variable name goes into the error. */
export function httpUrl(raw: string, what: string): string {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new UsageError(`${what} must be an http:// or https:// URL, got ${JSON.stringify(raw)}`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new UsageError(`${what} must be an http:// or https:// URL, got ${JSON.stringify(raw)}`);
  return raw.replace(/\/+$/, '');
}

export function readCliEnv(env: Readonly<Record<string, string | undefined>>): CliEnv {
  return {
    url: httpUrl(env['WAGW_URL'] || DEFAULT_URL, 'WAGW_URL'),
    token: env['WAGW_TOKEN'] || undefined,
    emulatorUrl: httpUrl(env['WAGW_EMULATOR_URL'] || DEFAULT_EMULATOR_URL, 'WAGW_EMULATOR_URL'),
  };
}
