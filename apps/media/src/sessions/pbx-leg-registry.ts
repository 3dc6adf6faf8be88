import { Inject, Injectable, type BeforeApplicationShutdown } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { PbxCodec } from '@wagw/contracts';
import { callLogger, type Logger } from '@wagw/logging';
import { RtpLeg, type RtpPortAllocator, type RtpSocketPair } from '@wagw/media-bridge';
import { MEDIA_LOGGER, RTP_ADDRESSES, RTP_PORT_ALLOCATOR } from '../media.tokens';
import { BridgeRegistry } from './bridge-registry';
import { LegNotFoundError, PbxLegNotNegotiatedError, PbxLegStateError, ShuttingDownError } from './media.errors';
import { answerOffer, buildPbxOffer, negotiateAnswer, type NegotiatedMedia } from './pbx-sdp';
import type { RtpAddresses } from './rtp-address';
import { PacketTally, rtpLegPackets, type LegRegistryStats } from '../metrics/media-totals';

interface PbxLegEntry {
  callId: string;
  legId: string;
  log: Logger;
  /** Bound at creation (the SDP needs the port); handed to the RtpLeg once negotiated. */
  pair: RtpSocketPair;
  /** Our offer, while we wait for the PBX's answer. */
  offer?: string;
  media?: NegotiatedMedia;
  leg?: RtpLeg;
}

export interface CreatedPbxOffer {
  legId: string;
  sdp: string;
  rtpPort: number;
}

export interface AnsweredPbxOffer extends CreatedPbxOffer {
  media: NegotiatedMedia;
}

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
  #draining = false;

  constructor(
    @Inject(RTP_PORT_ALLOCATOR) private readonly allocator: RtpPortAllocator,
    @Inject(RTP_ADDRESSES) private readonly addresses: RtpAddresses,
    private readonly bridges: BridgeRegistry,
    @Inject(MEDIA_LOGGER) private readonly logger: Logger,
  ) {}

  get size(): number {
    return this.#legs.size;
  }

  /** Legs held now and RTP packet totals over every negotiated leg since start, closed ones included (metrics). */
  get stats(): LegRegistryStats {
    return { legs: this.#legs.size, ...this.#packets.total([...this.#legs.values()].flatMap((e) => (e.leg ? [e.leg] : []))) };
  }

  /** RTP/RTCP port pairs bound and not yet released (0 once every leg is closed). */
  get portPairsInUse(): number {
    return this.allocator.inUse;
  }

  /** We place the INVITE: ports and our SDP offer (codecs in the requested order, telephone-event, ptime 20). */
  async createOffer(callId: string, codecs: readonly PbxCodec[]): Promise<CreatedPbxOffer> {
    const entry = await this.#allocate(callId);
    entry.offer = buildPbxOffer(this.addresses.sdpAddress, entry.pair.rtpPort, codecs);
    entry.log.info({ codecs, rtpPort: entry.pair.rtpPort }, 'PBX leg offered');
    entry.log.debug({ sdp: entry.offer }, 'SDP offer toward the PBX');
    return { legId: entry.legId, sdp: entry.offer, rtpPort: entry.pair.rtpPort };
  }

  /** The PBX's 200 OK answer to our offer: negotiated codec, remote address; starts the RTP leg. */
  applyAnswer(callId: string, legId: string, answerSdp: string): NegotiatedMedia {
    const entry = this.#entry(callId, legId);
    if (entry.media || entry.offer === undefined) throw new PbxLegStateError(legId, 'apply an answer');
    const media = negotiateAnswer(answerSdp, entry.offer);
    this.#start(entry, media);
    entry.log.debug({ sdp: answerSdp }, 'SDP answer from the PBX');
    return media;
  }

  /** The PBX placed the INVITE: ports, our answer by codec preference, and the RTP leg. */
  async answerOffer(callId: string, offerSdp: string, codecs: readonly PbxCodec[]): Promise<AnsweredPbxOffer> {
    const entry = await this.#allocate(callId);
    try {
      const { sdp, media } = answerOffer(offerSdp, codecs, this.addresses.sdpAddress, entry.pair.rtpPort);
      this.#start(entry, media);
      entry.log.debug({ offer: offerSdp, answer: sdp }, 'SDP offer from the PBX answered');
      return { legId: entry.legId, sdp, rtpPort: entry.pair.rtpPort, media };
    } catch (err) {
      await this.close(callId, entry.legId, 'PBX offer not acceptable');
      throw err;
    }
  }

  /** The leg with its RtpLeg and negotiated media; throws when unknown or not negotiated yet. */
  negotiated(callId: string, legId: string): NegotiatedPbxLeg {
    const entry = this.#entry(callId, legId);
    if (!entry.leg || !entry.media) throw new PbxLegNotNegotiatedError(legId);
    return { legId, leg: entry.leg, media: entry.media };
  }

  /** Stops the call's bridge on this leg, then closes the leg and releases its ports. Idempotent. */
  async close(callId: string, legId: string, reason: string): Promise<void> {
    const entry = this.#legs.get(legId);
    if (!entry) {
      this.logger.debug({ callId, legId }, 'close of an unknown PBX leg (already closed)');
      return;
    }
    if (entry.callId !== callId) throw new LegNotFoundError(callId, legId, 'PBX');
    this.#legs.delete(legId);
    this.bridges.stopForLeg(callId, legId, reason);
    await this.#release(entry);
    entry.log.info({ reason, stats: entry.leg ? summary(entry.leg) : undefined }, 'PBX leg closed');
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.#draining = true;
    this.bridges.closeAll('media app shutting down');
    const entries = [...this.#legs.values()];
    this.#legs.clear();
    if (entries.length) this.logger.info({ legs: entries.length }, 'closing PBX legs for shutdown');
    await Promise.all(entries.map((e) => this.#release(e)));
  }

  async #allocate(callId: string): Promise<PbxLegEntry> {
    if (this.#draining) throw new ShuttingDownError();
    const pair = await this.allocator.allocate();
    if (this.#draining) {
      await pair.release();
      throw new ShuttingDownError();
    }
    const legId = `pbx-${randomUUID()}`;
    const entry: PbxLegEntry = { callId, legId, pair, log: callLogger(this.logger, { callId }).child({ legId }) };
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
      ...(media.remote ? { remote: media.remote } : {}),
    });
    delete entry.offer;
    entry.log.info({ codec: media.codec, payloadType: media.payloadType, dtmfPayloadType: media.dtmfPayloadType, remote: media.remote }, 'PBX leg negotiated');
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
  return { packetsSent: s.packetsSent, packetsReceived: s.packetsReceived, latched: s.latched, lost: s.receive?.packetsLost ?? 0 };
}
