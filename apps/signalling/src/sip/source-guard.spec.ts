import { silentLogger } from '@wagw/logging';
import { SourceGuard } from './source-guard';

describe('SourceGuard (pbx.authFailureLimit)', () => {
  let now: number;
  const guard = (maxFailures = 3, maxSources?: number): SourceGuard =>
    new SourceGuard({ maxFailures, windowMs: 60_000, blockMs: 600_000, logger: silentLogger(), now: () => now, ...(maxSources ? { maxSources } : {}) });

  beforeEach(() => {
    now = 1_000_000;
  });

  it('blocks a source at the limit within the window, for the block time, and only that source', () => {
    const g = guard();
    g.failed('192.0.2.7');
    g.failed('192.0.2.7');
    expect(g.blocked('192.0.2.7')).toBe(false);
    g.failed('192.0.2.7');
    expect(g.blocked('192.0.2.7')).toBe(true);
    expect(g.blocked('192.0.2.8')).toBe(false);
    expect(g.blockedCount).toBe(1);
    now += 600_000;
    expect(g.blocked('192.0.2.7')).toBe(false);
    expect(g.blockedCount).toBe(0);
  });

  it('forgets failures older than the window, and never blocks with a limit of 0', () => {
    const g = guard();
    g.failed('192.0.2.7');
    g.failed('192.0.2.7');
    now += 61_000;
    g.failed('192.0.2.7');
    expect(g.blocked('192.0.2.7')).toBe(false);
    const off = guard(0);
    for (let i = 0; i < 50; i++) off.failed('192.0.2.9');
    expect(off.blocked('192.0.2.9')).toBe(false);
  });

  it('tracks a bounded number of sources (a scan from many addresses cannot grow it without end)', () => {
    const g = guard(2, 100);
    for (let i = 0; i < 1000; i++) g.failed(`10.0.${i >> 8}.${i & 255}`);
    g.failed('10.0.3.231'); // the last one seen is still tracked: its second failure blocks it
    expect(g.blocked('10.0.3.231')).toBe(true);
    g.failed('10.0.0.0'); // the first one was forgotten: one failure again
    expect(g.blocked('10.0.0.0')).toBe(false);
  });
});
