import type { Logger } from '@wagw/logging';
import type { UserMediaSession, UserMediaStats } from '@wagw/media-bridge';
import { BrowserJobFailedError, BrowserMediaUnsupportedError } from './browser-media.errors';
import type { BrowserJob, BrowserMediaHub, BrowserMediaReport } from './browser-media.hub';

export interface BrowserRelayedUserMediaOptions {
  waId: string;
  callId: string;
  hub: BrowserMediaHub;
  logger: Logger;
  now?: () => number;
}

interface ConnectWaiter {
  resolve: () => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

/**
 * A user's media whose peer is the RTCPeerConnection of the user's phone page (`/phone/:waId?media=browser`):
 * the emulator relays SDP between the business and the browser as Meta's servers relay it between the
 * business and the WhatsApp app. Offers and answers are the browser's own (a full ICE agent, unlike Meta's
 * ICE-lite relay). Best effort beyond SDP: stats are the page's getStats() counters as it reports them (about
 * once a second); no DTMF is seen on receive; `recording()` is always empty (the page analyses what it hears
 * itself) and `playWav()` is unsupported, since the file is on the server and the microphone is the page's.
 */
export class BrowserRelayedUserMedia implements UserMediaSession {
  readonly #opts: BrowserRelayedUserMediaOptions;
  readonly #now: () => number;
  readonly #stopReports: () => void;
  readonly #waiters = new Set<ConnectWaiter>();
  #stats: UserMediaStats = { packetsReceived: 0, packetsSent: 0, dtmfReceived: [], connectionState: 'new' };
  #closed = false;

  constructor(options: BrowserRelayedUserMediaOptions) {
    this.#opts = options;
    this.#now = options.now ?? Date.now;
    this.#stopReports = options.hub.onReport(options.callId, (r) => this.#onReport(r));
  }

  async createOffer(): Promise<string> {
    return this.#sdpJob({ kind: 'createOffer', callId: this.#opts.callId });
  }

  async applyAnswer(sdp: string): Promise<void> {
    await this.#opts.hub.request(this.#opts.waId, { kind: 'applyAnswer', callId: this.#opts.callId, sdp });
  }

  async answerOffer(sdp: string): Promise<string> {
    return this.#sdpJob({ kind: 'answerOffer', callId: this.#opts.callId, sdp });
  }

  connected(timeoutMs: number): Promise<void> {
    if (this.#stats.connectionState === 'connected') return Promise.resolve();
    if (this.#closed) return Promise.reject(new BrowserJobFailedError('connect', 'the media is closed'));
    return new Promise<void>((resolve, reject) => {
      const waiter: ConnectWaiter = {
        resolve,
        reject,
        timer: setTimeout(() => {
          this.#waiters.delete(waiter);
          reject(new BrowserJobFailedError('connect', `not connected within ${timeoutMs} ms (state ${this.#stats.connectionState})`));
        }, timeoutMs),
      };
      this.#waiters.add(waiter);
    });
  }

  playTone(frequencyHz: number): void {
    this.#notify({ kind: 'playTone', callId: this.#opts.callId, frequencyHz });
  }

  playWav(_path: string): Promise<void> {
    return Promise.reject(new BrowserMediaUnsupportedError('playWav'));
  }

  stopSending(): void {
    this.#notify({ kind: 'stopSending', callId: this.#opts.callId });
  }

  /** RFC 4733 digits through the page's RTCDTMFSender; resolves once the page has queued them. */
  async sendDtmf(digits: string, durationMs = 160): Promise<void> {
    await this.#opts.hub.request(this.#opts.waId, { kind: 'sendDtmf', callId: this.#opts.callId, digits, durationMs });
  }

  stats(): UserMediaStats {
    return { ...this.#stats, dtmfReceived: [...this.#stats.dtmfReceived] };
  }

  /** Always empty: the audio the browser hears stays in the browser. */
  recording(): Int16Array {
    return new Int16Array(0);
  }

  /** Cancels open jobs of the call and tells the page to close its peer connection. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#stopReports();
    this.#opts.hub.cancelCall(this.#opts.callId, 'the call media was closed');
    this.#opts.hub.notify(this.#opts.waId, { kind: 'close', callId: this.#opts.callId });
    this.#stats = { ...this.#stats, connectionState: 'closed' };
    this.#settleWaiters(new BrowserJobFailedError('connect', 'the media was closed'));
  }

  async #sdpJob(job: BrowserJob): Promise<string> {
    const result = await this.#opts.hub.request(this.#opts.waId, job);
    if (!result.sdp) throw new BrowserJobFailedError(job.kind, 'the page answered without an SDP');
    this.#opts.logger.debug({ kind: job.kind, sdp: result.sdp }, 'SDP from the phone page'); // the logger names the call
    return result.sdp;
  }

  #notify(job: BrowserJob): void {
    if (!this.#opts.hub.notify(this.#opts.waId, job)) {
      this.#opts.logger.warn({ waId: this.#opts.waId, kind: job.kind }, 'no phone page to steer: the job was dropped');
    }
  }

  #onReport(report: BrowserMediaReport): void {
    if (this.#closed) return;
    const now = this.#now();
    const previous = this.#stats;
    const received = Math.max(previous.packetsReceived, report.packetsReceived);
    this.#stats = {
      ...previous,
      connectionState: report.connectionState,
      packetsReceived: received,
      packetsSent: Math.max(previous.packetsSent, report.packetsSent),
      ...(received > 0 && previous.firstPacketReceivedAt === undefined ? { firstPacketReceivedAt: now } : {}),
      ...(received > previous.packetsReceived ? { lastPacketReceivedAt: now } : {}),
    };
    if (report.connectionState === 'connected') this.#settleWaiters();
    else if (report.connectionState === 'failed' || report.connectionState === 'closed') {
      this.#settleWaiters(new BrowserJobFailedError('connect', `the browser's connection is ${report.connectionState}`));
    }
  }

  #settleWaiters(err?: Error): void {
    for (const waiter of this.#waiters) {
      clearTimeout(waiter.timer);
      if (err) waiter.reject(err);
      else waiter.resolve();
    }
    this.#waiters.clear();
  }
}
