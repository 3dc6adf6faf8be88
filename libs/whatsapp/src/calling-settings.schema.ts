import { z } from 'zod';

/**
 * The `calling` settings block (reference §5.1-§5.2, CS-2606, SIP-2512), shared by
 * `GET /<PHONE_NUMBER_ID>/settings` and the `account_settings_update` webhook. Known fields are typed;
 * unknown ones are kept in `raw` so a read-modify-write does not lose them.
 */
const onOff = z
  .string()
  .transform((s) => s.trim().toUpperCase())
  .pipe(z.enum(['ENABLED', 'DISABLED'], { error: (iss) => `expected "ENABLED" or "DISABLED" (any case), got ${JSON.stringify(iss.input)}` }));

export const callingSettingsWireSchema = z.looseObject({
  status: onOff.optional(),
  call_icon_visibility: z.string().optional(),
  callback_permission_status: onOff.optional(),
  srtp_key_exchange_protocol: z
    .string()
    .transform((s) => s.trim().toUpperCase())
    .pipe(z.enum(['DTLS', 'SDES'], { error: (iss) => `expected "DTLS" or "SDES" (any case), got ${JSON.stringify(iss.input)}` }))
    .optional(),
  sip: z
    .looseObject({
      status: onOff.optional(),
      servers: z.array(z.looseObject({ hostname: z.string(), port: z.number().int().optional() })).optional(),
    })
    .optional(),
});
export type CallingSettingsWire = z.input<typeof callingSettingsWireSchema>;

export interface CallingSettings {
  status?: 'ENABLED' | 'DISABLED';
  callIconVisibility?: string;
  callbackPermissionStatus?: 'ENABLED' | 'DISABLED';
  srtpKeyExchangeProtocol?: 'DTLS' | 'SDES';
  sip?: { status?: 'ENABLED' | 'DISABLED'; servers: { hostname: string; port?: number }[] };
  /** The block as Meta sent it (snake_case, unknown keys included). */
  raw: Record<string, unknown>;
}

export function toCallingSettings(raw: Record<string, unknown>, w: z.output<typeof callingSettingsWireSchema>): CallingSettings {
  const out: CallingSettings = { raw };
  if (w.status) out.status = w.status;
  if (w.call_icon_visibility) out.callIconVisibility = w.call_icon_visibility;
  if (w.callback_permission_status) out.callbackPermissionStatus = w.callback_permission_status;
  if (w.srtp_key_exchange_protocol) out.srtpKeyExchangeProtocol = w.srtp_key_exchange_protocol;
  if (w.sip) {
    const servers = (w.sip.servers ?? []).map((s) => (s.port === undefined ? { hostname: s.hostname } : { hostname: s.hostname, port: s.port }));
    out.sip = w.sip.status ? { status: w.sip.status, servers } : { servers };
  }
  return out;
}

/** What `updateCallingSettings` sends: the typed fields, plus any other wire fields (`call_hours`, `voicemail`, ...). */
export interface CallingSettingsUpdate {
  status?: 'ENABLED' | 'DISABLED';
  callIconVisibility?: string;
  callbackPermissionStatus?: 'ENABLED' | 'DISABLED';
  srtpKeyExchangeProtocol?: 'DTLS' | 'SDES';
  sip?: { status?: 'ENABLED' | 'DISABLED'; servers?: { hostname: string; port?: number }[] };
  /** Further keys of the `calling` block in Meta's snake_case, sent as given (typed fields win on a clash). */
  extra?: Record<string, unknown>;
}

/** The `calling` block of `POST /<PHONE_NUMBER_ID>/settings` (reference §5.1). Absent fields are left out. */
export function toCallingSettingsWire(update: CallingSettingsUpdate): Record<string, unknown> {
  const wire: Record<string, unknown> = { ...(update.extra ?? {}) };
  if (update.status !== undefined) wire['status'] = update.status;
  if (update.callIconVisibility !== undefined) wire['call_icon_visibility'] = update.callIconVisibility;
  if (update.callbackPermissionStatus !== undefined) wire['callback_permission_status'] = update.callbackPermissionStatus;
  if (update.srtpKeyExchangeProtocol !== undefined) wire['srtp_key_exchange_protocol'] = update.srtpKeyExchangeProtocol;
  if (update.sip !== undefined) {
    const sip: Record<string, unknown> = {};
    if (update.sip.status !== undefined) sip['status'] = update.sip.status;
    if (update.sip.servers !== undefined) sip['servers'] = update.sip.servers.map((s) => ({ ...s }));
    wire['sip'] = sip;
  }
  return wire;
}
