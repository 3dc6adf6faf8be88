import { parseSdp } from '@wagw/sip';
import { answerOffer, buildPbxOffer, negotiateAnswer } from './pbx-sdp';

const sdp = (...lines: string[]): string => `${lines.join('\r\n')}\r\n`;

function phoneAnswer(m: string, ...attrs: string[]): string {
  return sdp('v=0', 'o=phone 1 1 IN IP4 192.0.2.10', 's=-', 'c=IN IP4 192.0.2.10', 't=0 0', m, ...attrs, 'a=sendrecv');
}

describe('PBX leg offer/answer', () => {
  it('offers the requested codecs in order, each once, then telephone-event/8000 at 20 ms', () => {
    const offer = parseSdp(buildPbxOffer('198.51.100.7', 20002, ['PCMA', 'PCMU', 'PCMA']));
    expect(offer.audio).toMatchObject({ connectionAddress: '198.51.100.7', port: 20002, protocol: 'RTP/AVP', ptime: 20, direction: 'sendrecv' });
    expect(offer.audio?.codecs.map((c) => [c.name, c.payloadType])).toEqual([
      ['PCMA', 8],
      ['PCMU', 0],
    ]);
    expect(offer.audio?.telephoneEvents.map((t) => [t.payloadType, t.clockRate])).toEqual([[101, 8000]]);
  });

  it("takes the answer's first offered codec, its telephone-event and its address", () => {
    const offer = buildPbxOffer('198.51.100.7', 20002, ['PCMU', 'PCMA']);
    const media = negotiateAnswer(phoneAnswer('m=audio 30000 RTP/AVP 8 0 101', 'a=rtpmap:101 telephone-event/8000'), offer);
    expect(media).toEqual({ codec: 'PCMA', payloadType: 8, clockRate: 8000, dtmfPayloadType: 101, remote: { address: '192.0.2.10', port: 30000 }, receivePayloadTypes: [8, 101] });
  });

  it('accepts our numbers on receive when the PBX renumbers dynamic payload types, and has no DTMF without telephone-event', () => {
    const offer = buildPbxOffer('198.51.100.7', 20002, ['opus', 'PCMU']);
    const media = negotiateAnswer(phoneAnswer('m=audio 30000 RTP/AVP 96', 'a=rtpmap:96 opus/48000/2'), offer);
    expect(media).toMatchObject({ codec: 'opus', payloadType: 96, clockRate: 48000, receivePayloadTypes: [96, 111] });
    expect(media.dtmfPayloadType).toBeUndefined();
  });

  it('keeps no remote for a held stream (c=0.0.0.0): latching finds the source', () => {
    const offer = buildPbxOffer('198.51.100.7', 20002, ['PCMU']);
    const held = phoneAnswer('m=audio 30000 RTP/AVP 0').replace('c=IN IP4 192.0.2.10', 'c=IN IP4 0.0.0.0');
    expect(negotiateAnswer(held, offer).remote).toBeNull();
  });

  it.each([
    ['a codec we did not offer', phoneAnswer('m=audio 30000 RTP/AVP 9')],
    ['a rejected stream', phoneAnswer('m=audio 0 RTP/AVP 0')],
    ['SRTP only', phoneAnswer('m=audio 30000 RTP/SAVP 0')],
    ['garbage', 'not an sdp at all'],
  ])('refuses an answer with %s as SDP_NOT_ACCEPTABLE', (_what, answer) => {
    expect(() => negotiateAnswer(answer, buildPbxOffer('198.51.100.7', 20002, ['PCMU']))).toThrow(expect.objectContaining({ code: 'SDP_NOT_ACCEPTABLE' }));
  });

  it("answers a PBX offer with our preferred codec in the offer's numbering and its telephone-event", () => {
    const offer = phoneAnswer('m=audio 40000 RTP/AVP 0 8 101', 'a=rtpmap:101 telephone-event/8000', 'a=fmtp:101 0-16');
    const { sdp: answer, media } = answerOffer(offer, ['PCMA', 'PCMU'], '198.51.100.7', 20004);
    expect(media).toEqual({ codec: 'PCMA', payloadType: 8, clockRate: 8000, dtmfPayloadType: 101, remote: { address: '192.0.2.10', port: 40000 }, receivePayloadTypes: [8, 101] });
    const parsed = parseSdp(answer);
    expect(parsed.audio).toMatchObject({ connectionAddress: '198.51.100.7', port: 20004, ptime: 20 });
    expect(parsed.audio?.codecs.map((c) => c.name)).toEqual(['PCMA']);
  });

  it('refuses a PBX offer with no codec in common as SDP_NOT_ACCEPTABLE (RFC 3264 §6: 488)', () => {
    expect(() => answerOffer(phoneAnswer('m=audio 40000 RTP/AVP 9'), ['PCMU'], '198.51.100.7', 20004)).toThrow(
      expect.objectContaining({ code: 'SDP_NOT_ACCEPTABLE', message: expect.stringContaining('488') }),
    );
  });
});
