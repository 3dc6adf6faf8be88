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
