import { silentLogger } from '@wagw/logging';
import type { RTCDtlsTransport } from 'werift';
import { isRtpDatagram, SrtpFastPath } from './srtp-fast-path';
import { SRTP_AES128_CM_HMAC_SHA1_80, SrtpProtector, type SrtpRtpPacket } from './srtp-session';

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

/**
 * Receiving on a connected leg: a fake of werift's connection (the shapes `attach` reads), a real SRTP
 * protector standing in for the user. Media is taken from the remote of a pair ICE verified only.
 */
describe('SrtpFastPath receive: the source of media', () => {
  const USER: [string, number] = ['192.0.2.10', 40000];
  const USER_OTHER_PAIR: [string, number] = ['198.51.100.7', 40002];
  const FAILED_PAIR: [string, number] = ['198.51.100.9', 40004];
  const master = { key: Buffer.alloc(16, 7), salt: Buffer.alloc(14, 9) };

  function connected(): { onData: (data: Buffer, addr: [string, number]) => void; toWerift: Buffer[]; taken: number[]; fast: SrtpFastPath } {
    const toWerift: Buffer[] = [];
    const transport = { type: 'udp', onData: (data: Buffer) => void toWerift.push(data), socket: { send: () => undefined } };
    const protocol = { transport };
    const pair = (remoteAddr: [string, number], state: number) => ({ protocol, remoteAddr, state });
    const nominated = pair(USER, 3);
    const connection = { protocols: [protocol], nominated, checkList: [nominated, pair(USER_OTHER_PAIR, 3), pair(FAILED_PAIR, 4)], canSendApplicationData: () => true };
    const keys = { localMasterKey: Buffer.alloc(16, 1), localMasterSalt: Buffer.alloc(14, 2), remoteMasterKey: master.key, remoteMasterSalt: master.salt };
    const dtls = { srtp: { config: { keys, profile: SRTP_AES128_CM_HMAC_SHA1_80 } }, iceTransport: { connection } } as unknown as RTCDtlsTransport;
    const taken: number[] = [];
    const fast = SrtpFastPath.attach(dtls, { onRtp: (p: SrtpRtpPacket) => void taken.push(p.sequenceNumber), onRtcp: () => undefined }, silentLogger());
    if (!fast) throw new Error('the fake connection should take the fast path');
    return { onData: transport.onData, toWerift, taken, fast };
  }

  const user = new SrtpProtector(master, SRTP_AES128_CM_HMAC_SHA1_80);
  function srtp(seq: number): Buffer {
    const out = Buffer.alloc(12 + 20 + 10);
    const len = user.protect(out, 111, false, seq, seq * 960, 0x1234, Buffer.alloc(20, seq & 0xff));
    return out.subarray(0, len);
  }

  it('takes RTP from the nominated pair and from another pair whose check succeeded', () => {
    const leg = connected();
    leg.onData(srtp(1), [...USER]);
    leg.onData(srtp(2), [...USER_OTHER_PAIR]);
    expect(leg.taken).toEqual([1, 2]);
    expect(leg.fast.stats()).toMatchObject({ packetsReceived: 2, fromOtherSource: 0, authFailures: 0 });
  });

  it('drops RTP and RTCP from any other address unread (even validly protected), counted apart from forgeries', () => {
    const leg = connected();
    leg.onData(srtp(1), ['203.0.113.5', 40000]);
    leg.onData(srtp(2), [USER[0], USER[1] + 1]);
    leg.onData(srtp(3), [...FAILED_PAIR]);
    leg.onData(Buffer.from([0x80, 200, ...new Array(30).fill(0)]), ['203.0.113.5', 40000]);
    expect(leg.taken).toEqual([]);
    expect(leg.fast.stats()).toMatchObject({ packetsReceived: 0, fromOtherSource: 4, authFailures: 0, replays: 0, malformed: 0 });
    // the same packets from the user are still taken: nothing was spent on them (no replay window moved)
    leg.onData(srtp(1), [...USER]);
    expect(leg.taken).toEqual([1]);
  });

  it('leaves STUN and DTLS from any address to werift (ICE checks come from addresses not verified yet)', () => {
    const leg = connected();
    const stun = Buffer.from([0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42, ...new Array(12).fill(1)]);
    const dtls = Buffer.from([22, 0xfe, 0xfd, ...new Array(20).fill(0)]);
    leg.onData(stun, ['203.0.113.5', 40000]);
    leg.onData(dtls, ['203.0.113.5', 40000]);
    expect(leg.toWerift).toEqual([stun, dtls]);
    expect(leg.fast.stats().fromOtherSource).toBe(0);
  });
});
