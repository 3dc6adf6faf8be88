import { z } from 'zod';

/**
 * Business hours of a route (pbx.routes[].hours): weekly opening ranges in an IANA time zone, dated
 * exceptions (holidays: closed, or special hours) and what happens to a call outside them. Wall-clock
 * semantics: "09:00-17:00" is 09:00 to 17:00 local time on that day, whatever the UTC offset (DST).
 */

export const WEEKDAYS = ['MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT', 'SUN'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

/** `HH:MM` from 00:00 to 23:59, or 24:00 as a closing time meaning the end of the day. */
const hhmm = z.string().regex(/^(([01]\d|2[0-3]):[0-5]\d|24:00)$/, 'HH:MM between 00:00 and 24:00');

/** Minutes since local midnight of an `HH:MM` (24:00 -> 1440). */
export function minutesOfDay(hhmmText: string): number {
  const [h, m] = hhmmText.split(':').map(Number);
  return (h as number) * 60 + (m as number);
}

/** True when `tz` names a time zone this runtime's Intl knows (an IANA name such as Europe/Berlin). */
export function isIanaTimeZone(tz: string): boolean {
  if (!tz) return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false; // RangeError: unknown time zone
  }
}

function isCalendarDate(text: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (!m) return false;
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return d.toISOString().slice(0, 10) === text;
}

interface Range {
  open: string;
  close: string;
}

/** Adds an issue for each range whose open is not before its close, and for each pair that overlaps. */
function checkRanges(ranges: readonly (Range & { path: (string | number)[]; label: string })[], ctx: z.RefinementCtx): void {
  const valid = ranges.filter((r) => {
    if (minutesOfDay(r.open) < minutesOfDay(r.close)) return true;
    ctx.addIssue({ code: 'custom', path: [...r.path, 'close'], message: `${r.label}: open (${r.open}) must be before close (${r.close})` });
    return false;
  });
  const sorted = [...valid].sort((a, b) => minutesOfDay(a.open) - minutesOfDay(b.open));
  for (let i = 1; i < sorted.length; i++) {
    const prev = sorted[i - 1] as (typeof sorted)[number];
    const cur = sorted[i] as (typeof sorted)[number];
    if (minutesOfDay(cur.open) < minutesOfDay(prev.close)) {
      ctx.addIssue({ code: 'custom', path: cur.path, message: `${cur.label} ${cur.open}-${cur.close} overlaps ${prev.label} ${prev.open}-${prev.close}` });
    }
  }
}

/** The hours schema; `destination` is the route destination schema (after-hours destinations reuse it). */
export function businessHoursSchema<D extends z.ZodType>(destination: D) {
  return z
    .object({
      timezone: z.string().refine(isIanaTimeZone, 'an IANA time zone such as Europe/Berlin or America/New_York').describe('IANA time zone the hours are in (DST handled).'),
      weekly: z
        .array(z.object({ day: z.enum(WEEKDAYS), open: hhmm, close: hhmm }).strict())
        .describe('Opening ranges per weekday (several per day allowed, not overlapping); a day without a range is closed.'),
      holidays: z
        .array(z.object({ date: z.string().refine(isCalendarDate, 'a date YYYY-MM-DD'), open: hhmm.optional(), close: hhmm.optional() }).strict())
        .default([])
        .describe('Dates (YYYY-MM-DD, local) that replace the weekly hours: closed all day, or open only open-close.'),
      afterHours: z
        .object({
          action: z.enum(['reject', 'route']).describe('Outside the hours: reject the WhatsApp call, or ring the after-hours destinations.'),
          destinations: z.array(destination).min(1).optional().describe('After-hours destinations (action route), tried like the route destinations.'),
        })
        .strict()
        .describe('What happens to a call outside the hours.'),
    })
    .strict()
    .superRefine((hours, ctx) => {
      for (const day of WEEKDAYS) {
        const ranges = hours.weekly.flatMap((r, j) => (r.day === day ? [{ ...r, path: ['weekly', j], label: day }] : []));
        checkRanges(ranges, ctx);
      }
      const seen = new Set<string>();
      hours.holidays.forEach((h, j) => {
        if (seen.has(h.date)) ctx.addIssue({ code: 'custom', path: ['holidays', j, 'date'], message: `${h.date} is listed twice` });
        seen.add(h.date);
        if ((h.open === undefined) !== (h.close === undefined)) {
          ctx.addIssue({ code: 'custom', path: ['holidays', j], message: `${h.date}: give both open and close (special hours) or neither (closed all day)` });
        } else if (h.open !== undefined && h.close !== undefined) {
          checkRanges([{ open: h.open, close: h.close, path: ['holidays', j], label: h.date }], ctx);
        }
      });
      const a = hours.afterHours;
      if (a.action === 'route' && !a.destinations) {
        ctx.addIssue({ code: 'custom', path: ['afterHours', 'destinations'], message: 'at least one destination when afterHours.action is route' });
      }
      if (a.action === 'reject' && a.destinations) {
        ctx.addIssue({ code: 'custom', path: ['afterHours', 'destinations'], message: 'no destinations when afterHours.action is reject (use action: route)' });
      }
    });
}
