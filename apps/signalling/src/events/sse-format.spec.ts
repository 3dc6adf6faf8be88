import { formatSseComment, formatSseEvent, formatSseRetry, parseTypeFilter } from './sse-format';
import { CRM_EVENT_TYPES, type CrmEvent } from './crm-event.types';

/** Parses an SSE stream the way the WHATWG algorithm does (enough for our fields). */
function parseSse(text: string): { id?: string; event?: string; data: string }[] {
  const out: { id?: string; event?: string; data: string }[] = [];
  for (const block of text.split('\n\n')) {
    const lines = block.split('\n').filter((l) => l.length > 0 && !l.startsWith(':'));
    if (lines.length === 0) continue;
    const msg: { id?: string; event?: string; data: string[] } = { data: [] };
    for (const line of lines) {
      const colon = line.indexOf(':');
      const field = line.slice(0, colon);
      const value = line.slice(colon + 1).replace(/^ /, '');
      if (field === 'id') msg.id = value;
      else if (field === 'event') msg.event = value;
      else if (field === 'data') msg.data.push(value);
    }
    if (msg.data.length > 0) out.push({ ...(msg.id ? { id: msg.id } : {}), ...(msg.event ? { event: msg.event } : {}), data: msg.data.join('\n') });
  }
  return out;
}

const ended: CrmEvent = {
  id: 'lx2a-7',
  type: 'call.ended',
  at: 1_700_000_000_000,
  data: { callId: 'call_1', waId: '15550001', direction: 'inbound', cause: 'user hung up', endedBy: 'wa', durationMs: 4200 },
};

describe('SSE formatting', () => {
  it('writes id, event type and the JSON envelope, ending with a blank line', () => {
    const text = formatSseEvent(ended);
    expect(text).toBe(`id: lx2a-7\nevent: call.ended\ndata: ${JSON.stringify(ended)}\n\n`);
    expect(parseSse(text)).toEqual([{ id: 'lx2a-7', event: 'call.ended', data: JSON.stringify(ended) }]);
    expect(JSON.parse(parseSse(text)[0]!.data)).toEqual(ended);
  });

  it('keeps a data value with line breaks intact across several data lines', () => {
    const event: CrmEvent = { ...ended, data: { ...ended.data, cause: 'line one\nline two\r\nline three' } };
    const text = formatSseEvent(event);
    // JSON.stringify escapes the breaks, so the event stays one data line and parses back exactly
    expect(text.split('\n').filter((l) => l.startsWith('data:'))).toHaveLength(1);
    expect(JSON.parse(parseSse(text)[0]!.data)).toEqual(event);
  });

  it('never lets an id or type break out of its field', () => {
    const text = formatSseEvent({ ...ended, id: 'a\nevent: evil' });
    expect(parseSse(text)[0]).toMatchObject({ id: 'a event: evil', event: 'call.ended' });
  });

  it('writes comments that an EventSource ignores, and the retry field', () => {
    expect(formatSseComment('keep-alive')).toBe(': keep-alive\n\n');
    expect(parseSse(formatSseComment('x\ny'))).toEqual([]);
    expect(formatSseRetry(3000)).toBe('retry: 3000\n\n');
    expect(() => formatSseRetry(-1)).toThrow(TypeError);
  });

  it('parses the ?types filter and names unknown types', () => {
    expect(parseTypeFilter(undefined, CRM_EVENT_TYPES)).toEqual({ types: undefined, unknown: [] });
    expect(parseTypeFilter(' , ', CRM_EVENT_TYPES)).toEqual({ types: undefined, unknown: [] });
    const f = parseTypeFilter('call.ended, call.incoming', CRM_EVENT_TYPES);
    expect([...(f.types ?? [])]).toEqual(['call.ended', 'call.incoming']);
    expect(f.unknown).toEqual([]);
    expect(parseTypeFilter('call.ended,call.endd', CRM_EVENT_TYPES).unknown).toEqual(['call.endd']);
  });
});
