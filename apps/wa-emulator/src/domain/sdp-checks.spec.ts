import { businessAnswerSdp, businessOfferSdp, whatsappOfferSdp } from '../../test/fake-user-media';
import { checkAnswerSdp, checkOfferSdp, checkSdpType } from './sdp-checks';

describe('SDP checks of business SDPs', () => {
  it('accepts a business answer: fingerprint, a=setup:active, no ice-lite', () => {
    expect(checkAnswerSdp(businessAnswerSdp())).toBeUndefined();
  });

  it.each([
    ['no fingerprint', (s: string) => s.replace(/a=fingerprint:[^\r]*\r\n/, ''), /fingerprint/],
    ['a=setup:actpass (an offer)', (s: string) => s.replace('a=setup:active', 'a=setup:actpass'), /actpass/],
    ['a=ice-lite', (s: string) => s.replace('m=audio', 'a=ice-lite\r\nm=audio'), /ice-lite/],
    ['double-encoded line breaks', (s: string) => s.replace(/\r\n/g, '\\r\\n'), /escaped/],
    ['no audio m-line', (s: string) => s.replace(/m=audio[^\r]*/, 'm=video 9 UDP/TLS/RTP/SAVPF 96'), /m=audio/],
  ])('refuses an answer with %s', (_name, mutate, reason) => {
    expect(checkAnswerSdp(mutate(businessAnswerSdp()))).toMatch(reason);
  });

  it("refuses WhatsApp's own offer given back as an answer", () => {
    expect(checkAnswerSdp(whatsappOfferSdp())).toMatch(/actpass|ice-lite/);
  });

  it('refuses an empty or missing SDP', () => {
    expect(checkAnswerSdp('')).toMatch(/required/);
    expect(checkAnswerSdp(undefined)).toMatch(/required/);
  });

  it('accepts a business offer with ICE credentials and a fingerprint, refuses one without', () => {
    expect(checkOfferSdp(businessOfferSdp())).toBeUndefined();
    expect(checkOfferSdp(businessOfferSdp().replace(/a=ice-ufrag:[^\r]*\r\n/, ''))).toMatch(/ice-ufrag/);
    expect(checkOfferSdp(businessOfferSdp().replace(/a=fingerprint:[^\r]*\r\n/, ''))).toMatch(/fingerprint/);
  });

  it('accepts both sdp_type spellings in any case (reference §9), nothing else', () => {
    expect(checkSdpType('answer')).toBeUndefined();
    expect(checkSdpType('OFFER')).toBeUndefined();
    expect(checkSdpType('pranswer')).toMatch(/offer" or "answer/);
    expect(checkSdpType(undefined)).toMatch(/required/);
  });
});
