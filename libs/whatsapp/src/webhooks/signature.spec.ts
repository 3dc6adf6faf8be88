import { createHmac } from 'node:crypto';
import { answerVerificationChallenge, signWebhookBody, verifyWebhookSignature } from './signature';

const SECRET = 'app-secret-for-tests';
const BODY = Buffer.from('{"object":"whatsapp_business_account","entry":[]}', 'utf8');
const hmacHex = (body: Buffer, secret: string) => createHmac('sha256', secret).update(body).digest('hex');

describe('verifyWebhookSignature (X-Hub-Signature-256 over the raw body)', () => {
  it('accepts the HMAC-SHA256 of the raw bytes keyed with the app secret', () => {
    expect(verifyWebhookSignature(BODY, `sha256=${hmacHex(BODY, SECRET)}`, SECRET)).toEqual({ ok: true });
  });

  it('accepts the signature it produces itself and upper-case hex', () => {
    expect(signWebhookBody(BODY, SECRET)).toBe(`sha256=${hmacHex(BODY, SECRET)}`);
    expect(verifyWebhookSignature(BODY, `sha256=${hmacHex(BODY, SECRET).toUpperCase()}`, SECRET)).toEqual({ ok: true });
  });

  it('rejects a signature made with another secret as a mismatch', () => {
    expect(verifyWebhookSignature(BODY, `sha256=${hmacHex(BODY, 'other-secret')}`, SECRET)).toEqual({ ok: false, reason: 'mismatch' });
  });

  it('rejects the signature when one byte of the body was altered', () => {
    const header = signWebhookBody(BODY, SECRET);
    const altered = Buffer.from(BODY);
    altered[10] = (altered[10] ?? 0) ^ 0x01;
    expect(verifyWebhookSignature(altered, header, SECRET)).toEqual({ ok: false, reason: 'mismatch' });
  });

  it('rejects re-serialised JSON with other whitespace: only the raw bytes count', () => {
    const header = signWebhookBody(BODY, SECRET);
    const reserialised = Buffer.from(JSON.stringify(JSON.parse(BODY.toString('utf8')), null, 1));
    expect(verifyWebhookSignature(reserialised, header, SECRET)).toEqual({ ok: false, reason: 'mismatch' });
  });

  it.each([undefined, ''])('reports a missing header (%p)', (header) => {
    expect(verifyWebhookSignature(BODY, header, SECRET)).toEqual({ ok: false, reason: 'missing' });
  });

  it.each([
    ['no algorithm prefix', hmacHex(BODY, SECRET)],
    ['sha1 prefix', `sha1=${hmacHex(BODY, SECRET)}`],
    ['non-hex digits', `sha256=${'z'.repeat(64)}`],
    ['truncated digest', `sha256=${hmacHex(BODY, SECRET).slice(0, 63)}`],
    ['over-long digest', `sha256=${hmacHex(BODY, SECRET)}00`],
  ])('reports a malformed header (%s)', (_label, header) => {
    expect(verifyWebhookSignature(BODY, header, SECRET)).toEqual({ ok: false, reason: 'malformed' });
  });
});

describe('answerVerificationChallenge (GET hub.challenge handshake)', () => {
  const TOKEN = 'verify-token-123';
  const query = (over: Record<string, unknown> = {}) => ({ 'hub.mode': 'subscribe', 'hub.verify_token': TOKEN, 'hub.challenge': '1158201444', ...over });

  it('echoes hub.challenge when the mode is subscribe and the token matches', () => {
    expect(answerVerificationChallenge(query(), TOKEN)).toEqual({ ok: true, challenge: '1158201444' });
  });

  it('refuses a wrong verify token, including one of another length', () => {
    expect(answerVerificationChallenge(query({ 'hub.verify_token': 'verify-token-124' }), TOKEN)).toEqual({ ok: false, reason: 'hub.verify_token does not match' });
    expect(answerVerificationChallenge(query({ 'hub.verify_token': 'short' }), TOKEN)).toEqual({ ok: false, reason: 'hub.verify_token does not match' });
  });

  it('refuses a mode other than subscribe', () => {
    const r = answerVerificationChallenge(query({ 'hub.mode': 'unsubscribe' }), TOKEN);
    expect(r).toEqual({ ok: false, reason: expect.stringContaining('hub.mode must be "subscribe"') });
  });

  it('refuses a missing challenge or token', () => {
    expect(answerVerificationChallenge(query({ 'hub.challenge': undefined }), TOKEN)).toEqual({ ok: false, reason: 'hub.challenge is missing' });
    expect(answerVerificationChallenge(query({ 'hub.challenge': '' }), TOKEN)).toEqual({ ok: false, reason: 'hub.challenge is missing' });
    expect(answerVerificationChallenge(query({ 'hub.verify_token': undefined }), TOKEN)).toEqual({ ok: false, reason: 'hub.verify_token is missing' });
  });

  it('refuses array-valued query parameters (repeated keys)', () => {
    expect(answerVerificationChallenge(query({ 'hub.verify_token': [TOKEN, TOKEN] }), TOKEN).ok).toBe(false);
  });
});
