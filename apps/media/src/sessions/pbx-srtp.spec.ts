import { formatSdesKeyParams, newSdesKey, sameSdesKey, type SrtpMasterKey } from '@wagw/media-bridge';
import { parseSdp } from '@wagw/sip';
import { answerOffer, answerReoffer, applyReanswer, buildPbxOffer, negotiateAnswer } from './pbx-sdp';

const sdp = (...lines: string[]): string => `${lines.join('\r\n')}\r\n`;
const phoneKey = newSdesKey();
const phoneKey2 = newSdesKey();

/** An SDP from the PBX: `proto` on the m-line, then the given crypto lines. */
function fromPhone(proto: string, ...crypto: string[]): string {
  return sdp('v=0', 'o=phone 1 1 IN IP4 192.0.2.10', 's=-', 'c=IN IP4 192.0.2.10', 't=0 0', `m=audio 40000 ${proto} 0 101`, 'a=rtpmap:101 telephone-event/8000', ...crypto, 'a=sendrecv');
}
const line = (tag: number, suite: string, key: SrtpMasterKey = phoneKey, extra = ''): string => `a=crypto:${tag} ${suite} ${formatSdesKeyParams(key)}${extra}`;

describe('PBX leg SRTP (SDES) by the trunk policy', () => {
  describe('our offer', () => {
    it('is plain RTP/AVP without crypto when off', () => {
      const offer = buildPbxOffer('198.51.100.7', 20002, ['PCMU']);
      expect(offer.crypto).toEqual([]);
      expect(parseSdp(offer.sdp).audio).toMatchObject({ protocol: 'RTP/AVP', crypto: [] });
    });

    it('is RTP/SAVP with a line per suite, each with its own key, when mandatory; RTP/AVP with the same lines when optional', () => {
      const mandatory = buildPbxOffer('198.51.100.7', 20002, ['PCMU'], 'mandatory');
      const audio = parseSdp(mandatory.sdp).audio;
      expect(audio?.protocol).toBe('RTP/SAVP');
      expect(audio?.crypto.map((c) => [c.tag, c.suite])).toEqual([
        [1, 'AES_CM_128_HMAC_SHA1_80'],
        [2, 'AES_CM_128_HMAC_SHA1_32'],
      ]);
      expect(audio?.crypto.map((c) => c.keyParams)).toEqual(mandatory.crypto.map((c) => formatSdesKeyParams(c.local)));
      expect(sameSdesKey(mandatory.crypto[0]?.local as SrtpMasterKey, mandatory.crypto[1]?.local as SrtpMasterKey)).toBe(false);
      const optional = parseSdp(buildPbxOffer('198.51.100.7', 20002, ['PCMU'], 'optional').sdp).audio;
      expect(optional?.protocol).toBe('RTP/AVP');
      expect(optional?.crypto).toHaveLength(2);
    });

    it("takes the PBX's chosen line: our key for that tag, its key", () => {
      const offer = buildPbxOffer('198.51.100.7', 20002, ['PCMU'], 'mandatory');
      const media = negotiateAnswer(fromPhone('RTP/SAVP', line(2, 'AES_CM_128_HMAC_SHA1_32')), offer, 'mandatory');
      expect(media.srtp).toMatchObject({ suite: 'AES_CM_128_HMAC_SHA1_32', tag: 2 });
      expect(sameSdesKey(media.srtp?.local as SrtpMasterKey, offer.crypto[1]?.local as SrtpMasterKey)).toBe(true);
      expect(sameSdesKey(media.srtp?.remote as SrtpMasterKey, phoneKey)).toBe(true);
    });

    it('stays plain when optional and the PBX answers without crypto', () => {
      const offer = buildPbxOffer('198.51.100.7', 20002, ['PCMU'], 'optional');
      expect(negotiateAnswer(fromPhone('RTP/AVP'), offer, 'optional').srtp).toBeUndefined();
    });

    it.each([
      ['no crypto line when mandatory', 'mandatory', fromPhone('RTP/AVP'), /no a=crypto line and the trunk's srtp is mandatory/],
      ['a tag we did not offer', 'mandatory', fromPhone('RTP/SAVP', line(7, 'AES_CM_128_HMAC_SHA1_80')), /tag 7.*not one we offered/],
      ['another suite under our tag', 'optional', fromPhone('RTP/AVP', line(1, 'AES_CM_128_HMAC_SHA1_32')), /not one we offered/],
      ['an MKI', 'mandatory', fromPhone('RTP/SAVP', line(1, 'AES_CM_128_HMAC_SHA1_80', phoneKey, '|2^31|1:1')), /MKI is not supported/],
    ] as const)('refuses an answer with %s', (_what, policy, answer, message) => {
      const offer = buildPbxOffer('198.51.100.7', 20002, ['PCMU'], policy);
      expect(() => negotiateAnswer(answer, offer, policy)).toThrow(expect.objectContaining({ code: 'SDP_NOT_ACCEPTABLE', message: expect.stringMatching(message) }));
    });
  });

  describe("the PBX's offer", () => {
    it('takes its first usable line (offer order), answers that tag and suite with our own key, on the same protocol', () => {
      const offer = fromPhone('RTP/SAVP', line(1, 'AES_256_CM_HMAC_SHA1_80'), line(2, 'AES_CM_128_HMAC_SHA1_32'), line(3, 'AES_CM_128_HMAC_SHA1_80'));
      const { sdp: answer, media } = answerOffer(offer, ['PCMU'], '198.51.100.7', 20004, 'optional');
      expect(media.srtp).toMatchObject({ tag: 2, suite: 'AES_CM_128_HMAC_SHA1_32' });
      expect(sameSdesKey(media.srtp?.remote as SrtpMasterKey, phoneKey)).toBe(true);
      const audio = parseSdp(answer).audio;
      expect(audio?.protocol).toBe('RTP/SAVP');
      expect(audio?.crypto).toEqual([{ tag: 2, suite: 'AES_CM_128_HMAC_SHA1_32', keyParams: formatSdesKeyParams(media.srtp?.local as SrtpMasterKey), sessionParams: [] }]);
      expect(sameSdesKey(media.srtp?.local as SrtpMasterKey, phoneKey)).toBe(false);
    });

    it('takes crypto in an RTP/AVP offer (best effort) unless off, and answers RTP/AVP', () => {
      const offer = fromPhone('RTP/AVP', line(1, 'AES_CM_128_HMAC_SHA1_80'));
      const taken = answerOffer(offer, ['PCMU'], '198.51.100.7', 20004, 'mandatory');
      expect(taken.media.srtp?.suite).toBe('AES_CM_128_HMAC_SHA1_80');
      expect(parseSdp(taken.sdp).audio).toMatchObject({ protocol: 'RTP/AVP', crypto: [expect.objectContaining({ tag: 1 })] });
      const ignored = answerOffer(offer, ['PCMU'], '198.51.100.7', 20004, 'off');
      expect(ignored.media.srtp).toBeUndefined();
      expect(parseSdp(ignored.sdp).audio?.crypto).toEqual([]);
    });

    it.each([
      ['RTP/SAVP when off', 'off', fromPhone('RTP/SAVP', line(1, 'AES_CM_128_HMAC_SHA1_80')), /asks for SRTP \(RTP\/SAVP\) and the trunk's srtp is off/],
      ['plain RTP when mandatory', 'mandatory', fromPhone('RTP/AVP'), /srtp is mandatory and the offer has no a=crypto line/],
      ['RTP/SAVP without a crypto line', 'optional', fromPhone('RTP/SAVP'), /without an a=crypto line/],
      ['only unusable lines', 'optional', fromPhone('RTP/SAVP', line(1, 'AES_CM_128_HMAC_SHA1_80', phoneKey, ' UNENCRYPTED_SRTP'), line(2, 'F8_128_HMAC_SHA1_80')), /tag 1: session parameter UNENCRYPTED_SRTP.*tag 2: suite F8_128_HMAC_SHA1_80/],
    ] as const)('refuses %s (488)', (_what, policy, offer, message) => {
      expect(() => answerOffer(offer, ['PCMU'], '198.51.100.7', 20004, policy)).toThrow(expect.objectContaining({ code: 'SDP_NOT_ACCEPTABLE', message: expect.stringMatching(message) }));
    });
  });

  describe('mid-call', () => {
    const first = answerOffer(fromPhone('RTP/SAVP', line(1, 'AES_CM_128_HMAC_SHA1_80')), ['PCMU'], '198.51.100.7', 20004, 'mandatory');

    it('a re-offer with the same key keeps our answer (and its version) as it was', () => {
      const { sdp: answer, update } = answerReoffer(fromPhone('RTP/SAVP', line(1, 'AES_CM_128_HMAC_SHA1_80')), first.media, first.sdp, '198.51.100.7', 20004);
      expect(sameSdesKey(update.srtp?.remote as SrtpMasterKey, phoneKey)).toBe(true);
      expect(answer).toBe(first.sdp);
    });

    it('a re-offer with a new key re-keys the PBX side; ours stays', () => {
      const { sdp: answer, update } = answerReoffer(fromPhone('RTP/SAVP', line(1, 'AES_CM_128_HMAC_SHA1_80', phoneKey2)), first.media, first.sdp, '198.51.100.7', 20004);
      expect(sameSdesKey(update.srtp?.remote as SrtpMasterKey, phoneKey2)).toBe(true);
      expect(parseSdp(answer).audio?.crypto[0]?.keyParams).toBe(formatSdesKeyParams(first.media.srtp?.local as SrtpMasterKey));
    });

    it('refuses a re-offer that drops SRTP or changes its suite, and the ACK answer likewise', () => {
      for (const offer of [fromPhone('RTP/AVP'), fromPhone('RTP/SAVP', line(1, 'AES_CM_128_HMAC_SHA1_32'))]) {
        expect(() => answerReoffer(offer, first.media, first.sdp, '198.51.100.7', 20004)).toThrow(expect.objectContaining({ code: 'SDP_NOT_ACCEPTABLE', message: expect.stringMatching(/drops SRTP/) }));
        expect(() => applyReanswer(offer, first.media)).toThrow(expect.objectContaining({ code: 'SDP_NOT_ACCEPTABLE' }));
      }
      expect(sameSdesKey(applyReanswer(fromPhone('RTP/SAVP', line(1, 'AES_CM_128_HMAC_SHA1_80', phoneKey2)), first.media).srtp?.remote as SrtpMasterKey, phoneKey2)).toBe(true);
    });
  });
});
