import { silentLogger } from '@wagw/logging';
import { CrmEventBuffer } from './crm-event-buffer';
import { CrmEventStream, type SseSink } from './crm-event-stream';
import type { CrmEvent } from './crm-event.types';

function ev(seq: number, type: CrmEvent['type'] = 'call.ringing', epoch = 'e1'): CrmEvent {
  return { id: `${epoch}-${seq}`, type, at: seq, data: { callId: `call_${seq}`, side: 'agent' } } as CrmEvent;
}

/** A sink that keeps what was written; `accept` false makes it report a backlog. */
class MemorySink implements SseSink {
  chunks: string[] = [];
  ended = 0;
  accept = true;
  write(chunk: string): boolean {
    this.chunks.push(chunk);
    return this.accept;
  }
  end(): void {
    this.ended++;
  }
  ids(): string[] {
    return this.chunks.flatMap((c) => /^id: (.+)$/m.exec(c)?.[1] ?? []);
  }
  comments(): string[] {
    return this.chunks.filter((c) => c.startsWith(':'));
  }
}

describe('CrmEventBuffer', () => {
  it('replays the events after a buffered id', () => {
    const b = new CrmEventBuffer(10);
    for (let i = 1; i <= 5; i++) b.push(ev(i));
    expect(b.after('e1-3')).toEqual({ events: [ev(4), ev(5)], complete: true });
    expect(b.after('e1-5')).toEqual({ events: [], complete: true });
  });

  it('keeps only the newest events up to its capacity', () => {
    const b = new CrmEventBuffer(3);
    for (let i = 1; i <= 5; i++) b.push(ev(i));
    expect(b.size).toBe(3);
    expect(b.after('e1-3').events.map((e) => e.id)).toEqual(['e1-4', 'e1-5']);
  });

  it('replays everything buffered, marked incomplete, for an id that fell out, came from an earlier process or is unreadable', () => {
    const b = new CrmEventBuffer(3);
    for (let i = 1; i <= 5; i++) b.push(ev(i));
    for (const id of ['e1-1', 'e0-99', 'garbage']) {
      expect(b.after(id)).toEqual({ events: [ev(3), ev(4), ev(5)], complete: false });
    }
  });

  it('replays nothing for an id of this process newer than the newest buffered one, or when empty', () => {
    const b = new CrmEventBuffer(3);
    expect(b.after('e1-1')).toEqual({ events: [], complete: true });
    b.push(ev(1));
    expect(b.after('e1-7')).toEqual({ events: [], complete: true });
  });

  it('with capacity 0 keeps nothing; a bad capacity is a bug', () => {
    const b = new CrmEventBuffer(0);
    b.push(ev(1));
    expect(b.size).toBe(0);
    expect(() => new CrmEventBuffer(-1)).toThrow(TypeError);
  });
});

describe('CrmEventStream', () => {
  let stream: CrmEventStream;

  beforeEach(() => {
    jest.useFakeTimers();
    stream = new CrmEventStream({ bufferSize: 100, keepAliveMs: 15_000, reconnectDelayMs: 2000, logger: silentLogger() });
  });

  afterEach(() => {
    stream.close();
    expect(jest.getTimerCount()).toBe(0);
    jest.useRealTimers();
  });

  it('sends the reconnect delay, then live events to every attached client', () => {
    const a = new MemorySink();
    const b = new MemorySink();
    stream.attach(a);
    stream.publish(ev(1));
    stream.attach(b);
    stream.publish(ev(2));
    expect(a.chunks[0]).toBe('retry: 2000\n\n');
    expect(a.ids()).toEqual(['e1-1', 'e1-2']);
    expect(b.ids()).toEqual(['e1-2']);
  });

  it('replays buffered events after Last-Event-ID before live ones, without gaps or doubles', () => {
    for (let i = 1; i <= 4; i++) stream.publish(ev(i));
    const sink = new MemorySink();
    stream.attach(sink, { lastEventId: 'e1-2' });
    stream.publish(ev(5));
    expect(sink.ids()).toEqual(['e1-3', 'e1-4', 'e1-5']);
    expect(sink.comments()).toEqual([]);
  });

  it('says so in a comment when the Last-Event-ID is no longer buffered', () => {
    const small = new CrmEventStream({ bufferSize: 2, logger: silentLogger() });
    for (let i = 1; i <= 4; i++) small.publish(ev(i));
    const sink = new MemorySink();
    small.attach(sink, { lastEventId: 'e1-1' });
    expect(sink.ids()).toEqual(['e1-3', 'e1-4']);
    expect(sink.comments().join('')).toMatch(/no longer buffered/);
    small.close();
  });

  it('filters live and replayed events by type', () => {
    stream.publish(ev(1, 'call.incoming'));
    stream.publish(ev(2, 'call.ringing'));
    const sink = new MemorySink();
    stream.attach(sink, { lastEventId: 'e0-1', types: new Set(['call.incoming', 'call.ended']) });
    stream.publish(ev(3, 'call.ended'));
    stream.publish(ev(4, 'call.ringing'));
    expect(sink.ids()).toEqual(['e1-1', 'e1-3']);
  });

  it('writes a keep-alive comment every 15 s while a client is attached, and holds no timer without clients', () => {
    expect(jest.getTimerCount()).toBe(0);
    const sink = new MemorySink();
    const detach = stream.attach(sink);
    expect(jest.getTimerCount()).toBe(1);
    jest.advanceTimersByTime(14_999);
    expect(sink.comments()).toEqual([]);
    jest.advanceTimersByTime(1);
    expect(sink.comments()).toEqual([': keep-alive\n\n']);
    jest.advanceTimersByTime(15_000);
    expect(sink.comments()).toHaveLength(2);
    detach();
    expect(jest.getTimerCount()).toBe(0);
  });

  it('counts clients; a detached client gets nothing more, and detaching twice is harmless', () => {
    const a = new MemorySink();
    const b = new MemorySink();
    const detachA = stream.attach(a);
    stream.attach(b);
    expect(stream.clientCount).toBe(2);
    detachA();
    detachA();
    expect(stream.clientCount).toBe(1);
    stream.publish(ev(1));
    expect(a.ids()).toEqual([]);
    expect(b.ids()).toEqual(['e1-1']);
  });

  it('drops a client that falls behind or whose write throws, and ends its response', () => {
    const slow = new MemorySink();
    const broken: SseSink = { write: () => { throw new Error('EPIPE'); }, end: jest.fn() };
    const fine = new MemorySink();
    stream.attach(slow);
    stream.attach(fine);
    expect(stream.attach(broken)).toBeInstanceOf(Function);
    expect(broken.end).toHaveBeenCalledTimes(1);
    slow.accept = false;
    stream.publish(ev(1));
    expect(slow.ended).toBe(1);
    stream.publish(ev(2));
    expect(slow.ids()).toEqual(['e1-1']);
    expect(fine.ids()).toEqual(['e1-1', 'e1-2']);
    expect(stream.clientCount).toBe(1);
  });

  it('close() ends every client and refuses new ones', () => {
    const a = new MemorySink();
    stream.attach(a);
    stream.close();
    expect(a.ended).toBe(1);
    expect(stream.clientCount).toBe(0);
    const late = new MemorySink();
    stream.attach(late);
    expect(late.ended).toBe(1);
    expect(stream.clientCount).toBe(0);
  });
});
