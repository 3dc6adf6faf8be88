import { silentLogger } from '@wagw/logging';
import { BrowserMediaHub } from './browser-media.hub';
import { SwitchingUserMediaFactory } from './media-mode.factory';
import { SdpOnlyUserMedia } from './sdp-only-user-media';
import { ControlError } from '../domain/emulator.errors';

const FINGERPRINT = `sha-256 ${Array.from({ length: 32 }, (_, i) => i.toString(16).padStart(2, '0').toUpperCase()).join(':')}`;

function media(callId = 'wacid.1'): SdpOnlyUserMedia {
  return new SdpOnlyUserMedia({ callId, iceAddress: '127.0.0.1', identity: async () => ({ port: 40000, fingerprint: FINGERPRINT }), logger: silentLogger() });
}

const line = (sdp: string, prefix: string): string[] => sdp.split('\r\n').filter((l) => l.startsWith(prefix));

describe('SdpOnlyUserMedia', () => {
  it('offers the relay shape: ice-lite, actpass, one host candidate at the sink, Opus 111 and telephone-event 126, one SSRC', async () => {
    const offer = await media().createOffer();

    expect(offer.startsWith('v=0\r\n')).toBe(true);
    expect(offer.endsWith('\r\n')).toBe(true);
    expect(line(offer, 'a=ice-lite')).toHaveLength(1);
    expect(line(offer, 'a=setup:')).toEqual(['a=setup:actpass']);
    expect(line(offer, 'a=candidate:')).toEqual([expect.stringMatching(/^a=candidate:\w+ 1 udp \d+ 127\.0\.0\.1 40000 typ host/)]);
    expect(line(offer, 'a=fingerprint:')).toEqual([`a=fingerprint:${FINGERPRINT}`]);
    expect(line(offer, 'a=rtpmap:')).toEqual(['a=rtpmap:111 opus/48000/2', 'a=rtpmap:126 telephone-event/8000']);
    expect(line(offer, 'a=ssrc:')).toEqual([expect.stringMatching(/^a=ssrc:\d+ cname:WhatsAppAudioStream1$/)]);
  });

  it('gives every offer its own ICE credentials and SSRC', async () => {
    const a = await media('a').createOffer();
    const b = await media('b').createOffer();

    expect(line(a, 'a=ice-ufrag:')[0]).toMatch(/^a=ice-ufrag:[0-9a-f]{4}$/);
    expect(line(a, 'a=ice-pwd:')[0]).toMatch(/^a=ice-pwd:[0-9a-f]{22}$/);
    expect(line(a, 'a=ice-pwd:')).not.toEqual(line(b, 'a=ice-pwd:'));
    expect(line(a, 'a=ssrc:')).not.toEqual(line(b, 'a=ssrc:'));
  });

  it('answers a business offer as the DTLS client (a=setup:active) and keeps the offer it got', async () => {
    const m = media();
    const answer = await m.answerOffer('v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n');

    expect(line(answer, 'a=setup:')).toEqual(['a=setup:active']);
    expect(m.remoteSdp).toBe('v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n');
  });

  it('never connects, has zero stats and refuses tone, WAV and DTMF with a conflict', async () => {
    const m = media();

    await expect(m.connected(1000)).rejects.toThrow(/sdp-only/);
    expect(m.stats()).toEqual({ packetsReceived: 0, packetsSent: 0, dtmfReceived: [], connectionState: 'new' });
    expect(() => m.playTone(440)).toThrow(ControlError);
    await expect(m.playWav('/x.wav')).rejects.toThrow(ControlError);
    await expect(m.sendDtmf('1')).rejects.toThrow(ControlError);
    expect(m.recording()).toHaveLength(0);
  });

  it('refuses SDP work once closed', async () => {
    const m = media();
    await m.close();

    await expect(m.createOffer()).rejects.toThrow(/closed/);
    expect(m.stats().connectionState).toBe('closed');
  });
});

describe('SwitchingUserMediaFactory with sdp-only', () => {
  const hub = new BrowserMediaHub({ logger: silentLogger(), jobTimeoutMs: 1000 });
  afterAll(() => hub.close());
  const simulated = { create: () => media('simulated') };

  it('serves a user in sdp-only mode from the sdp-only factory', () => {
    const sdpOnly = { create: jest.fn(() => media('sdp')) };
    const f = new SwitchingUserMediaFactory({ simulated, hub, sdpOnly, logger: silentLogger() });

    f.setMode('1555', 'sdp-only');
    f.create({ waId: '1555', callId: 'c1' });

    expect(f.mode('1555')).toBe('sdp-only');
    expect(sdpOnly.create).toHaveBeenCalledWith({ waId: '1555', callId: 'c1' });
  });

  it('refuses the sdp-only mode when no sdp-only factory was given', () => {
    const f = new SwitchingUserMediaFactory({ simulated, hub, logger: silentLogger() });

    expect(() => f.setMode('1555', 'sdp-only')).toThrow(ControlError);
    expect(f.mode('1555')).toBe('simulated');
  });
});
