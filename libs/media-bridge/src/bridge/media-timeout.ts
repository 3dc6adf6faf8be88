/**
 * Media timeout (rtpengine's `timeout`, Asterisk's `rtptimeout`): a bridged call whose PBX or WhatsApp side
 * has sent nothing (no RTP, no RTCP) for too long is dead on that side, usually a PBX that lost power or its
 * network without a BYE, and would otherwise hold the WhatsApp user in a silent call for ever.
 *
 * The watch reads each side's running count of packets heard (`packetsHeard`, kept by the legs anyway) on a
 * sweep, so the packet path does no extra work: a side whose count has not moved since `limitMs` ago is
 * reported. While the PBX holds the call it may send nothing at all (`a=inactive`), so its side then gets the
 * (longer) hold limit; a change of hold state restarts the PBX side's count. A reported side is reported again
 * after another full limit if the call is still watched (its end was lost on the way), never more often.
 * A limit of 0 turns that check off.
 */
export type MediaSide = 'wa' | 'pbx';

export interface WatchedCall {
  /** Packets (RTP and RTCP) heard from WhatsApp so far: any value that grows with each one. */
  waPacketsHeard(): number;
  pbxPacketsHeard(): number;
  /** Whether the PBX holds the call now (its side may be silent). */
  pbxOnHold(): boolean;
}

export interface MediaTimeoutLimits {
  /** Silence after which a side is reported, ms (0: never). */
  timeoutMs: number;
  /** The PBX side's limit while it holds the call, ms (0: never). */
  holdTimeoutMs: number;
}

export interface MediaSilence {
  key: string;
  side: MediaSide;
  /** How long the side has been silent, ms. */
  silentMs: number;
  limitMs: number;
  onHold: boolean;
}

interface SideWatch {
  heard: number;
  since: number;
}

interface Entry {
  call: WatchedCall;
  wa: SideWatch;
  pbx: SideWatch;
  onHold: boolean;
}

export class MediaTimeoutWatch {
  readonly #limits: MediaTimeoutLimits;
  readonly #entries = new Map<string, Entry>();

  constructor(limits: MediaTimeoutLimits) {
    for (const [name, v] of Object.entries(limits)) {
      if (!Number.isFinite(v) || v < 0) throw new RangeError(`media timeout ${name} must be >= 0 ms, got ${v}`);
    }
    this.#limits = { ...limits };
  }

  /** Whether any check is on (both limits 0: nothing to watch). */
  get enabled(): boolean {
    return this.#limits.timeoutMs > 0 || this.#limits.holdTimeoutMs > 0;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** Starts (or restarts) watching a call; both sides count as heard at `now`. */
  watch(key: string, call: WatchedCall, now: number): void {
    this.#entries.set(key, {
      call,
      wa: { heard: call.waPacketsHeard(), since: now },
      pbx: { heard: call.pbxPacketsHeard(), since: now },
      onHold: call.pbxOnHold(),
    });
  }

  unwatch(key: string): void {
    this.#entries.delete(key);
  }

  clear(): void {
    this.#entries.clear();
  }

  /** The sides silent past their limit at `now`; each is then counted from `now` again. */
  sweep(now: number): MediaSilence[] {
    const silent: MediaSilence[] = [];
    for (const [key, e] of this.#entries) {
      const onHold = e.call.pbxOnHold();
      if (onHold !== e.onHold) {
        e.onHold = onHold;
        e.pbx.since = now;
      }
      this.#check(key, 'wa', e.wa, e.call.waPacketsHeard(), this.#limits.timeoutMs, false, now, silent);
      this.#check(key, 'pbx', e.pbx, e.call.pbxPacketsHeard(), onHold ? this.#limits.holdTimeoutMs : this.#limits.timeoutMs, onHold, now, silent);
    }
    return silent;
  }

  #check(key: string, side: MediaSide, w: SideWatch, heard: number, limitMs: number, onHold: boolean, now: number, out: MediaSilence[]): void {
    if (heard !== w.heard) {
      w.heard = heard;
      w.since = now;
      return;
    }
    const silentMs = now - w.since;
    if (limitMs === 0 || silentMs < limitMs) return;
    out.push({ key, side, silentMs, limitMs, onHold });
    w.since = now;
  }
}
