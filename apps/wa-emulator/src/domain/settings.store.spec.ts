import { GraphError } from './emulator.errors';
import { DEFAULT_CALLING_SETTINGS, SettingsStore } from './settings.store';

function details(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    if (err instanceof GraphError && err.metaCode === 100) return err.errorData?.details;
    throw err;
  }
  return undefined;
}

const hours = (entries: { day_of_week: string; open_time: string; close_time: string }[]) => ({
  calling: { call_hours: { status: 'ENABLED', timezone_id: 'Europe/Berlin', weekly_operating_hours: entries } },
});

describe('SettingsStore', () => {
  it('starts with calling enabled and the callback permission disabled', () => {
    const s = new SettingsStore();
    expect(s.calling()).toEqual(DEFAULT_CALLING_SETTINGS);
    expect([s.callingEnabled(), s.callbackPermissionEnabled(), s.sipEnabled()]).toEqual([true, false, false]);
  });

  it('replaces the keys a POST sends and keeps the others, unknown keys included', () => {
    const s = new SettingsStore();
    s.update({ calling: { callback_permission_status: 'ENABLED', future_flag: { x: 1 } } });
    expect(s.calling()).toMatchObject({ status: 'ENABLED', callback_permission_status: 'ENABLED', future_flag: { x: 1 } });
    expect(s.callbackPermissionEnabled()).toBe(true);
  });

  it('refuses bad call hours: overlaps, more than 2 entries a day, open after close, bad times', () => {
    const s = new SettingsStore();
    expect(details(() => s.update(hours([{ day_of_week: 'MONDAY', open_time: '0800', close_time: '1200' }, { day_of_week: 'MONDAY', open_time: '1100', close_time: '1300' }])))).toMatch(/overlapping/);
    const three = ['0100', '0300', '0500'].map((t) => ({ day_of_week: 'TUESDAY', open_time: t, close_time: `0${Number(t[1]) + 1}00` }));
    expect(details(() => s.update(hours(three)))).toMatch(/more than 2/);
    expect(details(() => s.update(hours([{ day_of_week: 'FRIDAY', open_time: '1800', close_time: '0900' }])))).toMatch(/before close_time/);
    expect(details(() => s.update(hours([{ day_of_week: 'FRIDAY', open_time: '8am', close_time: '1700' }])))).toMatch(/HHMM/);
    expect(details(() => s.update(hours([])))).toMatch(/must not be empty/);
    expect(s.calling()).not.toHaveProperty('call_hours');
  });

  it('SIP needs a server while ENABLED; disabling keeps the configured servers', () => {
    const s = new SettingsStore();
    expect(details(() => s.update({ calling: { sip: { status: 'ENABLED' } } }))).toMatch(/at least one server/);
    s.update({ calling: { sip: { status: 'ENABLED', servers: [{ hostname: 'sip.example.com', port: 5061 }] } } });
    expect(s.sipEnabled()).toBe(true);
    s.update({ calling: { sip: { status: 'DISABLED' } } });
    expect(s.calling()['sip']).toEqual({ status: 'DISABLED', servers: [{ hostname: 'sip.example.com', port: 5061 }] });
  });

  it('refuses a body without a calling object', () => {
    expect(details(() => new SettingsStore().update({ status: 'ENABLED' }))).toMatch(/calling/);
  });
});

/** The voicemail block of reference §5.1 (CS-2606). */
const VOICEMAIL = {
  status: 'ENABLED',
  triggers: ['REJECT', 'TIMEOUT'],
  audio: { default: { announcement_media_id: 938884519013664, timeout_seconds: 20 } },
};
const voicemail = (block: Record<string, unknown>, calling: Record<string, unknown> = {}) => ({ calling: { ...calling, voicemail: block } });

describe('SettingsStore: voicemail (reference §5.1)', () => {
  it("stores the reference's voicemail block as sent and returns it; it is in effect with both triggers", () => {
    const s = new SettingsStore();
    s.update(voicemail(VOICEMAIL));
    expect(s.calling()['voicemail']).toEqual(VOICEMAIL);
    expect(s.voicemail()).toEqual({ triggers: ['REJECT', 'TIMEOUT'], timeoutSeconds: 20, timeoutIgnored: false });
  });

  it('status is required and must be ENABLED or DISABLED; DISABLED (or no block) means no voicemail', () => {
    const s = new SettingsStore();
    expect(details(() => s.update(voicemail({ triggers: ['REJECT'] })))).toBe('calling.voicemail.status: must be "ENABLED" or "DISABLED"');
    expect(details(() => s.update(voicemail({ ...VOICEMAIL, status: 'ON' })))).toBe('calling.voicemail.status: must be "ENABLED" or "DISABLED"');
    expect(s.voicemail()).toBeUndefined();
    s.update(voicemail({ ...VOICEMAIL, status: 'DISABLED' }));
    expect(s.voicemail()).toBeUndefined();
  });

  it('triggers are REJECT and TIMEOUT only', () => {
    const s = new SettingsStore();
    expect(details(() => s.update(voicemail({ ...VOICEMAIL, triggers: ['REJECT', 'BUSY'] })))).toBe('calling.voicemail.triggers.1: must be "REJECT" or "TIMEOUT"');
    expect(details(() => s.update(voicemail({ ...VOICEMAIL, triggers: 'REJECT' })))).toMatch(/^calling\.voicemail\.triggers: /);
    s.update(voicemail({ status: 'ENABLED', triggers: ['REJECT'] }));
    expect(s.voicemail()?.triggers).toEqual(['REJECT']);
  });

  it('audio.default.announcement_media_id is a media id: a positive integer or a string of digits', () => {
    const s = new SettingsStore();
    const withMedia = (id: unknown) => voicemail({ ...VOICEMAIL, audio: { default: { announcement_media_id: id, timeout_seconds: 20 } } });
    for (const bad of ['media-1', -5, 1.5, '']) {
      expect(details(() => s.update(withMedia(bad)))).toBe('calling.voicemail.audio.default.announcement_media_id: a media id (a positive integer or a string of digits)');
    }
    s.update(withMedia('938884519013664'));
    expect(s.calling()['voicemail']).toMatchObject({ audio: { default: { announcement_media_id: '938884519013664' } } });
  });

  it('audio.default.timeout_seconds is whole seconds 0-30', () => {
    const s = new SettingsStore();
    const withTimeout = (t: unknown) => voicemail({ ...VOICEMAIL, audio: { default: { timeout_seconds: t } } });
    for (const bad of [-1, 31, 2.5, '20']) {
      expect(details(() => s.update(withTimeout(bad)))).toBe('calling.voicemail.audio.default.timeout_seconds: whole seconds 0-30');
    }
    s.update(withTimeout(0));
    expect(s.voicemail()?.timeoutSeconds).toBe(0);
    s.update(withTimeout(30));
    expect(s.voicemail()).toEqual({ triggers: ['REJECT', 'TIMEOUT'], timeoutSeconds: 30, timeoutIgnored: false });
  });

  it('TIMEOUT without timeout_seconds is accepted and stored, but counts as disabled', () => {
    const s = new SettingsStore();
    s.update(voicemail({ status: 'ENABLED', triggers: ['REJECT', 'TIMEOUT'], audio: { default: { announcement_media_id: 938884519013664 } } }));
    expect(s.calling()['voicemail']).toMatchObject({ triggers: ['REJECT', 'TIMEOUT'] });
    expect(s.voicemail()).toEqual({ triggers: ['REJECT'], timeoutSeconds: undefined, timeoutIgnored: true });
  });

  it('voicemail needs calling: ENABLED is refused while calling.status is (or becomes) DISABLED, and nothing is stored', () => {
    const s = new SettingsStore();
    expect(details(() => s.update(voicemail(VOICEMAIL, { status: 'DISABLED' })))).toBe('calling.voicemail.status: voicemail needs calling (calling.status ENABLED)');
    expect(s.calling()).toEqual(DEFAULT_CALLING_SETTINGS);
    s.update({ calling: { status: 'DISABLED' } });
    expect(details(() => s.update(voicemail(VOICEMAIL)))).toMatch(/voicemail needs calling/);
    s.update(voicemail({ ...VOICEMAIL, status: 'DISABLED' }));
    expect(s.calling()['voicemail']).toMatchObject({ status: 'DISABLED' });
    s.update(voicemail(VOICEMAIL, { status: 'ENABLED' }));
    expect(s.voicemail()).toBeDefined();
  });

  it('reset drops the voicemail block', () => {
    const s = new SettingsStore();
    s.update(voicemail(VOICEMAIL));
    s.reset();
    expect(s.calling()).not.toHaveProperty('voicemail');
    expect(s.voicemail()).toBeUndefined();
  });
});
