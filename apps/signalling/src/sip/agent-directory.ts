import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@wagw/config';
import { TrunkDirectory, uriOnTrunk, type TrunkConfig } from './trunk-directory';

export class InvalidAgentError extends Error {
  readonly code = 'INVALID_REQUEST' as const;
  readonly httpStatus = 400;
}

export interface ResolvedAgent {
  uri: string;
  trunk: TrunkConfig;
}

/**
 * Where an agent's phone is: an extension (`1001`) becomes `sip:1001@<trunk domain>` on the trunk that
 * serves the business number's route (else the first trunk); a SIP URI is used as given on that trunk.
 */
@Injectable()
export class AgentDirectory {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly trunks: TrunkDirectory,
  ) {}

  resolve(agent: string): ResolvedAgent {
    const trunk = this.trunkFor();
    const a = agent.trim();
    if (/^sips?:[^\s@]+@[^\s]+$/.test(a)) return { uri: a, trunk };
    if (/^[A-Za-z0-9_.+*#-]{1,64}$/.test(a)) return { uri: uriOnTrunk(a, trunk), trunk };
    throw new InvalidAgentError(`agent must be an extension (e.g. 1001) or a SIP URI (sip:1001@pbx.example.com), got ${JSON.stringify(agent)}`);
  }

  trunkFor(): TrunkConfig {
    const route = this.trunks.routeFor(this.config.whatsapp.businessNumber);
    const trunk = route?.destinations[0]?.trunk ?? this.trunks.trunks()[0];
    if (!trunk) throw new InvalidAgentError('no PBX trunk is configured (pbx.trunks): an agent phone cannot be reached');
    return trunk;
  }
}
