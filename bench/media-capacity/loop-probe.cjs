/* eslint-disable no-undef, @typescript-eslint/no-require-imports -- a CommonJS preload run by plain Node */
// Preloaded into the process under test (node -r): measures its event-loop delay with perf_hooks and
// answers the bench driver over the IPC channel: {probe:'reset'} starts a window, {probe:'read'} returns
// the delay percentiles (ms) since: how much later than due the probe's timer ran. With {probe:'profile-start'} / {probe:'profile-stop', file} it records
// a CPU profile of just that window (node:inspector; open the .cpuprofile in Chrome DevTools), or with
// BENCH_PROFILE=heap in its environment a sampling heap profile (.heapprofile: who allocates).
// Costs one 10 ms timer inside libuv; nothing else in the process changes.
const { monitorEventLoopDelay } = require('node:perf_hooks');
const { writeFileSync } = require('node:fs');

const RESOLUTION_MS = 10;
const histogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
histogram.enable();
let session;
// BENCH_PROFILE=heap: the profile is a sampling heap profile (what allocates, .heapprofile) instead of CPU
const HEAP = process.env.BENCH_PROFILE === 'heap';

function post(method, params) {
  return new Promise((resolve, reject) => session.post(method, params, (err, res) => (err ? reject(err) : resolve(res))));
}

if (process.send) {
  process.on('message', async (m) => {
    if (!m || typeof m !== 'object' || !('probe' in m)) return;
    if (m.probe === 'reset') {
      histogram.reset();
      process.send({ probe: 'reset' });
    } else if (m.probe === 'read') {
      // the histogram holds the time between the probe timer's runs, its 10 ms interval included (an idle
      // process reads p50 ~10.2 ms): the delay is what exceeds the interval
      const ms = (ns) => Math.max(0, ns / 1e6 - RESOLUTION_MS);
      process.send({ probe: 'read', p50: ms(histogram.percentile(50)), p99: ms(histogram.percentile(99)), max: ms(histogram.max), mean: ms(histogram.mean) });
    } else if (m.probe === 'profile-start') {
      const { Session } = require('node:inspector');
      session = new Session();
      session.connect();
      if (HEAP) {
        await post('HeapProfiler.enable');
        // every sampled allocation, also those already collected: the allocation rate is what drives the scavenges
        await post('HeapProfiler.startSampling', { samplingInterval: 4096, includeObjectsCollectedByMinorGC: true, includeObjectsCollectedByMajorGC: true });
      } else {
        await post('Profiler.enable');
        await post('Profiler.setSamplingInterval', { interval: m.intervalUs ?? 500 });
        await post('Profiler.start');
      }
      process.send({ probe: 'profile-start' });
    } else if (m.probe === 'profile-stop') {
      const { profile } = await post(HEAP ? 'HeapProfiler.stopSampling' : 'Profiler.stop');
      writeFileSync(HEAP ? m.file.replace(/\.cpuprofile$/, '.heapprofile') : m.file, JSON.stringify(profile));
      session.disconnect();
      process.send({ probe: 'profile-stop' });
    }
  });
  process.channel?.unref();
}
