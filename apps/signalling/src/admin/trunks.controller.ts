import { Controller, Get, UseGuards } from '@nestjs/common';
import { ApiTokenGuard } from '../api/api-token.guard';
import { TrunkDirectory } from '../sip/trunk-directory';
import { TrunkChannels } from '../trunks/trunk-channels';
import { TrunkHealthService, type TrunkState } from '../trunks/trunk-health.service';

/** A trunk as the API shows it: health, and for a trunk with maxCalls its limit and the channels in use. */
export type TrunkView = TrunkState & { maxCalls: number; channelsInUse?: number | null };

/** Trunk and host health from the OPTIONS keep-alives, channel limits (bearer `signalling.apiToken`). */
@Controller('v1/trunks')
@UseGuards(ApiTokenGuard)
export class TrunksController {
  constructor(
    private readonly health: TrunkHealthService,
    private readonly trunks: TrunkDirectory,
    private readonly channels: TrunkChannels,
  ) {}

  @Get()
  async list(): Promise<{ trunks: TrunkView[] }> {
    const configs = this.trunks.trunks();
    const inUse = new Map((await this.channels.snapshot(configs)).map((c) => [c.trunk, c.inUse]));
    return {
      trunks: this.health.snapshot().map((t) => {
        const maxCalls = configs.find((c) => c.name === t.name)?.maxCalls ?? 0;
        return maxCalls > 0 ? { ...t, maxCalls, channelsInUse: inUse.get(t.name) ?? null } : { ...t, maxCalls };
      }),
    };
  }
}
