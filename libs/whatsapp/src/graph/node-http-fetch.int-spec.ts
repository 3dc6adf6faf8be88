import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { silentLogger } from '@wagw/logging';
import { GraphHttp } from './graph-http';
import { createNodeHttpFetch, type NodeHttpFetch } from './node-http-fetch';
import { classifyNetworkError } from './retry-policy';

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
  socket: number;
}

/** A local HTTP server that records requests (and which connection carried them) and answers via `answer`. */
async function server(answer: (req: Seen, res: ServerResponse) => void): Promise<{ url: string; seen: Seen[]; close(): Promise<void> }> {
  const seen: Seen[] = [];
  const sockets = new Map<unknown, number>();
  const srv: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (!sockets.has(req.socket)) sockets.set(req.socket, sockets.size + 1);
      const s: Seen = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString(), socket: sockets.get(req.socket) as number };
      seen.push(s);
      answer(s, res);
    });
  });
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(srv.address() as AddressInfo).port}`,
    seen,
    close: () => new Promise<void>((resolve) => {
      srv.closeAllConnections();
      srv.close(() => resolve());
    }),
  };
}

describe('createNodeHttpFetch (Graph API transport on node:http)', () => {
  let fetchFn: NodeHttpFetch;
  beforeEach(() => {
    fetchFn = createNodeHttpFetch();
  });
  afterEach(() => fetchFn.close());

  it('sends method, headers and body, returns status, headers and text, and reuses one kept-alive connection', async () => {
    const s = await server((_req, res) => {
      res.setHeader('retry-after', '7');
      res.statusCode = 429;
      res.end('{"error":{"code":4}}');
    });
    try {
      const answers = [];
      for (let i = 0; i < 3; i++) answers.push(await fetchFn(`${s.url}/v23.0/1/calls`, { method: 'POST', headers: { authorization: 'Bearer t', 'content-type': 'application/json' }, body: '{"action":"accept"}' }));

      expect(answers[0]?.status).toBe(429);
      expect(answers[0]?.headers.get('Retry-After')).toBe('7');
      expect(answers[0]?.headers.get('x-absent')).toBeNull();
      expect(await answers[0]?.text()).toBe('{"error":{"code":4}}');
      expect(s.seen.map((r) => [r.method, r.url, r.headers['authorization'], r.headers['content-length'], r.body])).toEqual(
        Array(3).fill(['POST', '/v23.0/1/calls', 'Bearer t', '19', '{"action":"accept"}']),
      );
      expect(new Set(s.seen.map((r) => r.socket)).size).toBe(1);
    } finally {
      await s.close();
    }
  });

  it('rejects with an AbortError when the signal fires before the answer', async () => {
    const s = await server(() => undefined); // never answers
    try {
      const controller = new AbortController();
      const pending = fetchFn(`${s.url}/v23.0/1/calls`, { method: 'GET', headers: {}, signal: controller.signal });
      setTimeout(() => controller.abort(), 20);

      await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
    } finally {
      await s.close();
    }
  });

  it('a refused connection carries ECONNREFUSED, which the retry policy reads as not sent', async () => {
    const s = await server((_req, res) => res.end());
    const url = s.url;
    await s.close();

    const err = await fetchFn(`${url}/v23.0/1/calls`, { method: 'POST', headers: {}, body: '{}' }).catch((e: unknown) => e);

    expect(err).toMatchObject({ code: 'ECONNREFUSED' });
    expect(classifyNetworkError(err, false)).toMatchObject({ maybeSent: false });
  });

  it('is GraphHttp default transport: a 2xx JSON body comes back parsed', async () => {
    const s = await server((_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end('{"messaging_product":"whatsapp","success":true}');
    });
    try {
      const http = new GraphHttp({ baseUrl: s.url, apiVersion: 'v23.0', accessToken: 'tok', requestTimeoutMs: 2000, maxRetries: 0, retryBaseDelayMs: 10, logger: silentLogger() });

      const body = await http.request({ operation: 'calls.accept', method: 'POST', path: '/1/calls', body: { action: 'accept' }, idempotent: true });

      expect(body).toEqual({ messaging_product: 'whatsapp', success: true });
      expect(s.seen[0]).toMatchObject({ method: 'POST', url: '/v23.0/1/calls', body: '{"action":"accept"}' });
      expect(s.seen[0]?.headers['authorization']).toBe('Bearer tok');
    } finally {
      await s.close();
    }
  });
});
