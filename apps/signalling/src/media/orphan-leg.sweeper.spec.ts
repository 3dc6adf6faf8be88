import type { CallRepository } from '@wagw/call-state';
import type { AppConfig } from '@wagw/config';
import type { ListLegsReply } from '@wagw/contracts';
import { silentLogger } from '@wagw/logging';
import { SignallingMetrics } from '../metrics/signalling-metrics';
import type { MediaBusClient } from './media-bus.client';
import { OrphanLegSweeper } from './orphan-leg.sweeper';

type Listing = ListLegsReply | Error;

function setup(listings: Record<string, Listing>, liveCalls: string[], opts: { failClose?: string[]; everyMs?: number } = {}) {
  const closed: string[] = [];
  const released: string[] = [];
  const asked: string[][] = [];
  const media = {
    mediaInstanceIds: Object.keys(listings),
    listLegs: async (instanceId: string) => {
      const l = listings[instanceId] as Listing;
      if (l instanceof Error) throw l;
      return l;
    },
    closeLegOn: async (instanceId: string, kind: string, callId: string, legId: string) => {
      if (opts.failClose?.includes(legId)) throw new Error('deadline exceeded');
      closed.push(`${instanceId}/${kind}/${callId}/${legId}`);
    },
    releaseCall: async (callId: string) => void released.push(callId),
  } as unknown as MediaBusClient;
  const renewed: string[][] = [];
  const calls = {
    liveAmong: async (ids: readonly string[]) => {
      asked.push([...ids]);
      return new Map(ids.filter((id) => liveCalls.includes(id)).map((id) => [id, undefined]));
    },
    renewLive: async (live: ReadonlyMap<string, string | undefined>) => {
      renewed.push([...live.keys()]);
      return live.size;
    },
  } as unknown as CallRepository;
  const config = { signalling: { orphanLegSweepMs: opts.everyMs ?? 60_000 } } as AppConfig;
  const metrics = new SignallingMetrics({ defaultMetrics: false });
  const sweeper = new OrphanLegSweeper(config, silentLogger(), calls, media, metrics);
  return { sweeper, closed, released, asked, renewed, metrics };
}

const v = 1 as const;

describe('OrphanLegSweeper', () => {
  it('closes the legs old enough whose call has no live record, on the instance that listed them, and forgets their calls', async () => {
    const { sweeper, closed, released, asked, renewed, metrics } = setup(
      {
        'media-1': {
          v,
          legs: [
            { callId: 'live', legId: 'wa-live', state: 'connected', ageMs: 90_000 },
            { callId: 'gone', legId: 'wa-gone', state: 'failed', ageMs: 61_000 },
            { callId: 'young', legId: 'wa-young', state: 'new', ageMs: 500 },
          ],
          pbxLegs: [{ callId: 'gone', legId: 'pbx-gone', state: 'offered', ageMs: 61_000 }],
        },
        'media-2': { v, legs: [], pbxLegs: [{ callId: 'ended', legId: 'pbx-ended', state: 'negotiated', ageMs: 120_000 }] },
      },
      ['live'],
    );
    const report = await sweeper.sweep();
    expect(report).toEqual({ legs: 5, closed: 3, unreachable: [] });
    expect(closed).toEqual(['media-1/wa/gone/wa-gone', 'media-1/pbx/gone/pbx-gone', 'media-2/pbx/ended/pbx-ended']);
    expect(released.sort()).toEqual(['ended', 'gone']);
    // a young leg's call is not even looked up: it may be a call being set up whose record is on its way
    expect(asked).toEqual([['live', 'gone', 'ended']]);
    // the live call's record is kept alive while its legs are held
    expect(renewed).toEqual([['live']]);
    const text = await metrics.registry.metrics();
    expect(text).toMatch(/^wagw_orphan_legs_closed_total\{kind="wa"\} 1$/m);
    expect(text).toMatch(/^wagw_orphan_legs_closed_total\{kind="pbx"\} 2$/m);
  });

  it('sweeps the instances that answer when one does not, and reports the one that did not', async () => {
    const { sweeper, closed } = setup(
      {
        'media-1': new Error('deadline exceeded'),
        'media-2': { v, legs: [{ callId: 'gone', legId: 'wa-gone', state: 'failed', ageMs: 70_000 }] },
      },
      [],
    );
    expect(await sweeper.sweep()).toEqual({ legs: 1, closed: 1, unreachable: ['media-1'] });
    expect(closed).toEqual(['media-2/wa/gone/wa-gone']);
  });

  it('goes on past a leg it could not close, counts only those closed, and keeps that call known to the router', async () => {
    const { sweeper, closed, released } = setup(
      {
        '': {
          v,
          legs: [{ callId: 'a', legId: 'wa-a', state: 'failed', ageMs: 70_000 }],
          pbxLegs: [{ callId: 'b', legId: 'pbx-b', state: 'offered', ageMs: 70_000 }],
        },
      },
      [],
      { failClose: ['wa-a'] },
    );
    expect(await sweeper.sweep()).toEqual({ legs: 2, closed: 1, unreachable: [] });
    expect(closed).toEqual(['/pbx/b/pbx-b']);
    expect(released).toEqual(['b']);
  });

  it('takes the least age given to one sweep (tests, operators) over the configured one', async () => {
    const { sweeper, closed } = setup({ '': { v, legs: [{ callId: 'x', legId: 'wa-x', state: 'new', ageMs: 10 }] } }, []);
    expect((await sweeper.sweep()).closed).toBe(0);
    expect((await sweeper.sweep(0)).closed).toBe(1);
    expect(closed).toEqual(['/wa/x/wa-x']);
  });

  it('reads no record when no leg is old enough, and runs no timer when turned off (0)', async () => {
    const { sweeper, asked } = setup({ '': { v, legs: [{ callId: 'x', legId: 'wa-x', state: 'new', ageMs: 10 }] } }, [], { everyMs: 0 });
    const spy = jest.spyOn(global, 'setInterval');
    sweeper.onApplicationBootstrap();
    expect(spy).not.toHaveBeenCalled();
    spy.mockRestore();
    expect(await sweeper.sweep(1000)).toEqual({ legs: 1, closed: 0, unreachable: [] });
    expect(asked).toEqual([]);
    await sweeper.onApplicationShutdown();
  });

  it('never throws: a failed record read is logged and the sweep reports nothing closed', async () => {
    const { sweeper } = setup({ '': { v, legs: [{ callId: 'x', legId: 'wa-x', state: 'new', ageMs: 70_000 }] } }, []);
    (sweeper as unknown as { calls: { liveAmong: () => Promise<never> } }).calls.liveAmong = async () => {
      throw new Error('Redis down');
    };
    expect(await sweeper.sweep()).toEqual({ legs: 0, closed: 0, unreachable: [] });
  });
});
