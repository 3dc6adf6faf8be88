import type { CallRecord } from '@wagw/call-state';
import { endedCall, startStack, type Stack } from '../support/stack';
import { e2eScope } from '../support/e2e-scope';
import { must } from '../support/metrics';
import { startEchoPbx, userCallsWithTone, userHearsEcho, type EchoPbx } from '../support/echo-pbx';

/**
 * Media timeout (media.rtpTimeoutS): a PBX that dies without a BYE (power, network) must not leave the
 * WhatsApp user in a silent call. A user's call is bridged to a PBX whose signalling SIPp plays and whose
 * media is an echoing RTP peer; the call outlives the (2 s) limit while audio flows, then the peer is closed,
 * as a PBX that lost power: the gateway ends the call, terminates the WhatsApp side, sends the PBX a BYE (the
 * SIPp scenario fails without it), says why in the CDR, counts it on /metrics, and leaves nothing behind.
 */
const BUSINESS = '15550001111';
const USER = '15552227070';
const TIMEOUT_S = 2;

interface GraphRequest {
  action: string;
  httpStatus: number;
}

describe('media timeout', () => {
  const t = e2eScope<EchoPbx>('wagw-media-timeout-');

  async function boot(): Promise<Stack> {
    const pbx = (t.pbx = await startEchoPbx());
    const s = (t.stack = await startStack({ name: 'media-timeout', env: { ...pbx.env(BUSINESS), MEDIA_RTP_TIMEOUT_S: String(TIMEOUT_S) } }));
    await s.emu('POST', '/emulator/users', { waId: USER, name: 'Noor' });
    return s;
  }

  const mediaTimeouts = async (s: Stack, leg: 'wa' | 'pbx'): Promise<number> => must(await (await fetch(`${s.media.httpUrl}/metrics`)).text(), 'wagw_media_timeouts_total', { leg });

  it('ends a bridged call whose PBX went silent without a BYE: WhatsApp terminated, BYE to the PBX, the cause in the CDR', async () => {
    const s = await boot();
    const call = await userCallsWithTone(s, USER);
    const waCallId = call.waCallId as string;
    await userHearsEcho(s, USER);

    // audio flowing both ways: the call outlives the limit
    await new Promise((r) => setTimeout(r, (TIMEOUT_S + 1.5) * 1000));
    expect(((await s.api('GET', `/v1/calls/${call.callId}`)).body as CallRecord).state).toBe('active');
    expect(await mediaTimeouts(s, 'pbx')).toBe(0);

    // the PBX loses power: no more RTP, no BYE
    const cutAt = Date.now();
    await (t.pbx as EchoPbx).echo.close();
    const cdr = await endedCall(s, call.callId, 15_000);
    const tookMs = Date.now() - cutAt;

    expect(cdr).toMatchObject({ endedBy: 'system', codec: 'PCMU' });
    expect(cdr.endCause).toMatch(/^media timeout: no RTP or RTCP from the PBX for [2-4] s$/);
    expect(tookMs).toBeGreaterThanOrEqual(TIMEOUT_S * 1000 - 100);
    const graph = await s.emu<GraphRequest[]>('GET', `/emulator/graph-requests?callId=${encodeURIComponent(waCallId)}`);
    expect(graph.map((g) => g.action)).toEqual(['pre_accept', 'accept', 'terminate']);
    expect(await mediaTimeouts(s, 'pbx')).toBe(1);
    expect(await mediaTimeouts(s, 'wa')).toBe(0);
    const sipp = await (t.pbx as EchoPbx).sipp.result();
    expect({ exit: sipp.exitCode, errors: sipp.errors }).toEqual({ exit: 0, errors: '' });
  });

  it("ends a bridged call whose WhatsApp user's phone lost its network (no RTP, no RTCP): WhatsApp's side is named", async () => {
    const s = await boot();
    const call = await userCallsWithTone(s, USER);
    const waCallId = call.waCallId as string;
    await userHearsEcho(s, USER);

    // the phone loses its network: nothing more from it, while its WhatsApp call is still up on Meta's side (the
    // echoing PBX then falls silent too, a moment later: the WhatsApp side reaches the limit first)
    await s.emu('POST', `/emulator/users/${USER}/media/cut`);
    const cdr = await endedCall(s, call.callId, 15_000);
    expect(cdr).toMatchObject({ endedBy: 'system' });
    expect(cdr.endCause).toMatch(/^media timeout: no RTP or RTCP from WhatsApp for [2-4] s$/);
    const graph = await s.emu<GraphRequest[]>('GET', `/emulator/graph-requests?callId=${encodeURIComponent(waCallId)}`);
    expect(graph.map((g) => g.action)).toEqual(['pre_accept', 'accept', 'terminate']);
    expect(await mediaTimeouts(s, 'wa')).toBe(1);
    const sipp = await (t.pbx as EchoPbx).sipp.result();
    expect({ exit: sipp.exitCode, errors: sipp.errors }).toEqual({ exit: 0, errors: '' });
  });
});
