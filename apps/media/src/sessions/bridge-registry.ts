import { Inject, Injectable, Optional } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@wagw/config';
import { callLogger, type Logger } from '@wagw/logging';
import { AudioBridge, type AudioBridgeStats, type BridgeMedia, type FrameTicker, type WaLeg } from '@wagw/media-bridge';
import { MEDIA_FRAME_CLOCK, MEDIA_LOGGER } from '../media.tokens';
import { DtmfEventsPublisher } from '../bus/dtmf-events.publisher';
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

/**
 * One AudioBridge per call between its WhatsApp leg and its PBX leg, all driven by the process's one
 * FrameClock. Starting a bridge opens the WhatsApp media gate and stops the leg's own player (the bridge
 * provides the audio from now on). A bridge stops when either leg closes (explicitly, or the WhatsApp leg
 * fails), when the call's bridge is replaced, or on shutdown. Relayed digits are published as DTMF events.
 */
@Injectable()
export class BridgeRegistry {
  readonly #byCall = new Map<string, BridgeEntry>();
  readonly #closed = new BridgeTally();

  constructor(
    @Inject(MEDIA_FRAME_CLOCK) private readonly clock: FrameTicker,
    private readonly dtmf: DtmfEventsPublisher,
    @Inject(MEDIA_LOGGER) private readonly logger: Logger,
    @Optional() @Inject(APP_CONFIG) private readonly config?: Readonly<AppConfig>,
  ) {}

  get size(): number {
    return this.#byCall.size;
  }

  /** Every running bridge's stats, and loss and transcoding totals of the stopped ones (metrics). */
  get stats(): BridgeRegistryStats {
    return { live: [...this.#byCall.values()].map((e) => e.bridge.stats()), closed: this.#closed.closed };
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
      if (d.source === 'rtp') this.dtmf.digit(callId, d.direction, d.digit, d.durationMs);
    });
    const offWa = wa.leg.on('stateChanged', ({ state }) => {
      if (state === 'failed' || state === 'closed') this.stopForLeg(callId, wa.legId, `WhatsApp leg ${state}`);
    });
    this.#byCall.set(callId, { callId, waLegId: wa.legId, pbxLegId: pbx.legId, bridge, log, offWa });
    log.info({ mode: bridgeMediaFor(pbx.media).mode, codec: pbx.media.codec }, 'bridge started');
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

  /** Stops the call's bridge if it uses `legId` (either side). Returns whether one was stopped. */
  stopForLeg(callId: string, legId: string, reason: string): boolean {
    const entry = this.#byCall.get(callId);
    if (!entry || (entry.waLegId !== legId && entry.pbxLegId !== legId)) return false;
    this.#stop(entry, reason);
    return true;
  }

  closeAll(reason: string): void {
    for (const entry of [...this.#byCall.values()]) this.#stop(entry, reason);
  }

  #stop(entry: BridgeEntry, reason: string): void {
    if (this.#byCall.get(entry.callId) === entry) this.#byCall.delete(entry.callId);
    entry.offWa();
    const stats = entry.bridge.stats();
    this.#closed.retire(stats);
    entry.bridge.close();
    entry.log.info(
      { reason, mode: stats.mode, waToPbx: stats.waToPbx.packetsOut, pbxToWa: stats.pbxToWa.packetsOut, lost: { wa: stats.waToPbx.lost, pbx: stats.pbxToWa.lost } },
      'bridge stopped',
    );
  }
}
