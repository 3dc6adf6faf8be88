import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from '@wagw/logging';
import { SIGNALLING_LOGGER } from '../signalling.tokens';
import type { CrmEvent, CrmEventData, CrmEventType } from './crm-event.types';

export type CrmEventListener = (event: CrmEvent) => void;

/**
 * In-process fan-out of CRM events to their consumers (the SSE stream, the CRM webhook sender). A listener
 * that throws is logged and never stops the others or the call flow that published.
 */
@Injectable()
export class CrmEventBus {
  readonly #listeners = new Set<CrmEventListener>();
  readonly #epoch = Date.now().toString(36);
  #seq = 0;

  constructor(@Inject(SIGNALLING_LOGGER) private readonly logger: Logger) {}

  publish<K extends CrmEventType>(type: K, data: CrmEventData[K]): CrmEvent {
    const event = { id: `${this.#epoch}-${++this.#seq}`, type, at: Date.now(), data } as CrmEvent;
    // debug: each call's own log lines already say what the events announce (ringing, answered, ended)
    this.logger.debug({ event: type, eventId: event.id, ...('callId' in data ? { callId: data.callId } : {}), ...('waId' in data ? { waId: data.waId } : {}) }, 'CRM event');
    for (const listener of this.#listeners) {
      try {
        listener(event);
      } catch (err) {
        this.logger.error({ err, event: type }, 'CRM event listener failed');
      }
    }
    return event;
  }

  subscribe(listener: CrmEventListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  get listenerCount(): number {
    return this.#listeners.size;
  }
}
