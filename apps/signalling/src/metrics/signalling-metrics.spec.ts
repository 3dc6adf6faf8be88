import type { CallRecord } from '@wagw/call-state';
import { SignallingMetrics } from './signalling-metrics';
import { graphOperationOf, meteredGraphFetch } from './graph-requests.fetch';
import { webhookResultOfStatus } from './webhook-ack.middleware';

type Labels = Record<string, string | number>;

/** The value of one series (undefined when absent) from the registry's JSON view. */
async function valueOf(metrics: SignallingMetrics, name: string, labels: Labels = {}): Promise<number | undefined> {
  const metric = metrics.registry.getSingleMetric(name);
  if (!metric) throw new Error(`no metric ${name}`);
  const { values } = await metric.get();
  const match = values.find((v) => Object.entries(labels).every(([k, want]) => v.labels[k] === want) && Object.keys(v.labels).length >= Object.keys(labels).length);
  return match?.value;
}

const record = (over: Partial<CallRecord>): CallRecord => ({
  callId: 'call_1',
  direction: 'inbound',
  state: 'ended',
  version: 3,
  createdAt: 1_000,
  updatedAt: 9_000,
  businessNumber: '15550001111',
  phoneNumberId: '123',
  ...over,
});

describe('SignallingMetrics', () => {
  it('counts set-ups, answers (set-up time) and ends by outcome, and a failure by its category', async () => {
    const m = new SignallingMetrics({ defaultMetrics: false });

    m.callCreated('inbound');
    m.callCreated('inbound', 'call_button');
    m.callCreated('outbound');
    m.callAnswered(record({ state: 'active', answeredAt: 3_500 }));
    m.callEnded(record({ answeredAt: 3_500, endedBy: 'wa', endCause: 'completed' }));
    m.callEnded(record({ direction: 'outbound', endedBy: 'pbx', endCause: 'PBX busy', sipCause: '486 Busy Here' }));

    expect(await valueOf(m, 'wagw_call_setups_total', { direction: 'inbound' })).toBe(2);
    expect(await valueOf(m, 'wagw_call_setups_total', { direction: 'outbound' })).toBe(1);
    expect(await valueOf(m, 'wagw_inbound_calls_by_entry_total', { entry: 'call_button' })).toBe(1);
    expect(await valueOf(m, 'wagw_inbound_calls_by_entry_total', { entry: 'none' })).toBe(1);
    expect(await valueOf(m, 'wagw_inbound_calls_by_entry_total', { entry: 'deep_link' })).toBe(0);
    expect(await valueOf(m, 'wagw_call_setup_seconds', { direction: 'inbound', le: 3 })).toBe(1);
    expect(await valueOf(m, 'wagw_call_setup_seconds', { direction: 'inbound', le: 2 })).toBe(0);
    const text = await m.metrics();
    expect(text).toMatch(/wagw_call_setup_seconds_sum\{direction="inbound"\} 2\.5\n/);
    expect(await valueOf(m, 'wagw_calls_ended_total', { direction: 'inbound', outcome: 'answered', ended_by: 'wa' })).toBe(1);
    expect(await valueOf(m, 'wagw_calls_ended_total', { direction: 'outbound', outcome: 'failed', ended_by: 'pbx' })).toBe(1);
    expect(await valueOf(m, 'wagw_call_failures_total', { direction: 'outbound', cause: 'busy' })).toBe(1);
    expect(await valueOf(m, 'wagw_call_failures_total', { direction: 'inbound' })).toBeUndefined();
  });

  it('publishes the channels of trunks with maxCalls from one snapshot per scrape, and leaves in-use out when Redis did not answer', async () => {
    const m = new SignallingMetrics({ defaultMetrics: false });
    expect(await valueOf(m, 'wagw_trunk_channels_in_use', { trunk: 'pbx' })).toBeUndefined(); // no source yet
    let snapshots = 0;
    let inUse: number | null = 3;
    m.trunkChannels = async () => {
      snapshots++;
      return [{ trunk: 'pbx', maxCalls: 30, inUse, refused: { 'to-pbx': 2, 'from-pbx': 5 } }];
    };
    const text = await m.metrics();
    expect(snapshots).toBe(1);
    expect(text).toMatch(/^wagw_trunk_channels_in_use\{trunk="pbx"\} 3$/m);
    expect(text).toMatch(/^wagw_trunk_channels_max\{trunk="pbx"\} 30$/m);
    expect(text).toMatch(/^wagw_trunk_calls_refused_total\{trunk="pbx",direction="to-pbx"\} 2$/m);
    expect(text).toMatch(/^wagw_trunk_calls_refused_total\{trunk="pbx",direction="from-pbx"\} 5$/m);
    inUse = null;
    expect(await valueOf(m, 'wagw_trunk_channels_in_use', { trunk: 'pbx' })).toBeUndefined();
    expect(await valueOf(m, 'wagw_trunk_channels_max', { trunk: 'pbx' })).toBe(30);
  });

  it('publishes live calls by direction and state at scrape time, zero for every state a direction can be in', async () => {
    let live: Pick<CallRecord, 'direction' | 'state'>[] = [
      { direction: 'inbound', state: 'active' },
      { direction: 'inbound', state: 'active' },
      { direction: 'outbound', state: 'permission-pending' },
    ];
    const m = new SignallingMetrics({ defaultMetrics: false, listActive: async () => live });

    expect(await valueOf(m, 'wagw_calls_active', { direction: 'inbound', state: 'active' })).toBe(2);
    expect(await valueOf(m, 'wagw_calls_active', { direction: 'outbound', state: 'permission-pending' })).toBe(1);
    expect(await valueOf(m, 'wagw_calls_active', { direction: 'outbound', state: 'ringing-wa' })).toBe(0);
    expect(await valueOf(m, 'wagw_calls_active', { direction: 'inbound', state: 'permission-pending' })).toBeUndefined();
    live = [];
    expect(await valueOf(m, 'wagw_calls_active', { direction: 'inbound', state: 'active' })).toBe(0);
  });

  it('leaves the active-call series out instead of failing the scrape when Redis does not answer', async () => {
    const m = new SignallingMetrics({ defaultMetrics: false, listActive: () => Promise.reject(new Error('connection refused')) });

    expect(await valueOf(m, 'wagw_calls_active', { direction: 'inbound', state: 'active' })).toBeUndefined();
    expect(await m.metrics()).toMatch(/# TYPE wagw_calls_active gauge/);
  });

  it('measures one Redis PING per scrape, and reports redis_up 0 without observing an RTT when it fails or hangs', async () => {
    let pings = 0;
    let mode: 'ok' | 'fail' | 'hang' = 'ok';
    const ping = (): Promise<unknown> => {
      pings++;
      if (mode === 'fail') return Promise.reject(new Error('down'));
      if (mode === 'hang') return new Promise(() => undefined);
      return Promise.resolve('PONG');
    };
    const m = new SignallingMetrics({ defaultMetrics: false, redisPing: ping, redisPingTimeoutMs: 30 });

    const ok = await m.metrics();
    expect(pings).toBe(1);
    expect(ok).toMatch(/^wagw_redis_up 1$/m);
    expect(ok).toMatch(/^wagw_redis_rtt_seconds_count 1$/m);
    mode = 'fail';
    expect(await m.metrics()).toMatch(/^wagw_redis_up 0$/m);
    mode = 'hang';
    const hung = await m.metrics();
    expect(hung).toMatch(/^wagw_redis_up 0$/m);
    expect(hung).toMatch(/^wagw_redis_rtt_seconds_count 1$/m);
    expect(pings).toBe(3);
  });

  it('publishes which media instances are up at scrape time, and no series while Redis does not answer', async () => {
    let states: Promise<Record<string, boolean>> = Promise.resolve({ 'media-1': true, 'media-2': false });
    const m = new SignallingMetrics({ defaultMetrics: false, mediaInstancesUp: () => states });

    expect(await valueOf(m, 'wagw_media_instance_up', { instance: 'media-1' })).toBe(1);
    expect(await valueOf(m, 'wagw_media_instance_up', { instance: 'media-2' })).toBe(0);
    states = Promise.reject(new Error('connection refused'));
    expect(await valueOf(m, 'wagw_media_instance_up', { instance: 'media-1' })).toBeUndefined();
    // a single media app: no such metric at all
    expect(await new SignallingMetrics({ defaultMetrics: false }).metrics()).not.toMatch(/wagw_media_instance_up/);
  });

  it('counts webhook results, including several dead letters at once and nothing for zero', async () => {
    const m = new SignallingMetrics({ defaultMetrics: false });

    m.webhook('accepted');
    m.webhook('dead_letter', 3);
    m.webhook('duplicate', 0);
    m.webhookAcked(0.002);

    expect(await valueOf(m, 'wagw_webhooks_total', { result: 'accepted' })).toBe(1);
    expect(await valueOf(m, 'wagw_webhooks_total', { result: 'dead_letter' })).toBe(3);
    expect(await valueOf(m, 'wagw_webhooks_total', { result: 'duplicate' })).toBeUndefined();
    expect(await valueOf(m, 'wagw_webhook_ack_seconds', { le: 0.0025 })).toBe(1);
  });

  it('keeps process metrics on its own registry, so two instances in one process do not collide', async () => {
    const a = new SignallingMetrics();
    const b = new SignallingMetrics();

    expect(await a.metrics()).toMatch(/^nodejs_eventloop_lag_seconds /m);
    expect(await b.metrics()).toMatch(/^process_cpu_user_seconds_total /m);
  });
});

describe('webhook and Graph labels', () => {
  it('maps the webhook endpoint answers to results', () => {
    expect([200, 401, 400, 413, 500].map(webhookResultOfStatus)).toEqual(['accepted', 'bad_signature', 'bad_json', 'error', 'error']);
  });

  it('names Graph operations from path and body with bounded values', () => {
    const base = 'http://127.0.0.1:9/v23.0/123456';
    expect(graphOperationOf(`${base}/calls`, 'POST', JSON.stringify({ action: 'pre_accept', call_id: 'wacid.X' }))).toBe('calls.pre_accept');
    expect(graphOperationOf(`${base}/calls`, 'POST', JSON.stringify({ action: 'wacid.injected' }))).toBe('calls.other');
    expect(graphOperationOf(`${base}/calls`, 'POST', '{not json')).toBe('calls.other');
    expect(graphOperationOf(`${base}/messages`, 'POST', '{}')).toBe('messages');
    expect(graphOperationOf(`${base}/call_permissions?user_wa_id=1555`, 'GET', undefined)).toBe('call_permissions.get');
    expect(graphOperationOf(`${base}/settings`, 'GET', undefined)).toBe('settings.get');
    expect(graphOperationOf(`${base}/settings`, 'POST', '{}')).toBe('settings.update');
    expect(graphOperationOf(`${base}/whatever/else`, 'GET', undefined)).toBe('other');
    expect(graphOperationOf('http://127.0.0.1:9/v23.0/1234567890?phone_number_id=123456', 'GET', undefined)).toBe('media.get');
    expect(graphOperationOf('http://127.0.0.1:9/v23.0/1234567890', 'POST', '{}')).toBe('other');
    expect(graphOperationOf(`${base}/media`, 'POST', undefined)).toBe('media.upload');
    expect(graphOperationOf('https://lookaside.fbsbx.com/whatsapp_business/attachments/?mid=1&ext=2&hash=3', 'GET', undefined)).toBe('media.download');
  });

  it('counts each fetch attempt by status, and failures as timeout or network_error', async () => {
    const m = new SignallingMetrics({ defaultMetrics: false });
    const results: Array<Response | Error> = [new Response('{}', { status: 200 }), new Response('{}', { status: 503 }), Object.assign(new Error('aborted'), { name: 'AbortError' }), new TypeError('fetch failed')];
    const fetch = meteredGraphFetch(m, async () => {
      const next = results.shift();
      if (next instanceof Error) throw next;
      return next as Response;
    });
    const body = JSON.stringify({ action: 'accept' });

    await fetch('http://g/v23.0/1/calls', { method: 'POST', body });
    await fetch('http://g/v23.0/1/calls', { method: 'POST', body });
    await expect(fetch('http://g/v23.0/1/calls', { method: 'POST', body })).rejects.toThrow('aborted');
    await expect(fetch(new URL('http://g/v23.0/1/messages'), { method: 'POST', body: '{}' })).rejects.toThrow('fetch failed');

    expect(await valueOf(m, 'wagw_graph_requests_total', { operation: 'calls.accept', status: '200' })).toBe(1);
    expect(await valueOf(m, 'wagw_graph_requests_total', { operation: 'calls.accept', status: '503' })).toBe(1);
    expect(await valueOf(m, 'wagw_graph_requests_total', { operation: 'calls.accept', status: 'timeout' })).toBe(1);
    expect(await valueOf(m, 'wagw_graph_requests_total', { operation: 'messages', status: 'network_error' })).toBe(1);
  });
});
