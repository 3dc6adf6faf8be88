import type { BenchMode } from './wa-generator';

export interface CallSetup {
  /** The SDP answer for the WhatsApp side's offer. */
  waAnswer: string;
}

/** What the capacity run needs from a system that bridges WebRTC to RTP: our media app or rtpengine. */
export interface BridgeTarget {
  readonly name: string;
  /** The process whose CPU and memory are measured. */
  readonly pid: number;
  start(): Promise<void>;
  /** Creates both sides of a call; `answerPbx` gets the target's plain-RTP offer and returns the PBX answer. */
  setupCall(callId: string, waOffer: string, mode: BenchMode, answerPbx: (offer: string) => Promise<string>): Promise<CallSetup>;
  /** After the WhatsApp side connected: start media (our bridge; nothing for rtpengine). */
  startCall(callId: string): Promise<void>;
  /** Event-loop delay window of the target (Node only; undefined where it has no such thing). */
  probe?(cmd: 'reset' | 'read'): Promise<Record<string, number>>;
  /** Ends every call and the process (or its calls) so the next step starts clean. */
  stop(): Promise<void>;
  dispose(): Promise<void>;
}
