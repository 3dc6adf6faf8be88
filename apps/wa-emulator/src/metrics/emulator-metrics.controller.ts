import { Controller, Get, Header } from '@nestjs/common';
import { Registry } from 'prom-client';
import { EmulatorMetrics } from './emulator-metrics';

/** Prometheus scrape endpoint of the emulator (registered before the Graph routes). */
@Controller('metrics')
export class EmulatorMetricsController {
  constructor(private readonly metrics: EmulatorMetrics) {}

  @Get()
  @Header('Content-Type', Registry.PROMETHEUS_CONTENT_TYPE)
  async scrape(): Promise<string> {
    return this.metrics.metrics();
  }
}
