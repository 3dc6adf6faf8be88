import type { NextFunction, Request, Response } from 'express';
import type { SignallingMetrics, WebhookResult } from './signalling-metrics';

/** The webhook endpoint's answers (webhook.controller.ts, webhook-signature.guard.ts) as metric results. */
export function webhookResultOfStatus(status: number): WebhookResult {
  if (status >= 200 && status < 300) return 'accepted';
  if (status === 401) return 'bad_signature';
  if (status === 400) return 'bad_json';
  return 'error';
}

/**
 * Express middleware mounted on the webhook path before its raw-body parser: times each POST from arrival
 * to the end of the answer (body read, signature check, ack) and counts it by what the answer was.
 */
export function webhookAckMiddleware(metrics: SignallingMetrics): (req: Request, res: Response, next: NextFunction) => void {
  return (req, res, next) => {
    if (req.method !== 'POST') return next();
    const started = process.hrtime.bigint();
    res.once('finish', () => {
      metrics.webhookAcked(Number(process.hrtime.bigint() - started) / 1e9);
      metrics.webhook(webhookResultOfStatus(res.statusCode));
    });
    next();
  };
}
