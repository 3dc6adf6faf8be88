import { Controller, Get, Header } from '@nestjs/common';
import { Registry } from 'prom-client';
import { MediaMetrics } from './media-metrics';

/** Prometheus scrape endpoint on the media app's health server: the app's own registry only. */
@Controller('metrics')
export class MediaMetricsController {
  constructor(private readonly metrics: MediaMetrics) {}

  @Get()
  @Header('Content-Type', Registry.PROMETHEUS_CONTENT_TYPE)
  async scrape(): Promise<string> {
    return this.metrics.metrics();
  }
}
