import { parseSdp } from '@wagw/sip';
import { answerOffer, answerReoffer, applyReanswer, buildPbxOffer, negotiateAnswer } from './pbx-sdp';

const sdp = (...lines: string[]): string => `${lines.join('\r\n')}\r\n`;

function phoneAnswer(m: string, ...attrs: string[]): string {
  return sdp('v=0', 'o=phone 1 1 IN IP4 192.0.2.10', 's=-', 'c=IN IP4 192.0.2.10', 't=0 0', m, ...attrs, 'a=sendrecv');
}

describe('PBX leg offer/answer', () => {
  it('offers the requested codecs in order, each once, then telephone-event/8000 at 20 ms', () => {
    const offer = parseSdp(buildPbxOffer('198.51.100.7', 20002, ['PCMA', 'PCMU', 'PCMA']).sdp);
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
    expect(media).toEqual({ codec: 'PCMA', payloadType: 8, clockRate: 8000, dtmfPayloadType: 101, remote: { address: '192.0.2.10', port: 30000 }, receivePayloadTypes: [8, 101], sending: true });
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
    expect(media).toEqual({ codec: 'PCMA', payloadType: 8, clockRate: 8000, dtmfPayloadType: 101, remote: { address: '192.0.2.10', port: 40000 }, receivePayloadTypes: [8, 101], sending: true });
    const parsed = parseSdp(answer);
    expect(parsed.audio).toMatchObject({ connectionAddress: '198.51.100.7', port: 20004, ptime: 20 });
    expect(parsed.audio?.codecs.map((c) => c.name)).toEqual(['PCMA']);
  });

  it('offers and takes G.722 as payload type 9 on its 8000 Hz RTP clock (RFC 3551), for wideband desk phones', () => {
    const offer = buildPbxOffer('198.51.100.7', 20002, ['G722', 'PCMU']);
    expect(offer.sdp).toMatch(/^m=audio 20002 RTP\/AVP 9 0 101\r$/m);
    expect(offer.sdp).toMatch(/^a=rtpmap:9 G722\/8000\r$/m);
    const media = negotiateAnswer(phoneAnswer('m=audio 30000 RTP/AVP 9 101', 'a=rtpmap:101 telephone-event/8000'), offer);
    expect(media).toMatchObject({ codec: 'G722', payloadType: 9, clockRate: 8000, dtmfPayloadType: 101 });
    // a desk phone's offer with G.722 first and G.711: our preference decides
    const phoneOffer = phoneAnswer('m=audio 40000 RTP/AVP 9 0 101', 'a=rtpmap:9 G722/8000', 'a=rtpmap:101 telephone-event/8000');
    expect(answerOffer(phoneOffer, ['G722', 'PCMU'], '198.51.100.7', 20004).media).toMatchObject({ codec: 'G722', payloadType: 9 });
    expect(answerOffer(phoneOffer, ['PCMU', 'G722'], '198.51.100.7', 20004).media).toMatchObject({ codec: 'PCMU', payloadType: 0 });
  });

  it('refuses a PBX offer with no codec in common as SDP_NOT_ACCEPTABLE (RFC 3264 §6: 488)', () => {
    expect(() => answerOffer(phoneAnswer('m=audio 40000 RTP/AVP 9'), ['PCMU'], '198.51.100.7', 20004)).toThrow(
      expect.objectContaining({ code: 'SDP_NOT_ACCEPTABLE', message: expect.stringContaining('488') }),
    );
  });

  it('does not send toward a PBX whose offer says sendonly or inactive', () => {
    for (const dir of ['sendonly', 'inactive']) {
      const offer = phoneAnswer('m=audio 40000 RTP/AVP 0').replace('a=sendrecv', `a=${dir}`);
      expect(answerOffer(offer, ['PCMU'], '198.51.100.7', 20004).media.sending).toBe(false);
    }
  });
});

describe('PBX leg: mid-call SDP (RFC 3264 §8)', () => {
  const initialOffer = phoneAnswer('m=audio 40000 RTP/AVP 0 8 101', 'a=rtpmap:101 telephone-event/8000', 'a=fmtp:101 0-16');
  const first = answerOffer(initialOffer, ['PCMU', 'PCMA'], '198.51.100.7', 20004);
  const reoffer = (address: string, port: number, dir = 'sendrecv', formats = '0 8 101'): string =>
    sdp('v=0', 'o=phone 1 2 IN IP4 192.0.2.10', 's=-', `c=IN IP4 ${address}`, 't=0 0', `m=audio ${port} RTP/AVP ${formats}`, 'a=rtpmap:101 telephone-event/8000', 'a=fmtp:101 0-16', `a=${dir}`);

  it('a re-offer at a new address and port moves the media; the answer keeps our port, codec and session', () => {
    const { sdp: answer, update } = answerReoffer(reoffer('192.0.2.20', 41000), first.media, first.sdp, '198.51.100.7', 20004);
    expect(update).toEqual({ remote: { address: '192.0.2.20', port: 41000 }, sending: true, direction: 'sendrecv' });
    const parsed = parseSdp(answer);
    const before = parseSdp(first.sdp);
    expect(parsed.audio).toMatchObject({ connectionAddress: '198.51.100.7', port: 20004, direction: 'sendrecv' });
    expect(parsed.audio?.codecs.map((c) => [c.name, c.payloadType])).toEqual([['PCMU', 0]]);
    expect(parsed.audio?.telephoneEvents.map((t) => t.payloadType)).toEqual([101]);
    // the same SDP as before: same session id and version (§8: a changed SDP raises it, a repeated one not)
    expect(parsed.origin).toMatchObject({ sessionId: before.origin.sessionId, sessionVersion: before.origin.sessionVersion });
  });

  it.each([
    ['sendonly', 'recvonly', false],
    ['inactive', 'inactive', false],
    ['recvonly', 'sendonly', true],
  ])('hold by a=%s is answered a=%s, sending %s, and raises our version', (offered, answered, sending) => {
    const { sdp: answer, update } = answerReoffer(reoffer('192.0.2.10', 40000, offered), first.media, first.sdp, '198.51.100.7', 20004);
    expect(update).toMatchObject({ sending, direction: offered });
    const parsed = parseSdp(answer);
    expect(parsed.audio?.direction).toBe(answered);
    expect(BigInt(parsed.origin.sessionVersion)).toBe(BigInt(parseSdp(first.sdp).origin.sessionVersion) + 1n);
  });

  it('hold by c=0.0.0.0 (RFC 2543 style) stops sending and keeps the address', () => {
    const { update } = answerReoffer(reoffer('0.0.0.0', 40000), first.media, first.sdp, '198.51.100.7', 20004);
    expect(update).toEqual({ remote: null, sending: false, direction: 'sendrecv' });
  });

  it('resuming after hold raises the version again', () => {
    const held = answerReoffer(reoffer('192.0.2.10', 40000, 'sendonly'), first.media, first.sdp, '198.51.100.7', 20004);
    const resumed = answerReoffer(reoffer('192.0.2.10', 40000), first.media, held.sdp, '198.51.100.7', 20004);
    expect(resumed.update.sending).toBe(true);
    expect(BigInt(parseSdp(resumed.sdp).origin.sessionVersion)).toBe(BigInt(parseSdp(held.sdp).origin.sessionVersion) + 1n);
    expect(parseSdp(resumed.sdp).audio?.direction).toBe('sendrecv');
  });

  it.each([
    ['drops the call codec', reoffer('192.0.2.10', 40000, 'sendrecv', '8 101'), /drops the call's codec PCMU/],
    ['renumbers telephone-event', reoffer('192.0.2.10', 40000, 'sendrecv', '0 96').replace('rtpmap:101', 'rtpmap:96'), /telephone-event from payload type 101 to 96/],
    ['turns on SRTP', reoffer('192.0.2.10', 40000).replace('RTP/AVP', 'RTP/SAVP'), /turns on SRTP/],
    ['is not SDP', 'v=0 garbage', /unparseable/],
  ])('a re-offer that %s is refused (SDP_NOT_ACCEPTABLE)', (_what, offer, message) => {
    expect(() => answerReoffer(offer, first.media, first.sdp, '198.51.100.7', 20004)).toThrow(expect.objectContaining({ code: 'SDP_NOT_ACCEPTABLE', message: expect.stringMatching(message) }));
  });

  it("takes the PBX's answer to our mid-call offer (ACK): new address, hold; the same codec rules", () => {
    expect(applyReanswer(reoffer('192.0.2.30', 42000), first.media)).toEqual({ remote: { address: '192.0.2.30', port: 42000 }, sending: true, direction: 'sendrecv' });
    expect(applyReanswer(reoffer('192.0.2.30', 42000, 'inactive'), first.media).sending).toBe(false);
    expect(() => applyReanswer(reoffer('192.0.2.30', 42000, 'sendrecv', '8'), first.media)).toThrow(expect.objectContaining({ code: 'SDP_NOT_ACCEPTABLE' }));
  });
});
