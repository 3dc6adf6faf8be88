import type { CallRecord, CallRepository, SignallingInstanceRegistry } from '@wagw/call-state';
import { silentLogger } from '@wagw/logging';
import { SignallingMetrics } from '../metrics/signalling-metrics';
import type { EndCallRequest, EndCallUseCase } from './end-call.use-case';
import { SignallingInstanceWatchdog, newSignallingInstanceId } from './signalling-instance.watchdog';
import type { StartAgentCallUseCase } from './start-agent-call.use-case';

const SELF = 'host-self01';

/** Live calls by owner, a registry whose lost instances the test sets, and an end-call use case that records. */
function setup(options: { calls: Partial<CallRecord>[]; claim?: boolean; failEnd?: string; adopts?: (call: CallRecord) => Promise<boolean> }) {
  const state = { lost: [] as string[], forgotten: [] as string[], claims: [] as string[] };
  const ended: [string, EndCallRequest][] = [];
  const registry = {
    heartbeat: async () => undefined,
    lost: async () => state.lost,
    claim: async (id: string) => {
      state.claims.push(id);
      return options.claim ?? true;
    },
    forget: async (id: string) => void state.forgotten.push(id),
  } as unknown as SignallingInstanceRegistry;
  const calls = { listActive: async () => options.calls as CallRecord[] } as unknown as CallRepository;
  const endCall = {
    execute: async (callId: string, req: EndCallRequest) => {
      if (callId === options.failEnd) throw new Error('Graph unreachable');
      ended.push([callId, req]);
    },
  } as unknown as EndCallUseCase;
  const metrics = new SignallingMetrics({ defaultMetrics: false });
  const adopted: [string, string][] = [];
  const agentCalls = options.adopts
    ? ({
        adopt: async (call: CallRecord, lost: string) => {
          const taken = await (options.adopts as (c: CallRecord) => Promise<boolean>)(call);
          if (taken) adopted.push([call.callId, lost]);
          return taken;
        },
      } as unknown as StartAgentCallUseCase)
    : undefined;
  return { watchdog: new SignallingInstanceWatchdog(silentLogger(), SELF, registry, calls, endCall, metrics, agentCalls), state, ended, metrics, adopted };
}

const calls: Partial<CallRecord>[] = [
  { callId: 'c1', state: 'active', signallingInstance: 'host-dead01' },
  { callId: 'c2', state: 'ringing-pbx', signallingInstance: SELF },
  { callId: 'c3', state: 'ending', signallingInstance: 'host-dead01' },
  { callId: 'c4', state: 'active', signallingInstance: 'host-other1' },
  { callId: 'c5', state: 'active' },
];

describe('SignallingInstanceWatchdog', () => {
  it("ends the calls of an instance whose heartbeat is missing on two looks in a row, only those, then forgets it", async () => {
    const { watchdog, state, ended, metrics } = setup({ calls });
    state.lost = ['host-dead01'];
    await watchdog.check();
    expect(ended).toEqual([]); // once is not enough: a heartbeat a little late
    await watchdog.check();
    expect(ended).toEqual([
      ['c1', { by: 'system', cause: 'signalling instance host-dead01 lost' }],
      ['c3', { by: 'system', cause: 'signalling instance host-dead01 lost' }],
    ]);
    expect(state.forgotten).toEqual(['host-dead01']);
    const text = await metrics.registry.metrics();
    expect(text).toMatch(/^wagw_signalling_instances_lost_total 1$/m);
    expect(text).toMatch(/^wagw_orphaned_calls_ended_total 2$/m);
  });

  it('takes over the agent calls of a lost instance that still wait for their permission reply, and ends one it could not take', async () => {
    const waiting: Partial<CallRecord>[] = [
      { callId: 'p1', state: 'permission-pending', signallingInstance: 'host-dead01' },
      { callId: 'p2', state: 'permission-pending', signallingInstance: 'host-dead01' },
      { callId: 'c1', state: 'active', signallingInstance: 'host-dead01' },
    ];
    // p2 moved on between the list and the take-over (its reply came): adopt says no, and it is ended as any other
    const { watchdog, state, ended, adopted, metrics } = setup({ calls: waiting, adopts: async (c) => c.callId === 'p1' });
    state.lost = ['host-dead01'];
    await watchdog.check();
    await watchdog.check();
    expect(adopted).toEqual([['p1', 'host-dead01']]);
    expect(ended.map(([id]) => id)).toEqual(['p2', 'c1']);
    expect(state.forgotten).toEqual(['host-dead01']);
    expect(await metrics.registry.metrics()).toMatch(/^wagw_orphaned_calls_ended_total 2$/m);
  });

  it('gives an instance that beats again between two looks nothing to fear', async () => {
    const { watchdog, state, ended } = setup({ calls });
    state.lost = ['host-dead01'];
    await watchdog.check();
    state.lost = [];
    await watchdog.check();
    state.lost = ['host-dead01'];
    await watchdog.check();
    expect(ended).toEqual([]);
    expect(state.claims).toEqual([]);
  });

  it('never ends its own calls, and leaves a lost instance another process claimed to that one', async () => {
    const own = setup({ calls });
    own.state.lost = [SELF];
    await own.watchdog.check();
    await own.watchdog.check();
    expect(own.ended).toEqual([]);

    const other = setup({ calls, claim: false });
    other.state.lost = ['host-dead01'];
    await other.watchdog.check();
    await other.watchdog.check();
    expect(other.state.claims).toEqual(['host-dead01']);
    expect(other.ended).toEqual([]);
  });

  it('does not forget an instance one of whose calls could not be ended (a later look tries again)', async () => {
    const { watchdog, state, ended, metrics } = setup({ calls, failEnd: 'c1' });
    state.lost = ['host-dead01'];
    await watchdog.check();
    await watchdog.check();
    expect(ended.map(([id]) => id)).toEqual(['c3']);
    expect(state.forgotten).toEqual([]);
    const text = await metrics.registry.metrics();
    expect(text).toMatch(/^wagw_signalling_instances_lost_total 0$/m); // counted once all its calls are ended
    expect(text).toMatch(/^wagw_orphaned_calls_ended_total 1$/m);
  });
});

describe('newSignallingInstanceId', () => {
  it('is the host name as a key part allows and 6 random hex digits, new every time', () => {
    expect(newSignallingInstanceId('gw-1.example.com')).toMatch(/^gw-1\.example\.com-[0-9a-f]{6}$/);
    expect(newSignallingInstanceId('a b*c')).toMatch(/^a-b-c-[0-9a-f]{6}$/);
    expect(newSignallingInstanceId('')).toMatch(/^signalling-[0-9a-f]{6}$/);
    expect(newSignallingInstanceId('h')).not.toBe(newSignallingInstanceId('h'));
  });
});
