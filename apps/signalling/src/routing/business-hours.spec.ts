import { isOpen, zonedTime, zonedTimeToEpochMs, type BusinessHours } from './business-hours';

const at = (iso: string): number => Date.parse(iso);

function hours(partial: Partial<BusinessHours> & Pick<BusinessHours, 'timezone'>): BusinessHours {
  return { weekly: [], holidays: [], afterHours: { action: 'reject' }, ...partial };
}

const weekdays9to17 = (['MON', 'TUE', 'WED', 'THU', 'FRI'] as const).map((day) => ({ day, open: '09:00', close: '17:00' }));

describe('isOpen: weekly hours in a time zone', () => {
  const berlin = hours({ timezone: 'Europe/Berlin', weekly: weekdays9to17 });

  it('is open inside the range and closed before open and at close', () => {
    expect(isOpen(berlin, at('2024-01-15T08:00:00Z'))).toBe(true); // Mon 09:00 CET
    expect(isOpen(berlin, at('2024-01-15T07:59:00Z'))).toBe(false); // Mon 08:59 CET
    expect(isOpen(berlin, at('2024-01-15T15:59:00Z'))).toBe(true); // Mon 16:59 CET
    expect(isOpen(berlin, at('2024-01-15T16:00:00Z'))).toBe(false); // Mon 17:00 CET
  });

  it('is closed on a day without a range', () => {
    expect(isOpen(berlin, at('2024-01-13T10:00:00Z'))).toBe(false); // Sat 11:00
  });

  it('follows the UTC offset across the spring DST change (same UTC time, different answer)', () => {
    // Mon 2024-03-25 07:30Z is 08:30 CET (closed); Mon 2024-04-01 07:30Z is 09:30 CEST (open)
    expect(isOpen(berlin, at('2024-03-25T07:30:00Z'))).toBe(false);
    expect(isOpen(berlin, at('2024-04-01T07:30:00Z'))).toBe(true);
    // 15:30Z: 16:30 CET open; 17:30 CEST closed
    expect(isOpen(berlin, at('2024-03-25T15:30:00Z'))).toBe(true);
    expect(isOpen(berlin, at('2024-04-01T15:30:00Z'))).toBe(false);
  });

  it('follows the UTC offset across the autumn DST change', () => {
    // Fri 2024-10-25 07:30Z = 09:30 CEST (open); Mon 2024-10-28 07:30Z = 08:30 CET (closed)
    expect(isOpen(berlin, at('2024-10-25T07:30:00Z'))).toBe(true);
    expect(isOpen(berlin, at('2024-10-28T07:30:00Z'))).toBe(false);
  });

  it('reads wall-clock time on the night the clocks jump forward', () => {
    const night = hours({ timezone: 'Europe/Berlin', weekly: [{ day: 'SUN', open: '01:00', close: '04:00' }] });
    expect(isOpen(night, at('2024-03-31T00:30:00Z'))).toBe(true); // 01:30 CET
    expect(isOpen(night, at('2024-03-31T01:30:00Z'))).toBe(true); // 03:30 CEST (02:xx does not exist)
    expect(isOpen(night, at('2024-03-31T02:00:00Z'))).toBe(false); // 04:00 CEST
  });

  it('is open both times a repeated hour occurs when the clocks go back', () => {
    const night = hours({ timezone: 'Europe/Berlin', weekly: [{ day: 'SUN', open: '02:00', close: '02:30' }] });
    expect(isOpen(night, at('2024-10-27T00:15:00Z'))).toBe(true); // 02:15 CEST
    expect(isOpen(night, at('2024-10-27T01:15:00Z'))).toBe(true); // 02:15 CET
    expect(isOpen(night, at('2024-10-27T00:45:00Z'))).toBe(false); // 02:45 CEST
    expect(isOpen(night, at('2024-10-27T01:45:00Z'))).toBe(false); // 02:45 CET
  });

  it('uses the US DST dates for America/New_York', () => {
    const ny = hours({ timezone: 'America/New_York', weekly: weekdays9to17 });
    // Mon 2024-03-11 13:30Z = 09:30 EDT (open); Mon 2024-03-04 13:30Z = 08:30 EST (closed)
    expect(isOpen(ny, at('2024-03-11T13:30:00Z'))).toBe(true);
    expect(isOpen(ny, at('2024-03-04T13:30:00Z'))).toBe(false);
  });
});

describe('isOpen: midnight', () => {
  const overnight = hours({
    timezone: 'Asia/Tokyo',
    weekly: [
      { day: 'SAT', open: '22:00', close: '24:00' },
      { day: 'SUN', open: '00:00', close: '02:00' },
    ],
  });

  it('an overnight opening split at midnight is open on both sides of it', () => {
    expect(isOpen(overnight, at('2024-06-01T14:59:00Z'))).toBe(true); // Sat 23:59 JST
    expect(isOpen(overnight, at('2024-06-01T15:00:00Z'))).toBe(true); // Sun 00:00 JST
    expect(isOpen(overnight, at('2024-06-01T16:59:00Z'))).toBe(true); // Sun 01:59 JST
    expect(isOpen(overnight, at('2024-06-01T17:00:00Z'))).toBe(false); // Sun 02:00 JST
    expect(isOpen(overnight, at('2024-06-01T12:59:00Z'))).toBe(false); // Sat 21:59 JST
  });

  it('takes the weekday of the local date, not the UTC date', () => {
    // 2024-06-01T15:30Z is still Saturday in UTC but Sunday 00:30 in Tokyo
    expect(zonedTime('Asia/Tokyo', at('2024-06-01T15:30:00Z'))).toEqual({ date: '2024-06-02', weekday: 'SUN', minutes: 30 });
  });
});

describe('isOpen: holidays', () => {
  const ny = hours({
    timezone: 'America/New_York',
    weekly: weekdays9to17,
    holidays: [{ date: '2024-12-25' }, { date: '2024-12-24', open: '09:00', close: '13:00' }, { date: '2024-12-28', open: '10:00', close: '12:00' }],
  });

  it('a holiday without hours is closed all day', () => {
    expect(isOpen(ny, at('2024-12-25T16:00:00Z'))).toBe(false); // Wed 11:00 EST
  });

  it('a holiday with hours replaces the weekly range of that day', () => {
    expect(isOpen(ny, at('2024-12-24T15:00:00Z'))).toBe(true); // Tue 10:00
    expect(isOpen(ny, at('2024-12-24T19:00:00Z'))).toBe(false); // Tue 14:00 (weekly would be open)
    expect(isOpen(ny, at('2024-12-28T16:00:00Z'))).toBe(true); // Sat 11:00 (weekly would be closed)
  });

  it('matches the holiday on the local date', () => {
    // 2024-12-26T03:00Z is still Dec 25 22:00 in New York: the holiday
    const lateOpen = hours({ timezone: 'America/New_York', weekly: [{ day: 'WED', open: '20:00', close: '23:00' }], holidays: [{ date: '2024-12-25' }] });
    expect(isOpen(lateOpen, at('2024-12-26T03:00:00Z'))).toBe(false);
    expect(isOpen(lateOpen, at('2025-01-02T03:00:00Z'))).toBe(true); // Wed Jan 1 22:00, no holiday
  });

  it('the days around a holiday keep the weekly hours', () => {
    expect(isOpen(ny, at('2024-12-26T15:00:00Z'))).toBe(true); // Thu 10:00
  });
});

describe('zonedTimeToEpochMs', () => {
  it('converts a plain local time with the offset in force', () => {
    expect(new Date(zonedTimeToEpochMs('Europe/Berlin', '2024-07-01', '12:00')).toISOString()).toBe('2024-07-01T10:00:00.000Z');
    expect(new Date(zonedTimeToEpochMs('Europe/Berlin', '2024-01-01', '12:00')).toISOString()).toBe('2024-01-01T11:00:00.000Z');
    expect(new Date(zonedTimeToEpochMs('America/New_York', '2024-03-10', '12:00')).toISOString()).toBe('2024-03-10T16:00:00.000Z');
  });

  it('reads a time skipped by the spring jump with the offset before it', () => {
    expect(new Date(zonedTimeToEpochMs('Europe/Berlin', '2024-03-31', '02:30')).toISOString()).toBe('2024-03-31T01:30:00.000Z');
  });

  it('takes the first occurrence of a time repeated in autumn', () => {
    expect(new Date(zonedTimeToEpochMs('Europe/Berlin', '2024-10-27', '02:30')).toISOString()).toBe('2024-10-27T00:30:00.000Z');
  });

  it('round-trips with zonedTime', () => {
    const t = zonedTimeToEpochMs('Australia/Sydney', '2024-04-07', '09:15');
    expect(zonedTime('Australia/Sydney', t)).toMatchObject({ date: '2024-04-07', minutes: 9 * 60 + 15 });
  });
});
