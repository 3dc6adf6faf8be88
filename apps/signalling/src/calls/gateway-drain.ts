import { Inject, Injectable, Optional, type BeforeApplicationShutdown } from '@nestjs/common';
import type { CallRepository } from '@wagw/call-state';
import { APP_CONFIG, type AppConfig } from '@wagw/config';
import type { Logger } from '@wagw/logging';
import { CALL_REPOSITORY, SIGNALLING_INSTANCE_ID, SIGNALLING_LOGGER } from '../signalling.tokens';
import { CallRuntime } from './call-runtime';
import { EndCallUseCase } from './end-call.use-case';

/** The cause of calls refused, or ended, because the gateway is shutting down. */
export const DRAINING_CAUSE = 'gateway shutting down';

/** A new call refused while the gateway drains (API: 503 GATEWAY_DRAINING). */
export class GatewayDrainingError extends Error {
  readonly code = 'GATEWAY_DRAINING' as const;
  constructor() {
    super('the gateway is shutting down and takes no new calls');
    this.name = 'GatewayDrainingError';
  }
}

/** How often the drain looks whether the calls in progress have ended. */
const DRAIN_POLL_MS = 200;

/**
 * Graceful shutdown (SIGTERM, SIGINT, app.close()): before anything closes, this signalling app stops taking
 * new calls (a WhatsApp user's call is rejected, a PBX INVITE answered 503, POST /v1/calls 503, /health 503
 * `draining` so a load balancer sends webhooks elsewhere), lets the calls it carries go on for up to
 * `signalling.drainTimeoutS`, then ends those still up as any other end (BYE or CANCEL to the PBX, terminate
 * to WhatsApp, media legs released, CDR cause `gateway shutting down`). Webhooks, SIP and the media bus keep
 * working meanwhile (Nest closes them after this hook), so calls that end during the drain end normally.
 */
@Injectable()
export class GatewayDrain implements BeforeApplicationShutdown {
  #draining = false;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(SIGNALLING_LOGGER) private readonly logger: Logger,
    private readonly runtime: CallRuntime,
    private readonly endCall: EndCallUseCase,
    @Optional() @Inject(CALL_REPOSITORY) private readonly calls?: CallRepository,
    @Optional() @Inject(SIGNALLING_INSTANCE_ID) private readonly instanceId?: string,
  ) {}

  get draining(): boolean {
    return this.#draining;
  }

  /** Throws GatewayDrainingError while draining (for the API's new calls). */
  assertTakingCalls(): void {
    if (this.#draining) throw new GatewayDrainingError();
  }

  async beforeApplicationShutdown(signal?: string): Promise<void> {
    this.#draining = true;
    const timeoutMs = this.config.signalling.drainTimeoutS * 1000;
    const log = this.logger.child({ component: 'drain' });
    await this.#letGoOfOthersCalls(log);
    if (this.runtime.size > 0) log.info({ signal, calls: this.runtime.size, drainTimeoutS: this.config.signalling.drainTimeoutS }, 'draining: no new calls, waiting for the calls in progress to end');
    const until = Date.now() + timeoutMs;
    while (this.runtime.size > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, Math.min(DRAIN_POLL_MS, Math.max(1, until - Date.now()))));
    const left = this.runtime.callIds();
    if (left.length === 0) return log.info({ signal }, 'drained: no call in progress');
    log.warn({ calls: left.length, drainTimeoutS: this.config.signalling.drainTimeoutS }, 'drain time over: ending the calls still in progress');
    await Promise.all(
      left.map((callId) => this.endCall.execute(callId, { by: 'system', cause: DRAINING_CAUSE }).catch((err: unknown) => log.error({ err, callId }, 'call not ended at shutdown'))),
    );
  }

  /**
   * Calls this process started that another signalling process carries now (an agent call whose permission
   * reply reached that one): this process holds only their wait's timer, and its stop must not end them.
   */
  async #letGoOfOthersCalls(log: Logger): Promise<void> {
    if (!this.calls || !this.instanceId) return;
    for (const callId of this.runtime.callIds()) {
      const rec = await this.calls.get(callId).catch(() => null);
      if (!rec?.signallingInstance || rec.signallingInstance === this.instanceId) continue;
      this.runtime.dispose(callId);
      log.info({ callId, owner: rec.signallingInstance }, 'call carried by another signalling process: let go of, not ended');
    }
  }
}
