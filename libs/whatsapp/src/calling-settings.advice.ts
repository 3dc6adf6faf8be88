/**
 * What an operator should know about the business number's calling settings (reference §5.1-§5.2, CS-2606,
 * SIP-2512), for a gateway that uses the Graph calling API: what stops calls outright (warning) and what
 * changes who can call or how (notice). Pure: read from the `calling` block as Meta sends it (snake_case) and
 * the restrictions GET settings carries.
 */

export type AdviceLevel = 'warning' | 'notice';

export interface SettingsAdvice {
  level: AdviceLevel;
  code: string;
  message: string;
}

export interface CallingRestriction {
  type: string;
  reason?: string;
  /** Epoch ms. */
  expiresAt?: number;
}

const obj = (v: unknown): Record<string, unknown> | undefined => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined);
const upper = (v: unknown): string | undefined => (typeof v === 'string' ? v.trim().toUpperCase() : undefined);

export function adviseOnCallingSettings(calling: Record<string, unknown>, restrictions: readonly CallingRestriction[] = []): SettingsAdvice[] {
  const out: SettingsAdvice[] = [];
  const warn = (code: string, message: string): void => void out.push({ level: 'warning', code, message });
  const notice = (code: string, message: string): void => void out.push({ level: 'notice', code, message });

  const status = upper(calling['status']);
  if (status === 'DISABLED') {
    warn('CALLING_DISABLED', 'calling.status is DISABLED: users see no call icon and cannot call the number, and calls to users are refused (138000)');
  } else if (status === undefined) {
    warn('CALLING_NOT_SET', 'calling.status is not set: calling is off until it is ENABLED');
  }

  const sip = obj(calling['sip']);
  if (upper(sip?.['status']) === 'ENABLED') {
    const servers = Array.isArray(sip?.['servers']) ? (sip['servers'] as unknown[]).map((s) => obj(s)?.['hostname']).filter((h): h is string => typeof h === 'string') : [];
    warn(
      'SIP_MODE_ENABLED',
      `calling.sip.status is ENABLED: Meta sends this number's calls to SIP servers${servers.length > 0 ? ` (${servers.join(', ')})` : ''} and refuses the Graph calling API this gateway uses (131055); set it DISABLED`,
    );
  }

  const visibility = upper(calling['call_icon_visibility']);
  if (visibility === 'DISABLE_ALL') notice('CALL_ICON_HIDDEN', 'calling.call_icon_visibility is DISABLE_ALL: no call icon and no deep links; only call buttons let users call');
  else if (visibility === 'HIDE_IN_CHAT') notice('CALL_ICON_HIDDEN', 'calling.call_icon_visibility is HIDE_IN_CHAT: no call icon in the chat; users can still call from the contact, the call log or a button');
  const countries = obj(calling['call_icons'])?.['restrict_to_user_countries'];
  if (Array.isArray(countries) && countries.length > 0) {
    notice('CALL_ICON_COUNTRIES', `the call icon shows only to users whose number is registered in ${countries.map(String).join(', ')} (calling.call_icons.restrict_to_user_countries)`);
  }

  const hours = obj(calling['call_hours']);
  const hoursOn = upper(hours?.['status']) === 'ENABLED';
  if (hoursOn) {
    notice('CALL_HOURS', `calling.call_hours is ENABLED (${typeof hours?.['timezone_id'] === 'string' ? hours['timezone_id'] : 'no time zone'}): outside the hours WhatsApp offers a message or a callback request instead of a call`);
  }

  const voicemail = obj(calling['voicemail']);
  if (upper(voicemail?.['status']) === 'ENABLED') {
    const triggers = Array.isArray(voicemail?.['triggers']) ? (voicemail['triggers'] as unknown[]).map(upper) : [];
    const timeout = obj(obj(obj(voicemail?.['audio'])?.['default']))?.['timeout_seconds'];
    if (triggers.includes('TIMEOUT') && typeof timeout !== 'number') {
      warn('VOICEMAIL_TIMEOUT_IGNORED', 'calling.voicemail has the TIMEOUT trigger without audio.default.timeout_seconds, which Meta treats as disabled: only refused calls go to voicemail');
    } else if (triggers.includes('TIMEOUT') && typeof timeout === 'number') {
      notice('VOICEMAIL_TIMEOUT', `Meta takes a call nobody answered to voicemail ${timeout} s after it starts ringing: desk phones that ring longer never get it`);
    }
    if (triggers.length === 0) warn('VOICEMAIL_NO_TRIGGER', 'calling.voicemail is ENABLED without triggers: no call goes to voicemail');
    if (hoursOn) warn('VOICEMAIL_WITH_CALL_HOURS', 'calling.voicemail is ENABLED while call_hours is on: Meta says to turn call hours off when voicemail is enabled');
  }

  for (const r of restrictions) {
    const until = r.expiresAt !== undefined ? ` until ${new Date(r.expiresAt).toISOString()}` : '';
    warn('CALLING_RESTRICTED', `WhatsApp restricts calling on this number: ${r.type}${until}${r.reason ? ` (${r.reason})` : ''}`);
  }
  return out;
}
