import { parseSippStats } from './sipp';

describe('SIPp -trace_stat parsing', () => {
  it('reads the cumulative counters from the last row', () => {
    const csv = [
      'StartTime;TotalCallCreated;CurrentCall;SuccessfulCall(P);SuccessfulCall(C);FailedCall(P);FailedCall(C);',
      '2026-01-01 00:00:00;0;0;0;0;0;0;',
      '2026-01-01 00:00:01;3;0;2;2;1;1;',
      '2026-01-01 00:00:02;3;0;0;2;0;1;',
      '',
    ].join('\n');
    const stats = parseSippStats(csv);
    expect(stats).toMatchObject({ created: 3, successful: 2, failed: 1 });
    expect(stats?.raw['StartTime']).toBe('2026-01-01 00:00:02');
  });

  it('has no stats without a data row', () => {
    expect(parseSippStats('')).toBeUndefined();
    expect(parseSippStats('StartTime;TotalCallCreated;\n')).toBeUndefined();
  });
});
