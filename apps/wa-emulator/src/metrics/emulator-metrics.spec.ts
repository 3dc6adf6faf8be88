import { EmulatorMetrics } from './emulator-metrics';

describe('EmulatorMetrics', () => {
  it('counts the calls it knows by state (0 for empty states) and the simulated users, at scrape time', async () => {
    const calls: Record<string, unknown>[] = [{ state: 'accepted' }, { state: 'accepted' }, { state: 'ended' }, { state: 'bogus' }];
    const users = ['15550001', '15550002', '15550003'];
    const m = new EmulatorMetrics({ listCalls: () => calls, listUsers: () => users }, { defaultMetrics: false });

    const text = await m.metrics();
    expect(text).toMatch(/^wagw_emulator_calls\{state="accepted"\} 2$/m);
    expect(text).toMatch(/^wagw_emulator_calls\{state="ended"\} 1$/m);
    expect(text).toMatch(/^wagw_emulator_calls\{state="ringing"\} 0$/m);
    expect(text).not.toMatch(/bogus/);
    expect(text).toMatch(/^wagw_emulator_users 3$/m);
    calls.length = 0;
    expect(await m.metrics()).toMatch(/^wagw_emulator_calls\{state="accepted"\} 0$/m);
  });

  it('adds process metrics on its own registry', async () => {
    const m = new EmulatorMetrics({ listCalls: () => [], listUsers: () => [] });
    expect(await m.metrics()).toMatch(/^nodejs_eventloop_lag_seconds /m);
  });
});
