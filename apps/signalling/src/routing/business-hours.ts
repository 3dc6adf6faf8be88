import { minutesOfDay, type AppConfig, type Weekday } from '@wagw/config';

/** A route's business hours as configured (pbx.routes[].hours). */
export type BusinessHours = NonNullable<AppConfig['pbx']['routes'][number]['hours']>;

/** Wall-clock reading of an instant in a time zone. */
export interface ZonedTime {
  /** `YYYY-MM-DD` local date. */
  date: string;
  weekday: Weekday;
  /** Minutes since local midnight (0-1439). */
  minutes: number;
}

const WEEKDAY_BY_SHORT: Record<string, Weekday> = { Mon: 'MON', Tue: 'TUE', Wed: 'WED', Thu: 'THU', Fri: 'FRI', Sat: 'SAT', Sun: 'SUN' };

/** One formatter per zone: building an Intl.DateTimeFormat is far dearer than using one. */
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      weekday: 'short',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

function fields(timeZone: string, atEpochMs: number): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of formatterFor(timeZone).formatToParts(new Date(atEpochMs))) out[p.type] = p.value;
  return out;
}

/** The local date, weekday and minute of `atEpochMs` in `timeZone` (Intl applies the zone's DST rules). */
export function zonedTime(timeZone: string, atEpochMs: number): ZonedTime {
  const f = fields(timeZone, atEpochMs);
  const weekday = WEEKDAY_BY_SHORT[f['weekday'] ?? ''];
  if (!weekday) throw new TypeError(`unexpected weekday ${f['weekday']} from Intl`);
  return { date: `${f['year']}-${f['month']}-${f['day']}`, weekday, minutes: Number(f['hour']) * 60 + Number(f['minute']) };
}

/** UTC offset of `timeZone` at an instant, in ms (local = UTC + offset). */
function offsetMs(timeZone: string, atEpochMs: number): number {
  const f = fields(timeZone, atEpochMs);
  const asUtc = Date.UTC(Number(f['year']), Number(f['month']) - 1, Number(f['day']), Number(f['hour']), Number(f['minute']), Number(f['second']));
  return asUtc - Math.floor(atEpochMs / 1000) * 1000;
}

const DAY_MS = 86_400_000;

/**
 * The instant at which the wall clock in `timeZone` reads `date` `time` (`YYYY-MM-DD`, `HH:MM`), with
 * Temporal's "compatible" choice near a DST change: a time skipped by a jump forward is read with the
 * offset before the jump (02:30 -> 03:30 local), a time repeated by a jump back is its first occurrence.
 */
export function zonedTimeToEpochMs(timeZone: string, date: string, time: string): number {
  const [y, mo, d] = date.split('-').map(Number);
  const [h, mi] = time.split(':').map(Number);
  const wall = Date.UTC(y as number, (mo as number) - 1, d as number, h as number, mi as number);
  const offsets = [...new Set([offsetMs(timeZone, wall - DAY_MS), offsetMs(timeZone, wall), offsetMs(timeZone, wall + DAY_MS)])];
  const valid = offsets.map((o) => wall - o).filter((t) => offsetMs(timeZone, t) === wall - t);
  if (valid.length > 0) return Math.min(...valid);
  return wall - Math.min(...offsets);
}

function within(minutes: number, open: string, close: string): boolean {
  return minutes >= minutesOfDay(open) && minutes < minutesOfDay(close);
}

/**
 * Whether the business is open at `atEpochMs`: a holiday on the local date replaces the weekly ranges
 * (closed, or its own open-close); otherwise open when a weekly range of the local weekday contains the
 * local time. Ranges are [open, close): open at 09:00, closed at 17:00 for "09:00-17:00".
 */
export function isOpen(hours: BusinessHours, atEpochMs: number): boolean {
  const local = zonedTime(hours.timezone, atEpochMs);
  const holiday = hours.holidays.find((h) => h.date === local.date);
  if (holiday) return holiday.open !== undefined && holiday.close !== undefined && within(local.minutes, holiday.open, holiday.close);
  return hours.weekly.some((r) => r.day === local.weekday && within(local.minutes, r.open, r.close));
}
