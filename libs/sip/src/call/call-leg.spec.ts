import { allows, sameSdp } from './call-leg';

describe('sameSdp', () => {
  const sdp = 'v=0\r\no=pbx 1 1 IN IP4 10.0.0.5\r\ns=-\r\nc=IN IP4 10.0.0.5\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n';

  it('is the same SDP whatever the line endings and trailing blanks', () => {
    expect(sameSdp(sdp.replace(/\r\n/g, '\n'), sdp)).toBe(true);
    expect(sameSdp(`${sdp.replace(/\r\n/g, '  \n')}\n`, sdp)).toBe(true);
  });

  it('differs on any line: another version, address or port', () => {
    expect(sameSdp(sdp.replace('o=pbx 1 1', 'o=pbx 1 2'), sdp)).toBe(false);
    expect(sameSdp(sdp.replace('c=IN IP4 10.0.0.5', 'c=IN IP4 10.0.0.6'), sdp)).toBe(false);
    expect(sameSdp(sdp.replace('audio 4000', 'audio 4002'), sdp)).toBe(false);
  });

  it('is not the same as no SDP', () => {
    expect(sameSdp(sdp, undefined)).toBe(false);
  });
});

describe('allows', () => {
  it('finds a method in an Allow value, in any case and spacing', () => {
    expect(allows('INVITE, ACK, update,BYE', 'UPDATE')).toBe(true);
    expect(allows('INVITE, ACK, BYE', 'UPDATE')).toBe(false);
    expect(allows(undefined, 'UPDATE')).toBe(false);
  });
});
