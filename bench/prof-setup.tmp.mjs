import { startGateway } from './signalling/lib/gateway.mjs';
import { runCallSetup } from './signalling/call-setup.mjs';
const dir = '/tmp/prof';
const gw = await startGateway({ logDir: '/tmp/prof/logs', nodeArgs: { signalling: ['--cpu-prof', '--cpu-prof-dir', `${dir}/sig`], media: ['--cpu-prof', '--cpu-prof-dir', `${dir}/media`] } });
try {
  const r = await runCallSetup(gw, { rates: [100], seconds: 15, log: (l) => console.log(l) });
  console.log(JSON.stringify(r.steps.map((s) => ({ rate: s.targetRate, ok: s.ok, failed: s.failed, cpu: s.cpu }))));
} finally {
  await gw.stop();
}
