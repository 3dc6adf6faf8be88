import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findConfigDir, loadConfig } from './load-config';
import { ConfigError } from './config.errors';

const trunk = { name: 'pbx', hosts: ['127.0.0.1:5060'], transport: 'udp', username: '', password: '', fromUser: '', fromDomain: '', codecs: ['PCMU'], allowFrom: [] };
const dest = { uri: 'sip:1001@pbx.example.com', trunk: 'pbx', ringTimeoutMs: 20000 };

/** Loads the defaults with one route carrying `hours`; returns the problems, or [] when valid. */
function problemsWith(hours: unknown): string[] {
  const env = {
    PBX_TRUNKS: JSON.stringify([trunk]),
    PBX_ROUTES: JSON.stringify([{ businessNumber: '15550001111', destinations: [dest], onFailure: 'reject', hours }]),
  };
  try {
    loadConfig({ env, configDir: findConfigDir() });
    return [];
  } catch (err) {
    if (err instanceof ConfigError) return [...err.problems];
    throw err;
  }
}

const good = { timezone: 'Europe/Berlin', weekly: [{ day: 'MON', open: '09:00', close: '17:00' }], afterHours: { action: 'reject' } };

describe('route business hours validation', () => {
  it('accepts hours with weekly ranges, holidays and an after-hours route; holidays default to none', () => {
    expect(problemsWith(good)).toEqual([]);
    expect(problemsWith({ ...good, holidays: [{ date: '2024-12-25' }, { date: '2024-12-24', open: '09:00', close: '13:00' }], afterHours: { action: 'route', destinations: [dest] } })).toEqual([]);
    const cfg = loadConfig({ env: { PBX_TRUNKS: JSON.stringify([trunk]), PBX_ROUTES: JSON.stringify([{ businessNumber: '15550001111', destinations: [dest], onFailure: 'reject', hours: good }]) }, configDir: findConfigDir() });
    expect(cfg.pbx.routes[0]?.hours?.holidays).toEqual([]);
  });

  it('names an unknown time zone', () => {
    expect(problemsWith({ ...good, timezone: 'Mars/Olympus' }).join('\n')).toMatch(/pbx\.routes\.0\.hours\.timezone" = "Mars\/Olympus": an IANA time zone/);
  });

  it('refuses open at or after close', () => {
    const p = problemsWith({ ...good, weekly: [{ day: 'TUE', open: '17:00', close: '09:00' }] }).join('\n');
    expect(p).toMatch(/pbx\.routes\.0\.hours\.weekly\.0\.close.*TUE: open \(17:00\) must be before close \(09:00\)/);
  });

  it('refuses overlapping ranges on the same day, naming both', () => {
    const p = problemsWith({
      ...good,
      weekly: [
        { day: 'WED', open: '09:00', close: '12:00' },
        { day: 'THU', open: '11:00', close: '14:00' },
        { day: 'WED', open: '11:30', close: '14:00' },
      ],
    });
    expect(p).toHaveLength(1);
    expect(p[0]).toMatch(/pbx\.routes\.0\.hours\.weekly\.2.*WED 11:30-14:00 overlaps WED 09:00-12:00/);
  });

  it('refuses a malformed time, date, weekday, and 24:00 as an opening time', () => {
    expect(problemsWith({ ...good, weekly: [{ day: 'MON', open: '9:00', close: '17:00' }] }).join('\n')).toMatch(/weekly\.0\.open.*HH:MM/);
    expect(problemsWith({ ...good, weekly: [{ day: 'MON', open: '24:00', close: '24:00' }] }).join('\n')).toMatch(/must be before close/);
    expect(problemsWith({ ...good, weekly: [{ day: 'Monday', open: '09:00', close: '17:00' }] }).join('\n')).toMatch(/weekly\.0\.day/);
    expect(problemsWith({ ...good, holidays: [{ date: '2024-02-30' }] }).join('\n')).toMatch(/holidays\.0\.date.*YYYY-MM-DD/);
  });

  it('refuses a holiday with only one of open and close, and a date listed twice', () => {
    expect(problemsWith({ ...good, holidays: [{ date: '2024-12-24', open: '09:00' }] }).join('\n')).toMatch(/2024-12-24: give both open and close/);
    expect(problemsWith({ ...good, holidays: [{ date: '2024-12-24' }, { date: '2024-12-24' }] }).join('\n')).toMatch(/holidays\.1\.date.*listed twice/);
  });

  it('requires after-hours destinations for action route (on a configured trunk) and none for reject', () => {
    expect(problemsWith({ ...good, afterHours: { action: 'route' } }).join('\n')).toMatch(/afterHours\.destinations.*at least one destination/);
    expect(problemsWith({ ...good, afterHours: { action: 'reject', destinations: [dest] } }).join('\n')).toMatch(/no destinations when afterHours\.action is reject/);
    expect(problemsWith({ ...good, afterHours: { action: 'route', destinations: [{ ...dest, trunk: 'nope' }] } }).join('\n')).toMatch(
      /hours\.afterHours\.destinations\.0\.trunk.*one of the configured trunks \(pbx\)/,
    );
  });

  it('reads hours from a YAML file named in CONFIG_FILE', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hours-'));
    try {
      const file = join(dir, 'site.yaml');
      writeFileSync(
        file,
        [
          'pbx:',
          `  trunks: ${JSON.stringify([trunk])}`,
          '  routes:',
          '    - businessNumber: "15550001111"',
          `      destinations: ${JSON.stringify([dest])}`,
          '      onFailure: next',
          '      hours:',
          '        timezone: America/New_York',
          '        weekly: [{ day: FRI, open: "08:30", close: "24:00" }]',
          '        afterHours: { action: reject }',
        ].join('\n'),
      );
      const cfg = loadConfig({ env: { CONFIG_FILE: file }, configDir: findConfigDir() });
      expect(cfg.pbx.routes[0]?.hours).toEqual({ timezone: 'America/New_York', weekly: [{ day: 'FRI', open: '08:30', close: '24:00' }], holidays: [], afterHours: { action: 'reject' } });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('trunk health keys', () => {
  it('default when absent and refuse an interval between 1 and 199 ms', () => {
    const cfg = loadConfig({ env: { PBX_TRUNKS: JSON.stringify([trunk]) }, configDir: findConfigDir() });
    expect(cfg.pbx.trunks[0]).toMatchObject({ optionsIntervalMs: 30000, downAfterFailures: 2, upAfterSuccesses: 2, failoverTimeoutMs: 3000 });
    expect(() => loadConfig({ env: { PBX_TRUNKS: JSON.stringify([{ ...trunk, optionsIntervalMs: 50 }]) }, configDir: findConfigDir() })).toThrow(/optionsIntervalMs.*0 \(off\) or at least 200/);
  });
});
