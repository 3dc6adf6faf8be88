/**
 * A small adaptive jitter buffer for the WhatsApp -> PBX direction: packets go in as they arrive (`push`),
 * frames come out once per frame interval (`pop`, driven by the caller's playout clock).
 *
 * - Orders by sequence number (16-bit, unwrapped to an extended counter); duplicates are dropped.
 * - Target delay 20..60 ms by default: one frame plus twice the interarrival jitter (RFC 3550 A.8 estimate),
 *   plus one frame for every recent late packet (decays after ~10 s without late ones).
 * - Playing: the expected packet if present; if it is missing but later ones are queued, it is lost
 *   (`pop` says 'missing': conceal it). If the buffer ran dry, the buffer conceals up to `maxConcealFrames`
 *   and then re-buffers to the target before it plays again (DTX pauses and stalls end up here; sequence
 *   numbers do not advance while dry, so a stream that resumes in order loses nothing).
 * - Packets older than the next one to play are late and dropped. When more than one frame above target is
 *   queued for a while, the oldest is dropped to shrink the delay.
 * - Bounded memory: a ring of `capacity` slots; a packet too far ahead (or a new SSRC) resets the buffer.
 * - Other packets of the same RTP stream (RFC 4733 events share the audio's sequence space, reference §6.1)
 *   are announced with `skip`, so their sequence numbers are stepped over instead of counted as lost audio.
 *
 * No allocation per packet: the slots keep the caller's payload by reference (ports hand out a payload per
 * packet, see RtpLeg), and `pop` returns one reused frame object.
 *
 * Arrival playout (`popReady` / `popOverdue`, what AudioBridge uses by default) keeps the ordering, loss and
 * late-packet rules but adds no delay: a frame is played the moment it is the next in sequence, and a missing
 * one is declared lost (to be concealed) only once a later frame has waited `waitMs` for it. The timing of
 * the stream is then the sender's, and the PBX's own jitter buffer absorbs the network's jitter (as it does
 * for rtpengine, which forwards and transcodes on arrival). Do not mix `pop` with the arrival methods.
 */

export interface JitterBufferOptions {
  /** RTP clock of the stream (48000 for Opus). */
  clockRate: number;
  /** Frame duration (default 20 ms, WhatsApp's ptime). */
  frameMs?: number;
  /** Delay bounds in frames (default 1..3, i.e. 20..60 ms). */
  minDelayFrames?: number;
  maxDelayFrames?: number;
  /** Slots, a power of two (default 16). */
  capacity?: number;
  /** Frames concealed after the buffer runs dry before it goes quiet (default 3). */
  maxConcealFrames?: number;
}

export interface JitterFrame {
  sequenceNumber: number;
  timestamp: number;
  ssrc: number;
  payload: Buffer;
}

export type JitterPop = JitterFrame | 'missing' | null;

export interface JitterBufferStats {
  depth: number;
  targetDelayMs: number;
  jitterMs: number;
  played: number;
  /** Frames played out as 'missing' (to be concealed). */
  concealed: number;
  /** Sequence numbers never received by the time they were due. */
  lost: number;
  /** Arrived after their turn: dropped. */
  late: number;
  duplicates: number;
  /** Dropped to shrink the delay or by a reset. */
  dropped: number;
  /** Times the buffer ran dry while playing. */
  underruns: number;
  resets: number;
}

type State = 'idle' | 'buffering' | 'playing';

const EMPTY = 0;
const AUDIO = 1;
const SKIP = 2;

const LATE_BOOST_DECAY_FRAMES = 500;
const SHRINK_AFTER_FRAMES = 25;

export class JitterBuffer {
  readonly #clockRate: number;
  readonly #frameMs: number;
  readonly #minFrames: number;
  readonly #maxFrames: number;
  readonly #mask: number;
  readonly #maxConceal: number;
  /** EMPTY, AUDIO or SKIP per slot. */
  readonly #present: Uint8Array;
  readonly #ext: Float64Array;
  readonly #ts: Float64Array;
  readonly #arrival: Float64Array;
  readonly #payload: Buffer[];
  readonly #out: JitterFrame = { sequenceNumber: 0, timestamp: 0, ssrc: 0, payload: Buffer.alloc(0) };
  readonly #empty = Buffer.alloc(0);
  #state: State = 'idle';
  #ssrc = -1;
  /** Extended sequence number of the next frame to play (or the reference before playing). */
  #next = 0;
  #depth = 0;
  #concealRun = 0;
  /** True once a frame was played or declared lost: sequence numbers below #next are late from then on. */
  #hasFloor = false;
  #lateBoost = 0;
  #framesSinceLate = 0;
  #aboveTargetRun = 0;
  #jitter = 0;
  #lastTransit = Number.NaN;
  #s = { played: 0, concealed: 0, lost: 0, late: 0, duplicates: 0, dropped: 0, underruns: 0, resets: 0 };

  constructor(options: JitterBufferOptions) {
    const capacity = options.capacity ?? 16;
    if (capacity < 4 || (capacity & (capacity - 1)) !== 0) throw new RangeError('capacity must be a power of two >= 4');
    this.#clockRate = options.clockRate;
    this.#frameMs = options.frameMs ?? 20;
    this.#minFrames = options.minDelayFrames ?? 1;
    this.#maxFrames = Math.min(options.maxDelayFrames ?? 3, capacity - 2);
    this.#maxConceal = options.maxConcealFrames ?? 3;
    this.#mask = capacity - 1;
    this.#present = new Uint8Array(capacity);
    this.#ext = new Float64Array(capacity);
    this.#ts = new Float64Array(capacity);
    this.#arrival = new Float64Array(capacity);
    this.#payload = new Array<Buffer>(capacity).fill(this.#empty);
  }

  /** Frames queued now. */
  get depth(): number {
    return this.#depth;
  }

  /** Current target delay in frames. */
  get targetFrames(): number {
    const jitterFrames = Math.ceil((2 * this.#jitter) / this.#frameMs);
    return Math.max(this.#minFrames, Math.min(this.#maxFrames, 1 + jitterFrames + this.#lateBoost));
  }

  /** Adds an arrived packet. Returns what happened to it. */
  push(sequenceNumber: number, timestamp: number, ssrc: number, payload: Buffer, arrivalMs: number): 'queued' | 'late' | 'duplicate' {
    if (ssrc !== this.#ssrc) this.#restart(ssrc, sequenceNumber);
    this.#updateJitter(timestamp, arrivalMs);
    let ext = this.#extend(sequenceNumber);
    if (this.#hasFloor && ext < this.#next) {
      this.#s.late++;
      this.#lateBoost = Math.min(this.#maxFrames, this.#lateBoost + 1);
      this.#framesSinceLate = 0;
      return 'late';
    }
    if (!this.#hasFloor && this.#depth === 0) this.#next = ext;
    else if (!this.#hasFloor && ext < this.#next && this.#next - ext <= this.#mask) this.#next = ext; // reordered before playout
    if (ext - this.#next > this.#mask || ext < this.#next) {
      this.#restart(ssrc, sequenceNumber); // too far from the stream: it jumped; start over from this packet
      ext = this.#next;
    }
    const i = ext & this.#mask;
    if (!this.#claim(i, ext)) return 'duplicate';
    this.#present[i] = AUDIO;
    this.#ext[i] = ext;
    this.#ts[i] = timestamp;
    this.#arrival[i] = arrivalMs;
    this.#payload[i] = payload;
    this.#depth++;
    if (this.#state === 'idle') this.#state = 'buffering';
    return 'queued';
  }

  /**
   * Announces a packet of the same stream that is not audio (a telephone-event): its sequence number is
   * stepped over at playout rather than reported missing. Ignored when it is already behind the playout.
   */
  skip(sequenceNumber: number, ssrc: number): void {
    if (ssrc !== this.#ssrc) return;
    const ext = this.#extend(sequenceNumber);
    if ((this.#hasFloor && ext < this.#next) || ext - this.#next > this.#mask || ext < this.#next - this.#mask) return;
    const i = ext & this.#mask;
    if (!this.#claim(i, ext)) return;
    this.#present[i] = SKIP;
    this.#ext[i] = ext;
    this.#payload[i] = this.#empty;
  }

  /** Frees slot `i` for `ext`; false when it already holds `ext` (a duplicate). */
  #claim(i: number, ext: number): boolean {
    if (this.#present[i] === EMPTY) return true;
    if (this.#ext[i] === ext) {
      if (this.#present[i] === AUDIO) this.#s.duplicates++;
      return false;
    }
    if (this.#present[i] === AUDIO) this.#s.dropped++; // a stale packet a whole ring behind: the newer one wins
    this.#free(i);
    return true;
  }

  /** Once per frame interval: the frame to play, 'missing' (conceal one frame), or null (nothing to play). */
  pop(nowMs: number): JitterPop {
    if (++this.#framesSinceLate >= LATE_BOOST_DECAY_FRAMES && this.#lateBoost > 0) {
      this.#lateBoost--;
      this.#framesSinceLate = 0;
    }
    if (this.#state === 'buffering') return this.#popBuffering(nowMs);
    if (this.#state === 'idle') return null;
    if (this.#depth === 0) {
      this.#s.underruns++;
      this.#state = 'buffering';
      this.#concealRun = 0;
      return this.#popBuffering(nowMs);
    }
    this.#shrinkIfAbove();
    return this.#take();
  }

  /**
   * Arrival playout: the next frame in sequence if it has arrived (telephone-event slots before it are stepped
   * over), else null. The first packet starts playout at once.
   */
  popReady(): JitterFrame | null {
    if (this.#state === 'idle') return null;
    this.#stepOverEvents();
    const i = this.#next & this.#mask;
    if (this.#present[i] !== AUDIO || this.#ext[i] !== this.#next) return null;
    this.#state = 'playing';
    return this.#take() as JitterFrame;
  }

  /**
   * Arrival playout, once per tick: how many frames to conceal now. The next frame is overdue when a later
   * one has been queued for `waitMs` (a reordered packet would have come by then); every missing frame up to
   * the oldest queued one is declared lost, and at most `maxConcealFrames` of them are to be concealed (the
   * rest of a long gap is skipped: silence). Then `popReady` plays what follows.
   */
  popOverdue(nowMs: number, waitMs: number): number {
    if (this.#depth === 0) return 0;
    this.#stepOverEvents();
    const oldest = this.#oldestSlot();
    const firstQueued = this.#ext[oldest] as number;
    if (firstQueued === this.#next || nowMs - (this.#arrival[oldest] as number) < waitMs) return 0;
    const missing = firstQueued - this.#next;
    if (!this.#hasFloor) {
      // nothing played yet: the stream simply starts at the oldest packet that came
      this.#next = firstQueued;
      return 0;
    }
    this.#s.lost += missing;
    const conceal = Math.min(missing, this.#maxConceal);
    this.#s.concealed += conceal;
    this.#next = firstQueued;
    return conceal;
  }

  #stepOverEvents(): void {
    for (let n = 0; n <= this.#mask; n++) {
      const s = this.#next & this.#mask;
      if (this.#present[s] !== SKIP || this.#ext[s] !== this.#next) return;
      this.#free(s);
      this.#next++;
    }
  }

  #popBuffering(nowMs: number): JitterPop {
    if (this.#depth > 0) {
      const oldest = this.#oldestSlot();
      const waited = nowMs - (this.#arrival[oldest] as number);
      if (this.#depth >= this.targetFrames || waited >= this.targetFrames * this.#frameMs) {
        this.#advanceTo(this.#ext[oldest] as number);
        this.#state = 'playing';
        return this.#take();
      }
    }
    if (this.#s.played > 0 && this.#concealRun < this.#maxConceal) {
      this.#concealRun++;
      this.#s.concealed++;
      return 'missing';
    }
    return null;
  }

  /** Plays the expected slot, or reports it missing when later packets are queued. */
  /** Moves playout to `ext`, counting skipped audio as lost (once playing) and stepping over SKIP slots. */
  #advanceTo(ext: number): void {
    for (let n = 0; this.#next < ext && n <= this.#mask; n++) {
      const i = this.#next & this.#mask;
      if (this.#present[i] === SKIP && this.#ext[i] === this.#next) this.#free(i);
      else if (this.#hasFloor) this.#s.lost++;
      this.#next++;
    }
    this.#next = ext;
  }

  #take(): JitterPop {
    this.#stepOverEvents();
    const i = this.#next & this.#mask;
    this.#next++;
    this.#hasFloor = true;
    if (this.#present[i] !== AUDIO || this.#ext[i] !== this.#next - 1) {
      this.#s.lost++;
      this.#s.concealed++;
      return 'missing';
    }
    const out = this.#out;
    out.sequenceNumber = (this.#ext[i] as number) & 0xffff;
    out.timestamp = this.#ts[i] as number;
    out.ssrc = this.#ssrc;
    out.payload = this.#payload[i] as Buffer;
    this.#free(i);
    this.#s.played++;
    this.#concealRun = 0;
    return out;
  }

  #shrinkIfAbove(): void {
    if (this.#depth > this.targetFrames + 1) {
      if (++this.#aboveTargetRun < SHRINK_AFTER_FRAMES) return;
      const i = this.#next & this.#mask;
      const kind = this.#ext[i] === this.#next ? (this.#present[i] as number) : EMPTY;
      if (kind === AUDIO) this.#s.dropped++;
      else if (kind === EMPTY) this.#s.lost++;
      if (kind !== EMPTY) this.#free(i);
      this.#next++;
    }
    this.#aboveTargetRun = 0;
  }

  #oldestSlot(): number {
    let best = -1;
    for (let i = 0; i <= this.#mask; i++) {
      if (this.#present[i] === AUDIO && (best < 0 || (this.#ext[i] as number) < (this.#ext[best] as number))) best = i;
    }
    return best;
  }

  #free(i: number): void {
    if (this.#present[i] === AUDIO) this.#depth--;
    this.#present[i] = EMPTY;
    this.#payload[i] = this.#empty;
  }

  /** Unwraps a 16-bit sequence number to the extended counter nearest to the next one to play. */
  #extend(seq: number): number {
    const ref = this.#next;
    const delta = ((seq - (ref & 0xffff) + 0x8000) & 0xffff) - 0x8000;
    return ref + delta;
  }

  #updateJitter(timestamp: number, arrivalMs: number): void {
    const transit = arrivalMs - (timestamp * 1000) / this.#clockRate;
    if (!Number.isNaN(this.#lastTransit)) {
      const d = Math.abs(transit - this.#lastTransit);
      // a pause (DTX, hold), a timestamp jump or wrap is not jitter; beyond twice the largest delay it
      // could not be absorbed anyway
      if (d <= 2 * this.#maxFrames * this.#frameMs) this.#jitter += (d - this.#jitter) / 16;
    }
    this.#lastTransit = transit;
  }

  #restart(ssrc: number, seq: number): void {
    if (this.#ssrc !== -1) this.#s.resets++;
    this.#s.dropped += this.#depth;
    this.#present.fill(0);
    this.#payload.fill(this.#empty);
    this.#depth = 0;
    this.#ssrc = ssrc;
    this.#next = seq;
    this.#state = 'idle';
    this.#hasFloor = false;
    this.#concealRun = 0;
    this.#aboveTargetRun = 0;
    this.#lastTransit = Number.NaN;
    this.#jitter = 0;
  }

  /** Empties the buffer (e.g. the bridge is stopped). */
  reset(): void {
    const ssrc = this.#ssrc;
    this.#restart(ssrc, this.#next & 0xffff);
    this.#ssrc = -1;
  }

  stats(): JitterBufferStats {
    return {
      depth: this.#depth,
      targetDelayMs: this.targetFrames * this.#frameMs,
      jitterMs: this.#jitter,
      ...this.#s,
    };
  }
}
