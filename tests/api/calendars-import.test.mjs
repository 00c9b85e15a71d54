// calendars-import.test.mjs: importing holidays from an iCalendar (.ics)
// file into a business-hours calendar (POST /api/v1/calendars/{id}/holidays/
// import): all-day events, multi-day events, yearly rules, the from..to
// window, days already listed, the limits, the errors and who may import;
// and that business-time arithmetic honours what was imported.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DEMO, startServer } from './lib/server.mjs';
import { assertProblem, assertStatus, uniq } from './lib/util.mjs';

let srv, c;
const T = {};

before(async () => {
  srv = await startServer();
  c = srv.client;
  for (const k of ['admin', 'dispatcher', 'tier1', 'acmeAdmin', 'acmeUser'])
    T[k] = await c.token(await c.session(DEMO[k], srv.password));
});
after(() => srv?.stop());

const WINDOW = 'from=2026-01-01&to=2027-12-31';
const HOUR = 3600;

/* A Mon-Fri 09:00-17:00 UTC calendar; returns its JSON. */
const weekdays = async (holidays = []) => {
  const span = [['09:00', '17:00']];
  const body = {
    name: uniq('office'), timezone: 'UTC',
    hours: { mon: span, tue: span, wed: span, thu: span, fri: span },
    holidays,
  };
  return assertStatus(await c.post('/api/v1/calendars', body, { token: T.admin }), 201);
};

const getCal = async (id) => assertStatus(await c.get(`/api/v1/calendars/${id}`, { token: T.admin }), 200);

const importIcs = (id, text, { who = 'admin', query = WINDOW, type = 'text/calendar' } = {}) =>
  c.post(`/api/v1/calendars/${id}/holidays/import${query ? `?${query}` : ''}`, text,
    { token: T[who], headers: { 'Content-Type': type } });

const businessSeconds = async (id, from, to) =>
  assertStatus(await c.get(`/api/v1/calendars/${id}/business-time?from=${from}&to=${to}`, { token: T.tier1 }), 200).seconds;

/* One day's business seconds (UTC calendar): from its midnight to the next. */
const dayBusiness = (id, date) => {
  const next = new Date(Date.parse(`${date}T00:00:00Z`) + 86400000).toISOString().slice(0, 10);
  return businessSeconds(id, `${date}T00:00:00Z`, `${next}T00:00:00Z`);
};

/* ---- iCalendar text --------------------------------------------------------------------- */

const ymd = (d) => d.replaceAll('-', '');
const vcalendar = (...events) => ['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//itsup api tests//EN',
  'CALSCALE:GREGORIAN', ...events.flat(), 'END:VCALENDAR', ''].join('\r\n');
const vevent = (lines) => ['BEGIN:VEVENT', `UID:${uniq('uid')}@itsup.test`, 'DTSTAMP:20260101T000000Z', ...lines, 'END:VEVENT'];
/* An all-day event on date (YYYY-MM-DD); end: the exclusive DTEND date. */
const allDay = (date, summary, { end, rrule } = {}) => vevent([
  `DTSTART;VALUE=DATE:${ymd(date)}`,
  ...(end ? [`DTEND;VALUE=DATE:${ymd(end)}`] : []),
  ...(rrule ? [`RRULE:${rrule}`] : []),
  `SUMMARY:${summary}`,
]);
const timedUtc = (date, summary) => vevent([
  `DTSTART:${ymd(date)}T100000Z`, `DTEND:${ymd(date)}T113000Z`, `SUMMARY:${summary}`,
]);
const timedZoned = (date, summary) => vevent([
  `DTSTART;TZID=Europe/London:${ymd(date)}T140000`, `DTEND;TZID=Europe/London:${ymd(date)}T150000`,
  `SUMMARY:${summary}`,
]);

const byDate = (hs) => [...hs].sort((a, b) => a.date.localeCompare(b.date));
const dates = (hs) => hs.map((h) => h.date).sort();
const addDays = (date, n) => new Date(Date.parse(`${date}T00:00:00Z`) + n * 86400000).toISOString().slice(0, 10);

describe('holiday import', () => {
  test('an all-day event becomes a closed day named by its SUMMARY; timed events are skipped and counted; business time honours it', async () => {
    const cal = await weekdays();
    assert.equal(await dayBusiness(cal.id, '2026-12-25'), 8 * HOUR, 'Friday 2026-12-25 is open before the import');
    const r = await importIcs(cal.id, vcalendar(
      timedUtc('2026-12-22', 'Team lunch'),
      allDay('2026-12-25', 'Christmas Day'),
      timedZoned('2026-12-23', 'Carol service'),
    ));
    const out = assertStatus(r, 200);
    assert.equal(out.added, 1);
    assert.equal(out.already_listed, 0);
    assert.equal(out.skipped_timed_events, 2);
    assert.equal(out.calendar.id, cal.id);
    assert.deepEqual(out.calendar.holidays, [{ date: '2026-12-25', name: 'Christmas Day' }]);
    assert.deepEqual(out.calendar.hours, cal.hours, 'the weekly hours are untouched');
    assert.deepEqual((await getCal(cal.id)).holidays, out.calendar.holidays, 'GET shows the imported holiday');

    assert.equal(await dayBusiness(cal.id, '2026-12-25'), 0, 'the imported holiday is closed');
    assert.equal(await dayBusiness(cal.id, '2026-12-24'), 8 * HOUR, 'the day before is still open');
    assert.equal(await dayBusiness(cal.id, '2026-12-22'), 8 * HOUR, 'a timed event closes nothing');
    // Monday 21st to Monday 28th: Mon-Thu open, Friday the 25th closed.
    assert.equal(await businessSeconds(cal.id, '2026-12-21T00:00:00Z', '2026-12-28T00:00:00Z'), 4 * 8 * HOUR);
  });

  test('a multi-day event gives each of its days (DTEND is exclusive); one without DTEND is one day', async () => {
    const cal = await weekdays();
    const out = assertStatus(await importIcs(cal.id, vcalendar(
      allDay('2026-12-28', 'Year-end shutdown', { end: '2026-12-31' }),
      allDay('2027-01-04', 'Bank holiday'),
      allDay('2027-02-01', 'Founders day', { end: '2027-02-02' }),
    )), 200);
    assert.equal(out.added, 5);
    assert.equal(out.skipped_timed_events, 0);
    assert.deepEqual(byDate(out.calendar.holidays), [
      { date: '2026-12-28', name: 'Year-end shutdown' },
      { date: '2026-12-29', name: 'Year-end shutdown' },
      { date: '2026-12-30', name: 'Year-end shutdown' },
      { date: '2027-01-04', name: 'Bank holiday' },
      { date: '2027-02-01', name: 'Founders day' },
    ]);
    // Monday 28th to Friday 1st: only Thursday the 31st is open.
    assert.equal(await businessSeconds(cal.id, '2026-12-28T00:00:00Z', '2027-01-01T00:00:00Z'), 8 * HOUR);
  });

  test('RRULE:FREQ=YEARLY is expanded within the window (UNTIL honoured); single events outside it are left out', async () => {
    const cal = await weekdays();
    const out = assertStatus(await importIcs(cal.id, vcalendar(
      allDay('2020-01-01', "New Year's Day", { rrule: 'FREQ=YEARLY' }),
      allDay('2024-11-11', 'Remembrance', { rrule: 'FREQ=YEARLY;UNTIL=20261231' }),
      allDay('2025-12-25', 'Christmas 2025'),
      allDay('2028-07-04', 'Independence 2028'),
    )), 200);
    assert.deepEqual(byDate(out.calendar.holidays), [
      { date: '2026-01-01', name: "New Year's Day" },
      { date: '2026-11-11', name: 'Remembrance' },
      { date: '2027-01-01', name: "New Year's Day" },
    ]);
    assert.equal(out.added, 3);
    assert.equal(await dayBusiness(cal.id, '2027-01-01'), 0, 'Friday 2027-01-01 is closed');
    assert.equal(await dayBusiness(cal.id, '2027-11-11'), 8 * HOUR, 'UNTIL ended the rule in 2026');
  });

  test('from and to bound the window inclusively, also cutting a multi-day event', async () => {
    const cal = await weekdays();
    const out = assertStatus(await importIcs(cal.id, vcalendar(
      allDay('2026-07-03', 'Before'),
      allDay('2026-07-02', 'Long weekend', { end: '2026-07-06' }),
      allDay('2026-07-06', 'Last day'),
      allDay('2026-07-07', 'After'),
    ), { query: 'from=2026-07-04&to=2026-07-06' }), 200);
    assert.deepEqual(byDate(out.calendar.holidays), [
      { date: '2026-07-04', name: 'Long weekend' },
      { date: '2026-07-05', name: 'Long weekend' },
      { date: '2026-07-06', name: 'Last day' },
    ]);
    assert.equal(out.added, 3);
  });

  test('without from and to the window runs from Jan 1 of this year to Dec 31 of next year', async () => {
    const y = new Date().getUTCFullYear();
    const cal = await weekdays();
    const out = assertStatus(await importIcs(cal.id, vcalendar(
      allDay(`${y - 1}-12-31`, 'Last year'),
      allDay(`${y}-01-01`, 'First day'),
      allDay(`${y + 1}-12-31`, 'Last day'),
      allDay(`${y + 2}-01-01`, 'Too late'),
      allDay('2000-03-15', 'Ides', { rrule: 'FREQ=YEARLY' }),
    ), { query: '' }), 200);
    assert.deepEqual(dates(out.calendar.holidays),
      [`${y}-01-01`, `${y}-03-15`, `${y + 1}-03-15`, `${y + 1}-12-31`]);
    assert.equal(out.added, 4);
  });

  test('days already listed are kept as they are (a partial day stays partial); importing again adds nothing', async () => {
    const eve = { date: '2026-12-24', hours: [['09:00', '12:00']], name: 'Christmas Eve' };
    const cal = await weekdays([eve]);
    const listed = (await getCal(cal.id)).holidays;
    const file = vcalendar(allDay('2026-12-24', 'Christmas Eve (bank holiday)'), allDay('2026-12-25', 'Christmas Day'));

    const first = assertStatus(await importIcs(cal.id, file), 200);
    assert.equal(first.added, 1);
    assert.equal(first.already_listed, 1);
    const hs = byDate(first.calendar.holidays);
    assert.equal(hs.length, 2);
    assert.deepEqual(hs[0], listed[0], 'the listed partial day is not overwritten');
    assert.deepEqual(hs[1], { date: '2026-12-25', name: 'Christmas Day' });
    assert.equal(await dayBusiness(cal.id, '2026-12-24'), 3 * HOUR, 'Christmas Eve keeps its 09:00-12:00');
    assert.equal(await dayBusiness(cal.id, '2026-12-25'), 0);

    const again = assertStatus(await importIcs(cal.id, file), 200);
    assert.equal(again.added, 0);
    assert.equal(again.already_listed, 2);
    assert.deepEqual(byDate(again.calendar.holidays), hs);
  });

  test('the same day twice in one file makes one holiday', async () => {
    const cal = await weekdays();
    const out = assertStatus(await importIcs(cal.id, vcalendar(
      allDay('2026-12-25', 'Christmas Day'),
      allDay('2026-12-25', 'Christmas Day'),
    )), 200);
    assert.equal(out.added, 1);
    assert.deepEqual(dates(out.calendar.holidays), ['2026-12-25']);
    // The calendar is still a valid calendar: a PATCH that keeps it works.
    assertStatus(await c.patch(`/api/v1/calendars/${cal.id}`, { name: uniq('renamed') }, { token: T.admin }), 200);
    assert.deepEqual(dates((await getCal(cal.id)).holidays), ['2026-12-25']);
  });

  test('an ordinary file: folded lines, escaped text, a VTIMEZONE and an alarm do not get in the way', async () => {
    const cal = await weekdays();
    const text = [
      'BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//Example Corp//Holidays//EN', 'METHOD:PUBLISH',
      'X-WR-CALNAME:Holidays',
      'BEGIN:VTIMEZONE', 'TZID:Europe/London',
      'BEGIN:DAYLIGHT', 'TZOFFSETFROM:+0000', 'TZOFFSETTO:+0100', 'DTSTART:19700329T010000',
      'RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU', 'TZNAME:BST', 'END:DAYLIGHT',
      'BEGIN:STANDARD', 'TZOFFSETFROM:+0100', 'TZOFFSETTO:+0000', 'DTSTART:19701025T020000',
      'RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU', 'TZNAME:GMT', 'END:STANDARD',
      'END:VTIMEZONE',
      'BEGIN:VEVENT', 'UID:boxing@example.com', 'DTSTAMP:20260101T000000Z',
      'DTSTART;VALUE=DATE:20261228', 'DTEND;VALUE=DATE:20261229',
      'SUMMARY:Boxing Day', '  (substitute day)',
      'TRANSP:TRANSPARENT',
      'BEGIN:VALARM', 'ACTION:DISPLAY', 'TRIGGER:-PT15M', 'DESCRIPTION:Reminder', 'END:VALARM',
      'END:VEVENT',
      'BEGIN:VEVENT', 'UID:saints@example.com', 'DTSTAMP:20260101T000000Z',
      'DTSTART;VALUE=DATE:20260629', 'SUMMARY:Saints Peter\\, Paul', 'END:VEVENT',
      'END:VCALENDAR', '',
    ].join('\r\n');
    const out = assertStatus(await importIcs(cal.id, text), 200);
    assert.equal(out.skipped_timed_events, 0, 'VTIMEZONE sub-components are not events');
    assert.deepEqual(byDate(out.calendar.holidays), [
      { date: '2026-06-29', name: 'Saints Peter, Paul' },
      { date: '2026-12-28', name: 'Boxing Day (substitute day)' },
    ]);
  });

  test('Content-Type may carry a charset parameter; a dispatcher may import', async () => {
    const cal = await weekdays();
    const out = assertStatus(await importIcs(cal.id, vcalendar(allDay('2026-05-01', 'May Day')),
      { who: 'dispatcher', type: 'text/calendar; charset=utf-8' }), 200);
    assert.equal(out.added, 1);
    assert.deepEqual(out.calendar.holidays, [{ date: '2026-05-01', name: 'May Day' }]);
  });

  test('errors are 400 naming Content-Type, ics, from or to, and change nothing', async () => {
    const cal = await weekdays([{ date: '2026-04-03', name: 'Good Friday' }]);
    const before_ = await getCal(cal.id);
    const good = vcalendar(allDay('2026-12-25', 'Christmas Day'));
    for (const [label, args, field] of [
      ['JSON content type', [good, { type: 'application/json' }], 'Content-Type'],
      ['text/plain', [good, { type: 'text/plain' }], 'Content-Type'],
      ['a body that is not iCalendar', ['hello, world', {}], 'ics'],
      ['an empty body', ['', {}], 'ics'],
      ['a file cut short', [good.slice(0, good.indexOf('END:VEVENT')), {}], 'ics'],
      ['no VCALENDAR around the events', [allDay('2026-12-25', 'Loose').join('\r\n') + '\r\n', {}], 'ics'],
      ['from on February 30th', [good, { query: 'from=2026-02-30&to=2027-12-31' }], 'from'],
      ['from that is not a date', [good, { query: 'from=tomorrow&to=2027-12-31' }], 'from'],
      ['to in month 13', [good, { query: 'from=2026-01-01&to=2026-13-01' }], 'to'],
      ['to that is an instant', [good, { query: 'from=2026-01-01&to=2027-12-31T00:00:00Z' }], 'to'],
    ]) {
      const r = await importIcs(cal.id, ...args);
      try {
        assertProblem(r, 400, { field });
      } catch (e) {
        e.message = `${label}: ${e.message}`;
        throw e;
      }
    }
    const after_ = await getCal(cal.id);
    assert.deepEqual(after_.holidays, before_.holidays);
    assert.equal(after_.updated_at, before_.updated_at);
  });

  test('more than 400 holidays in total is 400 naming ics, and nothing is added; exactly 400 is fine', async () => {
    // One listed holiday plus a 399-day event: 400 in total.
    const cal = await weekdays([{ date: '2027-06-01', name: 'Listed' }]);
    const out = assertStatus(await importIcs(cal.id, vcalendar(
      allDay('2026-01-01', 'Sabbatical', { end: addDays('2026-01-01', 399) }),
    )), 200);
    assert.equal(out.added, 399);
    assert.equal(out.calendar.holidays.length, 400);

    // One more new day would make 401.
    assertProblem(await importIcs(cal.id, vcalendar(allDay('2027-06-02', 'One too many'))), 400, { field: 'ics' });
    const hs = (await getCal(cal.id)).holidays;
    assert.equal(hs.length, 400);
    assert.ok(!hs.some((h) => h.date === '2027-06-02'));
    // A day already listed adds nothing, so it is still fine.
    const same = assertStatus(await importIcs(cal.id, vcalendar(allDay('2027-06-01', 'Listed again'))), 200);
    assert.equal(same.added, 0);
    assert.equal(same.already_listed, 1);

    // A fresh calendar and a 401-day event in one file.
    const fresh = await weekdays();
    assertProblem(await importIcs(fresh.id, vcalendar(
      allDay('2026-01-01', 'Too long', { end: addDays('2026-01-01', 401) }),
    )), 400, { field: 'ics' });
    assert.deepEqual((await getCal(fresh.id)).holidays, []);
  });

  test('technicians and client users get 403 and change nothing; an unknown calendar is 404', async () => {
    const cal = await weekdays();
    const file = vcalendar(allDay('2026-12-25', 'Christmas Day'));
    for (const who of ['tier1', 'acmeAdmin', 'acmeUser'])
      assertProblem(await importIcs(cal.id, file, { who }), 403);
    assert.deepEqual((await getCal(cal.id)).holidays, []);
    assertProblem(await importIcs(999999, file), 404);
  });

  test('PATCH is partial and holidays replace: a rename keeps the imported days; holidays: [] removes them', async () => {
    const cal = await weekdays();
    assertStatus(await importIcs(cal.id, vcalendar(allDay('2026-12-25', 'Christmas Day'))), 200);
    const name = uniq('renamed');
    const renamed = assertStatus(await c.patch(`/api/v1/calendars/${cal.id}`, { name }, { token: T.admin }), 200);
    assert.equal(renamed.name, name);
    assert.deepEqual(renamed.holidays, [{ date: '2026-12-25', name: 'Christmas Day' }]);
    assert.deepEqual(renamed.hours, cal.hours);
    assert.equal(await dayBusiness(cal.id, '2026-12-25'), 0);

    const cleared = assertStatus(await c.patch(`/api/v1/calendars/${cal.id}`, { holidays: [] }, { token: T.admin }), 200);
    assert.deepEqual(cleared.holidays, []);
    assert.equal(cleared.name, name);
    assert.equal(await dayBusiness(cal.id, '2026-12-25'), 8 * HOUR);
  });
});
