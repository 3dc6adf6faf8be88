import type { BridgeMediaSummary } from '@wagw/contracts';
import type { AudioBridgeStats } from '@wagw/media-bridge';

/** A stopped bridge's stats as the call's CDR keeps them: what came from each side, its loss and jitter. */
export function bridgeMediaSummaryOf(stats: AudioBridgeStats | undefined): BridgeMediaSummary | undefined {
  if (!stats) return undefined;
  const side = (d: AudioBridgeStats['waToPbx']): BridgeMediaSummary['fromWa'] => ({
    packets: d.packetsIn,
    lost: Math.max(0, Math.round(d.lost)),
    jitterMs: Math.max(0, Math.round(d.jitterMs * 10) / 10),
  });
  return { mode: stats.mode, fromWa: side(stats.waToPbx), fromPbx: side(stats.pbxToWa) };
}
