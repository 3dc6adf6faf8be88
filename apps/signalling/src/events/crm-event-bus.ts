import { randomBytes } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from '@wagw/logging';
import { SIGNALLING_LOGGER } from '../signalling.tokens';
import type { CrmEvent, CrmEventData, CrmEventType } from './crm-event.types';

export type CrmEventListener = (event: CrmEvent) => void;

/** Where this process's events also go: the other signalling processes (CrmEventRelay). */
export interface CrmEventShare {
  share(event: CrmEvent): void;
}

/**
 * In-process fan-out of CRM events to their consumers (the SSE stream, the CRM webhook sender). A listener
 * that throws is logged and never stops the others or the call flow that published. With several signalling
 * processes, each one's events also reach the others (`setShare`, `deliverShared`): listeners subscribed with
 * `{ shared: true }` (the SSE stream: a CRM connected to any process sees every call) get those too, the
 * others (the webhook sender: each event is posted once, by the process that published it) only this one's.
 */
@Injectable()
export class CrmEventBus {
  readonly #listeners = new Set<CrmEventListener>();
  readonly #sharedListeners = new Set<CrmEventListener>();
  // the process's start in base 36 and two random base-36 digits: ids of processes started together differ
  readonly #epoch = `${Date.now().toString(36)}${randomBytes(2).readUInt16BE(0).toString(36).padStart(4, '0').slice(-2)}`;
  #seq = 0;
  #share: CrmEventShare | undefined;

  constructor(@Inject(SIGNALLING_LOGGER) private readonly logger: Logger) {}

  publish<K extends CrmEventType>(type: K, data: CrmEventData[K]): CrmEvent {
    const event = { id: `${this.#epoch}-${++this.#seq}`, type, at: Date.now(), data } as CrmEvent;
    // debug: each call's own log lines already say what the events announce (ringing, answered, ended)
    this.logger.debug({ event: type, eventId: event.id, ...('callId' in data ? { callId: data.callId } : {}), ...('waId' in data ? { waId: data.waId } : {}) }, 'CRM event');
    this.#deliver(event, this.#listeners);
    this.#deliver(event, this.#sharedListeners);
    this.#share?.share(event);
    return event;
  }

  /** An event another signalling process published: to the listeners of every process's events. */
  deliverShared(event: CrmEvent): void {
    this.#deliver(event, this.#sharedListeners);
  }

  setShare(share: CrmEventShare | undefined): void {
    this.#share = share;
  }

  subscribe(listener: CrmEventListener, options: { shared?: boolean } = {}): () => void {
    const set = options.shared ? this.#sharedListeners : this.#listeners;
    set.add(listener);
    return () => set.delete(listener);
  }

  #deliver(event: CrmEvent, listeners: ReadonlySet<CrmEventListener>): void {
    for (const listener of listeners) {
      try {
        listener(event);
      } catch (err) {
        this.logger.error({ err, event: event.type }, 'CRM event listener failed');
      }
    }
  }

  get listenerCount(): number {
    return this.#listeners.size + this.#sharedListeners.size;
  }
}
