import type { Provider } from '@nestjs/common';
import type { RtpPortAllocator } from '@wagw/media-bridge';
import { RTP_PORT_ALLOCATOR } from '../media.tokens';
import { BridgeRegistry } from '../sessions/bridge-registry';
import { PbxLegRegistry } from '../sessions/pbx-leg-registry';
import { SessionRegistry } from '../sessions/session-registry';
import { CallAdmission } from '../sessions/call-admission';
import { MediaMetrics } from './media-metrics';

/** MediaMetrics over this app instance's registries and RTP port allocator (a registry per instance). */
export const mediaMetricsProvider: Provider = {
  provide: MediaMetrics,
  useFactory: (wa: SessionRegistry, pbx: PbxLegRegistry, bridges: BridgeRegistry, ports: RtpPortAllocator, admission: CallAdmission) =>
    new MediaMetrics({
      waLegs: () => wa.stats,
      pbxLegs: () => pbx.stats,
      bridges: () => bridges.stats,
      rtpPorts: () => ({ pairsInUse: ports.inUse, pairCapacity: ports.capacity }),
      pbxMediaChanges: () => ({ changes: pbx.mediaChanges, legsOnHold: pbx.legsOnHold }),
      admission: () => ({ calls: admission.calls, maxCalls: admission.maxCalls, refused: admission.refused }),
    }),
  inject: [SessionRegistry, PbxLegRegistry, BridgeRegistry, RTP_PORT_ALLOCATOR, CallAdmission],
};
