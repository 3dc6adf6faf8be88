import { adviseOnCallingSettings } from './calling-settings.advice';

const codes = (calling: Record<string, unknown>, restrictions = []): string[] => adviseOnCallingSettings(calling, restrictions).map((a) => `${a.level}:${a.code}`);

describe('adviseOnCallingSettings', () => {
  it("says nothing of Meta's defaults with calling on", () => {
    expect(adviseOnCallingSettings({ status: 'ENABLED', call_icon_visibility: 'DEFAULT', callback_permission_status: 'DISABLED', sip: { status: 'DISABLED', servers: [] } })).toEqual([]);
  });

  it('warns of what stops the gateway’s calls: calling off or unset, SIP mode on', () => {
    expect(codes({ status: 'disabled' })).toEqual(['warning:CALLING_DISABLED']);
    expect(codes({})).toEqual(['warning:CALLING_NOT_SET']);
    const sip = adviseOnCallingSettings({ status: 'ENABLED', sip: { status: 'ENABLED', servers: [{ hostname: 'sip.example.com', port: 5061 }] } });
    expect(sip).toEqual([
      {
        level: 'warning',
        code: 'SIP_MODE_ENABLED',
        message: "calling.sip.status is ENABLED: Meta sends this number's calls to SIP servers (sip.example.com) and refuses the Graph calling API this gateway uses (131055); set it DISABLED",
      },
    ]);
  });

  it('notes who cannot see the call icon, and call hours', () => {
    expect(codes({ status: 'ENABLED', call_icon_visibility: 'DISABLE_ALL' })).toEqual(['notice:CALL_ICON_HIDDEN']);
    expect(codes({ status: 'ENABLED', call_icon_visibility: 'HIDE_IN_CHAT', call_icons: { restrict_to_user_countries: ['US', 'BR'] } })).toEqual(['notice:CALL_ICON_HIDDEN', 'notice:CALL_ICON_COUNTRIES']);
    expect(codes({ status: 'ENABLED', call_icons: { restrict_to_user_countries: [] } })).toEqual([]);
    const hours = adviseOnCallingSettings({ status: 'ENABLED', call_hours: { status: 'ENABLED', timezone_id: 'Europe/Berlin', weekly_operating_hours: [] } });
    expect(hours.map((a) => a.message)).toEqual(['calling.call_hours is ENABLED (Europe/Berlin): outside the hours WhatsApp offers a message or a callback request instead of a call']);
  });

  it("warns of voicemail settings Meta ignores or advises against, and says when Meta takes an unanswered call", () => {
    const vm = (voicemail: Record<string, unknown>, extra: Record<string, unknown> = {}): string[] => codes({ status: 'ENABLED', voicemail: { status: 'ENABLED', ...voicemail }, ...extra });
    expect(vm({ triggers: ['REJECT'] })).toEqual([]);
    expect(vm({ triggers: ['REJECT', 'TIMEOUT'] })).toEqual(['warning:VOICEMAIL_TIMEOUT_IGNORED']);
    expect(vm({ triggers: ['TIMEOUT'], audio: { default: { timeout_seconds: 20 } } })).toEqual(['notice:VOICEMAIL_TIMEOUT']);
    expect(adviseOnCallingSettings({ status: 'ENABLED', voicemail: { status: 'ENABLED', triggers: ['TIMEOUT'], audio: { default: { timeout_seconds: 20 } } } })[0]?.message).toBe(
      'Meta takes a call nobody answered to voicemail 20 s after it starts ringing: desk phones that ring longer never get it',
    );
    expect(vm({ triggers: [] })).toEqual(['warning:VOICEMAIL_NO_TRIGGER']);
    expect(vm({ triggers: ['REJECT'] }, { call_hours: { status: 'ENABLED', timezone_id: 'UTC' } })).toEqual(['notice:CALL_HOURS', 'warning:VOICEMAIL_WITH_CALL_HOURS']);
    expect(codes({ status: 'ENABLED', voicemail: { status: 'DISABLED', triggers: ['TIMEOUT'] } })).toEqual([]);
  });

  it('warns of each restriction with its end', () => {
    const advice = adviseOnCallingSettings({ status: 'ENABLED' }, [{ type: 'RESTRICTED_USER_INITIATED_CALLING', reason: 'low pickup rate', expiresAt: Date.UTC(2026, 11, 1) }, { type: 'RESTRICTED_BUSINESS_INITIATED_CALLING' }]);
    expect(advice.map((a) => a.message)).toEqual([
      'WhatsApp restricts calling on this number: RESTRICTED_USER_INITIATED_CALLING until 2026-12-01T00:00:00.000Z (low pickup rate)',
      'WhatsApp restricts calling on this number: RESTRICTED_BUSINESS_INITIATED_CALLING',
    ]);
  });

  it('reads values of any case and ignores fields of the wrong type', () => {
    expect(codes({ status: 'Enabled', sip: 'ENABLED', voicemail: ['ENABLED'], call_hours: 3, call_icons: { restrict_to_user_countries: 'US' } })).toEqual([]);
  });
});
