import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { signWebhookBody } from '@wagw/whatsapp';
import { installWebhookFastPath } from './webhook-fast-path';

const SECRET = 'app-secret-for-the-spec';
const PATH = 'webhooks/whatsapp';

interface Seen {
  method: string;
  url: string;
  /** `req.body` as the fast path left it (undefined when it did not read the body). */
  body: unknown;
  parsed: unknown;
  /** What the app's listener could still read from the stream itself. */
  streamed: string;
}

/** A real server whose "app" listener records what reaches it and answers 299. */
async function startServer(limitBytes = 1024): Promise<{ server: Server; port: number; enqueued: unknown[]; acked: number[]; app: Seen[] }> {
  const app: Seen[] = [];
  const server = createServer((req: IncomingMessage & { body?: unknown; _body?: unknown }, res: ServerResponse) => {
    let streamed = '';
    req.on('data', (c: Buffer) => (streamed += c.toString('utf8')));
    req.on('end', () => {
      app.push({ method: req.method ?? '', url: req.url ?? '', body: req.body, parsed: req._body, streamed });
      res.writeHead(299);
      res.end('app');
    });
    if (req.readableEnded) {
      app.push({ method: req.method ?? '', url: req.url ?? '', body: req.body, parsed: req._body, streamed });
      res.writeHead(299);
      res.end('app');
    }
  });
  const enqueued: unknown[] = [];
  const acked: number[] = [];
  installWebhookFastPath(server, { path: PATH, limitBytes, appSecret: () => SECRET, ingest: { enqueue: (b) => enqueued.push(b) }, acked: (s) => acked.push(s) });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port, enqueued, acked, app };
}

function send(port: number, opts: { method?: string; path?: string; body?: Buffer; headers?: Record<string, string>; chunked?: boolean }): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { ...(opts.headers ?? {}) };
    if (opts.body && !opts.chunked) headers['content-length'] = opts.body.length;
    const req = request({ host: '127.0.0.1', port, method: opts.method ?? 'POST', path: opts.path ?? `/${PATH}`, headers }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString('utf8')));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
    });
    req.on('error', reject);
    if (opts.body && opts.chunked) {
      req.write(opts.body.subarray(0, 5));
      req.end(opts.body.subarray(5));
    } else req.end(opts.body);
  });
}

describe('installWebhookFastPath', () => {
  const raw = Buffer.from('{"object":"whatsapp_business_account","entry":[]}');
  let s: Awaited<ReturnType<typeof startServer>>;

  beforeEach(async () => {
    s = await startServer();
  });
  afterEach(async () => {
    await new Promise<void>((resolve) => s.server.close(() => resolve()));
  });

  it('acks a signed JSON webhook at the server (200, the controller answer) and hands the parsed body to the ingest', async () => {
    const r = await send(s.port, { body: raw, headers: { 'x-hub-signature-256': signWebhookBody(raw, SECRET), 'content-type': 'application/json' } });

    expect(r).toMatchObject({ status: 200, body: '{"received":true}' });
    expect(r.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(s.enqueued).toEqual([{ object: 'whatsapp_business_account', entry: [] }]);
    expect(s.acked).toHaveLength(1);
    expect(s.acked[0]).toBeGreaterThan(0);
    expect(s.app).toEqual([]);
  });

  it('takes the query string form of the path too', async () => {
    const r = await send(s.port, { path: `/${PATH}?x=1`, body: raw, headers: { 'x-hub-signature-256': signWebhookBody(raw, SECRET) } });

    expect(r.status).toBe(200);
    expect(s.enqueued).toHaveLength(1);
  });

  it.each([
    ['a wrong signature', signWebhookBody(raw, 'another-secret'), raw],
    ['no signature', undefined, raw],
    ['a body that is not JSON', signWebhookBody(Buffer.from('not json'), SECRET), Buffer.from('not json')],
  ])('passes %s on to the app with the bytes it read as req.body, marked parsed, applying nothing', async (_what, signature, body) => {
    const r = await send(s.port, { body, headers: signature ? { 'x-hub-signature-256': signature } : {} });

    expect(r).toMatchObject({ status: 299, body: 'app' });
    expect(s.enqueued).toEqual([]);
    expect(s.acked).toEqual([]);
    expect(s.app).toHaveLength(1);
    expect(Buffer.isBuffer(s.app[0]?.body)).toBe(true);
    expect((s.app[0]?.body as Buffer).equals(body)).toBe(true);
    expect(s.app[0]?.parsed).toBe(true);
  });

  it.each([
    ['a GET (the hub.challenge handshake)', { method: 'GET', path: `/${PATH}?hub.mode=subscribe` }],
    ['another path', { path: '/api/v1/calls', body: raw }],
    ['a longer path under the webhook path', { path: `/${PATH}/more`, body: raw }],
    ['a chunked body (no Content-Length)', { body: raw, chunked: true }],
    ['a body over the limit', { body: Buffer.alloc(2048, 0x20) }],
    ['an encoded body', { body: raw, headers: { 'content-encoding': 'gzip' } }],
  ])('leaves %s to the app untouched, its body still in the stream', async (_what, opts) => {
    const body = (opts as { body?: Buffer }).body;
    const r = await send(s.port, { ...opts, headers: { ...((opts as { headers?: Record<string, string> }).headers ?? {}), ...(body ? { 'x-hub-signature-256': signWebhookBody(body, SECRET) } : {}) } });

    expect(r.status).toBe(299);
    expect(s.enqueued).toEqual([]);
    expect(s.app).toHaveLength(1);
    expect(s.app[0]?.body).toBeUndefined();
    expect(s.app[0]?.streamed).toBe(body ? body.toString('utf8') : '');
  });

  it('refuses a server without the app listener (installed too early)', () => {
    expect(() => installWebhookFastPath(createServer(), { path: PATH, limitBytes: 1, appSecret: () => SECRET, ingest: { enqueue: () => undefined } })).toThrow(/no request listener/);
  });
});
