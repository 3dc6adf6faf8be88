import type { CrmEvent } from './crm-event.types';

/** An event id as the bus writes it: `<process epoch, base 36>-<sequence>`. */
function parseEventId(id: string): { epoch: string; seq: number } | undefined {
  const m = /^([0-9a-z]+)-(\d{1,15})$/.exec(id);
  return m?.[1] && m[2] ? { epoch: m[1], seq: Number(m[2]) } : undefined;
}

/**
 * The most recent CRM events, oldest first, so an SSE client that reconnects with `Last-Event-ID` gets what
 * it missed. Bounded: past `capacity` the oldest event is dropped. Capacity 0 keeps nothing.
 */
export class CrmEventBuffer {
  readonly #capacity: number;
  #events: CrmEvent[] = [];

  constructor(capacity: number) {
    if (!Number.isSafeInteger(capacity) || capacity < 0) throw new TypeError(`event buffer capacity must be a non-negative integer, got ${capacity}`);
    this.#capacity = capacity;
  }

  push(event: CrmEvent): void {
    if (this.#capacity === 0) return;
    this.#events.push(event);
    if (this.#events.length > this.#capacity) this.#events.splice(0, this.#events.length - this.#capacity);
  }

  get size(): number {
    return this.#events.length;
  }

  /**
   * Events published after the one with id `lastEventId`, oldest first:
   * - the id is buffered: the events after it;
   * - an id of this process that is older than the buffer (it overflowed), an id of an earlier process
   *   (the gateway restarted) or an id we cannot read: everything buffered, since the client missed an
   *   unknown amount (delivery is at-least-once; the client de-duplicates by id);
   * - an id of this process newer than the newest buffered: nothing.
   */
  after(lastEventId: string): { events: CrmEvent[]; complete: boolean } {
    const index = this.#events.findIndex((e) => e.id === lastEventId);
    if (index >= 0) return { events: this.#events.slice(index + 1), complete: true };
    const oldest = this.#events[0];
    const newest = this.#events[this.#events.length - 1];
    if (!oldest || !newest) return { events: [], complete: true };
    const asked = parseEventId(lastEventId);
    const head = parseEventId(newest.id);
    if (asked && head && asked.epoch === head.epoch && asked.seq >= head.seq) return { events: [], complete: true };
    return { events: [...this.#events], complete: false };
  }
}
