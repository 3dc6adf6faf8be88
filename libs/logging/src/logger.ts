import pino from 'pino';
import { redactSecrets } from './redact';

/**
 * The Logger port protocol code depends on. pino satisfies it; tests pass a silent one.
 * Bind per-call context with child({ callId, waCallId, sipCallId, direction }).
 */
export interface Logger {
  trace(obj: object | string, msg?: string): void;
  debug(obj: object | string, msg?: string): void;
  info(obj: object | string, msg?: string): void;
  warn(obj: object | string, msg?: string): void;
  error(obj: object | string, msg?: string): void;
  fatal(obj: object | string, msg?: string): void;
  child(bindings: Record<string, unknown>): Logger;
}

export interface LoggerOptions {
  name: string;
  level: string;
  pretty?: boolean;
  destination?: pino.DestinationStream;
}

export function createLogger(options: LoggerOptions): pino.Logger {
  return pino(
    {
      name: options.name,
      level: options.level,
      // secrets by field name (redact.ts), not pino's `redact` paths: those are parsed again on every call
      formatters: { log: (obj) => redactSecrets(obj) },
      base: { app: options.name },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    options.destination ?? pino.destination({ sync: false }),
  );
}

/** A logger that drops everything: for unit tests and tools. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

/** Per-call child logger with the identifiers an operator greps for. */
export function callLogger(
  base: Logger,
  ids: { callId?: string; waCallId?: string; sipCallId?: string; direction?: string },
): Logger {
  const bindings: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(ids)) if (v !== undefined) bindings[k] = v;
  return base.child(bindings);
}
