import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { APP_CONFIG, type AppConfig } from '@wagw/config';
import type { Logger } from '@wagw/logging';
import type { WhatsAppGraphClient } from '@wagw/whatsapp';
import { CrmEventBus } from '../events/crm-event-bus';
import type { CrmEvent } from '../events/crm-event.types';
import { PermissionService } from '../permissions/permission.service';
import { GRAPH_CLIENT, SIGNALLING_LOGGER, SIGNALLING_REDIS } from '../signalling.tokens';

type FollowUpConfig = AppConfig['signalling']['missedCallFollowUp'];

/** The Redis key that holds a user's last follow-up for `minIntervalS` (not call state: it outlives the call). */
export function followUpKey(keyPrefix: string, waId: string): string {
  return `${keyPrefix}:followup:${waId}`;
}

/** A call the user placed that nobody answered: inbound, no talk time. */
function missedCallOf(event: CrmEvent): { callId: string; waId: string } | undefined {
  if (event.type !== 'call.ended') return undefined;
  const d = event.data;
  return d.direction === 'inbound' && d.durationMs === 0 && d.waId ? { callId: d.callId, waId: d.waId } : undefined;
}

/**
 * After a WhatsApp user's call nobody answered (`signalling.missedCallFollowUp`), sends the user a call button
 * to call back, or a call permission request so that an agent can call them (reference §3.8, §3.6: the user's
 * call opened the 24 h service window). At most one per user per `minIntervalS`, claimed in Redis so that
 * several signalling processes (or a call ended twice) send one. The CRM hears `call.follow_up_sent`. It runs
 * beside the call's teardown, never in it: a failure is logged and the user may get one after their next
 * missed call.
 */
@Injectable()
export class MissedCallFollowUp implements OnModuleInit, OnApplicationShutdown {
  readonly #inFlight = new Set<Promise<void>>();
  #unsubscribe: (() => void) | undefined;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(SIGNALLING_REDIS) private readonly redis: Redis,
    @Inject(GRAPH_CLIENT) private readonly graph: WhatsAppGraphClient,
    @Inject(SIGNALLING_LOGGER) private readonly logger: Logger,
    private readonly events: CrmEventBus,
    private readonly permissions: PermissionService,
  ) {}

  onModuleInit(): void {
    // this process's own events only: the process that ended the call follows it up
    this.#unsubscribe = this.events.subscribe((event) => {
      const missed = this.config.signalling.missedCallFollowUp.action === 'off' ? undefined : missedCallOf(event);
      if (!missed) return;
      const job = this.followUp(missed.callId, missed.waId).catch((err: unknown) => this.logger.error({ err, callId: missed.callId }, 'missed-call follow-up failed'));
      this.#inFlight.add(job);
      void job.finally(() => this.#inFlight.delete(job));
    });
  }

  /** Resolves when every follow-up started so far is done (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight]);
  }

  async onApplicationShutdown(): Promise<void> {
    this.#unsubscribe?.();
    await this.idle();
  }

  async followUp(callId: string, waId: string): Promise<void> {
    const cfg = this.config.signalling.missedCallFollowUp;
    if (cfg.action === 'off') return;
    const log = this.logger.child({ callId, waId });
    const key = followUpKey(this.config.redis.keyPrefix, waId);
    if (cfg.minIntervalS > 0 && (await this.redis.set(key, callId, 'PX', cfg.minIntervalS * 1000, 'NX')) !== 'OK') {
      log.info({ action: cfg.action, minIntervalS: cfg.minIntervalS }, 'missed call not followed up: the user had a follow-up within minIntervalS');
      return;
    }
    try {
      const messageId = await this.#send(cfg, waId, callId, log);
      if (messageId === undefined) {
        if (cfg.minIntervalS > 0) await this.redis.del(key);
        return;
      }
      log.info({ action: cfg.action, messageId }, 'missed call followed up');
      this.events.publish('call.follow_up_sent', { callId, waId, action: cfg.action, messageId });
    } catch (err) {
      // not sent: the next missed call may try again
      if (cfg.minIntervalS > 0) await this.redis.del(key).catch(() => undefined);
      log.warn({ err, action: cfg.action }, 'missed call follow-up not sent');
    }
  }

  /** The message's id, or undefined when there is nothing to send (a permission already given, or refused). */
  async #send(cfg: FollowUpConfig, waId: string, callId: string, log: Logger): Promise<string | undefined> {
    if (cfg.action === 'call_button') {
      const { messageId } = await this.graph.sendCallButton({ to: waId, bodyText: cfg.bodyText, displayText: cfg.displayText, ttlMinutes: cfg.ttlMinutes, ...(cfg.payload ? { payload: cfg.payload } : {}) });
      return messageId;
    }
    const decision = await this.permissions.decideForCall(waId);
    if (decision.action === 'call') {
      log.info({ state: decision.state }, 'missed call not followed up with a permission request: the user already allows calls');
      return undefined;
    }
    if (decision.action === 'refuse') {
      log.info({ state: decision.state, reason: decision.reason }, 'missed call not followed up with a permission request: none may be sent');
      return undefined;
    }
    return (await this.permissions.request(waId, { callId, bodyText: cfg.bodyText })).messageId;
  }
}
