import type { AppConfig } from '@wagw/config';
import type { Logger } from '@wagw/logging';
import { WaLeg, type FrameTicker, type WaLegOptions, type WaLegWithSdp } from '@wagw/media-bridge';

/** Builds WhatsApp legs; the registry depends on this port, so tests can count or fake legs. */
export interface WaLegFactory {
  answerOffer(offerSdp: string, logger: Logger): Promise<WaLegWithSdp>;
  createOffer(logger: Logger): Promise<WaLegWithSdp>;
}

/** Seconds of received audio each leg keeps decoded for analyseWaTone (the foundation demo's check). */
export const RECORD_SECONDS = 10;

/**
 * Seconds of received audio a leg keeps decoded. Only the gateway-answered call without a PBX (the demo and
 * foundation tests) is ever analysed; with PBX trunks configured calls are bridged and the bridge decodes what
 * it needs, so the legs skip the extra Opus decode (a leg's recording is fixed when it is created).
 */
export function recordSecondsFor(config: Pick<AppConfig, 'pbx'>): number {
  return config.pbx.trunks.length === 0 ? RECORD_SECONDS : 0;
}

/** Legs configured from `media.*`: empty strings in config mean "not set". */
export class ConfiguredWaLegFactory implements WaLegFactory {
  readonly #base: Omit<WaLegOptions, 'logger'>;

  constructor(media: Readonly<AppConfig['media']>, clock: FrameTicker, recordSeconds = RECORD_SECONDS) {
    this.#base = {
      connectTimeoutMs: media.iceConnectTimeoutMs,
      recordSeconds,
      clock,
      ...(media.iceInterfaceAddress ? { iceAddress: media.iceInterfaceAddress } : {}),
      ...(media.publicAddress ? { publicAddress: media.publicAddress } : {}),
      ...(media.stunServer ? { stunServer: media.stunServer } : {}),
    };
  }

  answerOffer(offerSdp: string, logger: Logger): Promise<WaLegWithSdp> {
    return WaLeg.answerOffer(offerSdp, { ...this.#base, logger });
  }

  createOffer(logger: Logger): Promise<WaLegWithSdp> {
    return WaLeg.createOffer({ ...this.#base, logger });
  }
}
