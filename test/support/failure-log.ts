import { readFileSync } from 'node:fs';
import { FAILED_FLAG } from './failure-aware-environment';

/** Whether the running test or one of its hooks has failed so far (set by FailureAwareEnvironment). */
export function currentTestFailed(): boolean {
  return (globalThis as Record<string, unknown>)[FAILED_FLAG] === true;
}

const INFO = 30;
const LEVELS: Record<number, string> = { 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };

/**
 * The info, warning and error lines of a pino log file (what an operator follows; the tests log at debug
 * level), one short line each (time, level, app, message, error, state/reason/status, call), the last `max` of them.
 */
export function operatorLinesOf(logFile: string, max = 50): string[] {
  let text: string;
  try {
    text = readFileSync(logFile, 'utf8');
  } catch {
    return [];
  }
  const lines: string[] = [];
  for (const raw of text.split('\n')) {
    if (!raw.includes('"level":')) continue;
    let entry: Record<string, unknown>;
    try {
      entry = JSON.parse(raw) as Record<string, unknown>;
    } catch {
      continue;
    }
    const level = Number(entry.level);
    if (!(level >= INFO)) continue;
    const time = typeof entry.time === 'string' ? entry.time.slice(11, 23) : '';
    const err = entry.err as { message?: string } | undefined;
    const fields = ['state', 'reason', 'status'].filter((k) => ['string', 'number'].includes(typeof entry[k])).map((k) => `${k}=${String(entry[k])}`);
    const call = entry.callId ?? entry.waCallId;
    lines.push(
      [time, LEVELS[level] ?? String(level), entry.name, entry.msg, err?.message ? `(${err.message})` : '', ...fields, call ? `call=${String(call)}` : '']
        .filter((part) => part !== '' && part !== undefined)
        .join(' '),
    );
  }
  return lines.slice(-max);
}

/** When the running test has failed: prints the last operator lines of `logFile` to stderr, for CI's output. */
export async function printWarningsIfFailed(logFile: string): Promise<void> {
  if (!currentTestFailed()) return;
  await new Promise((resolve) => setTimeout(resolve, 200)); // the apps' loggers write asynchronously
  const lines = operatorLinesOf(logFile);
  process.stderr.write(`\n--- the test failed; the last info, warning and error lines the apps logged (${logFile}):\n${lines.length ? lines.join('\n') : '(none)'}\n---\n`);
}
