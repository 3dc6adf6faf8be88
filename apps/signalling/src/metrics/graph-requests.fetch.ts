import type { SignallingMetrics } from './signalling-metrics';

const CALL_ACTIONS = new Set(['connect', 'pre_accept', 'accept', 'reject', 'terminate']);

/**
 * A bounded operation name for a Graph API request from its path and body (the client's own operation
 * names are not passed to fetch): `calls.<action>`, `messages`, `call_permissions.get`, `settings.get|update`,
 * `media.get`, `media.download`, `media.upload` or `other`.
 */
export function graphOperationOf(url: string, method: string, body: unknown): string {
  const path = new URL(url, 'http://graph.invalid').pathname.replace(/\/+$/, '');
  const last = path.split('/').pop() ?? '';
  if (last === 'calls') {
    let action: unknown;
    try {
      action = typeof body === 'string' ? (JSON.parse(body) as { action?: unknown }).action : undefined;
    } catch {
      // not JSON: the operation stays unnamed
    }
    return typeof action === 'string' && CALL_ACTIONS.has(action) ? `calls.${action}` : 'calls.other';
  }
  if (last === 'messages') return 'messages';
  if (last === 'call_permissions') return 'call_permissions.get';
  if (last === 'settings') return method.toUpperCase() === 'GET' ? 'settings.get' : 'settings.update';
  if (last === 'media' && method.toUpperCase() === 'POST') return 'media.upload';
  // a media download link (lookaside.fbsbx.com/whatsapp_business/attachments/?mid=...), then GET /<version>/<MEDIA_ID>
  if (path.endsWith('/whatsapp_business/attachments')) return 'media.download';
  if (method.toUpperCase() === 'GET' && /^\/v\d+\.\d+\/[^/]+$/.test(path)) return 'media.get';
  return 'other';
}

/** The status label of one attempt: the HTTP status, `timeout` (the client's deadline) or `network_error`. */
function failureStatus(err: unknown): string {
  const name = (err as { name?: unknown } | null)?.name;
  return name === 'TimeoutError' || name === 'AbortError' ? 'timeout' : 'network_error';
}

/** A fetch for WhatsAppGraphClient that counts every HTTP attempt (retries included) in wagw_graph_requests_total. */
export function meteredGraphFetch(metrics: SignallingMetrics, inner: typeof fetch = (input, init) => globalThis.fetch(input, init)): typeof fetch {
  return async (input, init) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const operation = graphOperationOf(url, init?.method ?? 'GET', init?.body);
    try {
      const res = await inner(input, init);
      metrics.graphRequest(operation, String(res.status));
      return res;
    } catch (err) {
      metrics.graphRequest(operation, failureStatus(err));
      throw err;
    }
  };
}
