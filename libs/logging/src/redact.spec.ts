import { CENSOR, redactSecrets } from './redact';

describe('redactSecrets', () => {
  it('censors secret fields at the top and inside nested objects, headers and arrays', () => {
    const headers = Object.assign(Object.create(null) as Record<string, unknown>, { authorization: 'Bearer t', 'x-hub-signature-256': 'sha256=ab', host: 'gw' });
    class Request {
      constructor(readonly headers: Record<string, unknown>) {}
    }
    // a class instance is copied with its class: compared below by its fields
    const out = redactSecrets({
      accessToken: 'EAAG',
      config: { whatsapp: { appSecret: 'shh', verifyToken: 'vt', graphVersion: 'v23.0' } },
      req: new Request(headers),
      trunks: [{ name: 'pbx', password: 'pw' }, { name: 'b' }],
      msgCount: 3,
    });
    expect(out).toEqual({
      accessToken: CENSOR,
      config: { whatsapp: { appSecret: CENSOR, verifyToken: CENSOR, graphVersion: 'v23.0' } },
      req: expect.objectContaining({ headers: { authorization: CENSOR, 'x-hub-signature-256': CENSOR, host: 'gw' } }),
      trunks: [{ name: 'pbx', password: CENSOR }, { name: 'b' }],
      msgCount: 3,
    });
  });

  it('returns the very object when it holds no secret, and never changes the caller\'s objects', () => {
    const clean = { callId: 'c1', legs: [{ id: 'a' }], nested: { state: 'ringing' } };
    expect(redactSecrets(clean)).toBe(clean);
    const inner = { password: 'pw', user: 'u' };
    const dirty = { trunk: inner, other: { x: 1 } };
    const out = redactSecrets(dirty);
    expect(out).not.toBe(dirty);
    expect(out.other).toBe(dirty.other); // untouched branches are shared, not copied
    expect(inner.password).toBe('pw');
    expect(dirty.trunk).toBe(inner);
  });

  it('censors a secret on an Error and keeps it an Error (message, stack, class) for its serializer', () => {
    class GraphError extends Error {}
    const err = Object.assign(new GraphError('refused'), { code: 190, authorization: 'Bearer t' });
    const out = redactSecrets({ err }).err;
    expect(out).not.toBe(err);
    expect(out).toBeInstanceOf(GraphError);
    expect(out.message).toBe('refused');
    expect(out.stack).toBe(err.stack);
    expect({ ...out }).toEqual({ code: 190, authorization: CENSOR });
    expect(err.authorization).toBe('Bearer t');
  });

  it('leaves Buffers, dates and Errors without secrets as they are', () => {
    const obj = { buf: Buffer.from('password'), at: new Date(0), err: new Error('plain') };
    expect(redactSecrets(obj)).toBe(obj);
  });

  it('stops at its depth limit (a cycle does not loop)', () => {
    const a: Record<string, unknown> = { name: 'a' };
    a['self'] = a;
    expect(redactSecrets(a)).toBe(a);
  });
});
