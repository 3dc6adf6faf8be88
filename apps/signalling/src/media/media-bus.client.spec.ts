import { of, throwError } from 'rxjs';
import type { ClientProxy } from '@nestjs/microservices';
import type { AppConfig } from '@wagw/config';
import { CONTRACT_VERSION, closePbxLegRequest, closeWaLegRequest } from '@wagw/contracts';
import { silentLogger } from '@wagw/logging';
import { CLOSE_REASON_MAX, MediaBusClient } from './media-bus.client';
import { MediaRouter, type MediaInstanceDirectory } from './media-router';

/** A ClientProxy that records what is sent and answers `{ v, ok: true }`; instances in `full` refuse as at media.maxCalls. */
function recordingProxy(full: readonly string[] = []): { proxy: ClientProxy; sent: Array<{ pattern: string; body: Record<string, unknown> }> } {
  const sent: Array<{ pattern: string; body: Record<string, unknown> }> = [];
  const proxy = {
    send: (pattern: string, body: Record<string, unknown>) => {
      sent.push({ pattern, body });
      if (full.some((id) => pattern.startsWith(`${id}/`))) return throwError(() => ({ code: 'MEDIA_AT_CAPACITY', message: 'the media app carries its maximum of 1 calls (media.maxCalls)' }));
      return of({ v: CONTRACT_VERSION, ok: true });
    },
    close: async () => undefined,
  } as unknown as ClientProxy;
  return { proxy, sent };
}

const config = { signalling: { mediaRequestTimeoutMs: 1000 } } as AppConfig;
// an end cause that quotes a Graph error, as ending a call whose accept was refused writes it
const LONG_CAUSE = `set-up failed: Graph API error 100 (HTTP 400): invalid parameter (for SDP problems the detail is in error_data): accept: call wacid.${'x'.repeat(40)} has already ended (COMPLETED, user_hangup)`;

describe('MediaBusClient close requests (regression: long end causes left legs open)', () => {
  it('cuts a WhatsApp leg close reason to what the contract takes, so the media app accepts the close', async () => {
    const { proxy, sent } = recordingProxy();
    const client = new MediaBusClient(proxy, config);

    await client.closeWaLeg('call_1', 'wa-1', LONG_CAUSE);

    const body = sent[0]?.body as Record<string, unknown>;
    expect(LONG_CAUSE.length).toBeGreaterThan(CLOSE_REASON_MAX);
    expect((body['reason'] as string).length).toBe(CLOSE_REASON_MAX);
    expect(closeWaLegRequest.safeParse(body).success).toBe(true);
  });

  it('cuts a PBX leg close reason the same way and keeps a short one as it is', async () => {
    const { proxy, sent } = recordingProxy();
    const client = new MediaBusClient(proxy, config);

    await client.closePbxLeg('call_1', 'pbx-1', LONG_CAUSE);
    await client.closePbxLeg('call_1', 'pbx-1', 'user hung up');

    expect(closePbxLegRequest.safeParse(sent[0]?.body).success).toBe(true);
    expect(sent[1]?.body['reason']).toBe('user hung up');
  });
});

describe('MediaBusClient with several media instances', () => {
  function routed(full: readonly string[] = []): { client: MediaBusClient; sent: Array<{ pattern: string }>; assigned: Map<string, string> } {
    const assigned = new Map<string, string>();
    const directory: MediaInstanceDirectory = {
      live: async (ids) => [...ids],
      assign: async (callId, id) => (assigned.has(callId) ? (assigned.get(callId) as string) : (assigned.set(callId, id), id)),
      reassign: async (callId, from, to) => {
        if (!assigned.has(callId) || assigned.get(callId) === from) assigned.set(callId, to);
        return assigned.get(callId) as string;
      },
      instanceOf: async (callId) => assigned.get(callId) ?? null,
      release: async (callId) => void assigned.delete(callId),
    };
    const router = new MediaRouter({ instances: ['media-1', 'media-2'], directory, logger: silentLogger(), assignmentTtlMs: 60_000 });
    const { proxy, sent } = recordingProxy(full);
    return { client: new MediaBusClient(proxy, config, router), sent, assigned };
  }

  it("sends an existing call's requests on its instance's channel, and forgets the instance when released", async () => {
    const { client, sent, assigned } = routed();
    assigned.set('call_b', 'media-2');
    await client.startBridge('call_b', 'wa-b', 'pbx-b');
    await client.closePbxLeg('call_b', 'pbx-b', 'done');
    expect(sent.map((m) => m.pattern)).toEqual(['media-2/media.bridge.start', 'media-2/media.pbx-leg.close']);
    await client.releaseCall('call_b');
    expect(assigned.has('call_b')).toBe(false);
  });

  it('records the instance of a new leg and sends the rest of the call there', async () => {
    const { client, sent, assigned } = routed();
    await client.createPbxOffer('call_c', ['PCMU']).catch(() => undefined); // the fake's { ok } reply fails the offer contract
    const instance = assigned.get('call_c');
    expect(['media-1', 'media-2']).toContain(instance);
    await client.closePbxLeg('call_c', 'pbx-c', 'done');
    expect(sent.map((m) => m.pattern)).toEqual([`${instance}/media.pbx-leg.create-offer`, `${instance}/media.pbx-leg.close`]);
  });

  it("sends a new call's first leg refused by a full instance to the other one, and the rest of the call after it", async () => {
    const { client, sent, assigned } = routed(['media-1']);
    for (let i = 0; i < 6; i++) {
      await client.createWaLeg(`call_f${i}`).catch(() => undefined); // the fake's { ok } reply fails the leg contract
      expect(assigned.get(`call_f${i}`)).toBe('media-2');
    }
    const first = sent.filter((m) => m.pattern.endsWith('media.wa-leg.create'));
    // media-1 refused a call at most once: then it is marked full and new calls go to media-2 at once
    expect(first.filter((m) => m.pattern.startsWith('media-1/')).length).toBe(1);
    expect(first.filter((m) => m.pattern.startsWith('media-2/')).length).toBe(6);
  });

  it('refuses the call when every instance is full, with the media app\'s own error', async () => {
    const { client, sent } = routed(['media-1', 'media-2']);
    await expect(client.createWaLeg('call_g')).rejects.toMatchObject({ code: 'MEDIA_AT_CAPACITY' });
    expect(sent.map((m) => m.pattern.split('/')[0]).sort()).toEqual(['media-1', 'media-2']);
  });

  it('asks one instance for its legs and stats by name', async () => {
    const { client, sent } = routed();
    await client.listLegs('media-2').catch(() => undefined);
    await client.mediaStats('media-1').catch(() => undefined);
    expect(sent.map((m) => m.pattern)).toEqual(['media-2/media.legs.list', 'media-1/media.stats']);
  });
});
