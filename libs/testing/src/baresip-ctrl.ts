import { connect, type Socket } from 'node:net';
import { PeerHarnessError } from './process';

/**
 * Client for baresip's `ctrl_tcp` module (baresip 1.0): JSON messages framed as netstrings
 * (`<len>:<json>,`). Commands are `{"command","params","token"}` and get `{"response":true,"ok","data",
 * "token"}`; events arrive unasked as `{"event":true,"type","class","accountaor","direction","peeruri",
 * "id","param"}`.
 */

export interface BaresipEvent {
  /** e.g. CALL_INCOMING, CALL_RINGING, CALL_ESTABLISHED, CALL_CLOSED, CALL_DTMF_START, REGISTER_OK. */
  type: string;
  class?: string;
  accountaor?: string;
  direction?: string;
  peeruri?: string;
  /** baresip's call id (the SIP Call-ID). */
  id?: string;
  param?: string;
  /** Arrival order within this client, from 0. */
  seq: number;
  raw: Record<string, unknown>;
}

export interface BaresipResponse {
  ok: boolean;
  data: string;
}

/** Incremental netstring decoder: feed bytes, get complete payloads. */
export class NetstringDecoder {
  #buf = Buffer.alloc(0);

  push(chunk: Buffer): string[] {
    this.#buf = Buffer.concat([this.#buf, chunk]);
    const out: string[] = [];
    for (;;) {
      const colon = this.#buf.indexOf(0x3a);
      if (colon < 0) break;
      const lenText = this.#buf.toString('ascii', 0, colon);
      if (!/^\d{1,9}$/.test(lenText)) throw new TypeError(`bad netstring length ${JSON.stringify(lenText)}`);
      const len = Number(lenText);
      const end = colon + 1 + len;
      if (this.#buf.length < end + 1) break;
      if (this.#buf[end] !== 0x2c) throw new TypeError('netstring not terminated by ","');
      out.push(this.#buf.toString('utf8', colon + 1, end));
      this.#buf = this.#buf.subarray(end + 1);
    }
    return out;
  }
}

export function encodeNetstring(payload: string): Buffer {
  const body = Buffer.from(payload, 'utf8');
  return Buffer.concat([Buffer.from(`${body.length}:`, 'ascii'), body, Buffer.from(',', 'ascii')]);
}

interface Pending {
  resolve(r: BaresipResponse): void;
  reject(e: Error): void;
  timer: NodeJS.Timeout;
}

interface Waiter {
  type: string;
  match: (e: BaresipEvent) => boolean;
  resolve(e: BaresipEvent): void;
  reject(e: Error): void;
  timer: NodeJS.Timeout;
}

export class BaresipCtrlClient {
  readonly #socket: Socket;
  readonly #decoder = new NetstringDecoder();
  readonly #pending = new Map<string, Pending>();
  readonly #events: BaresipEvent[] = [];
  readonly #consumed = new Set<number>();
  readonly #waiters = new Set<Waiter>();
  #nextToken = 1;
  #closed: Error | undefined;

  private constructor(socket: Socket) {
    this.#socket = socket;
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('error', (err) => this.#fail(new PeerHarnessError(`baresip ctrl_tcp socket error: ${err.message}`)));
    socket.on('close', () => this.#fail(new PeerHarnessError('baresip ctrl_tcp connection closed')));
  }

  /** Connects once; rejects if the port does not accept. */
  static connect(host: string, port: number): Promise<BaresipCtrlClient> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host, port });
      socket.once('error', reject);
      socket.once('connect', () => {
        socket.off('error', reject);
        resolve(new BaresipCtrlClient(socket));
      });
    });
  }

  /** Sends a long command (`dial`, `accept`, `hangup`, `reginfo`, `listcalls`, `quit`, ...). */
  command(command: string, params?: string, timeoutMs = 5000): Promise<BaresipResponse> {
    if (this.#closed) return Promise.reject(this.#closed);
    const token = `t${this.#nextToken++}`;
    const msg = JSON.stringify(params === undefined ? { command, token } : { command, params, token });
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(token);
        reject(new PeerHarnessError(`baresip did not answer command ${command} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#pending.set(token, { resolve, reject, timer });
      this.#socket.write(encodeNetstring(msg));
    });
  }

  /** Every event received so far. */
  events(): readonly BaresipEvent[] {
    return this.#events;
  }

  /**
   * The earliest event of `type` (matching `match`) not returned by an earlier waitEvent, waiting for it up
   * to `timeoutMs`. Events that arrived before the call count, so there is no race with the action.
   */
  waitEvent(type: string, timeoutMs = 10_000, match: (e: BaresipEvent) => boolean = () => true): Promise<BaresipEvent> {
    const found = this.#events.find((e) => e.type === type && !this.#consumed.has(e.seq) && match(e));
    if (found) {
      this.#consumed.add(found.seq);
      return Promise.resolve(found);
    }
    if (this.#closed) return Promise.reject(this.#closed);
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        type,
        match,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.#waiters.delete(waiter);
          const seen = this.#events.map((e) => e.type).join(', ') || 'none';
          reject(new PeerHarnessError(`no baresip event ${type} within ${timeoutMs} ms (events so far: ${seen})`));
        }, timeoutMs),
      };
      this.#waiters.add(waiter);
    });
  }

  /** Makes every event received so far invisible to later waitEvent calls (e.g. between tests). */
  forgetEvents(): void {
    for (const e of this.#events) this.#consumed.add(e.seq);
  }

  close(): void {
    this.#socket.destroy();
    this.#fail(new PeerHarnessError('baresip ctrl client closed'));
  }

  #onData(chunk: Buffer): void {
    let messages: string[];
    try {
      messages = this.#decoder.push(chunk);
    } catch (err) {
      this.#socket.destroy();
      this.#fail(new PeerHarnessError(`baresip ctrl_tcp framing error: ${(err as Error).message}`));
      return;
    }
    for (const text of messages) this.#onMessage(text);
  }

  #onMessage(text: string): void {
    let msg: Record<string, unknown>;
    try {
      msg = JSON.parse(text) as Record<string, unknown>;
    } catch {
      return; // not JSON: nothing this client understands (ctrl_tcp only sends JSON)
    }
    if (msg['response'] === true && typeof msg['token'] === 'string') {
      const p = this.#pending.get(msg['token']);
      if (!p) return;
      this.#pending.delete(msg['token']);
      clearTimeout(p.timer);
      p.resolve({ ok: msg['ok'] === true, data: typeof msg['data'] === 'string' ? msg['data'] : '' });
    } else if (msg['event'] === true && typeof msg['type'] === 'string') {
      this.#onEvent(msg);
    }
  }

  #onEvent(raw: Record<string, unknown>): void {
    const str = (k: string) => (typeof raw[k] === 'string' ? (raw[k] as string) : undefined);
    const event: BaresipEvent = { type: raw['type'] as string, seq: this.#events.length, raw };
    for (const k of ['class', 'accountaor', 'direction', 'peeruri', 'id', 'param'] as const) {
      const v = str(k);
      if (v !== undefined) event[k] = v;
    }
    this.#events.push(event);
    for (const w of this.#waiters) {
      if (w.type !== event.type || !w.match(event) || this.#consumed.has(event.seq)) continue;
      this.#consumed.add(event.seq);
      this.#waiters.delete(w);
      clearTimeout(w.timer);
      w.resolve(event);
    }
  }

  #fail(err: Error): void {
    if (this.#closed) return;
    this.#closed = err;
    for (const [, p] of this.#pending) {
      clearTimeout(p.timer);
      p.reject(err);
    }
    this.#pending.clear();
    for (const w of this.#waiters) {
      clearTimeout(w.timer);
      w.reject(err);
    }
    this.#waiters.clear();
  }
}
