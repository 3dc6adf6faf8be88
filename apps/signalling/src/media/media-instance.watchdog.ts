import { Inject, Injectable, OnApplicationBootstrap, OnApplicationShutdown, Optional } from '@nestjs/common';
import type { CallRecord, CallRepository } from '@wagw/call-state';
import type { Logger } from '@wagw/logging';
import { CALL_REPOSITORY, SIGNALLING_LOGGER } from '../signalling.tokens';
import { EndCallUseCase } from '../calls/end-call.use-case';
import { MEDIA_ROUTER } from './media-bus.client';
import type { MediaRouter } from './media-router';

/** Most live calls one check looks through (far above what one gateway carries). */
const LIVE_CALLS_MAX = 100_000;

/** How often the heartbeats of the media instances are checked. */
export const WATCHDOG_INTERVAL_MS = 2000;

/**
 * With several media apps: a media instance whose heartbeat has expired on two checks in a row (it crashed,
 * hangs, or lost Redis: at least ~5.5 s without a beat) has lost its calls' media, and no event will say so.
 * Its live calls are ended (`by: system`, the cause names the instance), which hangs up both sides and
 * releases everything in Redis; their leg closes toward that instance fail by deadline and are logged. A
 * media app that stops cleanly ends its calls itself (its legs' `closed` events). Every signalling instance
 * runs this; ending a call twice is harmless.
 */
@Injectable()
export class MediaInstanceWatchdog implements OnApplicationBootstrap, OnApplicationShutdown {
  #timer: NodeJS.Timeout | undefined;
  #suspects = new Set<string>();
  #running: Promise<void> | undefined;

  constructor(
    @Inject(SIGNALLING_LOGGER) private readonly logger: Logger,
    @Inject(CALL_REPOSITORY) private readonly calls: CallRepository,
    private readonly endCall: EndCallUseCase,
    @Optional() @Inject(MEDIA_ROUTER) private readonly router: MediaRouter | null = null,
  ) {}

  onApplicationBootstrap(): void {
    if (!this.router) return;
    this.#timer = setInterval(() => void this.check(), WATCHDOG_INTERVAL_MS);
    this.#timer.unref();
  }

  /** One check (the timer's; tests call it directly). Never throws. */
  check(): Promise<void> {
    this.#running ??= this.#check().finally(() => (this.#running = undefined));
    return this.#running;
  }

  async #check(): Promise<void> {
    if (!this.router) return;
    try {
      const lost = await this.router.lostInstances();
      const confirmed = lost.filter((id) => this.#suspects.has(id));
      this.#suspects = new Set(lost);
      if (confirmed.length > 0) await this.#endCallsOn(this.router, confirmed);
    } catch (err) {
      this.logger.warn({ err }, 'media instance check failed (tried again in 2 s)');
    }
  }

  async #endCallsOn(router: MediaRouter, lost: string[]): Promise<void> {
    // every live call (not the API's default page of 1,000): this runs only once an instance is lost
    const withMedia = (await this.calls.listActive(LIVE_CALLS_MAX)).filter((c: CallRecord) => (c.waLegId || c.pbxLegId) && c.state !== 'ending' && c.state !== 'ended');
    for (const call of withMedia) {
      const instance = await router.forCall(call.callId);
      if (!lost.includes(instance)) continue;
      this.logger.error({ callId: call.callId, instanceId: instance }, 'media instance lost (no heartbeat): ending its call');
      await this.endCall
        .execute(call.callId, { by: 'system', cause: `media instance ${instance} lost (no heartbeat)` })
        .catch((err: unknown) => this.logger.warn({ err, callId: call.callId }, 'ending a call of a lost media instance failed (tried again on the next check)'));
    }
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#running;
  }
}
