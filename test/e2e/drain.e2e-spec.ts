import { keptAfterEnd } from '../support/leaks';
import { eventually, startStack, type Stack } from '../support/stack';
import { startEchoPbx, toneFramesAtUser, userCallsWithTone, userHearsEcho, type EchoPbx } from '../support/echo-pbx';
import { SessionRegistry } from '../../apps/media/src/sessions/session-registry';
import { PbxLegRegistry } from '../../apps/media/src/sessions/pbx-leg-registry';

/**
 * Graceful shutdown of signalling (SIGTERM runs the same app.close()): while it drains, /health answers 503
 * `draining` and a new WhatsApp call is rejected, but the call in progress goes on (the user still hears the
 * PBX's echo) and ends normally when the user hangs up, which ends the drain early; or, when the drain time
 * runs out first, the call is ended cleanly: WhatsApp terminated, a BYE to the PBX (SIPp's scenario fails
 * without it), the media legs released, a CDR with the cause, nothing else left in Redis.
 */
const BUSINESS = '15550001111';
const USER = '15552227373';
const LATE_USER = '15552227474';

interface GraphRequest {
  action: string;
}

describe('signalling drain on shutdown', () => {
  let pbx: EchoPbx | undefined;
  let stack: Stack | undefined;

  afterEach(async () => {
    await stack?.close();
    await pbx?.stop();
    stack = undefined;
    pbx = undefined;
  });

  async function boot(drainTimeoutS: number): Promise<Stack> {
    pbx = await startEchoPbx();
    const s = (stack = await startStack({ name: 'drain', env: { ...pbx.env(BUSINESS), SIGNALLING_DRAIN_TIMEOUT_S: String(drainTimeoutS) } }));
    for (const [waId, name] of [[USER, 'Lou'], [LATE_USER, 'Max']] as const) await s.emu('POST', '/emulator/users', { waId, name });
    return s;
  }

  /** Starts signalling's shutdown; the stack's own close then waits for the same one. */
  function shutDownSignalling(s: Stack): Promise<void> {
    const closing = s.signalling.close();
    (s.signalling as { close: () => Promise<void> }).close = () => closing;
    return closing;
  }

  const echoFrames = (s: Stack): Promise<number> => toneFramesAtUser(s, USER);

  const callRecord = (s: Stack, callId: string): Promise<Record<string, string>> => s.redis.hgetall(`${s.config.redis.keyPrefix}:call:${callId}`);

  async function userCallActive(s: Stack): Promise<string> {
    const call = await userCallsWithTone(s, USER);
    await userHearsEcho(s, USER);
    return call.callId;
  }

  /** Nothing of a call is left: no leg in the media app, no Redis key but CDRs (record, wacall alias) and their index. */
  async function nothingLeft(s: Stack): Promise<void> {
    expect([s.media.app.get(SessionRegistry).size, s.media.app.get(PbxLegRegistry).size]).toEqual([0, 0]);
    const left: string[] = [];
    for (const key of await s.keys()) if (!(await keptAfterEnd(s, key))) left.push(key);
    expect(left).toEqual([]);
  }

  it('refuses new calls while the call in progress goes on, and stops as soon as that call ends', async () => {
    const s = await boot(30);
    const callId = await userCallActive(s);

    const closing = shutDownSignalling(s);
    await eventually('/health draining', async () => {
      const res = await fetch(`${s.signalling.baseUrl}/health`);
      return res.status === 503 && ((await res.json()) as { status: string }).status === 'draining';
    });
    const { waCallId: lateCall } = await s.emu<{ waCallId: string }>('POST', `/emulator/users/${LATE_USER}/call`, {});
    await eventually('the late call rejected', async () => {
      const graph = await s.emu<GraphRequest[]>('GET', `/emulator/graph-requests?callId=${encodeURIComponent(lateCall)}`);
      return graph.map((g) => g.action).join() === 'reject';
    });
    // the call in progress is untouched: still active, its audio still flowing
    const before = await echoFrames(s);
    await eventually('more echo at the user', async () => (await echoFrames(s)) >= before + 10, 5000, 250);
    expect((await callRecord(s, callId))['state']).toBe('active');

    const hungUpAt = Date.now();
    await s.emu('POST', `/emulator/users/${USER}/hangup`);
    await closing;
    expect(Date.now() - hungUpAt).toBeLessThan(10_000); // not the 30 s drain time
    expect(await callRecord(s, callId)).toMatchObject({ state: 'ended', endedBy: 'wa' });
    const sipp = await (pbx as EchoPbx).sipp.result();
    expect({ exit: sipp.exitCode, errors: sipp.errors }).toEqual({ exit: 0, errors: '' });
    await nothingLeft(s);
  });

  it('ends the calls still up when the drain time is over: WhatsApp terminated, BYE to the PBX, the cause in the CDR', async () => {
    const s = await boot(1);
    const callId = await userCallActive(s);
    const waCallId = (await callRecord(s, callId))['waCallId'] as string;

    await shutDownSignalling(s);

    expect(await callRecord(s, callId)).toMatchObject({ state: 'ended', endedBy: 'system', endCause: 'gateway shutting down' });
    const graph = await s.emu<GraphRequest[]>('GET', `/emulator/graph-requests?callId=${encodeURIComponent(waCallId)}`);
    expect(graph.map((g) => g.action)).toEqual(['pre_accept', 'accept', 'terminate']);
    const sipp = await (pbx as EchoPbx).sipp.result();
    expect({ exit: sipp.exitCode, errors: sipp.errors }).toEqual({ exit: 0, errors: '' });
    await nothingLeft(s);
  });
});
