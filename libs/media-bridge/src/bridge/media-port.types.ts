/**
 * The narrow ports the bridge uses, so the WhatsApp (werift) leg and the PBX (RTP/UDP) leg can be built and
 * tested apart. Payloads are plain RTP payloads: SRTP is already removed on the WhatsApp side.
 */
export interface RtpPacketIn {
  payloadType: number;
  sequenceNumber: number;
  /** RTP timestamp in the payload type's clock (Opus: 48 kHz; telephone-event: 8 kHz on WhatsApp). */
  timestamp: number;
  marker: boolean;
  ssrc: number;
  payload: Buffer;
  /** Local receive time, ms (performance.now() or Date.now(), consistent per leg). */
  receivedAt: number;
}

export interface RtpPacketOut {
  payloadType: number;
  timestamp: number;
  marker: boolean;
  payload: Buffer;
}

/**
 * One side of a bridge. The leg owns its SSRC and sequence numbers: every packet sent through `sendRtp`
 * goes out on the leg's single SSRC with the next sequence number (Meta: one SSRC per direction, §6.1).
 */
export interface MediaPort {
  /** Subscribes to received RTP; returns the unsubscribe function. */
  onRtp(listener: (packet: RtpPacketIn) => void): () => void;
  sendRtp(packet: RtpPacketOut): void;
}
