import { Writable } from 'node:stream';
import { createLogger, callLogger } from './logger';

function capture(): { lines: string[]; stream: Writable } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(chunk.toString());
      cb();
    },
  });
  return { lines, stream };
}

describe('createLogger', () => {
  it('never writes secrets or tokens', () => {
    const { lines, stream } = capture();
    const log = createLogger({ name: 't', level: 'info', destination: stream });
    log.info({ accessToken: 'EAAG-secret', config: { whatsapp: { appSecret: 'shh' } }, headers: { authorization: 'Bearer x' } }, 'boot');
    const out = lines.join('');
    expect(out).not.toContain('EAAG-secret');
    expect(out).not.toContain('shh');
    expect(out).not.toContain('Bearer x');
    expect(out).toContain('[redacted]');
  });

  it('censors a secret on a logged error and still writes the error (type, message, stack)', () => {
    const { lines, stream } = capture();
    const log = createLogger({ name: 't', level: 'info', destination: stream });
    log.error({ err: Object.assign(new TypeError('trunk refused'), { password: 'pw-123' }), trunk: { name: 'pbx', password: 'pw-456' } }, 'failed');
    const rec = JSON.parse(lines[0] ?? '{}') as { err?: Record<string, unknown>; trunk?: Record<string, unknown> };
    expect(lines.join('')).not.toMatch(/pw-123|pw-456/);
    expect(rec.err).toMatchObject({ type: 'TypeError', message: 'trunk refused', password: '[redacted]' });
    expect(String(rec.err?.['stack'])).toContain('trunk refused');
    expect(rec.trunk).toEqual({ name: 'pbx', password: '[redacted]' });
  });

  it('binds call identifiers on a per-call child logger', () => {
    const { lines, stream } = capture();
    const log = callLogger(createLogger({ name: 't', level: 'info', destination: stream }), { callId: 'c1', waCallId: 'wacid.X' });
    log.info('ringing');
    const rec = JSON.parse(lines[0] ?? '{}') as Record<string, unknown>;
    expect(rec).toMatchObject({ callId: 'c1', waCallId: 'wacid.X', msg: 'ringing' });
  });
});
