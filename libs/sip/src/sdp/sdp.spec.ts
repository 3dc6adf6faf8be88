import { SdpError, SipError } from '../sip.errors';
import { buildAnswer, buildOffer, parseSdp, pickCodec } from './sdp';

/** An Asterisk-style offer: session-level c=, static payload types without rtpmap, telephone-event. */
const ASTERISK_OFFER = [
  'v=0',
  'o=- 1234 5678 IN IP4 10.0.0.5',
  's=Asterisk',
  'c=IN IP4 10.0.0.5',
  't=0 0',
  'm=audio 18000 RTP/AVP 8 0 101',
  'a=rtpmap:101 telephone-event/8000',
  'a=fmtp:101 0-16',
  'a=ptime:20',
  'a=maxptime:150',
  'a=sendrecv',
  '',
].join('\r\n');

describe('parseSdp', () => {
  it('reads address, port, codecs in offer order and telephone-event from an Asterisk-style offer', () => {
    const sdp = parseSdp(ASTERISK_OFFER);
    expect(sdp.origin).toEqual({ username: '-', sessionId: '1234', sessionVersion: '5678', address: '10.0.0.5' });
    expect(sdp.audio).toEqual({
      connectionAddress: '10.0.0.5',
      port: 18000,
      protocol: 'RTP/AVP',
      crypto: [],
      codecs: [
        { payloadType: 8, name: 'PCMA', clockRate: 8000 },
        { payloadType: 0, name: 'PCMU', clockRate: 8000 },
      ],
      telephoneEvents: [{ payloadType: 101, name: 'telephone-event', clockRate: 8000, fmtp: '0-16' }],
      ptime: 20,
      direction: 'sendrecv',
    });
  });

  it('prefers the media-level connection address and reads opus with channels and fmtp', () => {
    const sdp = parseSdp(
      'v=0\no=x 1 1 IN IP4 1.1.1.1\ns=-\nc=IN IP4 1.1.1.1\nt=0 0\nm=audio 5004 RTP/AVP 111\nc=IN IP4 2.2.2.2\na=rtpmap:111 opus/48000/2\na=fmtp:111 useinbandfec=1\na=sendonly\n',
    );
    expect(sdp.audio?.connectionAddress).toBe('2.2.2.2');
    expect(sdp.audio?.codecs).toEqual([{ payloadType: 111, name: 'opus', clockRate: 48000, channels: 2, fmtp: 'useinbandfec=1' }]);
    expect(sdp.audio?.direction).toBe('sendonly');
  });

  it('reads SDES crypto lines in order with their session parameters, and leaves malformed ones out', () => {
    const sdp = parseSdp(
      [
        'v=0', 'o=- 1 1 IN IP4 10.0.0.5', 's=-', 'c=IN IP4 10.0.0.5', 't=0 0', 'm=audio 18000 RTP/SAVP 0',
        'a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20|1:4',
        'a=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:NzB4d1BINUAvLEw6UzF3WSJ+PSdFcGdUJShpX1Zj UNENCRYPTED_SRTCP KDR=1',
        'a=crypto:x AES_CM_128_HMAC_SHA1_80 inline:abc',
        'a=crypto:3',
        '',
      ].join('\r\n'),
    );
    expect(sdp.audio?.protocol).toBe('RTP/SAVP');
    expect(sdp.audio?.crypto).toEqual([
      { tag: 1, suite: 'AES_CM_128_HMAC_SHA1_80', keyParams: 'inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20|1:4', sessionParams: [] },
      { tag: 2, suite: 'AES_CM_128_HMAC_SHA1_32', keyParams: 'inline:NzB4d1BINUAvLEw6UzF3WSJ+PSdFcGdUJShpX1Zj', sessionParams: ['UNENCRYPTED_SRTCP', 'KDR=1'] },
    ]);
  });

  it('rejects a body without an m= line', () => {
    expect(() => parseSdp('v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\n')).toThrow('SDP without');
  });
});

describe('pickCodec', () => {
  it('follows our preference, not the offer order', () => {
    const audio = parseSdp(ASTERISK_OFFER).audio;
    if (!audio) throw new Error('no audio');
    expect(pickCodec(audio, ['PCMU', 'PCMA'])?.name).toBe('PCMU');
    expect(pickCodec(audio, ['opus', 'PCMA'])?.name).toBe('PCMA');
    expect(pickCodec(audio, ['opus'])).toBeUndefined();
  });
});

describe('buildOffer', () => {
  it('offers the codecs in order with telephone-event, ptime and sendrecv, and parses back to the same', () => {
    const offer = buildOffer({ address: '192.0.2.10', port: 30000, codecs: ['opus', 'PCMU'], sessionId: '42' });
    expect(offer).toContain('m=audio 30000 RTP/AVP 111 0 101\r\n');
    expect(offer).toContain('a=rtpmap:111 opus/48000/2\r\n');
    expect(offer).toContain('a=fmtp:101 0-16\r\n');
    expect(offer.endsWith('a=sendrecv\r\n')).toBe(true);
    const parsed = parseSdp(offer);
    expect(parsed.origin).toMatchObject({ sessionId: '42', address: '192.0.2.10' });
    expect(parsed.audio?.codecs.map((c) => c.name)).toEqual(['opus', 'PCMU']);
    expect(parsed.audio?.ptime).toBe(20);
  });
});

describe('SDES (RTP/SAVP with a=crypto)', () => {
  const crypto = { tag: 2, suite: 'AES_CM_128_HMAC_SHA1_80', keyParams: 'inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR', sessionParams: [] };

  it('offers RTP/SAVP with the crypto lines after the codecs, and parses back to the same', () => {
    const offer = buildOffer({ address: '192.0.2.10', port: 30000, codecs: ['PCMU'], protocol: 'RTP/SAVP', crypto: [crypto, { ...crypto, tag: 3, suite: 'AES_CM_128_HMAC_SHA1_32' }] });
    expect(offer).toContain('m=audio 30000 RTP/SAVP 0 101\r\n');
    expect(offer).toContain('a=crypto:2 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR\r\n');
    expect(parseSdp(offer).audio?.crypto.map((c) => [c.tag, c.suite])).toEqual([
      [2, 'AES_CM_128_HMAC_SHA1_80'],
      [3, 'AES_CM_128_HMAC_SHA1_32'],
    ]);
  });

  it('answers a SAVP offer with SAVP and the given crypto line when SAVP is taken', () => {
    const savp = `${ASTERISK_OFFER}a=crypto:2 AES_CM_128_HMAC_SHA1_80 inline:NzB4d1BINUAvLEw6UzF3WSJ+PSdFcGdUJShpX1Zj\r\n`.replace('RTP/AVP', 'RTP/SAVP');
    const answer = buildAnswer(savp, { address: '10.0.0.2', port: 7000, preferences: ['PCMA'], protocols: ['RTP/AVP', 'RTP/SAVP'], crypto: [crypto] });
    const audio = parseSdp(answer.sdp).audio;
    expect(audio?.protocol).toBe('RTP/SAVP');
    expect(audio?.crypto).toEqual([crypto]);
  });
});

describe('buildAnswer', () => {
  it('answers with one preferred codec on the offer payload type and the matching telephone-event', () => {
    const answer = buildAnswer(ASTERISK_OFFER, { address: '192.0.2.10', port: 30002, preferences: ['PCMU', 'PCMA'], sessionId: '7' });
    expect(answer.codec).toEqual({ payloadType: 0, name: 'PCMU', clockRate: 8000 });
    expect(answer.telephoneEvent?.payloadType).toBe(101);
    expect(answer.remote).toEqual({ address: '10.0.0.5', port: 18000 });
    const parsed = parseSdp(answer.sdp);
    expect(parsed.audio).toMatchObject({ connectionAddress: '192.0.2.10', port: 30002, ptime: 20, direction: 'sendrecv' });
    expect(parsed.media[0]?.formats).toEqual(['0', '101']);
  });

  it('mirrors the direction and answers other m-lines with port 0 in place', () => {
    const offer = [
      'v=0', 'o=- 1 1 IN IP4 10.0.0.1', 's=-', 'c=IN IP4 10.0.0.1', 't=0 0',
      'm=video 9000 RTP/AVP 96', 'a=rtpmap:96 H264/90000',
      'm=audio 9002 RTP/AVP 0', 'a=sendonly', '',
    ].join('\r\n');
    const parsed = parseSdp(buildAnswer(offer, { address: '10.0.0.2', port: 7000, preferences: ['PCMU'] }).sdp);
    expect(parsed.media.map((m) => [m.type, m.port])).toEqual([
      ['video', 0],
      ['audio', 7000],
    ]);
    expect(parsed.audio?.direction).toBe('recvonly');
  });

  it('refuses an offer without a common codec with 488', () => {
    let error: unknown;
    try {
      buildAnswer(ASTERISK_OFFER, { address: '10.0.0.2', port: 7000, preferences: ['opus'] });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(SipError);
    expect(error).toMatchObject({ status: 488, headers: { warning: expect.stringContaining('305') } });
  });

  it('refuses a secure (SAVP) stream unless told to take it, or a disabled audio stream, with 488', () => {
    const savp = ASTERISK_OFFER.replace('RTP/AVP', 'RTP/SAVP');
    expect(() => buildAnswer(savp, { address: '10.0.0.2', port: 7000, preferences: ['PCMA'] })).toThrow(SipError);
    expect(() => buildAnswer(ASTERISK_OFFER, { address: '10.0.0.2', port: 7000, preferences: ['PCMA'], protocols: ['RTP/SAVP'] })).toThrow(SipError);
    const disabled = ASTERISK_OFFER.replace('m=audio 18000', 'm=audio 0');
    expect(() => buildAnswer(disabled, { address: '10.0.0.2', port: 7000, preferences: ['PCMA'] })).toThrow(SipError);
  });
});

/** Inputs found by sdp.fuzz.spec.ts: each was parsed into NaN, 0 or out-of-range numbers that reached the answer or the RTP leg. */
describe('malformed PBX SDP', () => {
  const answerOptions = { address: '10.0.0.2', port: 7000, preferences: ['PCMU', 'PCMA', 'opus'] as const };

  it.each(['2C4580', '6999999', '-1', ''])('refuses the m= port %p with SdpError, and buildAnswer with 488 instead of a remote port NaN', (port) => {
    const offer = ASTERISK_OFFER.replace('m=audio 18000', `m=audio ${port}`);
    expect(() => parseSdp(offer)).toThrow(SdpError);
    expect(() => buildAnswer(offer, answerOptions)).toThrow(SipError);
  });

  it('keeps the static meaning of a payload type whose rtpmap has no clock rate ("PCMU/"), instead of clock rate 0', () => {
    const offer = ASTERISK_OFFER.replace('a=rtpmap:101', 'a=rtpmap:0 PCMU/\na=rtpmap:0 PCMU/\na=rtpmap:101');
    expect(parseSdp(offer).audio?.codecs).toEqual([
      { payloadType: 8, name: 'PCMA', clockRate: 8000 },
      { payloadType: 0, name: 'PCMU', clockRate: 8000 },
    ]);
    expect(buildAnswer(offer, answerOptions).sdp).toContain('a=rtpmap:0 PCMU/8000\r\n');
  });

  it('leaves out a dynamic codec whose rtpmap has a bad channel count ("opus/48000/.2")', () => {
    const offer = ASTERISK_OFFER.replace('RTP/AVP 8 0 101', 'RTP/AVP 102 8 0 101').replace('a=rtpmap:101', 'a=rtpmap:102 opus/48000/.2\r\na=rtpmap:101');
    expect(parseSdp(offer).audio?.codecs.map((c) => c.name)).toEqual(['PCMA', 'PCMU']);
  });

  it('ignores an a=ptime that is not a number ("20\\rfmtp:101 0-16"), instead of ptime NaN', () => {
    const offer = ASTERISK_OFFER.replace('a=ptime:20', 'a=ptime:20\rfmtp:101 0-16');
    expect(parseSdp(offer).audio).not.toHaveProperty('ptime');
  });

  it('leaves out a payload type beyond 127 even when it has an rtpmap (telephone-event 300)', () => {
    const offer = ASTERISK_OFFER.replace('RTP/AVP 8 0 101', 'RTP/AVP 8 0 300').replace('rtpmap:101', 'rtpmap:300').replace('fmtp:101', 'fmtp:300');
    expect(parseSdp(offer).audio?.telephoneEvents).toEqual([]);
    const answer = buildAnswer(offer, answerOptions);
    expect(answer.telephoneEvent).toBeUndefined();
    expect(answer.sdp).toContain('m=audio 7000 RTP/AVP 0\r\n');
  });
});
