import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CallRecord } from '@wagw/call-state';
import type { Env } from '@wagw/config';
import { startBaresip, writeSineWav, type BaresipHandle } from '@wagw/testing';
import { zonedTime, zonedTimeToEpochMs } from '../../apps/signalling/src/routing/business-hours';
import { eventually, startStack, type Stack } from '../support/stack';
import { expectNoLeaks } from '../support/leaks';
import { startDemoPbx, type DemoPbx } from '../support/pbx';

/**
 * Business hours (issue: trunk operations): a route open Mon-Fri 09:00-17:00 in New York with a holiday.
 * The gateway decides on the emulator's clock, which the test moves into and out of the hours: in hours the
 * desk phone 1001 (400 Hz) rings; after hours the call is rejected, or goes to the after-hours phone 2001
 * (700 Hz), per the route's afterHours action. What the WhatsApp user hears tells which phone answered.
 */

const BUSINESS = '15550001111';
const TZ = 'America/New_York';
const WEEKDAYS = ['MON', 'TUE', 'WED', 'THU', 'FRI'] as const;

/** Local dates (New York) of the Monday at least a week ahead of now, and the two days after it. */
function nextWeek(): { monday: string; tuesday: string; wednesday: string } {
  const today = zonedTime(TZ, Date.now());
  const index = ['MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT', 'SUN'].indexOf(today.weekday);
  const [y, m, d] = today.date.split('-').map(Number) as [number, number, number];
  const day = (plus: number): string => new Date(Date.UTC(y, m - 1, d + plus)).toISOString().slice(0, 10);
  const toMonday = 14 - index; // Monday of the week after next: far enough that moving the clock is forward only
  return { monday: day(toMonday), tuesday: day(toMonday + 1), wednesday: day(toMonday + 2) };
}

describe.each(['reject', 'route'] as const)('business hours with afterHours %s', (action) => {
  const dates = nextWeek();
  let dir: string;
  let pbx: DemoPbx;
  let nightPhone: BaresipHandle | undefined;
  let stack: Stack;
  let userSeq = 0;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'wagw-hours-'));
    pbx = await startDemoPbx({ transport: 'udp', phoneToneHz: 400, dir });
    const base = pbx.gatewayEnv(BUSINESS);
    const [route] = JSON.parse(base['PBX_ROUTES'] as string) as Record<string, unknown>[];
    let afterHours: Record<string, unknown> = { action: 'reject' };
    if (action === 'route') {
      const wavPath = join(dir, 'night-700.wav');
      writeSineWav({ path: wavPath, frequencyHz: 700, sampleRate: 8000, seconds: 30 });
      nightPhone = await startBaresip({ user: '2001', registrar: { host: pbx.kamailio.host, port: pbx.kamailio.port }, transport: 'udp', wavPath });
      afterHours = { action: 'route', destinations: [{ uri: `sip:2001@${pbx.kamailio.host}`, trunk: 'pbx', ringTimeoutMs: 20000 }] };
    }
    const hours = { timezone: TZ, weekly: WEEKDAYS.map((day) => ({ day, open: '09:00', close: '17:00' })), holidays: [{ date: dates.tuesday }], afterHours };
    const env: Env = { ...base, PBX_ROUTES: JSON.stringify([{ ...route, hours }]) };
    stack = await startStack({ name: `business-hours-${action}`, env });
  });

  afterEach(() => expectNoLeaks(stack));
  afterEach(async () => {
    await stack?.close();
    await nightPhone?.stop();
    nightPhone = undefined;
    await pbx?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Moves the emulator's clock (the gateway's CLOCK) to `time` on `date` in New York. */
  async function setClock(date: string, time: string): Promise<void> {
    const target = zonedTimeToEpochMs(TZ, date, time);
    const { now } = await stack.emu<{ now: number }>('GET', '/emulator/clock');
    await stack.emu('POST', '/emulator/clock/advance', { ms: target - now });
  }

  async function placeCall(): Promise<{ user: string; waCallId: string }> {
    const user = `1555333${String(++userSeq).padStart(4, '0')}`;
    await stack.emu('POST', '/emulator/users', { waId: user, name: `Caller ${userSeq}` });
    const { waCallId } = await stack.emu<{ waCallId: string }>('POST', `/emulator/users/${user}/call`, {});
    return { user, waCallId };
  }

  async function answeredBy(call: { user: string; waCallId: string }, frequencyHz: number): Promise<CallRecord> {
    const rec = await eventually(
      'call active',
      async () => {
        const res = await stack.api('GET', `/v1/calls/${call.waCallId}`);
        return res.status === 200 && (res.body as CallRecord).state === 'active' ? (res.body as CallRecord) : undefined;
      },
      25_000,
    );
    await eventually(
      `${frequencyHz} Hz at the WhatsApp user`,
      async () => {
        const a = await stack.emu<{ tone: { framesWithTone: number } | null }>('GET', `/emulator/users/${call.user}/media/analysis?frequencyHz=${frequencyHz}`);
        return !!a.tone && a.tone.framesWithTone >= 25;
      },
      15_000,
      250,
    );
    await stack.emu('POST', `/emulator/users/${call.user}/hangup`);
    await eventually('call ended', async () => ((await stack.api('GET', `/v1/calls/${rec.callId}`)).body as CallRecord).state === 'ended', 15_000);
    return rec;
  }

  async function rejected(call: { waCallId: string }): Promise<CallRecord> {
    const emuCall = await eventually('WhatsApp call ended', async () => {
      const c = await stack.emu<{ state: string; timeline: { event: string }[] }>('GET', `/emulator/calls/${call.waCallId}`);
      return c.state === 'ended' ? c : undefined;
    });
    expect(emuCall.timeline.map((e) => e.event)).toContain('business_rejected');
    return eventually('CDR', async () => {
      const { recent } = (await stack.api('GET', '/v1/calls')).body as { recent: CallRecord[] };
      return recent.find((r) => r.waCallId === call.waCallId && r.state === 'ended');
    });
  }

  it('follows the calendar as the emulator clock moves into and out of the hours', async () => {
    await setClock(dates.monday, '10:00');
    const inHours = await answeredBy(await placeCall(), 400);
    expect(inHours.destination).toBe(`sip:1001@${pbx.kamailio.host}`);

    await setClock(dates.monday, '20:00');
    const evening = await placeCall();
    if (action === 'reject') {
      const cdr = await rejected(evening);
      expect(cdr.endCause).toMatch(/after hours/);
      expect(cdr.destination).toBeUndefined(); // nothing rang
    } else {
      expect((await answeredBy(evening, 700)).destination).toBe(`sip:2001@${pbx.kamailio.host}`);
    }

    await setClock(dates.tuesday, '10:00'); // the holiday: closed all day
    const holiday = await placeCall();
    if (action === 'reject') expect((await rejected(holiday)).endCause).toMatch(/after hours/);
    else expect((await answeredBy(holiday, 700)).destination).toBe(`sip:2001@${pbx.kamailio.host}`);

    await setClock(dates.wednesday, '16:59');
    expect((await answeredBy(await placeCall(), 400)).destination).toBe(`sip:1001@${pbx.kamailio.host}`);
  });
});
