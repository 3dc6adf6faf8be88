/**
 * Reception statistics of one RTP source, as RFC 3550 Appendix A computes them: sequence validation and
 * extended sequence numbers (A.1), expected/lost counts and the fraction lost per report interval (A.3),
 * and interarrival jitter (A.8). `update` runs per packet: no allocation.
 */
import type { RtcpReportBlock } from './rtcp-packet';

const RTP_SEQ_MOD = 0x10000;
const MAX_DROPOUT = 3000;
const MAX_MISORDER = 100;
const MIN_SEQUENTIAL = 2;

export interface RtpReceiveSnapshot {
  ssrc: number;
  /** Valid packets counted (A.1: after probation). */
  packetsReceived: number;
  packetsExpected: number;
  /** Cumulative lost = expected - received (can be negative with duplicates). */
  packetsLost: number;
  /** Interarrival jitter, timestamp units and ms. */
  jitter: number;
  jitterMs: number;
  extendedHighestSequence: number;
}

export class RtpReceiveStats {
  #ssrc = 0;
  #maxSeq = 0;
  #cycles = 0;
  #baseSeq = 0;
  #badSeq = RTP_SEQ_MOD + 1;
  #probation = MIN_SEQUENTIAL;
  #received = 0;
  #expectedPrior = 0;
  #receivedPrior = 0;
  #transit = 0;
  #haveTransit = false;
  #jitter = 0;
  #started = false;

  constructor(readonly clockRate: number) {}

  get ssrc(): number {
    return this.#ssrc;
  }

  get started(): boolean {
    return this.#started;
  }

  /** Restarts for a new source (A.1 init_seq plus probation). */
  reset(ssrc: number, seq: number): void {
    this.#ssrc = ssrc;
    this.#started = true;
    this.#initSeq(seq);
    this.#maxSeq = (seq - 1) & 0xffff;
    this.#probation = MIN_SEQUENTIAL;
    this.#haveTransit = false;
    this.#jitter = 0;
  }

  #initSeq(seq: number): void {
    this.#baseSeq = seq;
    this.#maxSeq = seq;
    this.#badSeq = RTP_SEQ_MOD + 1;
    this.#cycles = 0;
    this.#received = 0;
    this.#receivedPrior = 0;
    this.#expectedPrior = 0;
  }

  /**
   * Counts one packet of `ssrc` (a new SSRC restarts the statistics). Returns false when A.1 rejects the
   * sequence number (probation, or a large jump that is not yet confirmed by a second packet).
   */
  update(ssrc: number, seq: number, rtpTimestamp: number, arrivalMs: number): boolean {
    if (!this.#started || ssrc !== this.#ssrc) this.reset(ssrc, seq);
    if (!this.#updateSeq(seq)) return false;
    const arrival = (arrivalMs * this.clockRate) / 1000;
    const transit = arrival - (rtpTimestamp >>> 0);
    if (this.#haveTransit) {
      let d = transit - this.#transit;
      // the 32-bit timestamp wrapped between the two packets
      if (d > 0x80000000) d -= 0x100000000;
      else if (d < -0x80000000) d += 0x100000000;
      this.#jitter += (Math.abs(d) - this.#jitter) / 16;
    }
    this.#transit = transit;
    this.#haveTransit = true;
    return true;
  }

  /** RFC 3550 A.1 update_seq. */
  #updateSeq(seq: number): boolean {
    const udelta = (seq - this.#maxSeq) & 0xffff;
    if (this.#probation > 0) {
      if (seq === ((this.#maxSeq + 1) & 0xffff)) {
        this.#probation--;
        this.#maxSeq = seq;
        if (this.#probation === 0) {
          this.#initSeq(seq);
          this.#received++;
          return true;
        }
      } else {
        this.#probation = MIN_SEQUENTIAL - 1;
        this.#maxSeq = seq;
      }
      return false;
    }
    if (udelta < MAX_DROPOUT) {
      if (seq < this.#maxSeq) this.#cycles += RTP_SEQ_MOD;
      this.#maxSeq = seq;
    } else if (udelta <= RTP_SEQ_MOD - MAX_MISORDER) {
      if (seq === this.#badSeq) {
        // two sequential packets after a big jump: the source restarted without telling us
        this.#initSeq(seq);
      } else {
        this.#badSeq = (seq + 1) & 0xffff;
        return false;
      }
    }
    // else: duplicate or reordered packet, counted
    this.#received++;
    return true;
  }

  get extendedHighestSequence(): number {
    return this.#cycles + this.#maxSeq;
  }

  get packetsExpected(): number {
    return this.#received === 0 ? 0 : this.extendedHighestSequence - this.#baseSeq + 1;
  }

  snapshot(): RtpReceiveSnapshot {
    const expected = this.packetsExpected;
    return {
      ssrc: this.#ssrc,
      packetsReceived: this.#received,
      packetsExpected: expected,
      packetsLost: expected - this.#received,
      jitter: Math.floor(this.#jitter),
      jitterMs: (this.#jitter * 1000) / this.clockRate,
      extendedHighestSequence: this.extendedHighestSequence,
    };
  }

  /** A report block for this source (A.3); starts a new interval for the fraction lost. */
  reportBlock(lastSr: number, delaySinceLastSr: number): RtcpReportBlock {
    const expected = this.packetsExpected;
    const expectedInterval = expected - this.#expectedPrior;
    const receivedInterval = this.#received - this.#receivedPrior;
    this.#expectedPrior = expected;
    this.#receivedPrior = this.#received;
    const lostInterval = expectedInterval - receivedInterval;
    const fraction = expectedInterval === 0 || lostInterval <= 0 ? 0 : Math.floor((lostInterval * 256) / expectedInterval);
    return {
      ssrc: this.#ssrc,
      fractionLost: Math.min(255, fraction),
      cumulativeLost: expected - this.#received,
      highestSequence: this.extendedHighestSequence >>> 0,
      jitter: Math.floor(this.#jitter) >>> 0,
      lastSr,
      delaySinceLastSr,
    };
  }
}
