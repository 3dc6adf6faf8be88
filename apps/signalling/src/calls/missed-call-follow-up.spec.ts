import type { Redis } from 'ioredis';
import type { AppConfig } from '@wagw/config';
import { silentLogger } from '@wagw/logging';
import type { PermissionDecision } from '@wagw/permissions';
import type { WhatsAppGraphClient } from '@wagw/whatsapp';
import { CrmEventBus } from '../events/crm-event-bus';
import type { CrmEvent } from '../events/crm-event.types';
import type { PermissionService } from '../permissions/permission.service';
import { MissedCallFollowUp } from './missed-call-follow-up';

type Action = 'off' | 'call_button' | 'permission_request';

/** A Redis with SET NX PX and DEL on a map (no expiry: the tests do not wait for it). */
function fakeRedis(): { redis: Redis; keys: Map<string, string> } {
  const keys = new Map<string, string>();
  const redis = {
    set: async (key: string, value: string, _px: string, _ms: number, nx: string) => {
      if (nx === 'NX' && keys.has(key)) return null;
      keys.set(key, value);
      return 'OK';
    },
    del: async (key: string) => Number(keys.delete(key)),
  } as unknown as Redis;
  return { redis, keys };
}

function setup(o: { action: Action; minIntervalS?: number; decision?: PermissionDecision; sendFails?: boolean }) {
  const config = {
    redis: { keyPrefix: 'wagw' },
    signalling: { missedCallFollowUp: { action: o.action, bodyText: 'Sorry we missed you', displayText: 'Call us', payload: 'missed-call', ttlMinutes: 60, minIntervalS: o.minIntervalS ?? 86400 } },
  } as unknown as AppConfig;
  const { redis, keys } = fakeRedis();
  const sent: unknown[] = [];
  const graph = {
    sendCallButton: async (input: unknown) => {
      if (o.sendFails) throw new Error('Graph API error 131047');
      sent.push(input);
      return { messageId: `wamid.${sent.length}` };
    },
  } as unknown as WhatsAppGraphClient;
  const requested: [string, unknown][] = [];
  const permissions = {
    decideForCall: async () => o.decision ?? { action: 'request', state: 'none' },
    request: async (waId: string, opts: unknown) => {
      requested.push([waId, opts]);
      return { messageId: 'wamid.REQ' };
    },
  } as unknown as PermissionService;
  const bus = new CrmEventBus(silentLogger());
  const events: CrmEvent[] = [];
  bus.subscribe((e) => void events.push(e));
  const followUp = new MissedCallFollowUp(config, redis, graph, silentLogger(), bus, permissions);
  followUp.onModuleInit();
  const end = (callId: string, over: Partial<{ direction: 'inbound' | 'outbound'; durationMs: number; waId: string }> = {}): void =>
    void bus.publish('call.ended', { callId, direction: 'inbound', cause: 'PBX busy', durationMs: 0, waId: '15552223333', ...over });
  return { followUp, end, sent, requested, events, keys };
}

const followUps = (events: CrmEvent[]): unknown[] => events.filter((e) => e.type === 'call.follow_up_sent').map((e) => e.data);

describe('MissedCallFollowUp', () => {
  it('sends a call button after an inbound call nobody answered, once per user within minIntervalS', async () => {
    const { followUp, end, sent, events, keys } = setup({ action: 'call_button' });
    end('call_1');
    await followUp.idle();
    end('call_2'); // missed again the same day: nothing more
    await followUp.idle();
    expect(sent).toEqual([{ to: '15552223333', bodyText: 'Sorry we missed you', displayText: 'Call us', ttlMinutes: 60, payload: 'missed-call' }]);
    expect(followUps(events)).toEqual([{ callId: 'call_1', waId: '15552223333', action: 'call_button', messageId: 'wamid.1' }]);
    expect([...keys]).toEqual([['wagw:followup:15552223333', 'call_1']]);
  });

  it('leaves answered calls, business-initiated calls and action off alone', async () => {
    const on = setup({ action: 'call_button' });
    on.end('call_1', { durationMs: 42_000 });
    on.end('call_2', { direction: 'outbound' });
    await on.followUp.idle();
    expect(on.sent).toEqual([]);
    const off = setup({ action: 'off' });
    off.end('call_3');
    await off.followUp.idle();
    expect(off.sent).toEqual([]);
    expect(off.keys.size).toBe(0);
  });

  it('with minIntervalS 0 follows up every missed call, holding no key', async () => {
    const { followUp, end, sent, keys } = setup({ action: 'call_button', minIntervalS: 0 });
    end('call_1');
    end('call_2');
    await followUp.idle();
    expect(sent).toHaveLength(2);
    expect(keys.size).toBe(0);
  });

  it('sends a permission request when one may be sent, and none when the user already allows calls or may not be asked', async () => {
    const asks = setup({ action: 'permission_request' });
    asks.end('call_1');
    await asks.followUp.idle();
    expect(asks.requested).toEqual([['15552223333', { callId: 'call_1', bodyText: 'Sorry we missed you' }]]);
    expect(followUps(asks.events)).toEqual([{ callId: 'call_1', waId: '15552223333', action: 'permission_request', messageId: 'wamid.REQ' }]);

    for (const decision of [{ action: 'call', state: 'granted-always' }, { action: 'refuse', state: 'declined', code: 'PERMISSION_DECLINED', reason: 'never' }] as PermissionDecision[]) {
      const none = setup({ action: 'permission_request', decision });
      none.end('call_1');
      await none.followUp.idle();
      expect(none.requested).toEqual([]);
      expect(followUps(none.events)).toEqual([]);
      expect(none.keys.size).toBe(0); // nothing sent: a later missed call may try
    }
  });

  it('a follow-up that fails to send is logged, never thrown, and frees the user for the next missed call', async () => {
    const { followUp, end, events, keys } = setup({ action: 'call_button', sendFails: true });
    end('call_1');
    await followUp.idle();
    expect(followUps(events)).toEqual([]);
    expect(keys.size).toBe(0);
  });
});
