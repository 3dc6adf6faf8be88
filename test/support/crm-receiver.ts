import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Env } from '@wagw/config';
import { verifyCrmWebhook } from '../../apps/signalling/src/events/crm-webhook.sender';
import type { CrmEvent } from '../../apps/signalling/src/events/crm-event.types';

export interface CrmReceiver {
  /** The gateway's crm.* settings that point its CRM webhooks here. */
  readonly env: Env;
  /** Events delivered with a valid signature, de-duplicated by id (delivery is at-least-once), in arrival order. */
  readonly events: CrmEvent[];
  /** Deliveries whose signature did not verify (a test expects none). */
  readonly badSignatures: number;
  close(): Promise<void>;
}

const SECRET = 'crm-receiver-secret-0123456789';

/** A CRM stand-in on loopback: takes the gateway's signed CRM webhooks (POST), answers 200. */
export async function startCrmReceiver(): Promise<CrmReceiver> {
  const events: CrmEvent[] = [];
  const seen = new Set<string>();
  let badSignatures = 0;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      if (!verifyCrmWebhook(raw.toString('utf8'), String(req.headers['x-wagw-signature-256'] ?? ''), SECRET)) badSignatures++;
      else {
        const event = JSON.parse(raw.toString('utf8')) as CrmEvent;
        if (!seen.has(event.id)) events.push(event);
        seen.add(event.id);
      }
      res.writeHead(200, { connection: 'close' }).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/crm/events`;
  return {
    env: { CRM_WEBHOOK_URL: url, CRM_WEBHOOK_SECRET: SECRET, CRM_WEBHOOK_RETRY_BASE_DELAY_MS: '50' },
    events,
    get badSignatures() {
      return badSignatures;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
