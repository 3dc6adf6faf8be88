import type { CallRecord, CallRepository } from '@wagw/call-state';
import { silentLogger } from '@wagw/logging';
import type { EndCallUseCase } from '../calls/end-call.use-case';
import { MediaInstanceWatchdog } from './media-instance.watchdog';
import type { MediaRouter } from './media-router';

function setup(instanceOf: Record<string, string>, calls: Partial<CallRecord>[]) {
  let lost: string[] = [];
  const ended: Array<{ callId: string; cause: string }> = [];
  const router = {
    lostInstances: async () => lost,
    forCall: async (callId: string) => instanceOf[callId] as string,
  } as unknown as MediaRouter;
  const repo = { listActive: async () => calls as CallRecord[] } as unknown as CallRepository;
  const endCall = { execute: async (callId: string, req: { cause: string }) => void ended.push({ callId, cause: req.cause }) } as unknown as EndCallUseCase;
  const dog = new MediaInstanceWatchdog(silentLogger(), repo, endCall, router);
  return { dog, ended, setLost: (ids: string[]) => (lost = ids) };
}

describe('MediaInstanceWatchdog', () => {
  const calls: Partial<CallRecord>[] = [
    { callId: 'c1', state: 'active', waLegId: 'wa-1' },
    { callId: 'c2', state: 'active', waLegId: 'wa-2', pbxLegId: 'pbx-2' },
    { callId: 'c3', state: 'ending', waLegId: 'wa-3' },
    { callId: 'c4', state: 'offered' },
  ];
  const instanceOf = { c1: 'media-1', c2: 'media-2', c3: 'media-2', c4: 'media-2' };

  it('ends the live calls with media on an instance lost on two checks in a row, and only those', async () => {
    const { dog, ended, setLost } = setup(instanceOf, calls);
    setLost(['media-2']);
    await dog.check();
    expect(ended).toEqual([]); // one missed check is not enough
    await dog.check();
    expect(ended).toEqual([{ callId: 'c2', cause: 'media instance media-2 lost (no heartbeat)' }]);
  });

  it('forgives an instance whose heartbeat is back by the next check', async () => {
    const { dog, ended, setLost } = setup(instanceOf, calls);
    setLost(['media-2']);
    await dog.check();
    setLost([]);
    await dog.check();
    setLost(['media-2']);
    await dog.check();
    expect(ended).toEqual([]);
  });

  it('does nothing without a media router (a single media app)', async () => {
    const repo = { listActive: jest.fn() } as unknown as CallRepository;
    const dog = new MediaInstanceWatchdog(silentLogger(), repo, {} as EndCallUseCase, null);
    dog.onApplicationBootstrap();
    await dog.check();
    await dog.onApplicationShutdown();
    expect((repo.listActive as jest.Mock).mock.calls).toHaveLength(0);
  });
});
