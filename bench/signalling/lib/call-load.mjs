// The WhatsApp side of the call benches (a load generator, in the bench's own process): simulated users in
// the emulator place calls at a set rate (open loop: call i starts at t0 + i/rate whether or not earlier
// calls are done), each user hangs up `holdMs` after dialling, and every call's outcome is read from the
// emulator's own summary: accepted or not, and when (createdAt -> connectedAt = webhook out -> accept in).
import { emu } from './gateway.mjs';
import { sleep } from './proc.mjs';

const USER_BASE = 15559000000;

/** Creates `n` users (media mode sdp-only) and returns their wa ids. */
export async function prepareUsers(gw, n, { offset = 0 } = {}) {
  const ids = Array.from({ length: n }, (_, i) => String(USER_BASE + offset + i));
  for (let i = 0; i < ids.length; i += 50) {
    await Promise.all(
      ids.slice(i, i + 50).map(async (waId) => {
        await emu(gw, 'POST', '/emulator/users', { waId, name: `Load ${waId}` });
        await emu(gw, 'PUT', `/emulator/users/${waId}/media-mode`, { mode: 'sdp-only' });
      }),
    );
  }
  return ids;
}

/**
 * Places calls at `ratePerS` for `durationS` (or until `calls` calls), each hung up by its user after
 * `holdMs`. Resolves once every call placed has been hung up (or found ended) with one record per call:
 * { ok, latencyMs, reason }. A call is ok when it was accepted before its user hung up.
 */
export async function runCallLoad(gw, { users, ratePerS, durationS, calls, holdMs, onProgress }) {
  const free = [...users];
  const results = [];
  const inFlight = new Set();
  const total = calls ?? Math.round(ratePerS * durationS);
  const t0 = performance.now();
  let skipped = 0;
  for (let i = 0; i < total; i++) {
    const due = t0 + (i * 1000) / ratePerS;
    const wait = due - performance.now();
    if (wait > 1) await sleep(wait);
    const waId = free.shift(); // oldest free user first: a user's calls are spread out in time
    if (!waId) {
      skipped++;
      results.push({ ok: false, reason: 'generator: no free user' });
      continue;
    }
    const p = oneCall(gw, waId, holdMs).then((r) => {
      results.push(r);
      free.push(waId);
      inFlight.delete(p);
    });
    inFlight.add(p);
    if (onProgress && i % 500 === 499) onProgress(i + 1, total);
  }
  const placedInS = (performance.now() - t0) / 1000;
  await Promise.all([...inFlight]);
  return { results, placedInS, skipped, offeredRate: total / placedInS };
}

async function oneCall(gw, waId, holdMs) {
  let waCallId;
  try {
    ({ waCallId } = await emu(gw, 'POST', `/emulator/users/${waId}/call`, {}));
  } catch (err) {
    // a user the emulator still has in a call (an earlier hang-up got lost under overload): free it for later
    if (/ 409: .*already in/.test(err.message)) await emu(gw, 'POST', `/emulator/users/${waId}/hangup`).catch(() => undefined);
    return { ok: false, reason: `call refused: ${err.message.replace(/\d{11}/g, '<waId>').slice(0, 120)}` };
  }
  await sleep(holdMs);
  let summary;
  try {
    summary = await hangUp(gw, waId);
  } catch {
    // the call ended before the user hung up (the gateway rejected or terminated it): read why
    summary = await emu(gw, 'GET', `/emulator/calls/${waCallId}`).catch(() => undefined);
    return { ok: false, waCallId, reason: `ended early: ${summary?.endReason ?? 'unknown'}`, latencyMs: summary?.connectedAt ? summary.connectedAt - summary.createdAt : undefined };
  }
  if (summary.connectedAt === null) return { ok: false, waCallId, reason: 'not accepted within the hold time' };
  return { ok: true, waCallId, latencyMs: summary.connectedAt - summary.createdAt };
}

/** POST hangup; a network error (not an answer) is tried once more, so the user is not left in a call. */
async function hangUp(gw, waId) {
  try {
    return await emu(gw, 'POST', `/emulator/users/${waId}/hangup`);
  } catch (err) {
    if (/ -> \d{3}:/.test(err.message)) throw err; // the emulator answered (e.g. 409: the call already ended)
    await sleep(100);
    return emu(gw, 'POST', `/emulator/users/${waId}/hangup`);
  }
}

/** Counts of failure reasons. */
export function reasons(results) {
  const out = {};
  for (const r of results) if (!r.ok) out[r.reason] = (out[r.reason] ?? 0) + 1;
  return out;
}
