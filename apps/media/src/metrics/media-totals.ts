import type { AudioBridgeStats, RtpLeg, WaLeg } from '@wagw/media-bridge';

/** Packets a leg received and sent. */
export interface PacketCounts {
  packetsIn: number;
  packetsOut: number;
}

/** A WhatsApp leg's packets: SRTP received from and sent to WhatsApp. */
export function waLegPackets(leg: Pick<WaLeg, 'stats'>): PacketCounts {
  const s = leg.stats();
  return { packetsIn: s.packetsReceived, packetsOut: s.packetsSent };
}

/** A PBX leg's RTP packets received from and sent to the PBX. */
export function rtpLegPackets(leg: Pick<RtpLeg, 'stats'>): PacketCounts {
  const s = leg.stats();
  return { packetsIn: s.packetsReceived, packetsOut: s.packetsSent };
}

/**
 * Packet totals over every leg a registry ever held: the live legs are read on demand, a closing leg is
 * read once (`retire`, just before it closes) and added to a running sum, so the totals keep the packets
 * of ended calls without any per-packet work.
 */
export class PacketTally<L> {
  readonly #read: (leg: L) => PacketCounts;
  #closedIn = 0;
  #closedOut = 0;

  constructor(read: (leg: L) => PacketCounts) {
    this.#read = read;
  }

  retire(leg: L): void {
    const c = this.#read(leg);
    this.#closedIn += c.packetsIn;
    this.#closedOut += c.packetsOut;
  }

  total(live: Iterable<L>): PacketCounts {
    let packetsIn = this.#closedIn;
    let packetsOut = this.#closedOut;
    for (const leg of live) {
      const c = this.#read(leg);
      packetsIn += c.packetsIn;
      packetsOut += c.packetsOut;
    }
    return { packetsIn, packetsOut };
  }
}

/** What stopped bridges add up to: loss per source leg and transcoding work (frames and µs per direction). */
export interface ClosedBridgeTotals {
  /** RFC 3550 cumulative loss of the WhatsApp stream (measured on WhatsApp -> PBX) and of the PBX stream. */
  lostWa: number;
  lostPbx: number;
  /** Opus decode + G.711 encode (WhatsApp -> PBX, PLC frames included). */
  decodeFrames: number;
  decodeUs: number;
  /** G.711 decode + Opus encode (PBX -> WhatsApp). */
  encodeFrames: number;
  encodeUs: number;
}

/** Loss and transcoding work of one bridge, in the shape of the running sums. */
export function bridgeTotalsOf(s: AudioBridgeStats): ClosedBridgeTotals {
  const tc = s.transcoder;
  const decodeFrames = tc ? tc.framesDecoded + tc.framesConcealed : 0;
  const encodeFrames = tc ? tc.framesEncoded : 0;
  return {
    lostWa: s.waToPbx.lost,
    lostPbx: s.pbxToWa.lost,
    decodeFrames,
    decodeUs: tc ? tc.decodeMeanUs * decodeFrames : 0,
    encodeFrames,
    encodeUs: tc ? tc.encodeMeanUs * encodeFrames : 0,
  };
}

/** Running sums of stopped bridges; a bridge is added once, from the stats read as it stops. */
export class BridgeTally {
  readonly #sum: ClosedBridgeTotals = { lostWa: 0, lostPbx: 0, decodeFrames: 0, decodeUs: 0, encodeFrames: 0, encodeUs: 0 };

  retire(stats: AudioBridgeStats): void {
    const t = bridgeTotalsOf(stats);
    for (const key of Object.keys(this.#sum) as (keyof ClosedBridgeTotals)[]) this.#sum[key] += t[key];
  }

  get closed(): Readonly<ClosedBridgeTotals> {
    return { ...this.#sum };
  }
}

/** BridgeRegistry.stats: the running bridges' own stats, and what stopped ones added up to. */
export interface BridgeRegistryStats {
  live: AudioBridgeStats[];
  closed: Readonly<ClosedBridgeTotals>;
  /** Sides found silent past the media timeout since start, by side (wa: WhatsApp, pbx). */
  timeouts: Readonly<Record<'wa' | 'pbx', number>>;
}

/** SessionRegistry.stats / PbxLegRegistry.stats: legs held now, packets over every leg since start. */
export interface LegRegistryStats extends PacketCounts {
  legs: number;
}
