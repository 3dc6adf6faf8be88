import pino from 'pino';
import type { Logger } from '@wagw/logging';
import { TypedEmitter } from './typed-emitter';

interface Events {
  ping: [number];
  done: [];
}

class Pinger extends TypedEmitter<Events> {
  ping(n: number): boolean {
    return this.safeEmit('ping', n);
  }
}

function recordingLogger(): { logger: Logger; errors: string[] } {
  const errors: string[] = [];
  const logger = pino({ level: 'error' }, { write: (line: string) => void errors.push(JSON.parse(line).msg) });
  return { logger, errors };
}

describe('TypedEmitter', () => {
  it('calls every listener even when one throws, and logs the error', () => {
    const { logger, errors } = recordingLogger();
    const p = new Pinger(logger);
    const seen: number[] = [];
    p.on('ping', () => {
      throw new Error('listener bug');
    });
    p.on('ping', (n) => void seen.push(n));
    expect(p.ping(3)).toBe(true);
    expect(seen).toEqual([3]);
    expect(errors).toEqual(['event listener threw']);
  });

  it('logs a rejected async listener instead of leaving an unhandled rejection', async () => {
    const { logger, errors } = recordingLogger();
    const p = new Pinger(logger);
    p.on('ping', async () => {
      throw new Error('async bug');
    });
    p.ping(1);
    await new Promise((r) => setImmediate(r));
    expect(errors).toEqual(['event listener rejected']);
  });

  it('once() fires a single time and off() removes a listener', () => {
    const { logger } = recordingLogger();
    const p = new Pinger(logger);
    const once = jest.fn();
    const always = jest.fn();
    p.once('ping', once);
    p.on('ping', always);
    p.ping(1);
    p.ping(2);
    p.off('ping', always);
    p.ping(3);
    expect(once.mock.calls).toEqual([[1]]);
    expect(always.mock.calls).toEqual([[1], [2]]);
    expect(p.listenerCount('ping')).toBe(0);
    expect(p.ping(4)).toBe(false);
  });
});
