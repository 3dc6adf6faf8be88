import type { CallRecord } from '@wagw/call-state';
import { WebhookIngestService } from '../../apps/signalling/src/webhooks/webhook-ingest.service';
import { activeCall, eventually, startStack, type Stack } from '../support/stack';
import { e2eScope } from '../support/e2e-scope';
import { startEchoPbx, userHearsEcho, type EchoPbx } from '../support/echo-pbx';

/**
 * Meta delivers webhooks at least once, late, and out of order (reference §2.1). The emulator's fault
 * switches do exactly that to a user-initiated call bridged to a PBX (SIPp signalling, an echoing RTP peer):
 * duplicated webhooks still make one call, one INVITE and one CDR; a terminate delivered before its connect
 * means the call is never set up (no INVITE, nothing left); delayed webhooks still make a normal call.
 */
const BUSINESS = '15550001111';
const USER = '15552226666';

interface Delivery {
  seq: number;
  kind: string;
  copy: number;
  state: string;
  deliveredAt?: number;
}

interface GraphRequest {
  action: string;
  httpStatus: number;
}

describe('webhook faults on a call to the PBX', () => {
  const t = e2eScope<EchoPbx>('wagw-webhook-faults-');

  async function boot(faults: Record<string, unknown>): Promise<Stack> {
    const pbx = (t.pbx = await startEchoPbx());
    const s = (t.stack = await startStack({ name: 'webhook-faults', env: pbx.env(BUSINESS) }));
    await s.emu('POST', '/emulator/users', { waId: USER, name: 'Lee' });
    await s.emu('PUT', '/emulator/faults', faults);
    return s;
  }

  const deliveries = (s: Stack, waCallId: string): Promise<Delivery[]> => s.emu<Delivery[]>('GET', `/emulator/webhooks?key=${encodeURIComponent(waCallId)}`);

  /** Hangs up as the user and returns the CDR once every webhook of the call was delivered and handled. */
  async function hangUpAndSettle(s: Stack, waCallId: string, callId: string): Promise<CallRecord> {
    await s.emu('POST', `/emulator/users/${USER}/hangup`);
    await eventually('every webhook of the call delivered', async () => (await deliveries(s, waCallId)).every((d) => d.state === 'delivered'), 15_000);
    await s.signalling.app.get(WebhookIngestService).idle();
    return eventually('CDR', async () => {
      const rec = (await s.api('GET', `/v1/calls/${callId}`)).body as CallRecord;
      return rec.state === 'ended' ? rec : undefined;
    });
  }

  async function callsOf(s: Stack, waCallId: string): Promise<CallRecord[]> {
    const { active, recent } = (await s.api('GET', '/v1/calls?limit=500')).body as { active: CallRecord[]; recent: CallRecord[] };
    return [...active, ...recent].filter((r) => r.waCallId === waCallId);
  }

  it('every webhook delivered four times still makes one call, one INVITE at the PBX and one CDR', async () => {
    const s = await boot({ duplicateCount: 3 });

    const { waCallId } = await s.emu<{ waCallId: string }>('POST', `/emulator/users/${USER}/call`, {});
    await s.emu('POST', `/emulator/users/${USER}/media/tone`, { frequencyHz: 1000 });
    const call = await activeCall(s, waCallId);
    await userHearsEcho(s, USER);
    const cdr = await hangUpAndSettle(s, waCallId, call.callId);

    const log = await deliveries(s, waCallId);
    for (const kind of ['calls.connect', 'calls.terminate']) {
      expect(log.filter((d) => d.kind === kind).map((d) => d.copy)).toEqual([0, 1, 2, 3]);
    }
    expect(cdr).toMatchObject({ callId: call.callId, endedBy: 'wa', codec: 'PCMU' });
    expect((await callsOf(s, waCallId)).map((r) => r.callId)).toEqual([call.callId]);
    const prefix = s.config.redis.keyPrefix;
    expect((await s.keys()).filter((k) => k.startsWith(`${prefix}:call:`))).toEqual([`${prefix}:call:${call.callId}`]);
    expect(await s.redis.zrange(`${prefix}:calls:ended`, 0, -1)).toEqual([call.callId]);
    const graph = await s.emu<GraphRequest[]>('GET', `/emulator/graph-requests?callId=${encodeURIComponent(waCallId)}`);
    expect(graph.map((g) => g.action)).toEqual(['pre_accept', 'accept']);
    const sipp = await (t.pbx as EchoPbx).sipp.result();
    expect({ exit: sipp.exitCode, errors: sipp.errors }).toEqual({ exit: 0, errors: '' });
    expect((t.pbx as EchoPbx).sipp.inviteCallIds()).toHaveLength(1);
  });

  it('a terminate delivered before its connect leaves no call: no INVITE, no pre_accept, no record', async () => {
    const s = await boot({ reorderNextCall: true });

    const { waCallId } = await s.emu<{ waCallId: string }>('POST', `/emulator/users/${USER}/call`, {});
    expect((await deliveries(s, waCallId)).map((d) => [d.kind, d.state])).toEqual([['calls.connect', 'held']]);
    await s.emu('POST', `/emulator/users/${USER}/hangup`);
    await eventually('both webhooks delivered', async () => {
      const log = await deliveries(s, waCallId);
      return log.length === 2 && log.every((d) => d.state === 'delivered');
    }, 15_000);
    await s.signalling.app.get(WebhookIngestService).idle();

    const log = await deliveries(s, waCallId);
    const [first, second] = [...log].sort((a, b) => (a.deliveredAt ?? 0) - (b.deliveredAt ?? 0));
    expect([first?.kind, second?.kind]).toEqual(['calls.terminate', 'calls.connect']);
    expect(await callsOf(s, waCallId)).toEqual([]);
    expect((await s.api('GET', `/v1/calls/${waCallId}`)).status).toBe(404);
    expect(await s.emu<GraphRequest[]>('GET', `/emulator/graph-requests?callId=${encodeURIComponent(waCallId)}`)).toEqual([]);
    const prefix = s.config.redis.keyPrefix;
    expect((await s.keys()).filter((k) => [`${prefix}:call:`, `${prefix}:calls:`, `${prefix}:wacall:`].some((p) => k.startsWith(p)))).toEqual([]);
    await (t.pbx as EchoPbx).sipp.stop();
    expect((t.pbx as EchoPbx).sipp.inviteCallIds()).toEqual([]);
  });

  it('webhooks held for 1.5 s each still make a normal call, bridged and ended once', async () => {
    const s = await boot({ delayMs: 1500 });

    const { waCallId } = await s.emu<{ waCallId: string }>('POST', `/emulator/users/${USER}/call`, {});
    await s.emu('POST', `/emulator/users/${USER}/media/tone`, { frequencyHz: 1000 });
    const call = await activeCall(s, waCallId);
    await userHearsEcho(s, USER);
    const cdr = await hangUpAndSettle(s, waCallId, call.callId);

    const log = await deliveries(s, waCallId);
    expect(log.map((d) => d.kind)).toEqual(['calls.connect', 'calls.terminate']);
    expect(cdr).toMatchObject({ endedBy: 'wa', codec: 'PCMU' });
    expect(cdr.answeredAt).toBeDefined();
    expect((await callsOf(s, waCallId)).map((r) => r.callId)).toEqual([call.callId]);
    const sipp = await (t.pbx as EchoPbx).sipp.result();
    expect({ exit: sipp.exitCode, errors: sipp.errors }).toEqual({ exit: 0, errors: '' });
    expect((t.pbx as EchoPbx).sipp.inviteCallIds()).toHaveLength(1);
  });
});
