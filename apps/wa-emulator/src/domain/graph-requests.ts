import { z } from 'zod';
import { invalidParameter } from './emulator.errors';

/**
 * The Graph request bodies the emulator understands (reference §3.1-§3.6, §3.8), parsed into typed commands.
 * Any problem is Meta's `100 Invalid parameter` with the reason in `error_data.details`. Unknown keys are
 * ignored, as Meta does for fields it does not know.
 */

const messagingProduct = z.literal('whatsapp', { error: 'messaging_product must be "whatsapp"' });
const callId = z.string({ error: 'call_id is required' }).min(1, 'call_id is required');
const opaque = z.string().max(512, 'biz_opaque_callback_data is at most 512 characters').optional();
const session = z.object(
  { sdp_type: z.unknown(), sdp: z.unknown() },
  { error: 'session is required: { "sdp_type": "answer", "sdp": "v=0..." } (the legacy connection.webrtc.sdp is not accepted)' },
);

const connectSchema = z
  .object({
    messaging_product: messagingProduct,
    action: z.literal('connect'),
    to: z.string().regex(/^\+?\d{6,15}$/, 'to must be a phone number').optional(),
    recipient: z.string().min(1).optional(),
    session,
    biz_opaque_callback_data: opaque,
  })
  .refine((b) => b.to !== undefined || b.recipient !== undefined, 'to or recipient is required');

const answerActionSchema = z.object({
  messaging_product: messagingProduct,
  action: z.enum(['pre_accept', 'accept']),
  call_id: callId,
  session,
  biz_opaque_callback_data: opaque,
});

const endActionSchema = z.object({ messaging_product: messagingProduct, action: z.enum(['reject', 'terminate']), call_id: callId });

export type CallsCommand =
  | { action: 'connect'; to?: string; recipient?: string; sdpType: unknown; sdp: unknown; bizOpaqueCallbackData?: string }
  | { action: 'pre_accept' | 'accept'; callId: string; sdpType: unknown; sdp: unknown; bizOpaqueCallbackData?: string }
  | { action: 'reject' | 'terminate'; callId: string };

export const CALL_ACTIONS = ['connect', 'pre_accept', 'accept', 'reject', 'terminate'] as const;

function details(error: z.ZodError): string {
  return error.issues.map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message)).join('; ');
}

function parse<T extends z.ZodType>(schema: T, body: unknown): z.output<T> {
  const result = schema.safeParse(body);
  if (!result.success) throw invalidParameter(details(result.error));
  return result.data;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** POST /<PHONE_NUMBER_ID>/calls. */
export function parseCallsRequest(body: unknown): CallsCommand {
  if (!isRecord(body)) throw invalidParameter('the request body must be a JSON object');
  const action = body['action'];
  if (!CALL_ACTIONS.includes(action as (typeof CALL_ACTIONS)[number])) {
    throw invalidParameter(`action must be one of ${CALL_ACTIONS.join(', ')}; got ${JSON.stringify(action)}`);
  }
  if (action === 'connect') {
    const b = parse(connectSchema, body);
    return {
      action: 'connect',
      ...(b.to !== undefined ? { to: b.to.replace(/^\+/, '') } : {}),
      ...(b.recipient !== undefined ? { recipient: b.recipient } : {}),
      sdpType: b.session.sdp_type,
      sdp: b.session.sdp,
      ...(b.biz_opaque_callback_data !== undefined ? { bizOpaqueCallbackData: b.biz_opaque_callback_data } : {}),
    };
  }
  if (action === 'pre_accept' || action === 'accept') {
    const b = parse(answerActionSchema, body);
    return {
      action: b.action,
      callId: b.call_id,
      sdpType: b.session.sdp_type,
      sdp: b.session.sdp,
      ...(b.biz_opaque_callback_data !== undefined ? { bizOpaqueCallbackData: b.biz_opaque_callback_data } : {}),
    };
  }
  const b = parse(endActionSchema, body);
  return { action: b.action, callId: b.call_id };
}

/** An interactive `voice_call` message, defaults applied (reference §3.8). */
export interface CallButtonSpec {
  bodyText: string;
  displayText: string;
  ttlMinutes: number;
  /** Comes back as `cta_payload` when the user taps the button; an empty payload counts as none. */
  payload?: string;
}

export type MessageCommand = {
  to: string;
  type: string;
  /** Set when the message is a call permission request (interactive or template). */
  permissionRequest?: 'interactive' | 'template';
  templateName?: string;
  /** Set when the message is an interactive `voice_call` (a call button). */
  callButton?: CallButtonSpec;
};

/** Limits and defaults of a `voice_call` message (reference §3.8, CB-2602). */
export const CALL_BUTTON_RULES = {
  bodyTextMax: 1024,
  displayTextMax: 20,
  displayTextDefault: 'Call Now',
  ttlMinutesMin: 1,
  ttlMinutesMax: 43_200,
  ttlMinutesDefault: 10_080,
  payloadMax: 512,
} as const;

const R = CALL_BUTTON_RULES;
const P = 'interactive.action.parameters';

const voiceCallSchema = z.object({
  body: z.object(
    {
      text: z
        .string({ error: 'interactive.body.text is required (a string)' })
        .min(1, 'interactive.body.text must not be empty')
        .max(R.bodyTextMax, `interactive.body.text is at most ${R.bodyTextMax} characters`),
    },
    { error: 'interactive.body is required: { "text": "..." }' },
  ),
  action: z.object(
    {
      name: z.literal('voice_call', { error: 'interactive.action.name must be "voice_call"' }),
      parameters: z
        .object(
          {
            display_text: z
              .string({ error: `${P}.display_text must be a string` })
              .min(1, `${P}.display_text must not be empty`)
              .max(R.displayTextMax, `${P}.display_text is at most ${R.displayTextMax} characters`)
              .optional(),
            ttl_minutes: z
              .number({ error: `${P}.ttl_minutes must be an integer` })
              .int(`${P}.ttl_minutes must be an integer`)
              .min(R.ttlMinutesMin, `${P}.ttl_minutes must be ${R.ttlMinutesMin}-${R.ttlMinutesMax}`)
              .max(R.ttlMinutesMax, `${P}.ttl_minutes must be ${R.ttlMinutesMin}-${R.ttlMinutesMax}`)
              .optional(),
            payload: z.string({ error: `${P}.payload must be a string` }).max(R.payloadMax, `${P}.payload is at most ${R.payloadMax} characters`).optional(),
          },
          { error: `${P} must be an object` },
        )
        .optional(),
    },
    { error: 'interactive.action is required: { "name": "voice_call" }' },
  ),
});

/**
 * Interactive `voice_call` (reference §3.8): body text required, parameters optional with Meta's defaults.
 * Every message of the schema names its field in full, so the details are the messages alone.
 */
function parseCallButton(interactive: unknown): CallButtonSpec {
  const result = voiceCallSchema.safeParse(interactive);
  if (!result.success) throw invalidParameter(result.error.issues.map((i) => i.message).join('; '));
  const { body, action } = result.data;
  const p = action.parameters ?? {};
  return {
    bodyText: body.text,
    displayText: p.display_text ?? R.displayTextDefault,
    ttlMinutes: p.ttl_minutes ?? R.ttlMinutesDefault,
    ...(p.payload ? { payload: p.payload } : {}),
  };
}

const messageSchema = z.object({
  messaging_product: messagingProduct,
  recipient_type: z.literal('individual', { error: 'recipient_type must be "individual"' }).optional(),
  to: z.string({ error: 'to is required' }).regex(/^\+?\d{6,15}$/, 'to must be a phone number'),
  type: z.string({ error: 'type is required' }).min(1),
  interactive: z.looseObject({ type: z.string() }).optional(),
  template: z
    .looseObject({
      name: z.string().min(1, 'template.name is required'),
      components: z.array(z.looseObject({ type: z.string() })).optional(),
    })
    .optional(),
});

/**
 * POST /<PHONE_NUMBER_ID>/messages. An interactive `voice_call` is a call button, checked against §3.8. A
 * permission request is an interactive `call_permission_request` (body optional; header and footer not
 * allowed, §3.6) or a `template` message whose template is known to carry the call_permission_request
 * component: `isPermissionTemplate(name)` (registered over the control API), or a
 * `{ type: "call_permission_request" }` entry in the sent components. Other messages are accepted unchecked.
 */
export function parseMessageRequest(body: unknown, isPermissionTemplate: (name: string) => boolean): MessageCommand {
  const b = parse(messageSchema, body);
  const to = b.to.replace(/^\+/, '');
  if (b.type === 'interactive') {
    if (!b.interactive) throw invalidParameter('interactive is required for type "interactive"');
    if (b.interactive.type === 'voice_call') return { to, type: 'interactive', callButton: parseCallButton(b.interactive) };
    if (b.interactive.type !== 'call_permission_request') return { to, type: 'interactive' };
    const action = b.interactive['action'];
    if (!isRecord(action) || action['name'] !== 'call_permission_request') {
      throw invalidParameter('interactive.action.name must be "call_permission_request"');
    }
    for (const part of ['header', 'footer']) {
      if (b.interactive[part] !== undefined) throw invalidParameter(`interactive.${part} is not allowed in a call_permission_request message`);
    }
    return { to, type: 'interactive', permissionRequest: 'interactive' };
  }
  if (b.type === 'template') {
    if (!b.template) throw invalidParameter('template is required for type "template"');
    const name = b.template.name;
    const hasComponent = (b.template.components ?? []).some((c) => c.type === 'call_permission_request');
    return isPermissionTemplate(name) || hasComponent
      ? { to, type: 'template', permissionRequest: 'template', templateName: name }
      : { to, type: 'template', templateName: name };
  }
  return { to, type: b.type };
}
