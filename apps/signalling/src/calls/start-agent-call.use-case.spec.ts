import type { AppConfig } from '@wagw/config';
import type { CallPatch, CallRecord, CallRepository } from '@wagw/call-state';
import { silentLogger } from '@wagw/logging';
import type { ContactsRepository } from '../contacts/contacts.repository';
import type { PermissionService } from '../permissions/permission.service';
import type { AgentDirectory } from '../sip/agent-directory';
import { CallRuntime } from './call-runtime';
import type { DialAgentUseCase } from './dial-agent.use-case';
import type { EndCallRequest, EndCallUseCase } from './end-call.use-case';
import { StartAgentCallUseCase } from './start-agent-call.use-case';

const SELF = 'host-self01';
const DEAD = 'host-dead01';
const WAIT_MS = 60_000;

/** The use case with a record kept in memory (amend as compare-and-set: the patch computed from the stored record). */
function setup(record: Partial<CallRecord>) {
  const store = { record: { callId: 'call_1', direction: 'outbound', version: 3, createdAt: Date.now() - 20_000, ...record } as CallRecord };
  const calls = {
    get: async () => store.record,
    amend: async (_id: string, patch: (current: CallRecord) => CallPatch) => {
      store.record = { ...store.record, ...patch(store.record), version: store.record.version + 1 };
      return store.record;
    },
  } as unknown as CallRepository;
  const ended: EndCallRequest[] = [];
  const endCall = { execute: async (_id: string, req: EndCallRequest) => void ended.push(req) } as unknown as EndCallUseCase;
  const runtime = new CallRuntime(silentLogger());
  const config = { signalling: { permissionWaitMs: WAIT_MS } } as AppConfig;
  const useCase = new StartAgentCallUseCase(config, calls, {} as PermissionService, {} as AgentDirectory, {} as ContactsRepository, runtime, {} as DialAgentUseCase, endCall, SELF);
  return { useCase, store, runtime, ended };
}

describe('StartAgentCallUseCase.adopt (a lost signalling process\'s call waiting for its permission reply)', () => {
  afterEach(() => jest.useRealTimers());

  it('records this process as the owner and runs the rest of the wait here, ending the call at its end', async () => {
    jest.useFakeTimers({ now: Date.now() });
    const { useCase, store, runtime, ended } = setup({ state: 'permission-pending', signallingInstance: DEAD });
    expect(await useCase.adopt(store.record, DEAD)).toBe(true);
    expect(store.record.signallingInstance).toBe(SELF);
    expect(runtime.get('call_1')?.timerCount).toBe(1);
    jest.advanceTimersByTime(WAIT_MS - 20_000 - 100);
    expect(ended).toEqual([]);
    jest.advanceTimersByTime(200); // created 20 s ago: 40 s of the wait were left
    expect(ended).toEqual([expect.objectContaining({ by: 'system', permissionExpired: true })]);
  });

  it('takes nothing another process moved on or took meanwhile', async () => {
    const moved = setup({ state: 'permission-pending', signallingInstance: DEAD });
    const listed = { ...moved.store.record };
    moved.store.record = { ...moved.store.record, state: 'dialing-pbx', signallingInstance: 'host-other1' }; // the reply reached another process
    expect(await moved.useCase.adopt(listed, DEAD)).toBe(false);
    expect(moved.store.record.signallingInstance).toBe('host-other1');
    expect(moved.runtime.get('call_1')).toBeUndefined();

    const ringing = setup({ state: 'ringing-pbx', signallingInstance: DEAD });
    expect(await ringing.useCase.adopt(ringing.store.record, DEAD)).toBe(false);
  });

  it('lets go of a call the reply moved on in another process when the wait ends (this one held only the timer)', async () => {
    jest.useFakeTimers({ now: Date.now() });
    const { useCase, store, runtime, ended } = setup({ state: 'permission-pending', signallingInstance: DEAD });
    expect(await useCase.adopt(store.record, DEAD)).toBe(true);
    store.record = { ...store.record, state: 'ringing-pbx', signallingInstance: 'host-other1' }; // the reply reached another process
    jest.advanceTimersByTime(WAIT_MS);
    await jest.runAllTimersAsync();
    expect(ended).toHaveLength(1); // asked (the machine finds it late: permission.expired is ignored there)
    expect(runtime.get('call_1')).toBeUndefined();
  });
});
