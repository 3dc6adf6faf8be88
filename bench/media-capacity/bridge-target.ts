import type { BenchMode } from './wa-generator';

export type ProbeCommand = 'reset' | 'read' | 'profile-start' | 'profile-stop';

/** The generators' side of a call's signalling. */
export interface CallPeers {
  /** Gives the target's answer to the WhatsApp side's offer to the WhatsApp generator. */
  applyWaAnswer(sdp: string): Promise<void>;
  /** The PBX generator answers the target's plain-RTP offer. */
  answerPbx(offer: string): Promise<string>;
}

/** What the capacity run needs from a system that bridges WebRTC to RTP: our media app or rtpengine. */
export interface BridgeTarget {
  readonly name: string;
  /** Whether the WhatsApp side offers as ICE-lite (like Meta) or as a full ICE agent (see rtpengine-target.ts). */
  readonly waIceLite: boolean;
  /** The PBX side runs SDES-SRTP (the generator answers with a crypto line and protects what it sends). */
  readonly pbxSrtp?: boolean;
  /** The process whose CPU and memory are measured. */
  readonly pid: number;
  start(): Promise<void>;
  /** Creates both sides of a call from the WhatsApp side's offer, in the order the target needs. */
  setupCall(callId: string, waOffer: string, mode: BenchMode, peers: CallPeers): Promise<void>;
  /** Tears one call down (its WhatsApp side did not connect; it is set up again under another id). */
  abortCall(callId: string): Promise<void>;
  /** After the WhatsApp side connected: start media (our bridge; nothing for rtpengine). */
  startCall(callId: string): Promise<void>;
  /** Event-loop delay window and CPU profile of the target (Node only; absent where it has no such thing). */
  probe?(cmd: ProbeCommand, file?: string): Promise<Record<string, number>>;
  /** Ends every call and the process (or its calls) so the next step starts clean. */
  stop(): Promise<void>;
  dispose(): Promise<void>;
}
