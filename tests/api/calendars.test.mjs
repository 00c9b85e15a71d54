// calendars.test.mjs: business-hours calendars and their arithmetic through
// the API (the arithmetic itself is checked against a brute-force reference
// in tests/unit/u-sla.c).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DEMO, startServer } from './lib/server.mjs';
import { assertProblem, assertStatus, uniq } from './lib/util.mjs';

let srv, c;
const T = {};

before(async () => {
  srv = await startServer();
  c = srv.client;
  for (const k of ['admin', 'tier1', 'acmeAdmin']) T[k] = await c.token(await c.session(DEMO[k], srv.password));
});
after(() => srv?.stop());

const office = () => ({
  name: uniq('NY office'),
  timezone: 'America/New_York',
  hours: {
    mon: [['08:00', '12:00'], ['13:00', '17:00']],
    tue: [['08:00', '17:00']], wed: [['08:00', '17:00']], thu: [['08:00', '17:00']], fri: [['08:00', '17:00']],
  },
  holidays: [{ date: '2026-11-26' }, { date: '2026-11-27', hours: [['09:00', '12:00']] }],
});

describe('calendars', () => {
  let id;
  test('an admin creates a calendar: 201 with Location and the calendar as sent', async () => {
    const body = office();
    const r = await c.post('/api/v1/calendars', body, { token: T.admin });
    const cal = assertStatus(r, 201);
    id = cal.id;
    assert.match(r.headers.get('location'), new RegExp(`/api/v1/calendars/${id}$`));
    assert.deepEqual(cal.hours, body.hours);
    assert.deepEqual(cal.holidays, body.holidays);
    assert.equal(cal['24x7'], false);
    const got = assertStatus(await c.get(`/api/v1/calendars/${id}`, { token: T.tier1 }), 200);
    assert.equal(got.name, body.name);
    const list = assertStatus(await c.get('/api/v1/calendars', { token: T.tier1 }), 200);
    assert.ok(list.items.some((x) => x.id === id));
  });

  test('add: from Wednesday 16:00 + 2 h skips the Thanksgiving holiday and uses Friday\'s partial hours', async () => {
    const r = assertStatus(await c.get(`/api/v1/calendars/${id}/add?from=2026-11-25T21:00:00Z&seconds=7200`, { token: T.tier1 }), 200);
    assert.equal(r.at, '2026-11-27T15:00:00Z');
  });

  test('business-time: Wednesday 08:00 to Monday 09:00 is 9 + 0 + 3 + 1 hours', async () => {
    const r = assertStatus(await c.get(`/api/v1/calendars/${id}/business-time?from=2026-11-25T13:00:00Z&to=2026-11-30T14:00:00Z`, { token: T.tier1 }), 200);
    assert.equal(r.seconds, 13 * 3600);
  });

  test('the spring-forward day: 01:00-03:00 local holds one hour; the fall-back day three', async () => {
    const body = { name: uniq('sundays'), timezone: 'America/New_York', hours: { sun: [['01:00', '03:00']] } };
    const cid = assertStatus(await c.post('/api/v1/calendars', body, { token: T.admin }), 201).id;
    const spring = await c.get(`/api/v1/calendars/${cid}/business-time?from=2026-03-08T00:00:00Z&to=2026-03-09T00:00:00Z`, { token: T.tier1 });
    assert.equal(assertStatus(spring, 200).seconds, 3600);
    const fall = await c.get(`/api/v1/calendars/${cid}/business-time?from=2026-11-01T00:00:00Z&to=2026-11-02T00:00:00Z`, { token: T.tier1 });
    assert.equal(assertStatus(fall, 200).seconds, 3 * 3600);
  });

  test('24x7 counts every instant', async () => {
    const cid = assertStatus(await c.post('/api/v1/calendars', { name: uniq('noc'), timezone: 'UTC', '24x7': true }, { token: T.admin }), 201).id;
    const r = await c.get(`/api/v1/calendars/${cid}/business-time?from=2026-01-01T00:00:00Z&to=2026-01-02T00:00:00Z`, { token: T.tier1 });
    assert.equal(assertStatus(r, 200).seconds, 86400);
  });

  for (const [label, patch, field] of [
    ['an unknown zone', { timezone: 'Mars/Olympus' }, 'timezone'],
    ['25:00', { hours: { mon: [['08:00', '25:00']] } }, 'hours.mon[0][1]'],
    ['an end before the start', { hours: { tue: [['17:00', '08:00']] } }, 'hours.tue[0]'],
    ['overlapping spans', { hours: { wed: [['08:00', '12:00'], ['11:00', '13:00']] } }, 'hours.wed[1]'],
    ['a day that is not a weekday', { hours: { funday: [['08:00', '12:00']] } }, 'hours.funday'],
    ['a bad holiday date', { holidays: [{ date: '2026-02-30' }] }, 'holidays[0].date'],
    ['a holiday listed twice', { holidays: [{ date: '2026-12-25' }, { date: '2026-12-25' }] }, 'holidays[1].date'],
    ['no open hours at all', { hours: {} }, 'hours'],
  ]) {
    test(`${label} is 400 naming ${field}, and nothing is created`, async () => {
      const before_ = assertStatus(await c.get('/api/v1/calendars', { token: T.admin }), 200).items.length;
      const body = { ...office(), ...patch };
      assertProblem(await c.post('/api/v1/calendars', body, { token: T.admin }), 400, { field });
      const after_ = assertStatus(await c.get('/api/v1/calendars', { token: T.admin }), 200).items.length;
      assert.equal(after_, before_);
    });
  }

  test('bad query parameters are 400 naming them; an unknown calendar is 404', async () => {
    assertProblem(await c.get(`/api/v1/calendars/${id}/add?from=yesterday&seconds=10`, { token: T.tier1 }), 400, { field: 'from' });
    assertProblem(await c.get(`/api/v1/calendars/${id}/add?from=2026-01-01T00:00:00Z&seconds=-1`, { token: T.tier1 }), 400, { field: 'seconds' });
    assertProblem(await c.get(`/api/v1/calendars/${id}/business-time?from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z`, { token: T.tier1 }), 400, { field: 'to' });
    assertProblem(await c.get('/api/v1/calendars/99999/add?from=2026-01-01T00:00:00Z&seconds=10', { token: T.tier1 }), 404);
  });

  test('client roles cannot read calendars; technicians cannot create them', async () => {
    assertProblem(await c.get('/api/v1/calendars', { token: T.acmeAdmin }), 403);
    assertProblem(await c.post('/api/v1/calendars', office(), { token: T.tier1 }), 403);
  });
});
