import { GraphError } from './emulator.errors';
import { CALL_BUTTON_RULES, parseMessageRequest } from './graph-requests';

const TO = '15552223333';
const noTemplates = (): boolean => false;

function voiceCall(interactive: Record<string, unknown>): Record<string, unknown> {
  return { messaging_product: 'whatsapp', recipient_type: 'individual', to: TO, type: 'interactive', interactive: { type: 'voice_call', ...interactive } };
}

const BODY = { text: 'Call us on WhatsApp' };
const ACTION = { name: 'voice_call' };

/** The `error_data.details` of the 100 the body is refused with. */
function refusal(body: unknown): string {
  try {
    parseMessageRequest(body, noTemplates);
  } catch (err) {
    if (err instanceof GraphError && err.metaCode === 100 && err.httpStatus === 400) return err.errorData?.details ?? '';
    throw err;
  }
  throw new Error('expected a 100 Invalid parameter');
}

describe('parseMessageRequest: interactive voice_call (call button, reference §3.8)', () => {
  it('a full voice_call message becomes a call button with its parameters', () => {
    const cmd = parseMessageRequest(
      voiceCall({ body: BODY, action: { name: 'voice_call', parameters: { display_text: 'Call on WhatsApp', ttl_minutes: 100, payload: 'queue=billing' } } }),
      noTemplates,
    );
    expect(cmd).toEqual({
      to: TO,
      type: 'interactive',
      callButton: { bodyText: 'Call us on WhatsApp', displayText: 'Call on WhatsApp', ttlMinutes: 100, payload: 'queue=billing' },
    });
  });

  it('without parameters Meta\'s defaults apply: display_text "Call Now", ttl_minutes 10080, no payload', () => {
    expect(parseMessageRequest(voiceCall({ body: BODY, action: ACTION }), noTemplates).callButton).toEqual({
      bodyText: 'Call us on WhatsApp',
      displayText: 'Call Now',
      ttlMinutes: 10_080,
    });
    expect(parseMessageRequest(voiceCall({ body: BODY, action: { name: 'voice_call', parameters: { payload: '' } } }), noTemplates).callButton).toEqual({
      bodyText: 'Call us on WhatsApp',
      displayText: 'Call Now',
      ttlMinutes: 10_080,
    });
  });

  it('the limits themselves are accepted: 1024-character body, 20-character label, ttl 1 and 43200, 512-character payload', () => {
    for (const ttl of [CALL_BUTTON_RULES.ttlMinutesMin, CALL_BUTTON_RULES.ttlMinutesMax]) {
      const parameters = { display_text: 'x'.repeat(20), ttl_minutes: ttl, payload: 'p'.repeat(512) };
      expect(parseMessageRequest(voiceCall({ body: { text: 'b'.repeat(1024) }, action: { name: 'voice_call', parameters } }), noTemplates).callButton).toMatchObject({
        ttlMinutes: ttl,
      });
    }
  });

  it.each([
    ['no body', { action: ACTION }, /^interactive\.body is required/],
    ['no body text', { body: {}, action: ACTION }, /^interactive\.body\.text is required/],
    ['body text not a string', { body: { text: 42 }, action: ACTION }, /^interactive\.body\.text is required/],
    ['empty body text', { body: { text: '' }, action: ACTION }, /^interactive\.body\.text must not be empty$/],
    ['body text over 1024 characters', { body: { text: 'b'.repeat(1025) }, action: ACTION }, /^interactive\.body\.text is at most 1024 characters$/],
    ['no action', { body: BODY }, /^interactive\.action is required/],
    ['action name not voice_call', { body: BODY, action: { name: 'call_permission_request' } }, /^interactive\.action\.name must be "voice_call"$/],
    ['parameters not an object', { body: BODY, action: { name: 'voice_call', parameters: 'Call Now' } }, /^interactive\.action\.parameters must be an object$/],
    ['empty display_text', { body: BODY, action: { name: 'voice_call', parameters: { display_text: '' } } }, /^interactive\.action\.parameters\.display_text must not be empty$/],
    ['display_text over 20 characters', { body: BODY, action: { name: 'voice_call', parameters: { display_text: 'x'.repeat(21) } } }, /^interactive\.action\.parameters\.display_text is at most 20 characters$/],
    ['ttl_minutes 0', { body: BODY, action: { name: 'voice_call', parameters: { ttl_minutes: 0 } } }, /^interactive\.action\.parameters\.ttl_minutes must be 1-43200$/],
    ['ttl_minutes over 43200', { body: BODY, action: { name: 'voice_call', parameters: { ttl_minutes: 43_201 } } }, /^interactive\.action\.parameters\.ttl_minutes must be 1-43200$/],
    ['ttl_minutes not an integer', { body: BODY, action: { name: 'voice_call', parameters: { ttl_minutes: 1.5 } } }, /^interactive\.action\.parameters\.ttl_minutes must be an integer$/],
    ['ttl_minutes a string', { body: BODY, action: { name: 'voice_call', parameters: { ttl_minutes: '100' } } }, /^interactive\.action\.parameters\.ttl_minutes must be an integer$/],
    ['payload over 512 characters', { body: BODY, action: { name: 'voice_call', parameters: { payload: 'p'.repeat(513) } } }, /^interactive\.action\.parameters\.payload is at most 512 characters$/],
    ['payload not a string', { body: BODY, action: { name: 'voice_call', parameters: { payload: 7 } } }, /^interactive\.action\.parameters\.payload must be a string$/],
  ])('%s is refused with 100 naming the field', (_case, interactive, details) => {
    expect(refusal(voiceCall(interactive))).toMatch(details);
  });

  it('every problem is reported, each naming its field', () => {
    expect(refusal(voiceCall({ body: { text: '' }, action: { name: 'voice_call', parameters: { ttl_minutes: 0 } } }))).toBe(
      'interactive.body.text must not be empty; interactive.action.parameters.ttl_minutes must be 1-43200',
    );
  });

  it('other interactive messages are still accepted without checks', () => {
    expect(parseMessageRequest({ messaging_product: 'whatsapp', to: TO, type: 'interactive', interactive: { type: 'button' } }, noTemplates)).toEqual({
      to: TO,
      type: 'interactive',
    });
  });
});
