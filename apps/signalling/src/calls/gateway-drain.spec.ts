import type { CallRepository } from '@wagw/call-state';
import type { AppConfig } from '@wagw/config';
import { silentLogger } from '@wagw/logging';
import type { CallRuntime } from './call-runtime';
import type { EndCallRequest, EndCallUseCase } from './end-call.use-case';
import { DRAINING_CAUSE, GatewayDrain, GatewayDrainingError } from './gateway-drain';

/** A runtime holding `ids`, and an end-call use case that records what it ended and drops the call. */
function setup(ids: string[], drainTimeoutS: number) {
  const live = new Set(ids);
  const ended: [string, EndCallRequest][] = [];
  const runtime = { get size() { return live.size; }, callIds: () => [...live] } as unknown as CallRuntime;
  const endCall = {
    execute: async (callId: string, req: EndCallRequest) => {
      ended.push([callId, req]);
      live.delete(callId);
    },
  } as unknown as EndCallUseCase;
  const config = { signalling: { drainTimeoutS } } as AppConfig;
  return { drain: new GatewayDrain(config, silentLogger(), runtime, endCall), live, ended };
}

describe('GatewayDrain', () => {
  it('takes calls until shutdown starts, then refuses new ones', async () => {
    const { drain } = setup([], 5);
    expect(drain.draining).toBe(false);
    expect(() => drain.assertTakingCalls()).not.toThrow();
    await drain.beforeApplicationShutdown('SIGTERM');
    expect(drain.draining).toBe(true);
    expect(() => drain.assertTakingCalls()).toThrow(GatewayDrainingError);
  });

  it('waits for the calls in progress to end by themselves, and ends none', async () => {
    const { drain, live, ended } = setup(['c1', 'c2'], 30);
    setTimeout(() => live.delete('c1'), 100);
    setTimeout(() => live.delete('c2'), 300);
    const started = Date.now();
    await drain.beforeApplicationShutdown('SIGTERM');
    expect(Date.now() - started).toBeLessThan(2000); // done once the last call ended, not at the 30 s limit
    expect(ended).toEqual([]);
  });

  it('ends the calls still up when the drain time is over, as the system, with the shutdown cause', async () => {
    const { drain, live, ended } = setup(['c1', 'c2'], 1);
    setTimeout(() => live.delete('c1'), 100);
    const started = Date.now();
    await drain.beforeApplicationShutdown('SIGTERM');
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(ended).toEqual([['c2', { by: 'system', cause: DRAINING_CAUSE }]]);
  });

  it('with a drain time of 0 ends every call at once', async () => {
    const { drain, ended } = setup(['c1'], 0);
    await drain.beforeApplicationShutdown();
    expect(ended.map(([id]) => id)).toEqual(['c1']);
  });

  it("lets go of the calls another signalling process carries now (only a timer of theirs is here), and ends none of them", async () => {
    const live = new Set(['mine', 'theirs']);
    const ended: string[] = [];
    const runtime = {
      get size() {
        return live.size;
      },
      callIds: () => [...live],
      dispose: (id: string) => void live.delete(id),
    } as unknown as CallRuntime;
    const endCall = { execute: async (callId: string) => void ended.push(callId) } as unknown as EndCallUseCase;
    const owners: Record<string, string> = { mine: 'host-self01', theirs: 'host-other1' };
    const calls = { get: async (id: string) => ({ callId: id, signallingInstance: owners[id] }) } as unknown as CallRepository;
    const drain = new GatewayDrain({ signalling: { drainTimeoutS: 0 } } as AppConfig, silentLogger(), runtime, endCall, calls, 'host-self01');
    await drain.beforeApplicationShutdown('SIGTERM');
    expect(ended).toEqual(['mine']);
    expect(live.has('theirs')).toBe(false);
  });
});
