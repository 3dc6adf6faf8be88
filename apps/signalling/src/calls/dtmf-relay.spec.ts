import { silentLogger } from '@wagw/logging';
import type { MediaBusClient } from '../media/media-bus.client';
import type { CrmEventBus } from '../events/crm-event-bus';
import { CallRuntime, LiveCall } from './call-runtime';
import { DtmfRelay } from './dtmf-relay';

/** The media bus is replaced by a recorder whose replies the test releases in any order. */
function setup(): { relay: DtmfRelay; started: string[]; release: (digit: string) => void; published: string[] } {
  const started: string[] = [];
  const waiting = new Map<string, () => void>();
  const media = {
    sendDtmf: (_callId: string, _toward: string, digit: string) =>
      new Promise<void>((resolve) => {
        started.push(digit);
        waiting.set(digit, resolve);
      }),
  } as unknown as MediaBusClient;
  const published: string[] = [];
  const events = { publish: (_name: string, e: { digit: string }) => void published.push(e.digit) } as unknown as CrmEventBus;
  const relay = new DtmfRelay(media, events, new CallRuntime(silentLogger()));
  return { relay, started, published, release: (digit) => waiting.get(digit)?.() };
}

const flush = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('DtmfRelay.fromSipInfo', () => {
  it("relays one call's digits one after the other, in the order the INFOs came", async () => {
    const { relay, started, release, published } = setup();
    const live = new LiveCall('call-1', silentLogger());
    const all = [relay.fromSipInfo(live, '4', 250), relay.fromSipInfo(live, '#', 100), relay.fromSipInfo(live, 'B', 400)];
    await flush();
    expect(started).toEqual(['4']); // '#' waits for '4' to be taken by the media app
    release('4');
    await flush();
    expect(started).toEqual(['4', '#']);
    release('#');
    await flush();
    release('B');
    await Promise.all(all);
    expect(started).toEqual(['4', '#', 'B']);
    expect(published).toEqual(['4', '#', 'B']);
  });

  it('does not hold one call behind another', async () => {
    const { relay, started, release } = setup();
    void relay.fromSipInfo(new LiveCall('call-1', silentLogger()), '1');
    void relay.fromSipInfo(new LiveCall('call-2', silentLogger()), '2');
    await flush();
    expect(started).toEqual(['1', '2']);
    release('1');
    release('2');
  });
});
