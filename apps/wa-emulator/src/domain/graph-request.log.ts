import { ControlError, GraphError, MediaLinkError } from './emulator.errors';
import { type GraphFaultAction, type GraphFaultWhen, TransientGraphError } from './graph-faults';

/**
 * What the business asked of the Graph API, one record per authorised request (a request refused by the
 * token or the path's phone-number check never reaches the core): tests assert "exactly one pre_accept" or "the
 * connect was sent once" here instead of inferring it from side effects.
 */

export interface GraphRequestRefs {
  /** `call_id` of a calls action, or the id a connect created. */
  callId?: string;
  /** The user addressed: `to` of a connect or message, `user_wa_id` of call_permissions. */
  to?: string;
  /** The media asked for (GET /<MEDIA_ID>, or the `mid` of a download URL), or the one an upload created. */
  mediaId?: string;
}

export interface GraphRequestRecord extends GraphRequestRefs {
  seq: number;
  /** Real time, epoch ms. */
  at: number;
  method: 'GET' | 'POST';
  /** The calls action, or the endpoint; `calls` for a calls body without a known action. */
  action: GraphFaultAction | 'calls';
  /** 0 while the request is being handled. */
  httpStatus: number;
  /** Meta's error code of a refused request. */
  code?: number;
  /** Set when the graphFailures fault answered this request. */
  injected?: GraphFaultWhen;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/** The references named in a Graph request body or query. */
export function requestRefs(input: unknown): GraphRequestRefs {
  if (typeof input !== 'object' || input === null) return {};
  const o = input as Record<string, unknown>;
  const callId = str(o['call_id']);
  const to = str(o['to']) ?? str(o['user_wa_id']) ?? str(o['recipient']);
  return { ...(callId ? { callId } : {}), ...(to ? { to: to.replace(/^\+/, '') } : {}) };
}

export class GraphRequestLog {
  #records: GraphRequestRecord[] = [];
  #seq = 0;

  constructor(private readonly limit = 2000) {}

  open(method: 'GET' | 'POST', action: GraphFaultAction | 'calls', refs: GraphRequestRefs): GraphRequestRecord {
    const record: GraphRequestRecord = { seq: ++this.#seq, at: Date.now(), method, action, ...refs, httpStatus: 0 };
    this.#records.push(record);
    if (this.#records.length > this.limit) this.#records.splice(0, this.#records.length - this.limit);
    return record;
  }

  /** Notes the ids a successful operation produced (the new call of a connect, the media of an upload), before any `after` fault. */
  noteResult(record: GraphRequestRecord, result: object): void {
    const calls = (result as Record<string, unknown>)['calls'];
    const id = Array.isArray(calls) ? (calls[0] as { id?: unknown } | undefined)?.id : undefined;
    if (typeof id === 'string') record.callId = id;
    const mediaId = (result as Record<string, unknown>)['id'];
    if (record.action === 'media_upload' && typeof mediaId === 'string') record.mediaId = mediaId;
  }

  succeeded(record: GraphRequestRecord): void {
    record.httpStatus = 200;
  }

  /** Records the refusal and hands the error back for rethrowing. */
  failed(record: GraphRequestRecord, err: unknown): unknown {
    if (err instanceof GraphError) {
      record.httpStatus = err.httpStatus;
      record.code = err.metaCode;
      if (err instanceof TransientGraphError) record.injected = err.when;
    } else if (err instanceof MediaLinkError) {
      record.httpStatus = err.httpStatus; // the download host answers 404 without a Graph code
    } else {
      // ControlError is answered as 100 by the Graph filter; anything else is a 500 (GraphExceptionFilter)
      record.httpStatus = err instanceof ControlError ? 400 : 500;
      record.code = err instanceof ControlError ? 100 : 1;
    }
    return err;
  }

  list(filter: { action?: string; callId?: string; to?: string; mediaId?: string } = {}): GraphRequestRecord[] {
    const matches = (r: GraphRequestRecord): boolean =>
      (filter.action === undefined || r.action === filter.action) &&
      (filter.callId === undefined || r.callId === filter.callId) &&
      (filter.to === undefined || r.to === filter.to) &&
      (filter.mediaId === undefined || r.mediaId === filter.mediaId);
    return this.#records.filter(matches).map((r) => ({ ...r }));
  }

  clear(): void {
    this.#records = [];
    this.#seq = 0;
  }
}
