import { businessAnswerSdp, businessOfferSdp } from '../../test/fake-user-media';
import { type TestCore, freshTestCore } from '../../test/core-harness';
import { GraphError } from './emulator.errors';
import { GraphFaults, TransientGraphError, callsFaultAction, transientError } from './graph-faults';

const WA_ID = '15552224444';

async function graphError(p: Promise<unknown> | (() => unknown)): Promise<GraphError> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (err) {
    if (err instanceof GraphError) return err;
    throw err;
  }
  throw new Error('expected a GraphError');
}

describe('GraphFaults', () => {
  it('a rule fails exactly `count` matching requests, then disarms itself', () => {
    const faults = new GraphFaults();
    faults.arm([{ action: 'terminate', status: 503, count: 2, when: 'before' }]);

    expect(() => faults.before('terminate')).toThrow(TransientGraphError);
    expect(faults.rules).toEqual([{ action: 'terminate', status: 503, count: 1, when: 'before' }]);
    expect(() => faults.before('terminate')).toThrow(TransientGraphError);
    expect(() => faults.before('terminate')).not.toThrow();
    expect(faults.rules).toEqual([]);
  });

  it('a rule only matches its action and its moment; a rule without an action matches every request', () => {
    const faults = new GraphFaults();
    faults.arm([{ action: 'messages', status: 500, count: 1, when: 'after' }]);
    expect(() => faults.before('messages')).not.toThrow();
    expect(() => faults.after('connect')).not.toThrow();
    expect(() => faults.after('messages')).toThrow(TransientGraphError);

    faults.arm([{ status: 429, count: 1, when: 'before' }]);
    expect(() => faults.before(undefined)).toThrow(TransientGraphError);
    expect(faults.rules).toEqual([]);
  });

  it('arm replaces the armed rules and refuses a count below 1', () => {
    const faults = new GraphFaults();
    faults.arm([{ action: 'accept', status: 503, count: 3, when: 'before' }]);
    faults.arm([{ action: 'reject', status: 500, count: 1, when: 'after' }]);
    expect(faults.rules).toEqual([{ action: 'reject', status: 500, count: 1, when: 'after' }]);
    expect(() => faults.arm([{ status: 500, count: 0, when: 'after' }])).toThrow(TypeError);
  });

  it("uses Meta's transient codes: 503 -> 2, 500 -> 1, 429 -> 4 (80007 on messages, 613 on call_permissions)", () => {
    const err = (status: 429 | 500 | 503, action?: Parameters<typeof transientError>[1]) => transientError({ status, count: 1, when: 'before', retryAfterS: 7 }, action);
    expect([err(503, 'connect').metaCode, err(503, 'connect').httpStatus]).toEqual([2, 503]);
    expect([err(500, 'messages').metaCode, err(500, 'messages').httpStatus]).toEqual([1, 500]);
    expect([err(429, 'terminate').metaCode, err(429).metaCode, err(429, 'messages').metaCode, err(429, 'call_permissions').metaCode]).toEqual([4, 4, 80007, 613]);
    expect(err(429, 'settings')).toMatchObject({ httpStatus: 429, retryAfterS: 7, isTransient: true, type: 'OAuthException' });
    expect(err(503, 'accept').errorData?.details).toMatch(/injected.*before, accept/);
  });

  it('reads the action of a calls body; an unknown action matches only rules without an action', () => {
    expect(callsFaultAction({ action: 'pre_accept' })).toBe('pre_accept');
    expect(callsFaultAction({ action: 'dance' })).toBeUndefined();
    expect(callsFaultAction('not an object')).toBeUndefined();
  });
});

describe('EmulatorCore: graphFailures fault', () => {
  let h: TestCore;

  freshTestCore((c) => {
    h = c;
    h.core.createUser(WA_ID, 'Kim');
  }, { acceptWindowMs: 30_000, ringTimeoutMs: 30_000 });

  const action = (name: string, callId: string, sdp?: string): Promise<Record<string, unknown>> =>
    h.core.callsAction({ messaging_product: 'whatsapp', call_id: callId, action: name, ...(sdp ? { session: { sdp_type: 'answer', sdp } } : {}) });
  const connect = (): Promise<Record<string, unknown>> =>
    h.core.callsAction({ messaging_product: 'whatsapp', to: WA_ID, action: 'connect', session: { sdp_type: 'offer', sdp: businessOfferSdp() } });

  it("'before' refuses the request without its effect; the repeated request then succeeds with one terminate webhook", async () => {
    const { waCallId } = await h.core.userCall(WA_ID);
    await action('accept', waCallId, businessAnswerSdp());
    h.core.setFaults({ graphFailures: [{ action: 'terminate', status: 503, count: 1, when: 'before' }] });

    const err = await graphError(action('terminate', waCallId));
    expect(err).toMatchObject({ metaCode: 2, httpStatus: 503 });
    expect(h.core.lifecycle.find(waCallId)?.state).toBe('accepted');

    await expect(action('terminate', waCallId)).resolves.toEqual({ messaging_product: 'whatsapp', success: true });
    await h.core.webhooksIdle();
    expect(h.transport.types(waCallId).filter((t) => t === 'call.terminate')).toHaveLength(1);
    expect(h.core.faults().graphFailures).toEqual([]);
  });

  it("'after' places the call, sends its webhooks, then answers 503: one call exists", async () => {
    h.core.users.get(WA_ID).permissions.grantPermanent(h.core.clock.now());
    h.core.setFaults({ graphFailures: [{ action: 'connect', status: 503, count: 1, when: 'after' }] });

    const err = await graphError(connect());
    expect(err).toMatchObject({ metaCode: 2, httpStatus: 503 });
    await h.core.webhooksIdle();
    const calls = h.core.listCalls();
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({ direction: 'BUSINESS_INITIATED', waId: WA_ID, state: 'ringing' });
    expect(h.transport.types(calls[0]?.['waCallId'] as string)).toEqual(['call.connect', 'status.RINGING']);
  });

  it("'after' leaves a request that was refused on its own merits alone, and stays armed for the next one", async () => {
    h.core.setFaults({ graphFailures: [{ action: 'connect', status: 500, count: 1, when: 'after' }] });
    expect((await graphError(connect())).metaCode).toBe(138006);
    expect(h.core.faults().graphFailures).toHaveLength(1);

    h.core.users.get(WA_ID).permissions.grantPermanent(h.core.clock.now());
    expect((await graphError(connect())).metaCode).toBe(1);
    expect(h.core.faults().graphFailures).toEqual([]);
  });

  it('messages, call_permissions and settings are covered, each by its own action', async () => {
    const message = { messaging_product: 'whatsapp', to: WA_ID, type: 'text', text: { body: 'hi' } };
    h.core.setFaults({
      graphFailures: [
        { action: 'messages', status: 429, count: 1, when: 'before', retryAfterS: 2 },
        { action: 'call_permissions', status: 429, count: 1, when: 'before' },
        { action: 'settings', status: 500, count: 1, when: 'after' },
      ],
    });

    expect(await graphError(() => h.core.sendMessage(message))).toMatchObject({ metaCode: 80007, httpStatus: 429, retryAfterS: 2 });
    expect(h.core.sendMessage(message)).toMatchObject({ messages: [{ id: expect.any(String) }] });
    expect((await graphError(() => h.core.callPermissions({ user_wa_id: WA_ID }))).metaCode).toBe(613);
    expect(h.core.callPermissions({ user_wa_id: WA_ID })).toMatchObject({ permission: { status: 'no_permission' } });

    expect((await graphError(() => h.core.updateSettings({ calling: { call_icon_visibility: 'DISABLE_ALL' } }))).metaCode).toBe(1);
    expect(h.core.getSettings()).toMatchObject({ calling: { call_icon_visibility: 'DISABLE_ALL' } });
  });

  it('the Graph request log records every request with its outcome, the injected ones marked', async () => {
    h.core.users.get(WA_ID).permissions.grantPermanent(h.core.clock.now());
    h.core.setFaults({ graphFailures: [{ action: 'connect', status: 503, count: 1, when: 'after' }] });
    await graphError(connect());
    const { waCallId } = await h.core.userCall('15552224445');
    await action('pre_accept', waCallId, businessAnswerSdp());
    await graphError(action('accept', waCallId, businessAnswerSdp()));
    h.core.callPermissions({ user_wa_id: WA_ID });

    const [placed] = h.core.listCalls();
    expect(h.core.graphRequests.list()).toEqual([
      { seq: 1, at: expect.any(Number), method: 'POST', action: 'connect', to: WA_ID, callId: placed?.['waCallId'], httpStatus: 503, code: 2, injected: 'after' },
      { seq: 2, at: expect.any(Number), method: 'POST', action: 'pre_accept', callId: waCallId, httpStatus: 200 },
      { seq: 3, at: expect.any(Number), method: 'POST', action: 'accept', callId: waCallId, httpStatus: 400, code: 100 },
      { seq: 4, at: expect.any(Number), method: 'GET', action: 'call_permissions', to: WA_ID, httpStatus: 200 },
    ]);
    expect(h.core.graphRequests.list({ callId: waCallId }).map((r) => r.action)).toEqual(['pre_accept', 'accept']);
    await h.core.reset();
    expect(h.core.graphRequests.list()).toEqual([]);
  });

  it('setFaults merges webhook faults, replaces graph failures when sent; reset disarms everything', async () => {
    h.core.setFaults({ delayMs: 5, graphFailures: [{ status: 503, count: 4, when: 'before' }] });
    expect(h.core.setFaults({ duplicateCount: 1 })).toEqual({
      duplicateCount: 1,
      delayMs: 5,
      reorderNextCall: false,
      graphFailures: [{ status: 503, count: 4, when: 'before' }],
    });
    await h.core.reset();
    expect(h.core.faults()).toEqual({ duplicateCount: 0, delayMs: 0, reorderNextCall: false, graphFailures: [] });
  });
});
