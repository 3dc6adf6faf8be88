import { EMPTY, throwError } from 'rxjs';
import type { ClientProxy } from '@nestjs/microservices';
import type { SignallingInstanceRegistry } from '@wagw/call-state';
import { silentLogger } from '@wagw/logging';
import { CrmEventBus } from './crm-event-bus';
import { CRM_EVENT_SHARED, CrmEventRelay, PEER_LOOK_MS, SIGNALLING_HELLO } from './crm-event-relay';
import type { CrmEvent } from './crm-event.types';

const SELF = 'host-self01';

function setup(live: string[]) {
  const emitted: [string, unknown][] = [];
  const bus = {
    emit: (pattern: string, payload: unknown) => {
      emitted.push([pattern, payload]);
      return EMPTY;
    },
  } as unknown as ClientProxy;
  const registry = { live: async () => live } as unknown as SignallingInstanceRegistry;
  const events = new CrmEventBus(silentLogger());
  const relay = new CrmEventRelay(bus, SELF, registry, events, silentLogger());
  events.setShare(relay);
  const local: CrmEvent[] = [];
  const shared: CrmEvent[] = [];
  events.subscribe((e) => local.push(e)); // as the CRM webhook sender: this process's events only
  events.subscribe((e) => shared.push(e), { shared: true }); // as the SSE stream: every process's
  return { relay, events, emitted, local, shared };
}

const REMOTE: CrmEvent = { id: 'abc12-7', type: 'call.ended', at: 1, data: { callId: 'call_9', direction: 'inbound', cause: 'done', durationMs: 5 } };

describe('CrmEventRelay', () => {
  it('shares nothing while this is the only signalling process', async () => {
    const { relay, events, emitted, local, shared } = setup([SELF]);
    expect(await relay.look()).toBe(false);
    events.publish('call.ringing', { callId: 'call_1', side: 'user' });
    expect(emitted).toEqual([]);
    expect([local.length, shared.length]).toEqual([1, 1]);
  });

  it("shares this process's events once another runs, and gives the others' to the shared listeners only", async () => {
    const { relay, events, emitted, local, shared } = setup([SELF, 'host-other1']);
    expect(await relay.look()).toBe(true);
    const mine = events.publish('call.ringing', { callId: 'call_1', side: 'user' });
    expect(emitted).toEqual([[CRM_EVENT_SHARED, { v: 1, origin: SELF, event: mine }]]);
    relay.receive({ v: 1, origin: SELF, event: mine }); // its own, back from the bus: skipped
    relay.receive({ v: 1, origin: 'host-other1', event: REMOTE });
    expect(local.map((e) => e.id)).toEqual([mine.id]);
    expect(shared.map((e) => e.id)).toEqual([mine.id, REMOTE.id]);
  });

  it("shares from another process's hello on, without waiting for a look, and a look soon after keeps sharing", async () => {
    const { relay, events, emitted } = setup([SELF]);
    expect(await relay.look()).toBe(false);
    relay.helloFrom({ v: 1, origin: SELF }); // its own hello, back from the bus: nothing changes
    events.publish('call.ringing', { callId: 'call_1', side: 'user' });
    expect(emitted).toEqual([]);
    relay.helloFrom({ v: 1, origin: 'host-new001' });
    const after = events.publish('call.ringing', { callId: 'call_2', side: 'user' });
    expect(emitted).toEqual([[CRM_EVENT_SHARED, { v: 1, origin: SELF, event: after }]]);
    // the newcomer's heartbeat is not in the registry yet: the look keeps sharing for a while
    expect(await relay.look()).toBe(true);
  });

  it('stops sharing once the hold after a hello is over and no other heartbeat is found', async () => {
    const { relay } = setup([SELF]);
    const now = jest.spyOn(Date, 'now');
    try {
      now.mockReturnValue(1_000_000);
      relay.helloFrom({ v: 1, origin: 'host-new001' });
      now.mockReturnValue(1_000_000 + 2 * PEER_LOOK_MS + 1);
      expect(await relay.look()).toBe(false);
    } finally {
      now.mockRestore();
    }
  });

  it('says hello on the bus when it starts, and refuses a malformed hello', async () => {
    const { relay, emitted, events } = setup([SELF]);
    await relay.onApplicationBootstrap();
    relay.onApplicationShutdown();
    expect(emitted).toEqual([[SIGNALLING_HELLO, { v: 1, origin: SELF }]]);
    relay.helloFrom({ v: 1 });
    relay.helloFrom({ origin: 'host-new001' });
    relay.helloFrom('hello');
    events.setShare(relay);
    events.publish('call.ringing', { callId: 'call_1', side: 'user' });
    expect(emitted).toHaveLength(1);
  });

  it('logs a bus that fails to take an event, and the publisher goes on', async () => {
    const events = new CrmEventBus(silentLogger());
    const bus = { emit: () => throwError(() => new Error('Redis down')) } as unknown as ClientProxy;
    const relay = new CrmEventRelay(bus, SELF, { live: async () => [SELF, 'host-other1'] } as unknown as SignallingInstanceRegistry, events, silentLogger());
    events.setShare(relay);
    await relay.look();
    const local: CrmEvent[] = [];
    events.subscribe((e) => local.push(e));
    expect(() => events.publish('call.ringing', { callId: 'call_1', side: 'user' })).not.toThrow();
    await new Promise((resolve) => setImmediate(resolve)); // an unhandled observable error would surface here
    expect(local).toHaveLength(1);
  });

  it('refuses a malformed shared event and delivers nothing', () => {
    const { relay, shared } = setup([SELF]);
    relay.receive({ v: 1, origin: 'host-other1', event: { ...REMOTE, type: 'call.exploded' } });
    relay.receive({ v: 1, origin: 'host-other1', event: { ...REMOTE, id: 'no id' } });
    relay.receive({ origin: 'host-other1', event: REMOTE }); // no contract version
    relay.receive({ event: REMOTE });
    expect(shared).toEqual([]);
  });
});
