import { createSocket, type Socket } from 'node:dgram';
import { SipStack, type CallEndedEvent, type InboundCall } from '@wagw/sip';
import { testLogger, testSdp } from './helpers';

/**
 * A caller that never ACKs our 2xx (a raw UDP socket plays it). Jest's fake timers drive the stack's
 * retransmission and give-up timers through 64*T1 = 32 s without waiting for them; sockets stay real.
 */

const realSetTimeout = setTimeout;
const logger = testLogger(process.env['SIP_TEST_LOG']);

function nextDatagram(socket: Socket, match: RegExp, timeoutMs = 5000): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = realSetTimeout(() => {
      socket.off('message', onMessage);
      reject(new Error(`no datagram matching ${match} within ${timeoutMs} ms`));
    }, timeoutMs);
    const onMessage = (data: Buffer): void => {
      const text = data.toString('latin1');
      if (!match.test(text)) return;
      clearTimeout(timer);
      socket.off('message', onMessage);
      resolve(text);
    };
    socket.on('message', onMessage);
  });
}

function invite(port: number, stackPort: number): string {
  const sdp = testSdp(43000);
  return [
    `INVITE sip:agent@127.0.0.1:${stackPort} SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.1:${port};branch=z9hG4bKnoack1;rport`,
    `From: <sip:1001@127.0.0.1:${port}>;tag=caller1`,
    `To: <sip:agent@127.0.0.1:${stackPort}>`,
    'Call-ID: no-ack-call@127.0.0.1',
    'CSeq: 1 INVITE',
    `Contact: <sip:1001@127.0.0.1:${port}>`,
    'Max-Forwards: 70',
    'Content-Type: application/sdp',
    `Content-Length: ${sdp.length}`,
    '',
    sdp,
  ].join('\r\n');
}

function okFor(request: string): string {
  const keep = request.split('\r\n').filter((l) => /^(Via|From|To|Call-ID|CSeq):/i.test(l));
  return ['SIP/2.0 200 OK', ...keep, 'Content-Length: 0', '', ''].join('\r\n');
}

describe('a UAS leg whose 2xx is never ACKed', () => {
  let stack: SipStack;
  let caller: Socket;

  beforeEach(async () => {
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
    stack = await SipStack.start({ listen: { host: '127.0.0.1', udpPort: 0 }, logger });
    caller = createSocket('udp4');
    await new Promise<void>((resolve) => caller.bind(0, '127.0.0.1', resolve));
  });
  afterEach(async () => {
    jest.useRealTimers();
    await stack.close();
    await new Promise<void>((resolve) => caller.close(() => resolve()));
  });

  it('retransmits the 200 with T1 doubling, then at 64*T1 ends the call (no-ack) and sends BYE', async () => {
    const callerPort = caller.address().port;
    const stackPort = stack.ports.udp ?? 0;
    const incoming = new Promise<InboundCall>((resolve) => stack.onInvite((c) => resolve(c)));
    const firstOk = nextDatagram(caller, /^SIP\/2\.0 200 /);
    caller.send(invite(callerPort, stackPort), stackPort, '127.0.0.1');
    const call = await incoming;
    const ended: CallEndedEvent[] = [];
    call.on('ended', (e) => void ended.push(e));
    call.answer(testSdp(43002));
    await firstOk;

    const retransmitted = nextDatagram(caller, /^SIP\/2\.0 200 /);
    jest.advanceTimersByTime(500);
    await retransmitted;
    jest.advanceTimersByTime(1000 + 2000 + 4000 * 6);
    expect(call.answerRetransmissions).toBe(1 + 1 + 1 + 6);
    expect(ended).toEqual([]);

    const bye = nextDatagram(caller, /^BYE /);
    jest.advanceTimersByTime(32_000 - 500 - 1000 - 2000 - 4000 * 6);
    expect(ended).toEqual([{ by: 'local', cause: 'no-ack' }]);
    const byeText = await bye;
    expect(byeText).toMatch(/^BYE sip:1001@127\.0\.0\.1:\d+ SIP\/2\.0/);
    expect(byeText).toMatch(/\r\nTo: +<sip:1001@127\.0\.0\.1:\d+>;tag=caller1\r\n/);
    caller.send(okFor(byeText), stackPort, '127.0.0.1');
  });
});
