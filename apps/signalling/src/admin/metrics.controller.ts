import { Controller, Get, Header } from '@nestjs/common';
import { register } from 'prom-client';

/**
 * Prometheus scrape endpoint: prom-client's default registry (trunk host health, and whatever else the
 * app registers there). Unauthenticated like most scrape targets: bind signalling.httpHost accordingly.
 */
@Controller('metrics')
export class MetricsController {
  @Get()
  @Header('Content-Type', register.contentType)
  async metrics(): Promise<string> {
    return register.metrics();
  }
}
