import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import type { Logger } from '@wagw/logging';
import type { InboundCall } from '@wagw/sip';
import { SIGNALLING_LOGGER } from '../signalling.tokens';
import { PbxOriginatedCallUseCase } from '../calls/pbx-originated-call.use-case';
import { SipStackService } from './sip-stack.service';
import { TrunkDirectory } from './trunk-directory';
import { authorizeInvite } from './inbound-trunk-auth';
import { TrunkHealthService } from '../trunks/trunk-health.service';
import { TrunkChannels } from '../trunks/trunk-channels';
import { GatewayDrain } from '../calls/gateway-drain';

/**
 * Connects INVITEs from the PBX to their authorisation (trunk allow-lists, digest), the trunk's channel limit
 * (`maxCalls`: 503 when none is free; the channel is held until the leg is over) and the call use case.
 */
@Injectable()
export class SipInboundRegistrar implements OnModuleInit {
  constructor(
    @Inject(SIGNALLING_LOGGER) private readonly logger: Logger,
    private readonly sip: SipStackService,
    private readonly trunks: TrunkDirectory,
    private readonly pbxCalls: PbxOriginatedCallUseCase,
    private readonly trunkState: TrunkHealthService,
    private readonly channels: TrunkChannels,
    private readonly drain: GatewayDrain,
  ) {}

  onModuleInit(): void {
    this.sip.setInboundHandlers(
      (req) => {
        const blocked = this.sip.blockedDecision(req.source.address, 'INVITE');
        if (blocked) return blocked;
        const decision = authorizeInvite(this.trunks.trunks(), req, this.sip.running ? this.sip.stack.advertisedHost : 'wagw', this.trunkState);
        if (decision.action === 'reject') this.logger.warn({ source: req.source, callId: req.callId, status: decision.status }, 'INVITE refused: source not on a trunk allow-list');
        return decision;
      },
      async (call) => {
        try {
          if (this.drain.draining) {
            // shutting down: the PBX tries its next gateway host (or the caller hears busy)
            this.logger.info({ sipCallId: call.callId, from: call.from.uri }, 'INVITE refused: the gateway is shutting down');
            return call.reject(503, 'Service Unavailable', { headers: { Warning: '399 wagw "the gateway is shutting down"' } });
          }
          if (!(await this.#takeChannel(call))) return;
          await this.pbxCalls.execute(call);
        } catch (err) {
          this.logger.error({ err, sipCallId: call.callId }, 'PBX call handling failed');
          if (call.state === 'offered' || call.state === 'early') call.reject(500, 'Server Internal Error');
        }
      },
    );
  }

  /** A channel on the INVITE's trunk, held until the leg is over; false (the INVITE answered 503) when none is free. */
  async #takeChannel(call: InboundCall): Promise<boolean> {
    const trunk = this.pbxCalls.trunkOf(call);
    if (!trunk || trunk.maxCalls <= 0) return true;
    const grant = await this.channels.acquire(trunk, call.callId, 'from-pbx');
    if (!grant.granted) {
      this.logger.warn({ trunk: trunk.name, maxCalls: trunk.maxCalls, inUse: grant.inUse, sipCallId: call.callId, from: call.from.uri }, 'INVITE refused: the trunk is at its call limit (maxCalls)');
      if (!call.terminated) call.reject(503, 'Service Unavailable', { headers: { Warning: `399 wagw "trunk ${trunk.name} is at its limit of ${trunk.maxCalls} calls"` } });
      return false;
    }
    call.onTerminated(() => void this.channels.release(trunk.name, call.callId));
    return !call.terminated; // CANCELled while the channel was taken: given back at once above
  }
}
