import { of } from 'rxjs';
import type { ClientProxy } from '@nestjs/microservices';
import type { AppConfig } from '@wagw/config';
import { CONTRACT_VERSION, closePbxLegRequest, closeWaLegRequest } from '@wagw/contracts';
import { CLOSE_REASON_MAX, MediaBusClient } from './media-bus.client';

/** A ClientProxy that records what is sent and answers `{ v, ok: true }`. */
function recordingProxy(): { proxy: ClientProxy; sent: Array<{ pattern: string; body: Record<string, unknown> }> } {
  const sent: Array<{ pattern: string; body: Record<string, unknown> }> = [];
  const proxy = {
    send: (pattern: string, body: Record<string, unknown>) => {
      sent.push({ pattern, body });
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
