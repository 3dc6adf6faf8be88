import type { Logger } from '@wagw/logging';
import { ControlError } from '../domain/emulator.errors';
import { BrowserJobCancelledError, BrowserJobFailedError, BrowserJobTimeoutError } from './browser-media.errors';

/**
 * What the emulator asks of a phone page whose RTCPeerConnection is the user's media. The SDP jobs mirror
 * UserMediaSession: `createOffer` (the user calls), `answerOffer` (a business call arrives), `applyAnswer`
 * (the business's pre_accept/accept SDP); the rest steer what the page sends, and `close` ends its peer.
 */
export type BrowserJob =
  | { kind: 'createOffer'; callId: string }
  | { kind: 'answerOffer'; callId: string; sdp: string }
  | { kind: 'applyAnswer'; callId: string; sdp: string }
  | { kind: 'sendDtmf'; callId: string; digits: string; durationMs: number }
  | { kind: 'playTone'; callId: string; frequencyHz: number }
  | { kind: 'stopSending'; callId: string }
  | { kind: 'close'; callId: string };

/** A job as the page receives it; `replyExpected` jobs must be answered with POST .../jobs/:jobId. */
export type BrowserJobEnvelope = BrowserJob & { jobId: string; replyExpected: boolean };

/** The page's answer to a job: the SDP for createOffer/answerOffer, or why it failed. */
export interface BrowserJobResult {
  sdp?: string;
  error?: string;
}

/** Media counters the page reads from getStats() and posts about once a second, plus state changes. */
export interface BrowserMediaReport {
  callId: string;
  connectionState: string;
  packetsReceived: number;
  packetsSent: number;
}

/** Where jobs for one open page go (an SSE stream in production, an array in unit tests). */
export interface BrowserJobSink {
  send(job: BrowserJobEnvelope): void;
  /** The hub is closing: end the stream. */
  end(): void;
}

export interface BrowserMediaHubOptions {
  logger: Logger;
  /** How long a page has to fulfil an SDP job (getUserMedia, ICE gathering included). */
  jobTimeoutMs: number;
}

interface PendingJob {
  envelope: BrowserJobEnvelope;
  waId: string;
  resolve: (result: BrowserJobResult) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

/**
 * The relay between the emulator and the users' phone pages in browser media mode, as Meta's servers relay
 * SDP between the business and the WhatsApp app. Jobs for a user go to the newest page that opened the
 * user's job stream; a job created while no page listens waits for one until its timeout. Plain TypeScript:
 * the HTTP controller only turns streams and POSTs into subscribe/complete/report calls.
 */
export class BrowserMediaHub {
  readonly #opts: BrowserMediaHubOptions;
  readonly #pending = new Map<string, PendingJob>();
  readonly #undelivered = new Map<string, PendingJob[]>();
  readonly #sinks = new Map<string, BrowserJobSink[]>();
  readonly #reportListeners = new Map<string, (report: BrowserMediaReport) => void>();
  #seq = 0;
  #closed = false;

  constructor(options: BrowserMediaHubOptions) {
    this.#opts = options;
  }

  /** A page opened the user's job stream; jobs waiting for a page are delivered at once. */
  subscribe(waId: string, sink: BrowserJobSink): () => void {
    if (this.#closed) {
      sink.end();
      return () => undefined;
    }
    const sinks = this.#sinks.get(waId) ?? [];
    sinks.push(sink);
    this.#sinks.set(waId, sinks);
    this.#opts.logger.info({ waId, pages: sinks.length }, 'phone page connected for browser media');
    const waiting = this.#undelivered.get(waId) ?? [];
    this.#undelivered.delete(waId);
    for (const job of waiting) this.#deliver(sink, job.envelope);
    return () => this.#unsubscribe(waId, sink);
  }

  pageConnected(waId: string): boolean {
    return (this.#sinks.get(waId)?.length ?? 0) > 0;
  }

  /** Sends a job that needs the page's answer; rejects on the page's error, timeout, cancel or close. */
  request(waId: string, job: BrowserJob): Promise<BrowserJobResult> {
    if (this.#closed) return Promise.reject(new BrowserJobCancelledError(job.kind, 'the emulator is closing'));
    const envelope: BrowserJobEnvelope = { ...job, jobId: this.#nextId(), replyExpected: true };
    return new Promise<BrowserJobResult>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#forget(envelope.jobId);
        reject(new BrowserJobTimeoutError(waId, job.kind, this.#opts.jobTimeoutMs, this.pageConnected(waId)));
      }, this.#opts.jobTimeoutMs);
      const pending: PendingJob = { envelope, waId, resolve, reject, timer };
      this.#pending.set(envelope.jobId, pending);
      const sink = this.#newestSink(waId);
      if (sink) this.#deliver(sink, envelope);
      else this.#undelivered.set(waId, [...(this.#undelivered.get(waId) ?? []), pending]);
    });
  }

  /** Sends a job without waiting for an answer; dropped (false) when no page is open for the user. */
  notify(waId: string, job: BrowserJob): boolean {
    const sink = this.#closed ? undefined : this.#newestSink(waId);
    if (!sink) return false;
    this.#deliver(sink, { ...job, jobId: this.#nextId(), replyExpected: false });
    return true;
  }

  /** The page answered a job (POST .../jobs/:jobId). 404 for an unknown, finished or other user's job. */
  complete(waId: string, jobId: string, result: BrowserJobResult): void {
    const pending = this.#pending.get(jobId);
    if (!pending || pending.waId !== waId) throw new ControlError('not_found', `no open browser media job ${jobId} for user ${waId}`);
    this.#forget(jobId);
    if (result.error !== undefined) pending.reject(new BrowserJobFailedError(pending.envelope.kind, result.error));
    else pending.resolve(result);
  }

  /** A media report of the page; false when no session listens for that call any more (it ended). */
  report(report: BrowserMediaReport): boolean {
    const listener = this.#reportListeners.get(report.callId);
    if (!listener) return false;
    try {
      listener(report);
    } catch (err) {
      this.#opts.logger.warn({ err, callId: report.callId }, 'browser media report listener failed');
    }
    return true;
  }

  /** One listener per call: the BrowserRelayedUserMedia of that call. */
  onReport(callId: string, listener: (report: BrowserMediaReport) => void): () => void {
    this.#reportListeners.set(callId, listener);
    return () => {
      if (this.#reportListeners.get(callId) === listener) this.#reportListeners.delete(callId);
    };
  }

  /** Rejects every open job of a call (its media was closed). */
  cancelCall(callId: string, reason: string): void {
    for (const [jobId, pending] of [...this.#pending]) {
      if (pending.envelope.callId !== callId) continue;
      this.#forget(jobId);
      pending.reject(new BrowserJobCancelledError(pending.envelope.kind, reason));
    }
  }

  /** Rejects every open job, ends every page stream. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const [jobId, pending] of [...this.#pending]) {
      this.#forget(jobId);
      pending.reject(new BrowserJobCancelledError(pending.envelope.kind, 'the emulator is closing'));
    }
    const sinks = [...this.#sinks.values()].flat();
    this.#sinks.clear();
    this.#reportListeners.clear();
    for (const sink of sinks) sink.end();
  }

  #nextId(): string {
    this.#seq += 1;
    return `job-${this.#seq}`;
  }

  #newestSink(waId: string): BrowserJobSink | undefined {
    const sinks = this.#sinks.get(waId);
    return sinks?.[sinks.length - 1];
  }

  #deliver(sink: BrowserJobSink, envelope: BrowserJobEnvelope): void {
    const { sdp: _sdp, ...summary } = envelope as BrowserJobEnvelope & { sdp?: string };
    this.#opts.logger.debug({ job: summary }, 'browser media job sent to the phone page');
    try {
      sink.send(envelope);
    } catch (err) {
      this.#opts.logger.warn({ err, jobId: envelope.jobId }, 'could not write a job to the phone page');
    }
  }

  #forget(jobId: string): void {
    const pending = this.#pending.get(jobId);
    if (!pending) return;
    clearTimeout(pending.timer);
    this.#pending.delete(jobId);
    const waiting = this.#undelivered.get(pending.waId);
    if (!waiting) return;
    const rest = waiting.filter((p) => p !== pending);
    if (rest.length) this.#undelivered.set(pending.waId, rest);
    else this.#undelivered.delete(pending.waId);
  }

  #unsubscribe(waId: string, sink: BrowserJobSink): void {
    const rest = (this.#sinks.get(waId) ?? []).filter((s) => s !== sink);
    if (rest.length) this.#sinks.set(waId, rest);
    else this.#sinks.delete(waId);
    this.#opts.logger.info({ waId, pages: rest.length }, 'phone page disconnected from browser media');
  }
}
