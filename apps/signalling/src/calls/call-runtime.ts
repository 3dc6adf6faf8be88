import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import { callLogger, type Logger } from '@wagw/logging';
import { SIGNALLING_LOGGER } from '../signalling.tokens';

/** A leg this process holds a live handle for (a SIP dialog); released when the call ends. */
export interface LiveLeg {
  readonly kind: 'pbx';
  /** Ends the SIP leg: CANCEL/BYE for a call we placed; a final response (sipStatus) or BYE for one the PBX placed. */
  hangup(reason: string, sipStatus?: number): Promise<void>;
  /** DTMF toward the PBX as SIP INFO (application/dtmf-relay), for legs without telephone-event. */
  sendDtmfInfo?(digit: string, durationMs: number): Promise<void>;
}

/** A PBX-originated call waits on WhatsApp's progress to answer its INVITE (180 on RINGING, 200 on ACCEPTED). */
export interface WaProgressListener {
  ringing(): void;
  accepted(): Promise<void>;
  /**
   * Set when the PBX's INVITE had no SDP (delayed offer): on ACCEPTED this answers the INVITE with our offer,
   * takes the answer from the ACK and starts the bridge itself, instead of the bridge then `accepted()`.
   */
  connect?(waLegId: string): Promise<void>;
}

/**
 * What one signalling process holds in memory for a call it handles: the per-call logger, live leg handles
 * and the timers that guard the call. Everything durable is in the Redis record; this is released by
 * `dispose()` when the call ends, so no timer or handle outlives its call.
 */
export class LiveCall {
  readonly #timers = new Set<NodeJS.Timeout>();
  pbxLeg: LiveLeg | undefined;
  waProgress: WaProgressListener | undefined;
  /** Call-IDs of SIP legs this call is transferred away from: their BYE no longer ends the call. */
  readonly retiredSipCalls = new Set<string>();
  /** A transfer in progress (its target still ringing): the call's end cancels it. */
  transfer: { cancel(reason: string): Promise<void> } | undefined;
  /** Starts a transfer of the call's current PBX leg (set once the leg takes transfers; the API uses it). */
  transferTo: ((target: string) => void) | undefined;
  /** The PBX holds the call now (its last SDP: sendonly, inactive or c=0.0.0.0). */
  pbxOnHold = false;
  /** The PBX leg's telephone-event payload type, when negotiated (else DTMF toward it goes as SIP INFO). */
  pbxDtmfPt: number | undefined;
  /** The teardown in progress, so a second end request joins it instead of running twice. */
  ending: Promise<void> | undefined;

  constructor(
    readonly callId: string,
    readonly log: Logger,
  ) {}

  /** Starts a timer named for what it guards; cleared on dispose. */
  guard(name: string, ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      this.#timers.delete(t);
      this.log.debug({ timer: name }, 'call timer fired');
      fn();
    }, ms);
    this.#timers.add(t);
  }

  clearTimers(): void {
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
  }

  get timerCount(): number {
    return this.#timers.size;
  }
}

@Injectable()
export class CallRuntime implements OnApplicationShutdown {
  readonly #calls = new Map<string, LiveCall>();

  constructor(@Inject(SIGNALLING_LOGGER) private readonly logger: Logger) {}

  open(callId: string, ids: { waCallId?: string; direction?: string }): LiveCall {
    const existing = this.#calls.get(callId);
    if (existing) return existing;
    const live = new LiveCall(callId, callLogger(this.logger, { callId, ...ids }));
    this.#calls.set(callId, live);
    return live;
  }

  get(callId: string): LiveCall | undefined {
    return this.#calls.get(callId);
  }

  /** Log context for a call even when this process holds nothing for it. */
  logFor(callId: string): Logger {
    return this.#calls.get(callId)?.log ?? callLogger(this.logger, { callId });
  }

  dispose(callId: string): void {
    const live = this.#calls.get(callId);
    if (!live) return;
    live.clearTimers();
    this.#calls.delete(callId);
  }

  get size(): number {
    return this.#calls.size;
  }

  /** The calls this process holds now. */
  callIds(): string[] {
    return [...this.#calls.keys()];
  }

  onApplicationShutdown(): void {
    for (const id of [...this.#calls.keys()]) this.dispose(id);
  }
}
