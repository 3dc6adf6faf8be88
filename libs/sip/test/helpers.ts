import pino from 'pino';
import type { Logger } from '@wagw/logging';
import type { TypedEmitter } from '@wagw/sip';

/** A logger for SIP tests: silent unless a level is given (specs pass `process.env.SIP_TEST_LOG`). */
export function testLogger(level: string | undefined): Logger {
  return pino({ level: level ?? 'silent' }, pino.destination(2));
}

/**
 * Resolves with the arguments of the next `event` of `emitter`; rejects after `timeoutMs` (every wait in
 * a test is bounded) or when one of `failOn` fires first.
 */
export function nextEvent<E extends { [K in keyof E]: unknown[] }, K extends keyof E>(
  emitter: TypedEmitter<E>,
  event: K,
  timeoutMs = 10_000,
  failOn: (keyof E)[] = [],
): Promise<E[K]> {
  return new Promise((resolve, reject) => {
    const cleanups: (() => void)[] = [];
    const done = (): void => cleanups.forEach((c) => c());
    const timer = setTimeout(() => {
      done();
      reject(new Error(`no '${String(event)}' event within ${timeoutMs} ms`));
    }, timeoutMs);
    cleanups.push(() => clearTimeout(timer));
    const onEvent = (...args: E[K]): void => {
      done();
      resolve(args);
    };
    emitter.on(event, onEvent);
    cleanups.push(() => emitter.off(event, onEvent));
    for (const other of failOn) {
      const onOther = (...args: E[typeof other]): void => {
        done();
        reject(new Error(`'${String(other)}' came before '${String(event)}': ${JSON.stringify(args)}`));
      };
      emitter.on(other, onOther);
      cleanups.push(() => emitter.off(other, onOther));
    }
  });
}

/** An SDP offer/answer body for tests (PCMU + telephone-event) on the given RTP port. */
export function testSdp(port: number, address = '127.0.0.1'): string {
  return [
    'v=0',
    `o=- 1 1 IN IP4 ${address}`,
    's=-',
    `c=IN IP4 ${address}`,
    't=0 0',
    `m=audio ${port} RTP/AVP 0 101`,
    'a=rtpmap:0 PCMU/8000',
    'a=rtpmap:101 telephone-event/8000',
    'a=fmtp:101 0-16',
    'a=ptime:20',
    'a=sendrecv',
    '',
  ].join('\r\n');
}
