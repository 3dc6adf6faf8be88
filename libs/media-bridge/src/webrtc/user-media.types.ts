/**
 * The media side of a simulated WhatsApp user (the emulator's users, and test peers): a werift peer that
 * behaves as WhatsApp's relay does (reference §6.1): ICE-lite and always controlled, DTLS server
 * (`a=setup:actpass` in its offers), Opus 48 kHz 20 ms on PT 111, telephone-event/8000 on PT 126, one SSRC.
 */
export interface UserDtmfEvent {
  digit: string;
  durationMs: number;
  at: number;
}

export interface UserMediaStats {
  packetsReceived: number;
  /** RTCP packets received from the business (where the user's media reports them). */
  rtcpReceived?: number;
  packetsSent: number;
  firstPacketReceivedAt?: number;
  lastPacketReceivedAt?: number;
  dtmfReceived: UserDtmfEvent[];
  connectionState: string;
}

export interface UserMediaSession {
  /** User-initiated: the SDP offer WhatsApp's relay sends (ICE-lite, a=setup:actpass, opus/48000/2 PT 111, telephone-event/8000 PT 126, one a=ssrc). */
  createOffer(): Promise<string>;
  /** User-initiated: apply the business's answer (the pre_accept/accept SDP). */
  applyAnswer(sdp: string): Promise<void>;
  /** Business-initiated: apply the business's offer and return WhatsApp's answer. */
  answerOffer(sdp: string): Promise<string>;
  /** Resolves when ICE+DTLS are up; rejects after timeoutMs. */
  connected(timeoutMs: number): Promise<void>;
  /** Replace what the user sends with a continuous tone / a WAV file (16-bit PCM); stopSending() sends nothing. */
  playTone(frequencyHz: number): void;
  playWav(path: string): Promise<void>;
  stopSending(): void;
  /**
   * The phone loses its network (tests of the gateway's media timeout): nothing more is sent, neither RTP nor
   * RTCP, while the call's signalling stays as it is. Optional: a browser's media cannot do it.
   */
  cutNetwork?(): void;
  sendDtmf(digits: string, durationMs?: number): Promise<void>;
  stats(): UserMediaStats;
  /** Decoded audio the user heard so far, mono 16-bit at 48 kHz. */
  recording(): Int16Array;
  close(): Promise<void>;
}

export interface UserMediaFactory {
  create(options: { waId: string; callId: string }): UserMediaSession;
}
