import type { AudioBridgeStats } from '@wagw/media-bridge';
import { MediaMetrics, type MediaMetricsSources } from './media-metrics';
import type { ClosedBridgeTotals, LegRegistryStats } from './media-totals';

type Labels = Record<string, string>;

async function valueOf(metrics: MediaMetrics, name: string, labels: Labels = {}): Promise<number | undefined> {
  const metric = metrics.registry.getSingleMetric(name);
  if (!metric) throw new Error(`no metric ${name}`);
  const { values } = await metric.get();
  return values.find((v) => Object.entries(labels).every(([k, want]) => v.labels[k] === want))?.value;
}

const direction = (lost: number, jitterMs: number) => ({ packetsIn: 0, packetsOut: 0, dtmfPacketsIn: 0, dtmfPacketsOut: 0, digits: 0, ignored: 0, lost, jitterMs });

function bridge(mode: AudioBridgeStats['mode'], wa: [number, number], pbx: [number, number], transcoder: AudioBridgeStats['transcoder'] = null): AudioBridgeStats {
  return { mode, waToPbx: direction(...wa), pbxToWa: direction(...pbx), jitterBuffer: null, transcoder };
}

function fakeSources() {
  const state = {
    wa: { legs: 0, packetsIn: 0, packetsOut: 0 } as LegRegistryStats,
    pbx: { legs: 0, packetsIn: 0, packetsOut: 0 } as LegRegistryStats,
    live: [] as AudioBridgeStats[],
    closed: { lostWa: 0, lostPbx: 0, decodeFrames: 0, decodeUs: 0, encodeFrames: 0, encodeUs: 0 } as ClosedBridgeTotals,
    ports: { pairsInUse: 0, pairCapacity: 100 },
    timeouts: { wa: 0, pbx: 0 },
  };
  const sources: MediaMetricsSources = {
    waLegs: () => state.wa,
    pbxLegs: () => state.pbx,
    bridges: () => ({ live: state.live, closed: state.closed, timeouts: state.timeouts }),
    rtpPorts: () => state.ports,
  };
  return { state, sources, metrics: new MediaMetrics(sources, { defaultMetrics: false }) };
}

describe('MediaMetrics', () => {
  it('publishes legs, bridges by mode and RTP ports as they are at scrape time', async () => {
    const { state, metrics } = fakeSources();
    state.wa.legs = 2;
    state.pbx.legs = 1;
    state.ports.pairsInUse = 1;
    state.live = [bridge('transcode', [0, 0], [0, 0]), bridge('transcode', [0, 0], [0, 0]), bridge('passthrough', [0, 0], [0, 0])];

    expect(await valueOf(metrics, 'wagw_media_legs', { kind: 'wa' })).toBe(2);
    expect(await valueOf(metrics, 'wagw_media_legs', { kind: 'pbx' })).toBe(1);
    expect(await valueOf(metrics, 'wagw_media_bridges', { mode: 'transcode' })).toBe(2);
    expect(await valueOf(metrics, 'wagw_media_bridges', { mode: 'passthrough' })).toBe(1);
    expect(await valueOf(metrics, 'wagw_rtp_ports_in_use')).toBe(2);
    expect(await valueOf(metrics, 'wagw_rtp_ports_capacity')).toBe(200);

    state.wa.legs = 0;
    state.live = [];
    expect(await valueOf(metrics, 'wagw_media_legs', { kind: 'wa' })).toBe(0);
    expect(await valueOf(metrics, 'wagw_media_bridges', { mode: 'transcode' })).toBe(0);
  });

  it('counts packets per leg and direction from the registries, never going backwards', async () => {
    const { state, metrics } = fakeSources();
    state.wa = { legs: 1, packetsIn: 500, packetsOut: 480 };
    state.pbx = { legs: 1, packetsIn: 400, packetsOut: 390 };

    expect(await valueOf(metrics, 'wagw_media_packets_total', { leg: 'wa', direction: 'in' })).toBe(500);
    expect(await valueOf(metrics, 'wagw_media_packets_total', { leg: 'pbx', direction: 'out' })).toBe(390);
    state.wa = { legs: 0, packetsIn: 499, packetsOut: 600 };
    expect(await valueOf(metrics, 'wagw_media_packets_total', { leg: 'wa', direction: 'in' })).toBe(500);
    expect(await valueOf(metrics, 'wagw_media_packets_total', { leg: 'wa', direction: 'out' })).toBe(600);
  });

  it('adds the loss of running bridges to that of stopped ones, and keeps the counter from shrinking when a late packet arrives', async () => {
    const { state, metrics } = fakeSources();
    state.closed = { ...state.closed, lostWa: 10, lostPbx: 1 };
    state.live = [bridge('transcode', [4, 0], [2, 0])];

    expect(await valueOf(metrics, 'wagw_media_packets_lost_total', { leg: 'wa' })).toBe(14);
    expect(await valueOf(metrics, 'wagw_media_packets_lost_total', { leg: 'pbx' })).toBe(3);
    state.live = [bridge('transcode', [3, 0], [2, 0])];
    expect(await valueOf(metrics, 'wagw_media_packets_lost_total', { leg: 'wa' })).toBe(14);
  });

  it('counts media timeouts by the silent side', async () => {
    const { state, metrics } = fakeSources();
    expect(await valueOf(metrics, 'wagw_media_timeouts_total', { leg: 'pbx' })).toBe(0);
    state.timeouts = { wa: 1, pbx: 3 };
    expect(await valueOf(metrics, 'wagw_media_timeouts_total', { leg: 'pbx' })).toBe(3);
    expect(await valueOf(metrics, 'wagw_media_timeouts_total', { leg: 'wa' })).toBe(1);
  });

  it('publishes the calls carried, media.maxCalls and the calls refused, when the source is given', async () => {
    const { sources } = fakeSources();
    const admission = { calls: 3, maxCalls: 80, refused: 2 };
    const metrics = new MediaMetrics({ ...sources, admission: () => admission }, { defaultMetrics: false });
    expect(await valueOf(metrics, 'wagw_media_calls')).toBe(3);
    expect(await valueOf(metrics, 'wagw_media_calls_max')).toBe(80);
    expect(await valueOf(metrics, 'wagw_media_calls_refused_total')).toBe(2);
    admission.calls = 0;
    admission.refused = 5;
    expect(await valueOf(metrics, 'wagw_media_calls')).toBe(0);
    expect(await valueOf(metrics, 'wagw_media_calls_refused_total')).toBe(5);
  });

  it('averages jitter over running bridges and leaves it out without one', async () => {
    const { state, metrics } = fakeSources();
    state.live = [bridge('transcode', [0, 10], [0, 2]), bridge('passthrough', [0, 30], [0, 4])];

    expect(await valueOf(metrics, 'wagw_media_jitter_seconds', { leg: 'wa' })).toBeCloseTo(0.02, 9);
    expect(await valueOf(metrics, 'wagw_media_jitter_seconds', { leg: 'pbx' })).toBeCloseTo(0.003, 9);
    state.live = [];
    expect(await valueOf(metrics, 'wagw_media_jitter_seconds', { leg: 'wa' })).toBeUndefined();
  });

  it('reports transcoding time per frame over running bridges (weighted by frames) and totals including stopped bridges', async () => {
    const { state, metrics } = fakeSources();
    const tc = (decoded: number, decodeMeanUs: number, encoded: number, encodeMeanUs: number) => ({ framesDecoded: decoded, framesConcealed: 0, decodeErrors: 0, framesEncoded: encoded, decodeMeanUs, encodeMeanUs });
    state.live = [bridge('transcode', [0, 0], [0, 0], tc(100, 10, 100, 200)), bridge('transcode', [0, 0], [0, 0], tc(300, 30, 100, 400)), bridge('passthrough', [0, 0], [0, 0])];
    state.closed = { ...state.closed, decodeFrames: 1000, decodeUs: 5000, encodeFrames: 10, encodeUs: 1000 };

    expect(await valueOf(metrics, 'wagw_transcode_seconds', { op: 'decode' })).toBeCloseTo(25e-6, 12);
    expect(await valueOf(metrics, 'wagw_transcode_seconds', { op: 'encode' })).toBeCloseTo(300e-6, 12);
    expect(await valueOf(metrics, 'wagw_transcode_frames_total', { op: 'decode' })).toBe(1400);
    expect(await valueOf(metrics, 'wagw_transcode_seconds_total', { op: 'encode' })).toBeCloseTo((1000 + 100 * 200 + 100 * 400) / 1e6, 9);
    state.live = [bridge('passthrough', [0, 0], [0, 0])];
    expect(await valueOf(metrics, 'wagw_transcode_seconds', { op: 'decode' })).toBeUndefined();
  });

  it('publishes mid-call SDP changes from the PBX by kind and the legs on hold, when the source is given', async () => {
    const { sources } = fakeSources();
    const pbx = { changes: { move: 2, hold: 3, resume: 1, refresh: 0, refused: 1 }, legsOnHold: 2 };
    const metrics = new MediaMetrics({ ...sources, pbxMediaChanges: () => pbx }, { defaultMetrics: false });
    expect(await valueOf(metrics, 'wagw_pbx_media_changes_total', { change: 'hold' })).toBe(3);
    expect(await valueOf(metrics, 'wagw_pbx_media_changes_total', { change: 'refused' })).toBe(1);
    expect(await valueOf(metrics, 'wagw_pbx_legs_on_hold')).toBe(2);
    pbx.legsOnHold = 0;
    pbx.changes.resume = 3;
    expect(await valueOf(metrics, 'wagw_pbx_legs_on_hold')).toBe(0);
    expect(await valueOf(metrics, 'wagw_pbx_media_changes_total', { change: 'resume' })).toBe(3);
    expect(fakeSources().metrics.registry.getSingleMetric('wagw_pbx_legs_on_hold')).toBeUndefined();
  });

  it('serves process metrics on a registry per instance, so two media apps in one process do not collide', async () => {
    const { sources } = fakeSources();
    const a = new MediaMetrics(sources);
    const b = new MediaMetrics(sources);

    const text = await a.metrics();
    expect(text).toMatch(/^nodejs_eventloop_lag_seconds /m);
    expect(text).toMatch(/^wagw_media_legs\{kind="wa"\} 0$/m);
    expect(await b.metrics()).toMatch(/^process_cpu_user_seconds_total /m);
  });
});
