// Webhook load generator (its own process; its CPU is not the gateway's): POSTs signed WhatsApp webhooks
// to the signalling app at a fixed rate (open loop: request i is due at t0 + i/rate) over keep-alive
// connections, and measures each one's time to the HTTP ack. Half are message status webhooks (`sent`
// for a fresh message id), half are call terminates for calls the gateway never saw (a fresh wacid): valid,
// de-duplicated and processed like any other, and cheap to apply. Prints one JSON line with the results.
//   node ingest-generator.mjs '{"url":"http://127.0.0.1:8080/webhooks/whatsapp","secret":"...","rate":3000,"seconds":8}'
//
// Kept lean so that its own pauses do not show up as the server's latency: every request (body, HMAC
// signature, HTTP/1.1 head) is built and signed before the clock starts, and goes out as one write on a
// plain keep-alive TCP socket, one request at a time per connection (as Meta's sender does), the answer read
// by a minimal HTTP/1.1 response parser (status line, content-length). With node:http's client and signing in
// the loop, the generator added ~30 ms to the p99 at 3,000/s against a server that did nothing.
// The clock of a request starts when it is written; how late the generator wrote it is reported apart
// (`lateMs`), and a request due while all connections are busy waits for one (counted in the latency).
import { createHmac, randomBytes } from 'node:crypto';
import { connect } from 'node:net';

const o = JSON.parse(process.argv[2] ?? '{}');
const { url, secret, rate, seconds, maxInFlight = 512, connections = 64, phoneNumberId = '100000000000001', businessNumber = '15550001111', wabaId = '100000000000002' } = o;
const target = new URL(url);
const runId = randomBytes(4).toString('hex');
const metadata = { display_phone_number: businessNumber, phone_number_id: phoneNumberId };

function body(i, ts) {
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

/** Every request of the run, whole on the wire: head and signed body in one Buffer. */
function buildRequests(total) {
  const ts = String(Math.floor(Date.now() / 1000));
  const out = new Array(total);
  for (let i = 0; i < total; i++) {
    const payload = Buffer.from(body(i, ts));
    const signature = `sha256=${createHmac('sha256', secret).update(payload).digest('hex')}`;
    const head =
      `POST ${target.pathname} HTTP/1.1\r\nHost: ${target.host}\r\nConnection: keep-alive\r\nContent-Type: application/json\r\n` +
      `Content-Length: ${payload.length}\r\nX-Hub-Signature-256: ${signature}\r\n\r\n`;
    out[i] = Buffer.concat([Buffer.from(head, 'latin1'), payload]);
  }
  return out;
}

/**
 * One keep-alive connection: one request in flight, answers parsed from the byte stream (status and
 * Content-Length; the servers under test never send chunked answers to these requests).
 */
class Connection {
  constructor(onDone, onDead) {
    this.busy = false;
    this.dead = false;
    this.buf = Buffer.alloc(0);
    this.onDone = onDone;
    this.socket = connect({ host: target.hostname, port: Number(target.port), noDelay: true });
    this.ready = new Promise((resolve, reject) => {
      this.socket.once('connect', resolve);
      this.socket.once('error', reject);
    });
    this.socket.on('data', (d) => this.#onData(d));
    const die = (why) => {
      if (this.dead) return;
      this.dead = true;
      const wasBusy = this.busy;
      this.busy = false;
      onDead(this, wasBusy ? why : null);
    };
    this.socket.on('error', (err) => die(err.code ?? err.message));
    this.socket.on('close', () => die('connection closed'));
  }

  /** `t0`: when the request was due to go (now, or when it started waiting for a free connection). */
  send(req, i, t0 = process.hrtime.bigint()) {
    this.busy = true;
    this.i = i;
    this.t0 = t0;
    this.socket.write(req);
  }

  #onData(d) {
    this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d;
    for (;;) {
      const end = this.buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = this.buf.subarray(0, end).toString('latin1');
      const status = Number(head.slice(9, 12));
      const m = /\r\ncontent-length:\s*(\d+)/i.exec(head);
      const len = m ? Number(m[1]) : 0;
      if (this.buf.length < end + 4 + len) return;
      this.buf = this.buf.subarray(end + 4 + len);
      const ms = Number(process.hrtime.bigint() - this.t0) / 1e6;
      this.busy = false;
      this.onDone(this, this.i, status, ms);
    }
  }

  close() {
    this.socket.destroy();
  }
}

const total = Math.round(rate * seconds);
const requests = buildRequests(total);
const latencies = new Float64Array(total);
let done = 0;
let ok = 0;
let errors = 0;
let dropped = 0;
let terminatesOk = 0;
let lateMaxMs = 0;
let reconnects = 0;
const errorKinds = {};
const queue = []; // due requests waiting for a free connection: { i, t0 }
const idle = [];
let allDone;
const finished = new Promise((resolve) => (allDone = resolve));
let sentAll = false;

function record(i, status, ms, error) {
  latencies[done++] = ms;
  if (status === 200) {
    ok++;
    if (i % 2 === 1) terminatesOk++;
  } else {
    errors++;
    const k = error ?? `HTTP ${status}`;
    errorKinds[k] = (errorKinds[k] ?? 0) + 1;
  }
}

let issued = 0;
function checkFinished() {
  if (sentAll && done === issued) allDone();
}

/** A free connection takes the oldest waiting request, or waits at the back of the round robin. */
function serveNext(conn) {
  const next = queue.shift();
  if (next !== undefined) conn.send(requests[next.i], next.i, next.t0);
  else idle.push(conn);
}

function onDone(conn, i, status, ms) {
  record(i, status, ms);
  serveNext(conn);
  checkFinished();
}
function onDead(conn, error) {
  const at = idle.indexOf(conn);
  if (at >= 0) idle.splice(at, 1);
  if (error) record(conn.i, 0, Number(process.hrtime.bigint() - conn.t0) / 1e6, error);
  checkFinished();
  if ((!sentAll || queue.length > 0) && reconnects < connections * 4) {
    // a connection the server closed: a new one takes its place (and the oldest waiting request); bounded,
    // so a server that is gone ends the run with its errors instead of reconnecting forever
    reconnects++;
    const fresh = new Connection(onDone, onDead);
    conns.push(fresh);
    fresh.ready.then(
      () => serveNext(fresh),
      () => undefined, // its 'error' handler has recorded it
    );
  }
}

const conns = Array.from({ length: connections }, () => new Connection(onDone, onDead));
await Promise.all(conns.map((c) => c.ready));
idle.push(...conns);

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const started = performance.now();
for (let i = 0; i < total; i++) {
  const due = started + (i * 1000) / rate;
  const wait = due - performance.now();
  if (wait > 1) await sleep(wait);
  lateMaxMs = Math.max(lateMaxMs, performance.now() - due);
  if (issued - done >= maxInFlight) {
    dropped++; // the server is this far behind: not sent, counted against the achieved rate
    continue;
  }
  issued++;
  const conn = idle.shift(); // round robin: no connection sits idle long enough for the server to close it
  if (conn) conn.send(requests[i], i);
  else queue.push({ i, t0: process.hrtime.bigint() });
}
sentAll = true;
const sentInS = (performance.now() - started) / 1000;
checkFinished();
// answers still missing 30 s after the last request are given up (unref: the timer does not hold the process)
await Promise.race([finished, new Promise((resolve) => setTimeout(resolve, 30_000).unref())]);
const elapsedS = (performance.now() - started) / 1000;
const lat = Array.from(latencies.subarray(0, done)).sort((a, b) => a - b);
const pct = (p) => (lat.length ? lat[Math.min(lat.length - 1, Math.max(0, Math.ceil((p / 100) * lat.length) - 1))] : null);
for (const c of conns) c.close(); // replacements included, so the process can exit
process.stdout.write(
  `${JSON.stringify({ targetRate: rate, sent: done, ok, errors, dropped, errorKinds, sentInS, elapsedS, achievedRate: ok / elapsedS, terminatesOk, lateMaxMs, reconnects, ackMs: { p50: pct(50), p90: pct(90), p99: pct(99), p999: pct(99.9), max: lat.at(-1) ?? null }, runId })}\n`,
);
