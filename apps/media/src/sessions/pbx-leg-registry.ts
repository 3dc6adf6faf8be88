import { Inject, Injectable, Optional, type BeforeApplicationShutdown } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { PbxCodec, SrtpPolicy } from '@wagw/contracts';
import { callLogger, type Logger } from '@wagw/logging';
import {
  ProgressTonePlayer,
  RINGBACK_TONES,
  RtpLeg,
  sameSdesKey,
  srtpProfileOf,
  type FrameTicker,
  type RingbackStyle,
  type RtpPortAllocator,
  type RtpSocketPair,
  type AudioBridgeStats,
} from '@wagw/media-bridge';
import { MEDIA_FRAME_CLOCK, MEDIA_LOGGER, RTP_ADDRESSES, RTP_PORT_ALLOCATOR } from '../media.tokens';
import { BridgeRegistry } from './bridge-registry';
import { LegNotFoundError, PbxLegNotNegotiatedError, PbxLegStateError, ShuttingDownError } from './media.errors';
import { answerOffer, answerReoffer, applyReanswer, buildPbxOffer, negotiateAnswer, type MediaUpdate, type NegotiatedMedia, type PbxOffer } from './pbx-sdp';
import type { RtpAddresses } from './rtp-address';
import { CallAdmission } from './call-admission';
import { PacketTally, rtpLegPackets, type LegRegistryStats } from '../metrics/media-totals';

interface PbxLegEntry {
  callId: string;
  legId: string;
  log: Logger;
  /** Bound at creation (the SDP needs the port); handed to the RtpLeg once negotiated. */
  pair: RtpSocketPair;
  /** Our offer (and its crypto keys), while we wait for the PBX's answer. */
  offer?: PbxOffer;
  /** The trunk's SRTP policy for our offer's answer. */
  srtp: SrtpPolicy;
  /** The SDP we sent last (offer or answer): a mid-call answer keeps its session id and raises its version. */
  localSdp?: string;
  media?: NegotiatedMedia;
  leg?: RtpLeg;
  /** A progress tone (ringback) played into the leg until the bridge takes over. */
  tone?: ProgressTonePlayer;
  /** performance.now() when its ports were bound. */
  createdAt: number;
}

export interface PbxLegSummary {
  callId: string;
  legId: string;
  state: 'offered' | 'negotiated';
  /** Since its ports were bound. */
  ageMs: number;
}

export interface CreatedPbxOffer {
  legId: string;
  sdp: string;
  rtpPort: number;
}

export interface AnsweredPbxOffer extends CreatedPbxOffer {
  media: NegotiatedMedia;
}

/** Mid-call SDP changes applied (or refused) since start: what `update` did, by kind (metrics). */
export type PbxMediaChange = 'move' | 'hold' | 'resume' | 'refresh' | 'refused';
export const PBX_MEDIA_CHANGES: readonly PbxMediaChange[] = ['move', 'hold', 'resume', 'refresh', 'refused'];

export interface NegotiatedPbxLeg {
  legId: string;
  leg: RtpLeg;
  media: NegotiatedMedia;
}

/**
 * Owns the process's PBX legs (plain RTP toward the trunk) by legId, each bound to its callId. A leg's
 * RTP/RTCP ports come from the process-wide allocator when it is created; the RtpLeg itself starts once
 * the codec is negotiated (our offer answered, or the PBX's offer answered), with the payload types and
 * clock rate of that codec. Closing stops the call's bridge first and releases the ports; on shutdown no
 * new legs are taken and every open one is closed (STYLE §1 drain).
 */
@Injectable()
export class PbxLegRegistry implements BeforeApplicationShutdown {
  readonly #legs = new Map<string, PbxLegEntry>();
  readonly #packets = new PacketTally(rtpLegPackets);
  readonly #changes: Record<PbxMediaChange, number> = { move: 0, hold: 0, resume: 0, refresh: 0, refused: 0 };
  #draining = false;

  constructor(
    @Inject(RTP_PORT_ALLOCATOR) private readonly allocator: RtpPortAllocator,
    @Inject(RTP_ADDRESSES) private readonly addresses: RtpAddresses,
    private readonly bridges: BridgeRegistry,
    @Inject(MEDIA_LOGGER) private readonly logger: Logger,
    @Optional() private readonly admission: CallAdmission = new CallAdmission(0),
    @Optional() @Inject(MEDIA_FRAME_CLOCK) private readonly clock?: FrameTicker,
  ) {}

  get size(): number {
    return this.#legs.size;
  }

  /** Legs held now and RTP packet totals over every negotiated leg since start, closed ones included (metrics). */
  get stats(): LegRegistryStats {
    return { legs: this.#legs.size, ...this.#packets.total([...this.#legs.values()].flatMap((e) => (e.leg ? [e.leg] : []))) };
  }

  /** Mid-call SDP changes since start, by kind (a move that also holds counts as both). */
  get mediaChanges(): Readonly<Record<PbxMediaChange, number>> {
    return { ...this.#changes };
  }

  /** Legs the PBX holds now (we send it no RTP). */
  get legsOnHold(): number {
    let n = 0;
    for (const e of this.#legs.values()) if (e.leg && !e.leg.sending) n++;
    return n;
  }

  /** RTP/RTCP port pairs bound and not yet released (0 once every leg is closed). */
  get portPairsInUse(): number {
    return this.allocator.inUse;
  }

  /**
   * We place the INVITE: ports and our SDP offer (codecs in the requested order, telephone-event, ptime 20;
   * crypto lines by the trunk's `srtp`).
   */
  async createOffer(callId: string, codecs: readonly PbxCodec[], srtp: SrtpPolicy = 'off'): Promise<CreatedPbxOffer> {
    const entry = await this.#allocate(callId, srtp);
    entry.offer = buildPbxOffer(this.addresses.sdpAddress, entry.pair.rtpPort, codecs, srtp);
    entry.localSdp = entry.offer.sdp;
    entry.log.info({ codecs, srtp, rtpPort: entry.pair.rtpPort }, 'PBX leg offered');
    entry.log.debug({ sdp: redactKeys(entry.offer.sdp) }, 'SDP offer toward the PBX');
    return { legId: entry.legId, sdp: entry.offer.sdp, rtpPort: entry.pair.rtpPort };
  }

  /** The PBX's 200 OK answer to our offer: negotiated codec, remote address; starts the RTP leg. */
  applyAnswer(callId: string, legId: string, answerSdp: string): NegotiatedMedia {
    const entry = this.#entry(callId, legId);
    if (entry.media || entry.offer === undefined) throw new PbxLegStateError(legId, 'apply an answer');
    const media = negotiateAnswer(answerSdp, entry.offer, entry.srtp);
    this.#start(entry, media);
    entry.log.debug({ sdp: redactKeys(answerSdp) }, 'SDP answer from the PBX');
    return media;
  }

  /** The PBX placed the INVITE: ports, our answer by codec preference (and `srtp` policy), and the RTP leg. */
  async answerOffer(callId: string, offerSdp: string, codecs: readonly PbxCodec[], srtp: SrtpPolicy = 'off'): Promise<AnsweredPbxOffer> {
    const entry = await this.#allocate(callId, srtp);
    try {
      const { sdp, media } = answerOffer(offerSdp, codecs, this.addresses.sdpAddress, entry.pair.rtpPort, srtp);
      this.#start(entry, media);
      entry.localSdp = sdp;
      entry.log.debug({ offer: redactKeys(offerSdp), answer: redactKeys(sdp) }, 'SDP offer from the PBX answered');
      return { legId: entry.legId, sdp, rtpPort: entry.pair.rtpPort, media };
    } catch (err) {
      await this.close(callId, entry.legId, 'PBX offer not acceptable');
      throw err;
    }
  }

  /**
   * A mid-call SDP from the PBX (RFC 3264 §8): a new offer (re-INVITE or UPDATE with SDP), answered here, or
   * its answer to the SDP we offered in the 2xx to a re-INVITE without one. Applies what it changes: a new
   * address or port (RTP goes there at once, and latching learns the source again), hold and resume
   * (sendonly, inactive or c=0.0.0.0 stop our RTP; sendrecv or recvonly start it again). The codec and its
   * payload types stay; an SDP that changes them is refused (SdpNotAcceptableError) and changes nothing.
   */
  update(callId: string, legId: string, kind: 'offer' | 'answer', sdp: string): { sdp?: string; sending: boolean } {
    const entry = this.#entry(callId, legId);
    const { leg, media, localSdp } = entry;
    if (!leg || !media || localSdp === undefined) throw new PbxLegNotNegotiatedError(legId);
    let answer: string | undefined;
    let update: MediaUpdate;
    try {
      if (kind === 'offer') ({ sdp: answer, update } = answerReoffer(sdp, media, localSdp, this.addresses.sdpAddress, entry.pair.rtpPort));
      else update = applyReanswer(sdp, media);
    } catch (err) {
      this.#changes.refused++;
      entry.log.warn({ err, kind }, 'mid-call SDP from the PBX refused: media unchanged');
      throw err;
    }
    if (answer !== undefined) entry.localSdp = answer;
    const moved = update.remote !== null && (update.remote.address !== media.remote?.address || update.remote.port !== media.remote?.port);
    if (moved && update.remote) {
      leg.setRemote(update.remote);
      entry.media = { ...media, remote: update.remote };
    }
    const rekeyed = update.srtp !== undefined && media.srtp !== undefined && !sameSdesKey(update.srtp.remote, media.srtp.remote);
    if (update.srtp) entry.media = { ...(entry.media as NegotiatedMedia), srtp: update.srtp };
    if (rekeyed && update.srtp) {
      leg.setSrtpRemoteKey(update.srtp.remote);
      entry.log.info({ suite: update.srtp.suite }, 'PBX changed its SRTP key');
    }
    const holdChanged = leg.sending !== update.sending;
    leg.setSending(update.sending);
    if (moved) this.#changes.move++;
    if (holdChanged) this.#changes[update.sending ? 'resume' : 'hold']++;
    if (!moved && !holdChanged) this.#changes.refresh++;
    entry.log.info(
      { kind, direction: update.direction, sending: update.sending, ...(moved ? { remote: update.remote } : {}) },
      moved ? 'PBX moved the media of the call' : holdChanged ? (update.sending ? 'PBX resumed the call' : 'PBX put the call on hold') : 'PBX session refreshed, media unchanged',
    );
    if (kind === 'offer') entry.log.debug({ offer: redactKeys(sdp), answer: answer === undefined ? undefined : redactKeys(answer) }, 'mid-call SDP offer from the PBX answered');
    else entry.log.debug({ answer: redactKeys(sdp) }, 'mid-call SDP answer from the PBX');
    return answer === undefined ? { sending: update.sending } : { sdp: answer, sending: update.sending };
  }

  /** The leg with its RtpLeg and negotiated media; throws when unknown or not negotiated yet. */
  negotiated(callId: string, legId: string): NegotiatedPbxLeg {
    const entry = this.#entry(callId, legId);
    if (!entry.leg || !entry.media) throw new PbxLegNotNegotiatedError(legId);
    return { legId, leg: entry.leg, media: entry.media };
  }

  /**
   * Plays ringback (ITU-T E.180, `style`) to the PBX on a negotiated leg, e.g. to an agent whose phone answered
   * while the WhatsApp customer's phone rings, until stopTone(), the bridge's start or the leg's close; `none`
   * stops it. False (nothing played) on an Opus leg, whose audio only the bridge encodes.
   */
  playTone(callId: string, legId: string, style: RingbackStyle | 'none'): boolean {
    const entry = this.#entry(callId, legId);
    if (style === 'none') {
      this.#stopTone(entry, 'asked');
      return false;
    }
    if (!entry.leg || !entry.media) throw new PbxLegNotNegotiatedError(legId);
    if (!this.clock) throw new Error('no frame clock: the media app plays no tones');
    const { codec, payloadType } = entry.media;
    if (codec === 'opus') {
      entry.log.info({ style }, 'no ringback on an Opus PBX leg (only the bridge encodes Opus)');
      return false;
    }
    this.#stopTone(entry, 'replaced');
    const tone = RINGBACK_TONES[style];
    entry.tone = new ProgressTonePlayer({ port: entry.leg, codec, payloadType, tone });
    this.clock.add(entry.tone);
    entry.log.info({ tone: tone.name, codec }, 'ringback playing to the PBX');
    return true;
  }

  /** Stops the leg's tone, if any (the bridge is about to send on the leg). */
  stopTone(callId: string, legId: string, why: string): void {
    this.#stopTone(this.#entry(callId, legId), why);
  }

  #stopTone(entry: PbxLegEntry, why: string): void {
    const tone = entry.tone;
    if (!tone) return;
    this.clock?.remove(tone);
    delete entry.tone;
    entry.log.info({ why, frames: tone.frames }, 'ringback to the PBX stopped');
  }

  /** The legs held now: `offered` until the PBX's SDP is applied, then `negotiated`. */
  list(): PbxLegSummary[] {
    const now = performance.now();
    return [...this.#legs.values()].map((e) => ({ callId: e.callId, legId: e.legId, state: e.leg ? 'negotiated' : 'offered', ageMs: Math.floor(now - e.createdAt) }));
  }

  /**
   * Stops the call's bridge on this leg, then closes the leg and releases its ports. Idempotent. Returns the
   * stats of the bridge it stopped, if it did.
   */
  async close(callId: string, legId: string, reason: string): Promise<AudioBridgeStats | undefined> {
    const entry = this.#legs.get(legId);
    if (!entry) {
      this.logger.debug({ callId, legId }, 'close of an unknown PBX leg (already closed)');
      return undefined;
    }
    if (entry.callId !== callId) throw new LegNotFoundError(callId, legId, 'PBX');
    this.#legs.delete(legId);
    this.admission.releaseLeg(callId);
    this.#stopTone(entry, 'leg closed');
    const bridge = this.bridges.stopForLeg(callId, legId, reason);
    await this.#release(entry);
    entry.log.info({ reason, stats: entry.leg ? summary(entry.leg) : undefined }, 'PBX leg closed');
    return bridge;
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.#draining = true;
    this.bridges.closeAll('media app shutting down');
    const entries = [...this.#legs.values()];
    this.#legs.clear();
    for (const e of entries) {
      this.admission.releaseLeg(e.callId);
      this.#stopTone(e, 'media app shutting down');
    }
    if (entries.length) this.logger.info({ legs: entries.length }, 'closing PBX legs for shutdown');
    await Promise.all(entries.map((e) => this.#release(e)));
  }

  async #allocate(callId: string, srtp: SrtpPolicy): Promise<PbxLegEntry> {
    if (this.#draining) throw new ShuttingDownError();
    this.admission.admitLeg(callId);
    let pair: RtpSocketPair;
    try {
      pair = await this.allocator.allocate();
    } catch (err) {
      this.admission.releaseLeg(callId);
      throw err;
    }
    if (this.#draining) {
      this.admission.releaseLeg(callId);
      await pair.release();
      throw new ShuttingDownError();
    }
    const legId = `pbx-${randomUUID()}`;
    const entry: PbxLegEntry = { callId, legId, pair, srtp, log: callLogger(this.logger, { callId }).child({ legId }), createdAt: performance.now() };
    this.#legs.set(legId, entry);
    return entry;
  }

  #start(entry: PbxLegEntry, media: NegotiatedMedia): void {
    entry.media = media;
    entry.leg = new RtpLeg({
      pair: entry.pair,
      payloadTypes: media.receivePayloadTypes,
      clockRate: media.clockRate,
      logger: entry.log,
      sending: media.sending,
      ...(media.remote ? { remote: media.remote } : {}),
      ...(media.srtp ? { srtp: { profile: srtpProfileOf(media.srtp.suite), local: media.srtp.local, remote: media.srtp.remote } } : {}),
    });
    delete entry.offer;
    entry.log.info(
      { codec: media.codec, payloadType: media.payloadType, dtmfPayloadType: media.dtmfPayloadType, remote: media.remote, srtp: media.srtp?.suite ?? 'off' },
      'PBX leg negotiated',
    );
  }

  #entry(callId: string, legId: string): PbxLegEntry {
    const entry = this.#legs.get(legId);
    if (!entry || entry.callId !== callId) throw new LegNotFoundError(callId, legId, 'PBX');
    return entry;
  }

  async #release(entry: PbxLegEntry): Promise<void> {
    if (entry.leg) this.#packets.retire(entry.leg);
    if (entry.leg) await entry.leg.close();
    else await entry.pair.release();
  }
}

function summary(leg: RtpLeg): Record<string, unknown> {
  const s = leg.stats();
  return { packetsSent: s.packetsSent, packetsReceived: s.packetsReceived, latched: s.latched, lost: s.receive?.packetsLost ?? 0, ...(s.srtp ? { srtpRejected: s.srtpRejected } : {}) };
}

/** SDP for the debug log: SDES keys are secrets (STYLE: never logged), the rest is kept. */
function redactKeys(sdp: string): string {
  return sdp.replace(/(a=crypto:\d+\s+\S+\s+inline:)[^\s|]+/g, '$1<redacted>');
}
