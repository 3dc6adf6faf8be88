import { silentLogger } from '@wagw/logging';
import type { RTCDtlsTransport } from 'werift';
import { isRtpDatagram, SrtpFastPath } from './srtp-fast-path';

describe('isRtpDatagram', () => {
  const dgram = (b0: number, b1: number): Buffer => Buffer.from([b0, b1, ...new Array(10).fill(0)]);

  it('takes RTP and leaves STUN, DTLS and RTCP to werift (RFC 7983, RFC 5761)', () => {
    expect(isRtpDatagram(dgram(0x80, 111))).toBe(true);
    expect(isRtpDatagram(dgram(0x80, 0x80 | 126))).toBe(true); // marker + telephone-event
    expect(isRtpDatagram(dgram(0x80, 200))).toBe(false); // RTCP SR
    expect(isRtpDatagram(dgram(0x81, 201))).toBe(false); // RTCP RR
    expect(isRtpDatagram(dgram(0x00, 0x01))).toBe(false); // STUN binding request
    expect(isRtpDatagram(dgram(22, 0xfe))).toBe(false); // DTLS handshake
    expect(isRtpDatagram(Buffer.from([0x80, 111, 0]))).toBe(false); // shorter than an RTP header
  });
});

describe('SrtpFastPath.attach', () => {
  it('returns null (werift keeps the RTP) when the transport does not look like werift 0.24', () => {
    const notWerift = { srtp: { config: { keys: {}, profile: 1 } }, iceTransport: { connection: { protocols: [] } } } as unknown as RTCDtlsTransport;
    expect(SrtpFastPath.attach(notWerift, () => undefined, silentLogger())).toBeNull();
    const unknownProfile = {
      srtp: { config: { keys: { localMasterKey: Buffer.alloc(16) }, profile: 2 } },
      iceTransport: { connection: { protocols: [{ transport: { type: 'udp', onData: () => undefined, socket: { send: () => undefined } } }], canSendApplicationData: () => true } },
    } as unknown as RTCDtlsTransport;
    expect(SrtpFastPath.attach(unknownProfile, () => undefined, silentLogger())).toBeNull();
  });
});
