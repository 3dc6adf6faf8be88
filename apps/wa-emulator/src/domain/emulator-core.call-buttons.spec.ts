import { parseWebhook } from '@wagw/whatsapp';
import { type TestCore, freshTestCore } from '../../test/core-harness';
import { HOUR_MS } from './clock';
import { ControlError, GraphError } from './emulator.errors';

const WA_ID = '15552225555';

function callButton(parameters?: Record<string, unknown>, bodyText = 'Call us on WhatsApp'): Record<string, unknown> {
  return {
    messaging_product: 'whatsapp',
    recipient_type: 'individual',
    to: WA_ID,
    type: 'interactive',
    interactive: { type: 'voice_call', body: { text: bodyText }, action: { name: 'voice_call', ...(parameters ? { parameters } : {}) } },
  };
}

async function refusal(p: Promise<unknown> | (() => unknown)): Promise<GraphError | ControlError> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (err) {
    if (err instanceof GraphError || err instanceof ControlError) return err;
    throw err;
  }
  throw new Error('expected a GraphError or ControlError');
}

describe('EmulatorCore: call buttons (interactive voice_call, reference §3.8)', () => {
  let h: TestCore;

  freshTestCore((c) => (h = c));

  const send = (body: Record<string, unknown>): string => ((h.core.sendMessage(body)['messages'] as { id: string }[])[0] as { id: string }).id;
  const buttons = (): Record<string, unknown>[] => h.core.userView(WA_ID)['callButtons'] as Record<string, unknown>[];

  it('a received call button is shown on the user view with its texts, payload and expiry (emulator clock + ttl)', async () => {
    const sentAt = h.core.clock.now();
    const wamid = send(callButton({ display_text: 'Call billing', ttl_minutes: 100, payload: 'queue=billing' }));
    await h.core.webhooksIdle();

    expect(h.transport.types(wamid)).toEqual(['message_status.sent', 'message_status.delivered']);
    expect(buttons()).toEqual([
      {
        messageId: wamid,
        displayText: 'Call billing',
        bodyText: 'Call us on WhatsApp',
        payload: 'queue=billing',
        ttlMinutes: 100,
        sentAt: expect.any(Number),
        expiresAt: expect.any(Number),
        expired: false,
      },
    ]);
    const [button] = buttons();
    expect(button?.['sentAt']).toBeGreaterThanOrEqual(sentAt);
    expect(button?.['expiresAt']).toBe((button?.['sentAt'] as number) + 100 * 60_000);
  });

  it("a button sent without parameters shows Meta's defaults and no payload; the newest button comes first", () => {
    const first = send(callButton({ payload: 'first' }));
    const second = send(callButton());
    expect(buttons().map((b) => b['messageId'])).toEqual([second, first]);
    expect(buttons()[0]).toMatchObject({ displayText: 'Call Now', ttlMinutes: 10_080, payload: null });
  });

  it('a button past its ttl shows expired on the emulator clock', () => {
    send(callButton({ ttl_minutes: 60 }));
    h.core.advanceClock(HOUR_MS - 1);
    expect(buttons()[0]?.['expired']).toBe(false);
    h.core.advanceClock(1);
    expect(buttons()[0]?.['expired']).toBe(true);
  });

  it('an invalid voice_call message is refused with 100 and gives the user no button', async () => {
    const err = await refusal(() => send(callButton({ display_text: 'A label far longer than twenty' })));
    expect(err).toBeInstanceOf(GraphError);
    expect((err as GraphError).metaCode).toBe(100);
    expect((err as GraphError).errorData?.details).toBe('interactive.action.parameters.display_text is at most 20 characters');
    expect(h.core.users.find(WA_ID)).toBeUndefined();
  });

  it('tapping a button places a user call whose connect webhook carries the payload as cta_payload', async () => {
    h.core.createUser(WA_ID, 'Jane');
    const wamid = send(callButton({ payload: 'queue=billing' }));
    const result = await h.core.tapCallButton(WA_ID, wamid);
    await h.core.webhooksIdle();

    expect(result).toEqual({ waCallId: expect.stringMatching(/^wacid\./), messageId: wamid, payload: 'queue=billing' });
    const connect = h.transport.eventsOf(result.waCallId).find((e) => e.type === 'call.connect');
    expect(connect?.item).toMatchObject({ event: 'connect', direction: 'USER_INITIATED', from: WA_ID, cta_payload: 'queue=billing' });
    expect(h.core.userView(WA_ID)['currentCall']).toMatchObject({ waCallId: result.waCallId, direction: 'USER_INITIATED', state: 'ringing' });
    expect(h.core.callView(result.waCallId)['ctaPayload']).toBe('queue=billing');
    for (const body of h.transport.bodies) expect(parseWebhook(body).rejected).toEqual([]);
  });

  it('a tap without messageId takes the newest button; a button without payload gives a connect without cta_payload', async () => {
    send(callButton({ payload: 'older' }));
    const newest = send(callButton());
    const result = await h.core.tapCallButton(WA_ID);
    await h.core.webhooksIdle();

    expect(result).toEqual({ waCallId: expect.any(String), messageId: newest, payload: null });
    const connect = h.transport.eventsOf(result.waCallId).find((e) => e.type === 'call.connect');
    expect(connect?.item).toMatchObject({ event: 'connect', direction: 'USER_INITIATED' });
    expect(connect?.item).not.toHaveProperty('cta_payload');
  });

  it('a tap goes through the user-call path: a user already in a call is refused with 409', async () => {
    const wamid = send(callButton({ payload: 'p' }));
    await h.core.userCall(WA_ID);
    const err = await refusal(h.core.tapCallButton(WA_ID, wamid));
    expect(err).toMatchObject({ kind: 'conflict', message: expect.stringMatching(/already in call/) });
  });

  it('a tap on an unknown message id, or by a user without buttons, is refused as not found; an unknown user too', async () => {
    h.core.createUser(WA_ID);
    expect(await refusal(h.core.tapCallButton(WA_ID))).toMatchObject({ kind: 'not_found', message: `user ${WA_ID} has received no call button` });
    send(callButton());
    expect(await refusal(h.core.tapCallButton(WA_ID, 'wamid.unknown'))).toMatchObject({
      kind: 'not_found',
      message: expect.stringContaining(`user ${WA_ID} has no call button wamid.unknown`),
    });
    expect(await refusal(h.core.tapCallButton('15550000000'))).toMatchObject({ kind: 'not_found', message: 'no user 15550000000' });
    expect(h.core.listCalls()).toEqual([]);
  });

  it('a tap on an expired button is refused with conflict naming the expiry time, and places no call', async () => {
    const wamid = send(callButton({ ttl_minutes: 1 }));
    const expiresAt = buttons()[0]?.['expiresAt'] as number;
    h.core.advanceClock(60_000);

    const err = await refusal(h.core.tapCallButton(WA_ID, wamid));
    expect(err).toBeInstanceOf(ControlError);
    expect(err).toMatchObject({ kind: 'conflict', message: expect.stringContaining(`call button expired at ${new Date(expiresAt).toISOString()}`) });
    expect(h.core.listCalls()).toEqual([]);
  });

  it('a user whose behaviour has callButtons: false cannot receive a call button: 131009, no status webhooks, no button', async () => {
    h.core.setBehaviour(WA_ID, { callButtons: false });
    const err = await refusal(() => send(callButton()));
    await h.core.webhooksIdle();

    expect(err).toBeInstanceOf(GraphError);
    expect(err).toMatchObject({ metaCode: 131009, httpStatus: 400, message: 'Interactive voice_call not supported for the sender country' });
    expect(h.transport.bodies).toEqual([]);
    expect(buttons()).toEqual([]);
    expect(h.core.graphRequests.list({ action: 'messages' })).toEqual([expect.objectContaining({ httpStatus: 400, code: 131009, to: WA_ID })]);
    // other messages still reach that user
    expect(() => send({ messaging_product: 'whatsapp', to: WA_ID, type: 'text', text: { body: 'hi' } })).not.toThrow();
  });

  it('reset forgets every call button', async () => {
    send(callButton());
    await h.core.reset();
    h.core.createUser(WA_ID);
    expect(buttons()).toEqual([]);
  });
});
