import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { Inject, Injectable, Optional, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { SIGNALLING_HEARTBEAT_MS, type CallRecord, type CallRepository, type SignallingInstanceRegistry } from '@wagw/call-state';
import type { Logger } from '@wagw/logging';
import { SignallingMetrics } from '../metrics/signalling-metrics';
import { CALL_REPOSITORY, SIGNALLING_INSTANCE_ID, SIGNALLING_INSTANCES, SIGNALLING_LOGGER } from '../signalling.tokens';
import { EndCallUseCase } from './end-call.use-case';
import { StartAgentCallUseCase } from './start-agent-call.use-case';


/** How often the other signalling processes' heartbeats are looked at. */
export const LOST_INSTANCE_CHECK_MS = 5000;
/** A claim on a lost instance's calls lasts this long: if its claimer dies too, another one takes over. */
const REAP_CLAIM_MS = 60_000;
/** Most live calls one look through takes in (far above what one gateway carries). */
const LIVE_CALLS_MAX = 100_000;

/** An instance id for this process: the host's name (as a Redis key part allows) and 6 random hex digits. */
export function newSignallingInstanceId(host: string = hostname()): string {
  const name = host.replace(/[^A-Za-z0-9._-]+/g, '-').slice(0, 64) || 'signalling';
  return `${name}-${randomBytes(3).toString('hex')}`;
}

/**
 * Calls of a signalling process that died (a crash, a kill, a host gone) hold a SIP dialog and timers that
 * died with it: nobody would end them, and the WhatsApp user, the media legs and the call record would stay
 * up until Meta or a TTL gave up. Each signalling process writes its heartbeat (SignallingInstanceRegistry);
 * every LOST_INSTANCE_CHECK_MS this looks for recorded processes without one. One whose heartbeat is missing on
 * two looks in a row (~15-20 s after it stopped) is lost: one live process claims it and ends each call it
 * owned (`signallingInstance` on the record) as any other end, `by: system`, cause `signalling instance <id>
 * lost`: WhatsApp told (reject or terminate), media legs closed, a BYE to the PBX in the dialog kept on the
 * record (`pbxDialog`; EndCallUseCase), CDR written. An agent call still waiting for its permission reply
 * holds nothing that died and is taken over instead (StartAgentCallUseCase.adopt: the owner, the wait's
 * timer). A clean stop drains its calls and removes its heartbeat.
 */
@Injectable()
export class SignallingInstanceWatchdog implements OnApplicationBootstrap, OnApplicationShutdown {
  #beat: NodeJS.Timeout | undefined;
  #look: NodeJS.Timeout | undefined;
  #suspects = new Set<string>();
  #running: Promise<void> | undefined;
  readonly #log: Logger;

  constructor(
    @Inject(SIGNALLING_LOGGER) logger: Logger,
    @Inject(SIGNALLING_INSTANCE_ID) private readonly instanceId: string,
    @Inject(SIGNALLING_INSTANCES) private readonly registry: SignallingInstanceRegistry,
    @Inject(CALL_REPOSITORY) private readonly calls: CallRepository,
    private readonly endCall: EndCallUseCase,
    @Optional() private readonly metrics?: SignallingMetrics,
    @Optional() private readonly agentCalls?: StartAgentCallUseCase,
  ) {
    this.#log = logger.child({ component: 'instances' });
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.#heartbeat();
    this.#log.info({ instanceId: this.instanceId }, 'signalling instance started (heartbeat in Redis; the calls of a signalling instance that stops beating are ended)');
    this.#beat = setInterval(() => void this.#heartbeat(), SIGNALLING_HEARTBEAT_MS);
    this.#beat.unref();
    this.#look = setInterval(() => void this.check(), LOST_INSTANCE_CHECK_MS);
    this.#look.unref();
  }

  /** One look (the timer's; tests call it directly). Never throws. */
  check(): Promise<void> {
    this.#running ??= this.#check().finally(() => (this.#running = undefined));
    return this.#running;
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.#beat);
    clearInterval(this.#look);
    this.#beat = this.#look = undefined;
    await this.#running;
    // the drain (before this hook) has ended this process's calls
    await this.registry.forget(this.instanceId).catch((err: unknown) => this.#log.warn({ err }, 'signalling instance not removed from Redis (its heartbeat expires)'));
  }

  async #heartbeat(): Promise<void> {
    await this.registry.heartbeat(this.instanceId).catch((err: unknown) => this.#log.warn({ err }, 'signalling heartbeat not written'));
  }

  async #check(): Promise<void> {
    try {
      const lost = (await this.registry.lost()).filter((id) => id !== this.instanceId);
      const confirmed = lost.filter((id) => this.#suspects.has(id));
      this.#suspects = new Set(lost);
      for (const id of confirmed) {
        if (await this.registry.claim(id, this.instanceId, REAP_CLAIM_MS)) await this.#reap(id);
      }
    } catch (err) {
      this.#log.warn({ err }, 'signalling instance check failed (tried again shortly)');
    }
  }

  /** Ends every call of the lost instance; forgets it once none is left (a failed end is tried again on a later look). */
  async #reap(lostId: string): Promise<void> {
    const orphans = (await this.calls.listActive(LIVE_CALLS_MAX)).filter((c: CallRecord) => c.signallingInstance === lostId);
    if (orphans.length > 0) this.#log.error({ lostInstance: lostId, calls: orphans.length }, 'signalling instance lost (no heartbeat): ending its calls');
    let failed = 0;
    let adopted = 0;
    for (const call of orphans) {
      // an agent call still waiting for the customer's permission reply holds no leg: it is taken over, not ended
      if (call.state === 'permission-pending' && this.agentCalls) {
        const taken = await this.agentCalls.adopt(call, lostId).catch((err: unknown) => {
          this.#log.warn({ err, callId: call.callId }, 'taking over a call waiting for its permission reply failed: ending it');
          return false;
        });
        if (taken) {
          adopted += 1;
          continue;
        }
      }
      this.#log.warn({ callId: call.callId, state: call.state, lostInstance: lostId }, 'ending a call of a lost signalling instance');
      await this.endCall.execute(call.callId, { by: 'system', cause: `signalling instance ${lostId} lost` }).catch((err: unknown) => {
        failed += 1;
        this.#log.warn({ err, callId: call.callId }, 'ending a call of a lost signalling instance failed (tried again later)');
      });
    }
    this.metrics?.orphansEnded(orphans.length - adopted - failed, failed === 0);
    if (failed === 0) await this.registry.forget(lostId);
  }
}
