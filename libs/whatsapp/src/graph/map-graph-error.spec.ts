import {
  DailyCallCapError,
  GRAPH_ERROR_TABLE,
  GraphApiError,
  NoCallPermissionError,
  PermanentPermissionExistsError,
  PermissionRequestLimitError,
} from '../whatsapp.errors';
import { mapGraphError, parseNextAllowedAt } from './map-graph-error';

const graphBody = (code: number, extra: Record<string, unknown> = {}) => ({
  error: { message: `(#${code}) something`, type: 'OAuthException', code, fbtrace_id: 'AbC123', ...extra },
});

describe('mapGraphError', () => {
  it.each(Object.entries(GRAPH_ERROR_TABLE).map(([code, entry]) => [Number(code), entry.kind] as const))(
    'maps Meta code %i to kind %s',
    (code, kind) => {
      const err = mapGraphError(400, graphBody(code));
      expect(err).toBeInstanceOf(GraphApiError);
      expect(err.kind).toBe(kind);
      expect(err.metaCode).toBe(code);
      expect(err.httpStatus).toBe(400);
      expect(err.fbtraceId).toBe('AbC123');
      expect(err.reason).toBe(GRAPH_ERROR_TABLE[code as keyof typeof GRAPH_ERROR_TABLE].reason);
    },
  );

  it('returns the typed subclasses callers branch on', () => {
    expect(mapGraphError(401, graphBody(138006))).toBeInstanceOf(NoCallPermissionError);
    expect(mapGraphError(400, graphBody(138009))).toBeInstanceOf(PermissionRequestLimitError);
    expect(mapGraphError(400, graphBody(138017))).toBeInstanceOf(PermanentPermissionExistsError);
    expect(mapGraphError(400, graphBody(138012))).toBeInstanceOf(DailyCallCapError);
  });

  it('keeps the SDP detail of a code 100 error from error_data', () => {
    const err = mapGraphError(400, graphBody(100, { error_data: { messaging_product: 'whatsapp', details: 'Invalid SDP: no fingerprint' } }));
    expect(err.kind).toBe('invalid_parameter');
    expect(err.reason).toContain('Invalid SDP: no fingerprint');
    expect(err.errorData).toEqual({ messaging_product: 'whatsapp', details: 'Invalid SDP: no fingerprint' });
  });

  it('maps an undocumented code or a non-Graph body to kind unknown', () => {
    expect(mapGraphError(500, graphBody(424242)).kind).toBe('unknown');
    const html = mapGraphError(502, '<html>Bad gateway</html>');
    expect(html.kind).toBe('unknown');
    expect(html.metaCode).toBeUndefined();
    expect(html.message).toContain('HTTP 502');
  });
});

describe('138012 next allowed time', () => {
  it.each([
    ['a next_allowed key in seconds', { next_allowed_call_time: 1767200000 }, 1767200000],
    ['a time key in milliseconds', { next_call_time: 1767200000123 }, 1767200000],
    ['a digit string', { next_allowed_time: '1767200000' }, 1767200000],
    ['an ISO date in details', { details: 'Next call allowed at 2026-01-01T10:00:00Z' }, Date.parse('2026-01-01T10:00:00Z') / 1000],
    ['a Unix time in details', { details: 'Limit reached; retry after 1767200000' }, 1767200000],
  ])('is read from %s', (_label, errorData, expected) => {
    expect(parseNextAllowedAt(errorData)).toBe(expected);
    const err = mapGraphError(400, graphBody(138012, { error_data: errorData }));
    expect(err).toBeInstanceOf(DailyCallCapError);
    expect((err as DailyCallCapError).nextAllowedAt).toBe(expected);
  });

  it('is undefined when error_data carries no time', () => {
    const err = mapGraphError(400, graphBody(138012, { error_data: { details: 'limit reached' } }));
    expect((err as DailyCallCapError).nextAllowedAt).toBeUndefined();
  });
});
