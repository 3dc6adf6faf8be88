import { Controller, Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { ClientProxy, EventPattern, Payload } from '@nestjs/microservices';
import { z } from 'zod';
import type { SignallingInstanceRegistry } from '@wagw/call-state';
import { CONTRACT_VERSION } from '@wagw/contracts';
import type { Logger } from '@wagw/logging';
import { MEDIA_BUS } from '../media/media-bus.client';
import { SIGNALLING_INSTANCE_ID, SIGNALLING_INSTANCES, SIGNALLING_LOGGER } from '../signalling.tokens';
import { CrmEventBus, type CrmEventShare } from './crm-event-bus';
import { CRM_EVENT_TYPES, type CrmEvent } from './crm-event.types';

/** The bus event that carries one signalling process's CRM event to the others. */
export const CRM_EVENT_SHARED = 'signalling.crm-event';
/** How often a process looks whether other signalling processes run (events are shared only then). */
export const PEER_LOOK_MS = 5000;
/** The bus event a starting signalling process sends, so that those running share their events with it at once. */
export const SIGNALLING_HELLO = 'signalling.hello';
/** After a hello, this long a look that finds no other heartbeat yet (the newcomer's first beat on its way) keeps sharing. */
const HELLO_HOLD_MS = 2 * PEER_LOOK_MS;

const hello = z.object({ v: z.literal(CONTRACT_VERSION), origin: z.string().min(1) }).strict();

const sharedEvent = z
  .object({
    v: z.literal(CONTRACT_VERSION),
    origin: z.string().min(1),
    event: z.object({ id: z.string().regex(/^[0-9a-z]+-\d{1,15}$/), type: z.enum(CRM_EVENT_TYPES), at: z.number(), data: z.record(z.string(), z.unknown()) }).strict(),
  })
  .strict();

/**
 * CRM events across signalling processes: a CRM connected to one process's SSE stream must see the calls the
 * others carry. While other signalling processes run (their heartbeats, looked at every PEER_LOOK_MS), each
 * event this process publishes also goes on the Redis bus (`signalling.crm-event`), and the events of the
 * others reach this one's SSE stream and replay buffer. The CRM webhooks stay with the process that published
 * (each event is posted once). A single signalling process publishes nothing on the bus. A process that starts
 * says hello on the bus before it takes requests, so that those running share with it at once: a CRM that
 * reconnects to a restarted process (a rolling restart behind a load balancer) misses none of the others' calls.
 */
@Injectable()
export class CrmEventRelay implements CrmEventShare, OnApplicationBootstrap, OnApplicationShutdown {
  #peers = false;
  /** Until when (epoch ms) a hello keeps the sharing on whatever a look finds. */
  #helloUntil = 0;
  #timer: NodeJS.Timeout | undefined;
  readonly #log: Logger;

  constructor(
    @Inject(MEDIA_BUS) private readonly bus: ClientProxy,
    @Inject(SIGNALLING_INSTANCE_ID) private readonly instanceId: string,
    @Inject(SIGNALLING_INSTANCES) private readonly registry: SignallingInstanceRegistry,
    private readonly events: CrmEventBus,
    @Inject(SIGNALLING_LOGGER) logger: Logger,
  ) {
    this.#log = logger.child({ component: 'crm-relay' });
  }

  async onApplicationBootstrap(): Promise<void> {
    this.events.setShare(this);
    await this.look();
    this.bus.emit(SIGNALLING_HELLO, { v: CONTRACT_VERSION, origin: this.instanceId }).subscribe({
      error: (err: unknown) => this.#log.warn({ err }, 'hello to the other signalling processes not sent (they find this one within 5 s)'),
    });
    this.#timer = setInterval(() => void this.look(), PEER_LOOK_MS);
    this.#timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.events.setShare(undefined);
  }

  /** Whether other signalling processes run now (tests call it to skip the wait). */
  async look(): Promise<boolean> {
    try {
      const peers = (await this.registry.live()).some((id) => id !== this.instanceId) || Date.now() < this.#helloUntil;
      if (peers !== this.#peers) this.#log.info({ peers }, peers ? 'other signalling processes run: CRM events shared with them' : 'no other signalling process: CRM events kept here');
      this.#peers = peers;
    } catch (err) {
      this.#log.warn({ err }, 'looking for other signalling processes failed (CRM events shared as before)');
    }
    return this.#peers;
  }

  share(event: CrmEvent): void {
    if (!this.#peers) return;
    this.bus.emit(CRM_EVENT_SHARED, { v: CONTRACT_VERSION, origin: this.instanceId, event }).subscribe({
      error: (err: unknown) => this.#log.warn({ err, event: event.type, eventId: event.id }, 'CRM event not shared with the other signalling processes'),
    });
  }

  /** Another process's hello (or this one's own, which is skipped): sharing starts now, not at the next look. */
  helloFrom(payload: unknown): void {
    const newcomer = this.#fromOther(hello, payload, 'hello');
    if (!newcomer) return;
    this.#helloUntil = Date.now() + HELLO_HOLD_MS;
    if (this.#peers) return;
    this.#peers = true;
    this.#log.info({ peers: true, newcomer: newcomer.origin }, 'a signalling process started: CRM events shared with it from now on');
  }

  /** Another process's event (or this one's own, which is skipped). */
  receive(payload: unknown): void {
    const shared = this.#fromOther(sharedEvent, payload, 'CRM event');
    if (shared) this.events.deliverShared(shared.event as CrmEvent);
  }

  /** The message when well formed and from another process (else undefined: this one's own, or refused and logged). */
  #fromOther<T extends { origin: string }>(schema: z.ZodType<T>, payload: unknown, what: string): T | undefined {
    const parsed = schema.safeParse(payload);
    if (!parsed.success) {
      this.#log.warn({ issues: parsed.error.issues.slice(0, 3) }, `${what} from another signalling process refused`);
      return undefined;
    }
    return parsed.data.origin === this.instanceId ? undefined : parsed.data;
  }
}

@Controller()
export class CrmEventRelayController {
  constructor(private readonly relay: CrmEventRelay) {}

  @EventPattern(CRM_EVENT_SHARED)
  onSharedEvent(@Payload() payload: unknown): void {
    this.relay.receive(payload);
  }

  @EventPattern(SIGNALLING_HELLO)
  onHello(@Payload() payload: unknown): void {
    this.relay.helloFrom(payload);
  }
}
