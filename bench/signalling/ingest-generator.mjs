// Webhook load generator (its own process; its CPU is not the gateway's): POSTs signed WhatsApp webhooks
// to the signalling app at a fixed rate (open loop: request i leaves at t0 + i/rate) over keep-alive
// connections, and measures each one's time to the HTTP ack. Half are message status webhooks (`sent`
// for a fresh message id), half are call terminates for calls the gateway never saw (a fresh wacid): valid,
// de-duplicated and processed like any other, and cheap to apply. Prints one JSON line with the results.
//   node ingest-generator.mjs '{"url":"http://127.0.0.1:8080/webhooks/whatsapp","secret":"...","rate":3000,"seconds":8}'
import { createHmac, randomBytes } from 'node:crypto';
import { Agent, request } from 'node:http';

const o = JSON.parse(process.argv[2] ?? '{}');
const { url, secret, rate, seconds, maxInFlight = 512, connections = 64, phoneNumberId = '100000000000001', businessNumber = '15550001111', wabaId = '100000000000002' } = o;
const target = new URL(url);
const agent = new Agent({ keepAlive: true, maxSockets: connections, maxFreeSockets: connections });
const runId = randomBytes(4).toString('hex');
const metadata = { display_phone_number: businessNumber, phone_number_id: phoneNumberId };

function body(i) {
  const ts = String(Math.floor(Date.now() / 1000));
  const user = String(15551000000 + (i % 100000));
  const value =
    i % 2 === 0
      ? { messaging_product: 'whatsapp', metadata, statuses: [{ id: `wamid.bench${runId}${i}`, status: 'sent', timestamp: ts, recipient_id: user }] }
      : {
          messaging_product: 'whatsapp',
          metadata,
          contacts: [{ profile: { name: 'Bench' }, wa_id: user }],
          calls: [{ id: `wacid.bench${runId}${i}`, from: user, to: businessNumber, event: 'terminate', direction: 'USER_INITIATED', timestamp: ts, status: 'COMPLETED' }],
        };
  const field = i % 2 === 0 ? 'messages' : 'calls';
  return JSON.stringify({ object: 'whatsapp_business_account', entry: [{ id: wabaId, changes: [{ field, value }] }] });
}

function post(i) {
  const payload = Buffer.from(body(i));
  const signature = `sha256=${createHmac('sha256', secret).update(payload).digest('hex')}`;
  return new Promise((resolve) => {
    const t0 = process.hrtime.bigint();
    const req = request(
      { host: target.hostname, port: target.port, path: target.pathname, method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': payload.length, 'x-hub-signature-256': signature } },
      (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode, ms: Number(process.hrtime.bigint() - t0) / 1e6 }));
      },
    );
    req.on('error', (err) => resolve({ status: 0, ms: Number(process.hrtime.bigint() - t0) / 1e6, error: err.code ?? err.message }));
    req.end(payload);
  });
}

const total = Math.round(rate * seconds);
const latencies = new Float64Array(total);
let done = 0;
let ok = 0;
let errors = 0;
let dropped = 0;
let terminatesOk = 0;
let inFlight = 0;
const errorKinds = {};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const started = performance.now();
const pending = [];
for (let i = 0; i < total; i++) {
  const due = started + (i * 1000) / rate;
  const wait = due - performance.now();
  if (wait > 1) await sleep(wait);
  if (inFlight >= maxInFlight) {
    dropped++; // the server is this far behind: not sent, counted against the achieved rate
    continue;
  }
  inFlight++;
  pending.push(
    post(i).then((r) => {
      inFlight--;
      latencies[done++] = r.ms;
      if (r.status === 200) {
        ok++;
        if (i % 2 === 1) terminatesOk++;
      } else {
        errors++;
        const k = r.error ?? `HTTP ${r.status}`;
        errorKinds[k] = (errorKinds[k] ?? 0) + 1;
      }
    }),
  );
}
const sentInS = (performance.now() - started) / 1000;
await Promise.all(pending);
const elapsedS = (performance.now() - started) / 1000;
const lat = Array.from(latencies.subarray(0, done)).sort((a, b) => a - b);
const pct = (p) => (lat.length ? lat[Math.min(lat.length - 1, Math.max(0, Math.ceil((p / 100) * lat.length) - 1))] : null);
agent.destroy();
process.stdout.write(
  `${JSON.stringify({ targetRate: rate, sent: done, ok, errors, dropped, errorKinds, sentInS, elapsedS, achievedRate: ok / elapsedS, terminatesOk, ackMs: { p50: pct(50), p90: pct(90), p99: pct(99), p999: pct(99.9), max: lat.at(-1) ?? null }, runId })}\n`,
);
