import { silentLogger } from '@wagw/logging';
import type { UserMediaFactory, UserMediaSession } from '@wagw/media-bridge';
import { BrowserMediaUnsupportedError } from './browser-media.errors';
import { BrowserMediaHub, type BrowserJobEnvelope } from './browser-media.hub';
import { BrowserRelayedUserMedia } from './browser-relayed-user-media';
import { SwitchingUserMediaFactory } from './media-mode.factory';

const waId = '15550001234';

/** A hub with one page whose jobs are answered by `answer` (or left open when it returns undefined). */
function hubWithPage(answer: (job: BrowserJobEnvelope) => { sdp?: string; error?: string } | undefined): { hub: BrowserMediaHub; jobs: BrowserJobEnvelope[] } {
  const hub = new BrowserMediaHub({ logger: silentLogger(), jobTimeoutMs: 1000 });
  const jobs: BrowserJobEnvelope[] = [];
  hub.subscribe(waId, {
    send: (job) => {
      jobs.push(job);
      const result = job.replyExpected ? answer(job) : undefined;
      if (result) queueMicrotask(() => hub.complete(waId, job.jobId, result));
    },
    end: () => undefined,
  });
  return { hub, jobs };
}

describe('BrowserRelayedUserMedia', () => {
  let hub: BrowserMediaHub;
  let jobs: BrowserJobEnvelope[];
  let now: number;
  let media: BrowserRelayedUserMedia;

  beforeEach(() => {
    ({ hub, jobs } = hubWithPage((job) => (job.kind === 'createOffer' || job.kind === 'answerOffer' ? { sdp: `sdp for ${job.kind}` } : {})));
    now = 1000;
    media = new BrowserRelayedUserMedia({ waId, callId: 'c1', hub, logger: silentLogger(), now: () => now });
  });

  afterEach(async () => {
    await media.close();
    hub.close();
  });

  it('gets offers and answers from the page and passes the business SDP to it', async () => {
    await expect(media.createOffer()).resolves.toBe('sdp for createOffer');
    await media.applyAnswer('business answer');
    await expect(media.answerOffer('business offer')).resolves.toBe('sdp for answerOffer');

    expect(jobs.map((j) => [j.kind, 'sdp' in j ? j.sdp : undefined])).toEqual([
      ['createOffer', undefined],
      ['applyAnswer', 'business answer'],
      ['answerOffer', 'business offer'],
    ]);
  });

  it('fails an SDP job the page answers without SDP or with an error', async () => {
    const bad = hubWithPage((job) => (job.kind === 'createOffer' ? {} : { error: 'boom' }));
    const session = new BrowserRelayedUserMedia({ waId, callId: 'c9', hub: bad.hub, logger: silentLogger() });

    await expect(session.createOffer()).rejects.toThrow(/without an SDP/);
    await expect(session.answerOffer('offer')).rejects.toThrow(/boom/);
    await session.close();
    bad.hub.close();
  });

  it('takes stats from the page reports: counts never go back, first/last packet times are the emulator\'s', async () => {
    expect(media.stats()).toEqual({ packetsReceived: 0, packetsSent: 0, dtmfReceived: [], connectionState: 'new' });
    const connected = media.connected(5000);

    hub.report({ callId: 'c1', connectionState: 'connected', packetsReceived: 0, packetsSent: 3 });
    await connected;
    now = 2000;
    hub.report({ callId: 'c1', connectionState: 'connected', packetsReceived: 40, packetsSent: 50 });
    now = 3000;
    hub.report({ callId: 'c1', connectionState: 'connected', packetsReceived: 10, packetsSent: 10 });

    expect(media.stats()).toEqual({ packetsReceived: 40, packetsSent: 50, dtmfReceived: [], connectionState: 'connected', firstPacketReceivedAt: 2000, lastPacketReceivedAt: 2000 });
  });

  it('connected() rejects when the page reports failure', async () => {
    const waiting = media.connected(5000);
    hub.report({ callId: 'c1', connectionState: 'failed', packetsReceived: 0, packetsSent: 0 });
    await expect(waiting).rejects.toThrow(/failed/);
  });

  it('steers the page with tone, stop and DTMF jobs; playWav and recording are not supported', async () => {
    media.playTone(600);
    media.stopSending();
    await media.sendDtmf('12#', 100);

    expect(jobs.map((j) => j.kind)).toEqual(['playTone', 'stopSending', 'sendDtmf']);
    expect(jobs[0]).toMatchObject({ frequencyHz: 600, replyExpected: false });
    expect(jobs[2]).toMatchObject({ digits: '12#', durationMs: 100, replyExpected: true });
    await expect(media.playWav('/tmp/x.wav')).rejects.toBeInstanceOf(BrowserMediaUnsupportedError);
    expect(media.recording()).toHaveLength(0);
  });

  it('close tells the page to close, cancels open jobs, stops taking reports and is idempotent', async () => {
    const silentHub = hubWithPage(() => undefined);
    const session = new BrowserRelayedUserMedia({ waId, callId: 'c2', hub: silentHub.hub, logger: silentLogger() });
    const offer = session.createOffer();
    const waiting = session.connected(5000);

    await session.close();
    await session.close();

    await expect(offer).rejects.toThrow(/cancelled/);
    await expect(waiting).rejects.toThrow(/closed/);
    expect(silentHub.jobs.map((j) => j.kind)).toEqual(['createOffer', 'close']);
    expect(silentHub.hub.report({ callId: 'c2', connectionState: 'connected', packetsReceived: 1, packetsSent: 1 })).toBe(false);
    expect(session.stats().connectionState).toBe('closed');
    silentHub.hub.close();
  });
});

describe('SwitchingUserMediaFactory', () => {
  it('serves a user by the mode set before the call: simulated by default, the browser once switched', () => {
    const created: string[] = [];
    const simulated: UserMediaFactory = {
      create: ({ callId }) => {
        created.push(callId);
        return {} as UserMediaSession;
      },
    };
    const hub = new BrowserMediaHub({ logger: silentLogger(), jobTimeoutMs: 1000 });
    const factory = new SwitchingUserMediaFactory({ simulated, hub, logger: silentLogger() });

    expect(factory.mode(waId)).toBe('simulated');
    factory.create({ waId, callId: 'c1' });
    factory.setMode(waId, 'browser');
    const browser = factory.create({ waId, callId: 'c2' });
    factory.setMode(waId, 'simulated');
    factory.create({ waId, callId: 'c3' });

    expect(created).toEqual(['c1', 'c3']);
    expect(browser).toBeInstanceOf(BrowserRelayedUserMedia);
    expect(factory.mode('15550009999')).toBe('simulated');
    void browser.close();
    hub.close();
  });
});
