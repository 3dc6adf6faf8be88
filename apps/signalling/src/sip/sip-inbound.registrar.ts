import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import type { Logger } from '@wagw/logging';
import { SIGNALLING_LOGGER } from '../signalling.tokens';
import { PbxOriginatedCallUseCase } from '../calls/pbx-originated-call.use-case';
import { SipStackService } from './sip-stack.service';
import { TrunkDirectory } from './trunk-directory';
import { authorizeInvite } from './inbound-trunk-auth';
import { TrunkHealthService } from '../trunks/trunk-health.service';

/** Connects INVITEs from the PBX to their authorisation (trunk allow-lists, digest) and the call use case. */
@Injectable()
export class SipInboundRegistrar implements OnModuleInit {
  constructor(
    @Inject(SIGNALLING_LOGGER) private readonly logger: Logger,
    private readonly sip: SipStackService,
    private readonly trunks: TrunkDirectory,
    private readonly pbxCalls: PbxOriginatedCallUseCase,
    private readonly trunkState: TrunkHealthService,
  ) {}

  onModuleInit(): void {
    this.sip.setInboundHandlers(
      (req) => {
        const blocked = this.sip.blockedDecision(req.source.address, 'INVITE');
        if (blocked) return blocked;
        const decision = authorizeInvite(this.trunks.trunks(), req, this.sip.running ? this.sip.stack.advertisedHost : 'wagw', (t) => this.trunkState.registeredSource(t));
        if (decision.action === 'reject') this.logger.warn({ source: req.source, callId: req.callId, status: decision.status }, 'INVITE refused: source not on a trunk allow-list');
        return decision;
      },
      async (call) => {
        try {
          await this.pbxCalls.execute(call);
        } catch (err) {
          this.logger.error({ err, sipCallId: call.callId }, 'PBX call handling failed');
          if (call.state === 'offered' || call.state === 'early') call.reject(500, 'Server Internal Error');
        }
      },
    );
  }
}
