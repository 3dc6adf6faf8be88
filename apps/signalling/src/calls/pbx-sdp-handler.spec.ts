import { silentLogger } from '@wagw/logging';
import { SipError } from '@wagw/sip';
import type { MediaBusClient } from '../media/media-bus.client';
import { pbxSdpHandler } from './pbx-sdp-handler';

/** A media client whose updatePbxMedia answers with `reply` (or fails with `error`) and records its calls. */
function media(outcome: { reply?: { sdp?: string; sending: boolean }; error?: Error & { code?: string } }) {
  const calls: unknown[][] = [];
  const client = {
    updatePbxMedia: async (...args: unknown[]) => {
      calls.push(args);
      if (outcome.error) throw outcome.error;
      return { v: 1, ...outcome.reply };
    },
  };
  return { client: client as unknown as MediaBusClient, calls };
}

describe('pbxSdpHandler', () => {
  it("sends an offer to the call's PBX leg and resolves with the media app's answer", async () => {
    const m = media({ reply: { sdp: 'v=0 answer', sending: false } });
    await expect(pbxSdpHandler(m.client, 'call-1', 'pbx-1', silentLogger()).offer('v=0 offer')).resolves.toBe('v=0 answer');
    expect(m.calls).toEqual([['call-1', 'pbx-1', 'offer', 'v=0 offer']]);
  });

  it('passes the answer from an ACK on as an answer', async () => {
    const m = media({ reply: { sending: true } });
    await pbxSdpHandler(m.client, 'call-1', 'pbx-1', silentLogger()).answer('v=0 ack answer');
    expect(m.calls).toEqual([['call-1', 'pbx-1', 'answer', 'v=0 ack answer']]);
  });

  it('turns a refused offer into 488 with a Warning that says why', async () => {
    const refused = Object.assign(new Error('SDP not acceptable: the re-offer drops the call\'s codec "PCMU"'), { code: 'SDP_NOT_ACCEPTABLE' });
    const err = await pbxSdpHandler(media({ error: refused }).client, 'c', 'l', silentLogger())
      .offer('v=0')
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SipError);
    expect(err).toMatchObject({ status: 488, headers: { warning: `305 wagw "SDP not acceptable: the re-offer drops the call's codec 'PCMU'"` } });
  });

  it('lets any other failure through (the SIP leg answers it 500)', async () => {
    const lost = Object.assign(new Error('media request timed out'), { code: 'MEDIA_TIMEOUT' });
    await expect(pbxSdpHandler(media({ error: lost }).client, 'c', 'l', silentLogger()).offer('v=0')).rejects.toBe(lost);
  });

  it('refuses with 500 when the media app answers an offer without SDP', async () => {
    await expect(pbxSdpHandler(media({ reply: { sending: true } }).client, 'c', 'l', silentLogger()).offer('v=0')).rejects.toMatchObject({ status: 500 });
  });
});
