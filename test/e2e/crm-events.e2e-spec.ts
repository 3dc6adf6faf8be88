import { createServer, request, type IncomingHttpHeaders, type Server, type ClientRequest } from 'node:http';
import { EventEmitter } from 'node:events';
import { freeTcpPort } from '@wagw/testing';
import { CrmEventStreamService } from '../../apps/signalling/src/events/crm-event-stream.service';
import { verifyCrmWebhook } from '../../apps/signalling/src/events/crm-webhook.sender';
import type { CrmEvent } from '../../apps/signalling/src/events/crm-event.types';
import { eventually, startStack, type Stack } from '../support/stack';
import { expectNoLeaks } from '../support/leaks';

const SECRET = 'crm-webhook-secret-for-tests';
const CALL_FLOW = ['call.incoming', 'call.connected', 'call.ended'];

/** A CRM stand-in: records every POST (raw body and headers); answers from a script of statuses, then 200. */
class CrmReceiver {
  readonly posts: { raw: string; headers: IncomingHttpHeaders; status: number }[] = [];
  #server: Server | undefined;
  /** Event types whose first delivery is answered 503 (to see the retry keep the order). */
  failFirst = new Set<string>();

  async start(port: number): Promise<string> {
    this.#server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        const type = String(req.headers['x-wagw-event-type']);
        const status = this.failFirst.delete(type) ? 503 : 200;
        this.posts.push({ raw, headers: req.headers, status });
        res.writeHead(status, { connection: 'close' }).end();
      });
    });
    await new Promise<void>((resolve) => this.#server?.listen(port, '127.0.0.1', resolve));
    return `http://127.0.0.1:${port}/crm/events`;
  }

  /** Successful deliveries, de-duplicated by event id (delivery is at-least-once), in arrival order. */
  delivered(): CrmEvent[] {
    const seen = new Set<string>();
    return this.posts
      .filter((p) => p.status === 200)
      .map((p) => JSON.parse(p.raw) as CrmEvent)
      .filter((e) => !seen.has(e.id) && seen.add(e.id));
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => (this.#server ? this.#server.close(() => resolve()) : resolve()));
  }
}

/** A minimal SSE client on node:http: parses messages as they arrive; `close()` drops the connection. */
class SseClient extends EventEmitter {
  readonly messages: { id?: string; event?: string; data?: string }[] = [];
  readonly comments: string[] = [];
  status = 0;
  #req: ClientRequest | undefined;
  #buf = '';

  open(url: string, headers: Record<string, string> = {}): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#req = request(url, { headers: { accept: 'text/event-stream', ...headers } }, (res) => {
        this.status = res.statusCode ?? 0;
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => this.#feed(chunk));
        res.on('error', () => undefined); // the test destroys the request
        res.on('end', () => this.emit('end'));
        resolve();
      });
      this.#req.on('error', (err) => (this.status ? undefined : reject(err)));
      this.#req.end();
    });
  }

  events(): CrmEvent[] {
    return this.messages.filter((m) => m.data !== undefined).map((m) => JSON.parse(m.data as string) as CrmEvent);
  }

  async waitFor(what: string, check: () => boolean, timeoutMs = 15_000): Promise<void> {
    if (check()) return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.off('message', onMessage);
        reject(new Error(`SSE: timed out waiting for ${what}; got ${JSON.stringify(this.messages.map((m) => m.event))}`));
      }, timeoutMs);
      const onMessage = (): void => {
        if (!check()) return;
        clearTimeout(timer);
        this.off('message', onMessage);
        resolve();
      };
      this.on('message', onMessage);
    });
  }

  close(): void {
    this.#req?.destroy();
  }

  #feed(chunk: string): void {
    this.#buf += chunk;
    for (let end = this.#buf.indexOf('\n\n'); end >= 0; end = this.#buf.indexOf('\n\n')) {
      const block = this.#buf.slice(0, end);
      this.#buf = this.#buf.slice(end + 2);
      const msg: { id?: string; event?: string; data?: string; retry?: string } = {};
      for (const line of block.split('\n')) {
        if (line.startsWith(':')) this.comments.push(line.slice(1).trim());
        const m = /^(id|event|data|retry): ?(.*)$/.exec(line);
        if (m) msg[m[1] as 'id'] = m[2] as string;
      }
      if (msg.data !== undefined || msg.retry !== undefined) this.messages.push(msg);
      this.emit('message');
    }
  }
}

/**
 * CRM events end to end: a WhatsApp user calls a gateway with no PBX (auto-answer, see
 * user-call-no-pbx.e2e-spec.ts), hangs up, and the CRM sees call.incoming, call.connected and call.ended in
 * that order on the SSE stream (GET /v1/events) and as signed webhooks to crm.webhookUrl.
 */
describe('CRM events for a user-initiated call', () => {
  const user = '15552224444';
  let stack: Stack;
  let crm: CrmReceiver;
  const clients: SseClient[] = [];

  beforeEach(async () => {
    crm = new CrmReceiver();
    const url = await crm.start(await freeTcpPort());
    stack = await startStack({ name: 'crm-events', env: { CRM_WEBHOOK_URL: url, CRM_WEBHOOK_SECRET: SECRET, CRM_WEBHOOK_RETRY_BASE_DELAY_MS: '50' } });
    await stack.emu('POST', '/emulator/users', { waId: user, name: 'Ana' });
  });

  afterEach(() => expectNoLeaks(stack));
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    await stack.close();
    await crm.close();
  });

  const sse = async (query: string, headers: Record<string, string> = {}): Promise<SseClient> => {
    const client = new SseClient();
    clients.push(client);
    await client.open(`${stack.signalling.baseUrl}/v1/events${query}`, headers);
    return client;
  };
  const streamClients = (): number => stack.signalling.app.get(CrmEventStreamService).stream.clientCount;
  const flowOf = (events: CrmEvent[], callId: string): string[] =>
    events.filter((e) => 'callId' in e.data && e.data.callId === callId && CALL_FLOW.includes(e.type)).map((e) => e.type);

  async function callAndHangUp(): Promise<string> {
    const { waCallId } = await stack.emu<{ waCallId: string }>('POST', `/emulator/users/${user}/call`, {});
    const active = await eventually('call active', async () => {
      const res = await stack.api('GET', `/v1/calls/${waCallId}`);
      const rec = res.body as { callId: string; state: string };
      return res.status === 200 && rec.state === 'active' ? rec : undefined;
    });
    await stack.emu('POST', `/emulator/users/${user}/hangup`);
    return active.callId;
  }

  it('streams call.incoming, call.connected and call.ended in order, and delivers them as signed webhooks in order despite a retry', async () => {
    const all = await sse(`?token=${stack.config.signalling.apiToken}`);
    const onlyEnded = await sse('?types=call.ended', { authorization: `Bearer ${stack.config.signalling.apiToken}` });
    expect([all.status, onlyEnded.status]).toEqual([200, 200]);
    await eventually('both SSE clients attached', async () => streamClients() === 2);
    crm.failFirst.add('call.connected');

    const callId = await callAndHangUp();

    await all.waitFor('call.ended on the stream', () => flowOf(all.events(), callId).includes('call.ended'));
    expect(flowOf(all.events(), callId)).toEqual(CALL_FLOW);
    const streamed = all.events().filter((e) => 'callId' in e.data && e.data.callId === callId);
    for (const m of all.messages.filter((x) => x.data)) expect(m.id).toBe((JSON.parse(m.data as string) as CrmEvent).id);
    for (const m of all.messages.filter((x) => x.data)) expect(m.event).toBe((JSON.parse(m.data as string) as CrmEvent).type);
    expect(streamed.find((e) => e.type === 'call.incoming')?.data).toMatchObject({ callId, waId: user, userName: 'Ana' });
    expect(streamed.find((e) => e.type === 'call.ended')?.data).toMatchObject({ callId, waId: user, direction: 'inbound', endedBy: 'wa' });

    await onlyEnded.waitFor('call.ended on the filtered stream', () => onlyEnded.events().some((e) => e.type === 'call.ended'));
    expect(new Set(onlyEnded.events().map((e) => e.type))).toEqual(new Set(['call.ended']));

    await eventually('call.ended delivered to the CRM', async () => flowOf(crm.delivered(), callId).includes('call.ended'));
    expect(flowOf(crm.delivered(), callId)).toEqual(CALL_FLOW);
    const ofCall = crm.posts.filter((p) => (JSON.parse(p.raw) as CrmEvent).data && p.raw.includes(callId));
    expect(ofCall.filter((p) => p.status === 503).map((p) => p.headers['x-wagw-event-type'])).toEqual(['call.connected']);
    for (const post of crm.posts) {
      const event = JSON.parse(post.raw) as CrmEvent;
      expect(verifyCrmWebhook(post.raw, post.headers['x-wagw-signature-256'] as string, SECRET)).toBe(true);
      expect(post.headers['x-wagw-event-id']).toBe(event.id);
      expect(post.headers['content-type']).toBe('application/json');
    }
    // the events on the stream and in the webhooks are the same envelopes
    expect(crm.delivered().filter((e) => 'callId' in e.data && e.data.callId === callId && CALL_FLOW.includes(e.type))).toEqual(
      streamed.filter((e) => CALL_FLOW.includes(e.type)),
    );
  });

  it('replays what a client missed after Last-Event-ID, and forgets a client that disconnects', async () => {
    const first = await sse(`?token=${stack.config.signalling.apiToken}`);
    await eventually('SSE client attached', async () => streamClients() === 1);
    const callId = await callAndHangUp();
    await first.waitFor('call.ended', () => flowOf(first.events(), callId).includes('call.ended'));
    const incoming = first.events().find((e) => e.type === 'call.incoming' && e.data.callId === callId) as CrmEvent;

    first.close();
    await eventually('the closed client is unsubscribed', async () => streamClients() === 0);

    const again = await sse(`?token=${stack.config.signalling.apiToken}`, { 'last-event-id': incoming.id });
    await again.waitFor('replay up to call.ended', () => flowOf(again.events(), callId).includes('call.ended'));
    expect(flowOf(again.events(), callId)).toEqual(['call.connected', 'call.ended']);
    const afterIncoming = first.events().slice(first.events().findIndex((e) => e.id === incoming.id) + 1);
    expect(again.events().slice(0, afterIncoming.length)).toEqual(afterIncoming);
    expect(streamClients()).toBe(1);
  });

  it('refuses the stream without a valid token and with an unknown event type', async () => {
    const none = await sse('');
    const wrong = await sse('?token=not-the-token-at-all');
    const badType = await sse(`?token=${stack.config.signalling.apiToken}&types=call.nope`);
    expect([none.status, wrong.status, badType.status]).toEqual([401, 401, 400]);
    expect(streamClients()).toBe(0);
  });
});
