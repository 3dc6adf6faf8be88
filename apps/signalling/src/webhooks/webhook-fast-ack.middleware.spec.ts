import type { NextFunction, Request, Response } from 'express';
import { signWebhookBody } from '@wagw/whatsapp';
import { webhookFastAck } from './webhook-fast-ack.middleware';

const SECRET = 'app-secret-for-the-spec';

function request(method: string, body: Buffer | undefined, signature?: string): Request {
  return { method, body, headers: signature === undefined ? {} : { 'x-hub-signature-256': signature } } as unknown as Request;
}

function response(): Response & { written: { status?: number; headers?: Record<string, string>; body?: string } } {
  const written: { status?: number; headers?: Record<string, string>; body?: string } = {};
  return {
    written,
    writeHead: (status: number, headers: Record<string, string>) => Object.assign(written, { status, headers }),
    end: (body: string) => Object.assign(written, { body }),
  } as unknown as Response & { written: typeof written };
}

function run(req: Request): { enqueued: unknown[]; passedOn: boolean; res: ReturnType<typeof response> } {
  const enqueued: unknown[] = [];
  let passedOn = false;
  const res = response();
  webhookFastAck({ appSecret: () => SECRET, ingest: { enqueue: (b) => enqueued.push(b) } })(req, res, (() => (passedOn = true)) as NextFunction);
  return { enqueued, passedOn, res };
}

describe('webhookFastAck', () => {
  const raw = Buffer.from('{"object":"whatsapp_business_account","entry":[]}');

  it('acks a signed JSON webhook itself (200, the controller answer) and hands the parsed body to the ingest', () => {
    const { enqueued, passedOn, res } = run(request('POST', raw, signWebhookBody(raw, SECRET)));

    expect(passedOn).toBe(false);
    expect(enqueued).toEqual([{ object: 'whatsapp_business_account', entry: [] }]);
    expect(res.written).toEqual({ status: 200, headers: { 'content-type': 'application/json; charset=utf-8', 'content-length': '17' }, body: '{"received":true}' });
  });

  it.each([
    ['a wrong signature', request('POST', raw, signWebhookBody(raw, 'another-secret'))],
    ['no signature', request('POST', raw)],
    ['a body that is not JSON', request('POST', Buffer.from('not json'), signWebhookBody(Buffer.from('not json'), SECRET))],
    ['a GET (the hub.challenge handshake)', request('GET', undefined)],
  ])('leaves %s to the guard and the controller, applying nothing', (_what, req) => {
    const { enqueued, passedOn, res } = run(req);

    expect(passedOn).toBe(true);
    expect(enqueued).toEqual([]);
    expect(res.written).toEqual({});
  });
});
