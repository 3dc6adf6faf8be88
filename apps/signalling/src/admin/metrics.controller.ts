import { Controller, Get, Header } from '@nestjs/common';
import { register, Registry } from 'prom-client';
import { SignallingMetrics } from '../metrics/signalling-metrics';

/**
 * Prometheus scrape endpoint: prom-client's default registry (trunk host health, and whatever else the
 * app registers there) merged with the app's own (calls, webhooks, Redis, process: SignallingMetrics).
 * Unauthenticated like most scrape targets: bind signalling.httpHost accordingly.
 */
@Controller('metrics')
export class MetricsController {
  constructor(private readonly own: SignallingMetrics) {}

  @Get()
  @Header('Content-Type', register.contentType)
  async metrics(): Promise<string> {
    return Registry.merge([register, this.own.registry]).metrics();
  }
}
