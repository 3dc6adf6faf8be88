import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { operatorLinesOf } from '../support/failure-log';

describe('operatorLinesOf (what a failed e2e test prints of the apps log)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'failure-log-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps info and above as short lines with the call, state, reason and error, and only the last ones', () => {
    const file = join(dir, 'a.log');
    writeFileSync(
      file,
      [
        '{"level":20,"time":"2026-11-26T10:00:00.001Z","name":"media","msg":"debug detail"}',
        '{"level":30,"time":"2026-11-26T10:00:00.002Z","name":"media","msg":"WhatsApp leg state","state":"failed","callId":"call_1"}',
        'not json at all',
        '{"level":50,"time":"2026-11-26T10:00:00.003Z","name":"signalling","msg":"call failed","err":{"message":"boom"},"reason":"media","waCallId":"wacid.X"}',
        '',
      ].join('\n'),
    );
    expect(operatorLinesOf(file)).toEqual([
      '10:00:00.002 INFO media WhatsApp leg state state=failed call=call_1',
      '10:00:00.003 ERROR signalling call failed (boom) reason=media call=wacid.X',
    ]);
    expect(operatorLinesOf(file, 1)).toEqual(['10:00:00.003 ERROR signalling call failed (boom) reason=media call=wacid.X']);
  });

  it('returns nothing for a log file that does not exist', () => {
    expect(operatorLinesOf(join(dir, 'missing.log'))).toEqual([]);
  });
});
