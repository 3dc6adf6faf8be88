import { silentLogger } from '@wagw/logging';
import { sipMessage } from '@wagw/testing';
import type { SipMessage } from 'sip';
import { parseRack, ReliableProvisionals, type ReliableProvisionalsDeps } from './reliable-provisionals';

const TIMERS = { t1Ms: 500, t2Ms: 4000, transactionTimeoutMs: 32000 };

function prack(rack: string): SipMessage {
  return sipMessage(['PRACK sip:gw@127.0.0.1 SIP/2.0', 'Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK1', 'From: <sip:1001@pbx>;tag=a', 'To: <sip:gw@127.0.0.1>;tag=b', 'Call-ID: c1', 'CSeq: 2 PRACK', `RAck: ${rack}`, 'Content-Length: 0', '', ''].join('\r\n'));
}

/** The provisional as sent: its status and the headers the owner was asked to add. */
interface Sent {
  status: number;
  headers: Record<string, string>;
}

function setup(): { p: ReliableProvisionals; sent: Sent[]; deps: ReliableProvisionalsDeps & { calls: string[] } } {
  const sent: Sent[] = [];
  const calls: string[] = [];
  const deps = {
    calls,
    timers: TIMERS,
    inviteSeq: 1,
    send: (r: SipMessage) => void sent.push({ status: r.status ?? 0, headers: r.headers as unknown as Record<string, string> }),
    listen: () => void calls.push('listen'),
    unlisten: () => void calls.push('unlisten'),
    onAcknowledged: () => void calls.push('acknowledged'),
    onTimeout: () => void calls.push('timeout'),
    log: silentLogger(),
  };
  return { p: new ReliableProvisionals(deps), sent, deps };
}

const build = (status: number) => (headers: Record<string, string>): SipMessage => ({ status, reason: 'x', version: '2.0', headers: headers as unknown as SipMessage['headers'] }) as SipMessage;

beforeEach(() => jest.useFakeTimers());
afterEach(() => jest.useRealTimers());

describe('parseRack', () => {
  it('reads RSeq, CSeq number and method', () => {
    expect(parseRack(' 776656 1 INVITE ')).toEqual({ rseq: 776656, seq: 1, method: 'INVITE' });
    expect(parseRack('776656 1')).toBeUndefined();
    expect(parseRack(undefined)).toBeUndefined();
  });
});

describe('ReliableProvisionals (RFC 3262 UAS)', () => {
  it('adds Require: 100rel and an RSeq, retransmits at T1 doubling until the matching PRACK', () => {
    const { p, sent, deps } = setup();
    p.send(build(180), false);
    expect(deps.calls).toEqual(['listen']);
    const rseq = Number(sent[0]?.headers['RSeq']);
    expect(sent[0]?.headers['Require']).toBe('100rel');
    expect(rseq).toBeGreaterThanOrEqual(1);
    jest.advanceTimersByTime(500);
    expect(sent).toHaveLength(2);
    jest.advanceTimersByTime(999);
    expect(sent).toHaveLength(2); // next one at T1 * 2 after the first retransmission
    jest.advanceTimersByTime(1);
    expect(sent).toHaveLength(3);

    const responded: string[] = [];
    expect(p.onPrack(prack(`${rseq + 1} 1 INVITE`), () => void responded.push('200'))).toBe(false); // another RSeq
    expect(p.onPrack(prack(`${rseq} 2 INVITE`), () => void responded.push('200'))).toBe(false); // another CSeq
    expect(p.onPrack(prack(`${rseq} 1 INVITE`), () => void responded.push('200'))).toBe(true);
    expect(responded).toEqual(['200']);
    expect(deps.calls).toEqual(['listen', 'acknowledged']);
    jest.advanceTimersByTime(60_000);
    expect(sent).toHaveLength(3); // no more retransmissions, no timeout
    expect(p.onPrack(prack(`${rseq} 1 INVITE`), () => undefined)).toBe(false); // already acknowledged
  });

  it('sends the next provisional only after the PRACK of the last, with RSeq one higher (the latest queued one)', () => {
    const { p, sent } = setup();
    p.send(build(180), false);
    p.send(build(183), true);
    p.send(build(181), false);
    expect(sent.map((s) => s.status)).toEqual([180]);
    const rseq = Number(sent[0]?.headers['RSeq']);
    p.onPrack(prack(`${rseq} 1 INVITE`), () => undefined);
    expect(sent.map((s) => s.status)).toEqual([180, 181]);
    expect(Number(sent[1]?.headers['RSeq'])).toBe(rseq + 1);
  });

  it('holds the final response only while a provisional with SDP awaits its PRACK', () => {
    const { p, sent } = setup();
    expect(p.holdsFinal()).toBe(false);
    p.send(build(183), true);
    expect(p.holdsFinal()).toBe(true);
    p.onPrack(prack(`${sent[0]?.headers['RSeq']} 1 INVITE`), () => undefined);
    expect(p.holdsFinal()).toBe(false);
    p.send(build(180), false);
    expect(p.holdsFinal()).toBe(false);
  });

  it('gives up after 64*T1 without a PRACK: timers stopped, early dialog released, onTimeout', () => {
    const { p, sent, deps } = setup();
    p.send(build(180), false);
    jest.advanceTimersByTime(31_999);
    expect(deps.calls).toEqual(['listen']);
    expect(sent).toHaveLength(7); // at 0, 0.5, 1.5, 3.5, 7.5, 15.5, 31.5 s
    jest.advanceTimersByTime(1);
    expect(deps.calls).toEqual(['listen', 'unlisten', 'timeout']);
    jest.advanceTimersByTime(60_000);
    expect(sent).toHaveLength(7);
  });

  it('stop() ends retransmissions and sends nothing more', () => {
    const { p, sent, deps } = setup();
    p.send(build(180), false);
    p.stop();
    p.send(build(183), true);
    jest.advanceTimersByTime(60_000);
    expect(sent).toHaveLength(1);
    expect(deps.calls).toEqual(['listen', 'unlisten']);
  });
});
