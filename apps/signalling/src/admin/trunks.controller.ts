import { Controller, Get, UseGuards } from '@nestjs/common';
import { ApiTokenGuard } from '../api/api-token.guard';
import { TrunkHealthService } from '../trunks/trunk-health.service';
import type { TrunkHealth } from '../trunks/trunk-health-monitor';

/** Trunk and host health from the OPTIONS keep-alives (bearer `signalling.apiToken`). */
@Controller('v1/trunks')
@UseGuards(ApiTokenGuard)
export class TrunksController {
  constructor(private readonly health: TrunkHealthService) {}

  @Get()
  list(): { trunks: TrunkHealth[] } {
    return { trunks: this.health.snapshot() };
  }
}
