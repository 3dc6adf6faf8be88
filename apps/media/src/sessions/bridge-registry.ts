import { Inject, Injectable, Optional } from '@nestjs/common';
import { performance } from 'node:perf_hooks';
import { APP_CONFIG, type AppConfig } from '@wagw/config';
import { callLogger, type Logger } from '@wagw/logging';
import { AudioBridge, MediaTimeoutWatch, RINGBACK_TONES, type RingbackStyle, type AudioBridgeStats, type BridgeMedia, type FrameTicker, type MediaSide, type WaLeg } from '@wagw/media-bridge';
import { MEDIA_FRAME_CLOCK, MEDIA_LOGGER } from '../media.tokens';
import { BridgeEventsPublisher } from '../bus/bridge-events.publisher';
import { BridgeNotFoundError } from './media.errors';
import type { NegotiatedPbxLeg } from './pbx-leg-registry';
import type { NegotiatedMedia } from './pbx-sdp';
import { BridgeTally, type BridgeRegistryStats } from '../metrics/media-totals';

interface BridgeEntry {
  callId: string;
  waLegId: string;
  pbxLegId: string;
  bridge: AudioBridge;
  log: Logger;
  /** Unsubscribes from the WhatsApp leg's state changes. */
  offWa: () => void;
}

/** The bridge mode for what the PBX negotiated: G.711 and G.722 are transcoded, Opus is passed through. */
export function bridgeMediaFor(media: NegotiatedMedia): BridgeMedia {
  return media.codec === 'opus' ? { mode: 'passthrough', pbxPt: media.payloadType } : { mode: 'transcode', pbxCodec: media.codec, pbxPt: media.payloadType };
}

/** How often running bridges are checked for a silent side (media.rtpTimeoutS). */
export const MEDIA_TIMEOUT_SWEEP_MS = 1000;

/**
 * One AudioBridge per call between its WhatsApp leg and its PBX leg, all driven by the process's one
 * FrameClock. Starting a bridge opens the WhatsApp media gate and stops the leg's own player (the bridge
 * provides the audio from now on). A bridge stops when either leg closes (explicitly, or the WhatsApp leg
 * fails), when the call's bridge is replaced, or on shutdown. Relayed digits are published as DTMF events.
 * Running bridges are swept once a second for a side silent past the media timeout (MediaTimeoutWatch); each
 * is logged, counted and published to signalling, which ends the call (the sweep timer runs only while a
 * bridge does).
 */
@Injectable()
export class BridgeRegistry {
  readonly #byCall = new Map<string, BridgeEntry>();
  readonly #closed = new BridgeTally();
  readonly #timeouts: MediaTimeoutWatch;
  readonly #timedOut: Record<MediaSide, number> = { wa: 0, pbx: 0 };
  #sweepTimer: NodeJS.Timeout | undefined;

  constructor(
    @Inject(MEDIA_FRAME_CLOCK) private readonly clock: FrameTicker,
    private readonly events: BridgeEventsPublisher,
    @Inject(MEDIA_LOGGER) private readonly logger: Logger,
    @Optional() @Inject(APP_CONFIG) private readonly config?: Readonly<AppConfig>,
  ) {
    // without config (unit tests of other behaviour) no call times out
    this.#timeouts = new MediaTimeoutWatch({ timeoutMs: (config?.media.rtpTimeoutS ?? 0) * 1000, holdTimeoutMs: (config?.media.rtpHoldTimeoutS ?? 0) * 1000 });
  }

  /** Sides reported silent since start (metrics). */
  get mediaTimeouts(): Readonly<Record<MediaSide, number>> {
    return { ...this.#timedOut };
  }

  get size(): number {
    return this.#byCall.size;
  }

  /** Every running bridge's stats, loss and transcoding totals of the stopped ones, media timeouts (metrics). */
  get stats(): BridgeRegistryStats {
    return { live: [...this.#byCall.values()].map((e) => e.bridge.stats()), closed: this.#closed.closed, timeouts: this.mediaTimeouts };
  }

  /** The call's running bridge: mode (transcode or passthrough) and per-direction counters; undefined when none. */
  statsOf(callId: string): AudioBridgeStats | undefined {
    return this.#byCall.get(callId)?.bridge.stats();
  }

  /** Bridges the call's legs; the same legs again is a no-op, other legs replace the running bridge. */
  start(callId: string, wa: { legId: string; leg: WaLeg }, pbx: NegotiatedPbxLeg): void {
    const running = this.#byCall.get(callId);
    if (running?.waLegId === wa.legId && running.pbxLegId === pbx.legId) return;
    // a new PBX leg for the same WhatsApp leg (a transfer): the stream toward WhatsApp goes on where it was
    const waInitialTimestamp = running?.waLegId === wa.legId ? running.bridge.waTimestampNow() : undefined;
    if (running) this.#stop(running, 'replaced by a new bridge');
    const log = callLogger(this.logger, { callId }).child({ waLegId: wa.legId, pbxLegId: pbx.legId });
    wa.leg.stopPlaying();
    wa.leg.startMedia();
    const bridge = new AudioBridge({
      wa: wa.leg,
      pbx: pbx.leg,
      media: bridgeMediaFor(pbx.media),
      ...(pbx.media.dtmfPayloadType !== undefined ? { pbxDtmfPt: pbx.media.dtmfPayloadType } : {}),
      ticker: this.clock,
      logger: log,
      ...(this.config ? { opusComplexity: this.config.media.opusComplexity } : {}),
      ...(waInitialTimestamp !== undefined ? { waInitialTimestamp } : {}),
    });
    bridge.events.on('dtmf', (d) => {
      log.info({ direction: d.direction, digit: d.digit, durationMs: d.durationMs, source: d.source }, 'DTMF digit');
      // digits sent through sendDtmf came from signalling itself: only digits a party pressed are reported
      if (d.source === 'rtp') this.events.digit(callId, d.direction, d.digit, d.durationMs);
    });
    const offWa = wa.leg.on('stateChanged', ({ state }) => {
      if (state === 'failed' || state === 'closed') this.stopForLeg(callId, wa.legId, `WhatsApp leg ${state}`);
    });
    this.#byCall.set(callId, { callId, waLegId: wa.legId, pbxLegId: pbx.legId, bridge, log, offWa });
    this.#watch(callId, wa.leg, pbx.leg);
    log.info({ mode: bridgeMediaFor(pbx.media).mode, codec: pbx.media.codec }, 'bridge started');
  }

  /**
   * Ringback to WhatsApp in place of the PBX's audio on the call's running bridge (a blind transfer's target
   * rings), until the bridge is replaced (the target answered) or `none` (the transfer failed: the PBX again).
   * False when nothing plays: `none`, or a bridge that passes the PBX's Opus through.
   */
  playToWa(callId: string, style: RingbackStyle | 'none'): boolean {
    const entry = this.#byCall.get(callId);
    if (!entry) throw new BridgeNotFoundError(callId);
    const playing = entry.bridge.playToWa(style === 'none' ? undefined : RINGBACK_TONES[style]);
    if (playing) entry.log.info({ tone: RINGBACK_TONES[style as RingbackStyle].name }, 'ringback playing to WhatsApp');
    else entry.log.info({ style }, style === 'none' ? 'WhatsApp hears the PBX again' : 'no ringback to WhatsApp (the PBX sends Opus through)');
    return playing;
  }

  /**
   * Reports every running bridge's side silent past its limit at `now` (performance.now() scale): logged,
   * counted and published; the sweep timer calls it, tests may too.
   */
  sweepMediaTimeouts(now = performance.now()): void {
    for (const silence of this.#timeouts.sweep(now)) {
      const entry = this.#byCall.get(silence.key);
      if (!entry) continue;
      this.#timedOut[silence.side]++;
      const from = silence.side === 'pbx' ? 'the PBX' : 'WhatsApp';
      entry.log.warn(
        { side: silence.side, silentMs: Math.round(silence.silentMs), limitMs: silence.limitMs, onHold: silence.onHold },
        `media timeout: no RTP or RTCP from ${from} for ${Math.round(silence.silentMs / 1000)} s`,
      );
      this.events.mediaTimeout(entry.callId, { waLegId: entry.waLegId, pbxLegId: entry.pbxLegId }, silence);
    }
  }

  #watch(callId: string, wa: WaLeg, pbx: NegotiatedPbxLeg['leg']): void {
    if (!this.#timeouts.enabled) return;
    this.#timeouts.watch(callId, { waPacketsHeard: () => wa.packetsHeard, pbxPacketsHeard: () => pbx.packetsHeard, pbxOnHold: () => !pbx.sending }, performance.now());
    if (this.#sweepTimer) return;
    this.#sweepTimer = setInterval(() => this.sweepMediaTimeouts(), MEDIA_TIMEOUT_SWEEP_MS);
    this.#sweepTimer.unref();
  }

  /**
   * Queues digits toward one side. Resolves once they are queued (invalid digits, a side without
   * telephone-event or a closed bridge reject at once); each digit then goes out on the frame clock.
   */
  async sendDtmf(callId: string, toward: 'wa' | 'pbx', digits: string, durationMs?: number): Promise<void> {
    const entry = this.#byCall.get(callId);
    if (!entry) throw new BridgeNotFoundError(callId);
    const sending = toward === 'wa' ? entry.bridge.sendDtmfToWa(digits, durationMs) : entry.bridge.sendDtmfToPbx(digits, durationMs);
    const queued = Symbol('queued');
    const first = await Promise.race([sending, new Promise<symbol>((resolve) => setImmediate(() => resolve(queued)))]);
    if (first === queued) sending.catch((err: unknown) => entry.log.info({ err, toward, digits }, 'DTMF digits not all sent'));
  }

  /** Stops the call's bridge if it uses `legId` (either side). Returns the stopped bridge's stats, if one was. */
  stopForLeg(callId: string, legId: string, reason: string): AudioBridgeStats | undefined {
    const entry = this.#byCall.get(callId);
    if (!entry || (entry.waLegId !== legId && entry.pbxLegId !== legId)) return undefined;
    return this.#stop(entry, reason);
  }

  closeAll(reason: string): void {
    for (const entry of [...this.#byCall.values()]) this.#stop(entry, reason);
  }

  #stop(entry: BridgeEntry, reason: string): AudioBridgeStats {
    if (this.#byCall.get(entry.callId) === entry) {
      this.#byCall.delete(entry.callId);
      this.#timeouts.unwatch(entry.callId);
    }
    if (this.#byCall.size === 0 && this.#sweepTimer) {
      clearInterval(this.#sweepTimer);
      this.#sweepTimer = undefined;
    }
    entry.offWa();
    const stats = entry.bridge.stats();
    this.#closed.retire(stats);
    entry.bridge.close();
    entry.log.info(
      { reason, mode: stats.mode, waToPbx: stats.waToPbx.packetsOut, pbxToWa: stats.pbxToWa.packetsOut, lost: { wa: stats.waToPbx.lost, pbx: stats.pbxToWa.lost } },
      'bridge stopped',
    );
    return stats;
  }
}
