import { silentLogger } from '@wagw/logging';
import { ControlError } from '../domain/emulator.errors';
import { BrowserJobCancelledError, BrowserJobFailedError, BrowserJobTimeoutError } from './browser-media.errors';
import { BrowserMediaHub, type BrowserJobEnvelope, type BrowserJobSink } from './browser-media.hub';

class ArraySink implements BrowserJobSink {
  readonly jobs: BrowserJobEnvelope[] = [];
  ended = false;
  send(job: BrowserJobEnvelope): void {
    this.jobs.push(job);
  }
  end(): void {
    this.ended = true;
  }
}

describe('BrowserMediaHub', () => {
  const waId = '15550001234';
  let hub: BrowserMediaHub;

  beforeEach(() => {
    jest.useFakeTimers();
    hub = new BrowserMediaHub({ logger: silentLogger(), jobTimeoutMs: 1000 });
  });

  afterEach(() => {
    hub.close();
    jest.useRealTimers();
  });

  it('delivers a request to the open page and resolves with the SDP the page posts back', async () => {
    const sink = new ArraySink();
    hub.subscribe(waId, sink);
    const result = hub.request(waId, { kind: 'createOffer', callId: 'c1' });

    expect(sink.jobs).toEqual([{ kind: 'createOffer', callId: 'c1', jobId: expect.any(String), replyExpected: true }]);
    hub.complete(waId, (sink.jobs[0] as BrowserJobEnvelope).jobId, { sdp: 'v=0' });
    await expect(result).resolves.toEqual({ sdp: 'v=0' });
  });

  it('keeps a request for the first page that connects', async () => {
    const result = hub.request(waId, { kind: 'answerOffer', callId: 'c1', sdp: 'offer' });
    const sink = new ArraySink();
    hub.subscribe(waId, sink);

    expect(sink.jobs.map((j) => j.kind)).toEqual(['answerOffer']);
    hub.complete(waId, (sink.jobs[0] as BrowserJobEnvelope).jobId, { sdp: 'answer' });
    await expect(result).resolves.toEqual({ sdp: 'answer' });
  });

  it('sends jobs to the newest page only, and to the older one again once the newest leaves', () => {
    const older = new ArraySink();
    const newer = new ArraySink();
    hub.subscribe(waId, older);
    const leave = hub.subscribe(waId, newer);

    expect(hub.notify(waId, { kind: 'stopSending', callId: 'c1' })).toBe(true);
    leave();
    expect(hub.notify(waId, { kind: 'playTone', callId: 'c1', frequencyHz: 440 })).toBe(true);

    expect(newer.jobs.map((j) => j.kind)).toEqual(['stopSending']);
    expect(older.jobs.map((j) => j.kind)).toEqual(['playTone']);
    expect(older.jobs[0]?.replyExpected).toBe(false);
  });

  it('drops a notification when no page is open', () => {
    expect(hub.pageConnected(waId)).toBe(false);
    expect(hub.notify(waId, { kind: 'close', callId: 'c1' })).toBe(false);
  });

  it('rejects with the page error, and times out a request nobody answers (saying no page is open)', async () => {
    const sink = new ArraySink();
    const leave = hub.subscribe(waId, sink);
    const failing = hub.request(waId, { kind: 'applyAnswer', callId: 'c1', sdp: 'answer' });
    hub.complete(waId, (sink.jobs[0] as BrowserJobEnvelope).jobId, { error: 'setRemoteDescription failed' });
    await expect(failing).rejects.toBeInstanceOf(BrowserJobFailedError);

    leave();
    const lost = hub.request(waId, { kind: 'createOffer', callId: 'c2' });
    jest.advanceTimersByTime(1000);
    await expect(lost).rejects.toBeInstanceOf(BrowserJobTimeoutError);
    await expect(lost).rejects.toThrow(/no page is open/);
  });

  it('refuses a result for an unknown job, a finished job or another user', async () => {
    const sink = new ArraySink();
    hub.subscribe(waId, sink);
    const result = hub.request(waId, { kind: 'createOffer', callId: 'c1' });
    const { jobId } = sink.jobs[0] as BrowserJobEnvelope;

    expect(() => hub.complete('15559999999', jobId, { sdp: 'x' })).toThrow(ControlError);
    hub.complete(waId, jobId, { sdp: 'v=0' });
    await result;
    expect(() => hub.complete(waId, jobId, { sdp: 'v=0' })).toThrow(ControlError);
    expect(() => hub.complete(waId, 'job-999', {})).toThrow(/no open browser media job/);
  });

  it('cancelCall rejects only that call\'s jobs, and a waiting job no longer reaches a page', async () => {
    const one = hub.request(waId, { kind: 'createOffer', callId: 'c1' });
    const two = hub.request('15550005678', { kind: 'createOffer', callId: 'c2' });
    hub.cancelCall('c1', 'call ended');
    await expect(one).rejects.toBeInstanceOf(BrowserJobCancelledError);

    const sink = new ArraySink();
    hub.subscribe(waId, sink);
    expect(sink.jobs).toEqual([]);
    hub.close();
    await expect(two).rejects.toThrow(/closing/);
  });

  it('routes reports to the call\'s listener until it unsubscribes', () => {
    const seen: number[] = [];
    const off = hub.onReport('c1', (r) => seen.push(r.packetsReceived));
    const report = { callId: 'c1', connectionState: 'connected', packetsReceived: 5, packetsSent: 6 };

    expect(hub.report(report)).toBe(true);
    off();
    expect(hub.report({ ...report, packetsReceived: 9 })).toBe(false);
    expect(seen).toEqual([5]);
  });

  it('close ends every page stream, refuses new requests and is idempotent', async () => {
    const sink = new ArraySink();
    hub.subscribe(waId, sink);
    hub.close();
    hub.close();

    expect(sink.ended).toBe(true);
    await expect(hub.request(waId, { kind: 'createOffer', callId: 'c1' })).rejects.toBeInstanceOf(BrowserJobCancelledError);
    const late = new ArraySink();
    hub.subscribe(waId, late);
    expect(late.ended).toBe(true);
  });
});
