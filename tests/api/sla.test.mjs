// sla.test.mjs: SLA policies, tickets' sla objects through their life
// (business hours, pauses, first response, resolve and reopen, priority
// changes with a 24x7 calendar for P1), warnings, breaches, OLA and the
// policy's actions fired by the scheduler (test clock, never sleeps), a
// calendar edit recomputing open tickets, simulate, and who may see what.
//
// Time: the test clock is moved to the next Monday 08:00Z (at least a day
// ahead); the office calendar is Mon-Fri 09:00-17:00 UTC, so each
// expectation can be worked out by hand (comments give the working).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ACME, BOREALIS, DEMO, startServer } from './lib/server.mjs';
import { assertProblem, assertStatus, uniq } from './lib/util.mjs';

let srv, c;
const T = {};
const H = 3600 * 1000;
const MIN = 60 * 1000;
let base; // ms: Monday 00:00Z of the test week
let policy, office, noc;

const iso = (ms) => new Date(ms).toISOString().replace('.000Z', 'Z');
// Day d of the test week (0 = Monday) at hh:mm UTC.
const at = (d, hh, mm = 0) => base + d * 24 * H + hh * H + mm * MIN;
const dateOf = (ms) => iso(ms).slice(0, 10);

const clockTo = async (ms) => assertStatus(await c.post('/api/v1/test/clock', { now: iso(ms) }, { token: T.admin }), 200);
const get = async (id, who = 'dispatcher') => assertStatus(await c.get(`/api/v1/tickets/${id}`, { token: T[who] }), 200);
const patch = async (id, body, who = 'dispatcher') => assertStatus(await c.patch(`/api/v1/tickets/${id}`, body, { token: T[who] }), 200);
const timeline = async (id) => assertStatus(await c.get(`/api/v1/tickets/${id}/timeline`, { token: T.dispatcher }), 200);
const create = async (priority, body = {}) => assertStatus(await c.post('/api/v1/tickets', {
  client_id: ACME, subject: uniq('SLA'), priority, priority_reason: 'test', ...body,
}, { token: T.dispatcher }), 201);

before(async () => {
  srv = await startServer({ testClock: true });
  c = srv.client;
  for (const k of ['admin', 'dispatcher', 'tier1', 'acmeAdmin', 'borealisIT'])
    T[k] = await c.token(await c.session(DEMO[k], srv.password));
  const now = Date.parse(assertStatus(await c.post('/api/v1/test/clock', { advance_seconds: 0 }, { token: T.admin }), 200).now);
  const day = Math.floor(now / (24 * H)) + 1; // tomorrow at least
  const dow = (new Date(day * 24 * H).getUTCDay() + 6) % 7; // 0 = Monday
  base = (day + ((7 - dow) % 7)) * 24 * H;
  await clockTo(at(0, 8));
  // The demo's contracts name its own policies: take them off, so the
  // default policy made below serves every client.
  for (const k of assertStatus(await c.get('/api/v1/contracts', { token: T.admin }), 200).items)
    assertStatus(await c.patch(`/api/v1/contracts/${k.id}`, { sla_policy_id: null }, { token: T.admin }), 200);
  const weekdays = Object.fromEntries(['mon', 'tue', 'wed', 'thu', 'fri'].map((d) => [d, [['09:00', '17:00']]]));
  office = assertStatus(await c.post('/api/v1/calendars', { name: uniq('office'), timezone: 'UTC', hours: weekdays }, { token: T.admin }), 201);
  noc = assertStatus(await c.post('/api/v1/calendars', { name: uniq('noc'), timezone: 'UTC', '24x7': true }, { token: T.admin }), 201);
});
after(() => srv?.stop());

describe('SLA policies', () => {
  test('a dispatcher creates the default policy; defaults are filled in and shown', async () => {
    const body = {
      name: uniq('Standard'),
      calendar_id: office.id,
      calendars: { P1: noc.id },
      targets: {
        P1: { response: 1800, resolution: 4 * 3600 },
        P2: { response: 3600, resolution: 8 * 3600 },
        P3: { response: 4 * 3600, resolution: 16 * 3600 },
        P4: { response: 8 * 3600, resolution: 40 * 3600 },
      },
      tier_targets: { 1: 2 * 3600 },
      actions: [
        { on: 'resolution_breached', do: 'raise_tier' },
        { on: 'response_warning', at: 0.9, do: 'notify_dispatcher' },
      ],
      default: true,
    };
    const r = await c.post('/api/v1/sla-policies', body, { token: T.dispatcher });
    policy = assertStatus(r, 201);
    assert.match(r.headers.get('location'), new RegExp(`/api/v1/sla-policies/${policy.id}$`));
    assert.deepEqual(policy.warn_at, [0.75, 0.9]);
    assert.deepEqual(policy.pause_statuses, ['pending_customer', 'pending_vendor']);
    assert.deepEqual(policy.targets, body.targets);
    assert.deepEqual(policy.calendars, { P1: noc.id });
    assert.deepEqual(policy.tier_targets, { 1: 7200 });
    assert.equal(policy.default, true);
    const got = assertStatus(await c.get(`/api/v1/sla-policies/${policy.id}`, { token: T.tier1 }), 200);
    assert.deepEqual(got, policy);
    const list = assertStatus(await c.get('/api/v1/sla-policies', { token: T.tier1 }), 200);
    assert.ok(list.items.some((p) => p.id === policy.id));
  });

  for (const [label, change, field] of [
    ['a priority that is not one', { targets: { P5: { response: 60 } } }, 'targets.P5'],
    ['a target in text', { targets: { P1: { response: '1h' } } }, 'targets.P1.response'],
    ['a response longer than the resolution', { targets: { P2: { response: 7200, resolution: 3600 } } }, 'targets.P2.response'],
    ['warnings out of order', { warn_at: [0.9, 0.5] }, 'warn_at[1]'],
    ['a warning of 1.5', { warn_at: [1.5] }, 'warn_at[0]'],
    ['a status that cannot pause', { pause_statuses: ['open'] }, 'pause_statuses[0]'],
    ['an unknown action', { actions: [{ on: 'response_breached', do: 'panic' }] }, 'actions[0].do'],
    ['a warning action at a fraction the policy lacks', { actions: [{ on: 'response_warning', at: 0.5, do: 'raise_tier' }] }, 'actions[0].at'],
    ['a tier that does not exist', { tier_targets: { 4: 60 } }, 'tier_targets.4'],
    ['no such calendar', { calendar_id: 999999 }, 'calendar_id'],
    ['no such calendar for P2', { calendars: { P2: 999999 } }, 'calendars.P2'],
    ['an unknown member', { colour: 'red' }, 'colour'],
  ]) {
    test(`${label} is 400 naming ${field}, and nothing is created`, async () => {
      const name = uniq('bad');
      const r = await c.post('/api/v1/sla-policies', { name, calendar_id: office.id, targets: { P1: { response: 60 } }, ...change }, { token: T.dispatcher });
      assertProblem(r, 400, { field });
      const list = assertStatus(await c.get('/api/v1/sla-policies', { token: T.dispatcher }), 200);
      assert.ok(!list.items.some((p) => p.name === name));
    });
  }

  test('technicians read but do not write; client roles neither', async () => {
    assertProblem(await c.post('/api/v1/sla-policies', { name: uniq('x'), calendar_id: office.id }, { token: T.tier1 }), 403);
    assertProblem(await c.get('/api/v1/sla-policies', { token: T.acmeAdmin }), 403);
    assertProblem(await c.get(`/api/v1/sla-policies/${policy.id}`, { token: T.borealisIT }), 403);
    assertProblem(await c.post(`/api/v1/sla-policies/${policy.id}/simulate`, { start: iso(at(0, 9)), priority: 'P2' }, { token: T.acmeAdmin }), 403);
  });

  test('a stale If-Match is 412 and changes nothing', async () => {
    const r = await c.patch(`/api/v1/sla-policies/${policy.id}`, { name: uniq('renamed') }, { token: T.dispatcher, headers: { 'If-Match': '"v999"' } });
    assertProblem(r, 412);
    const got = assertStatus(await c.get(`/api/v1/sla-policies/${policy.id}`, { token: T.dispatcher }), 200);
    assert.equal(got.name, policy.name);
  });
});

describe("a ticket's SLA through its life", () => {
  let t;
  test('created at 08:00, before hours: the clocks start at 09:00', async () => {
    t = await create('P2');
    assert.equal(t.sla.policy_id, policy.id);
    assert.equal(t.sla.response_due_at, iso(at(0, 10)));     // 09:00 + 1 h
    assert.equal(t.sla.resolution_due_at, iso(at(0, 17)));   // 09:00 + 8 h
    assert.equal(t.sla.paused, false);
    assert.equal(t.sla.response_breached, false);
    assert.equal(t.sla.business_seconds_to_response, null);
    assert.deepEqual(t.sla.tier_business_seconds, { 1: 0, 2: 0, 3: 0 });
  });

  test('the first public reply at 09:30 stops the response clock at 30 business minutes', async () => {
    await clockTo(at(0, 9, 30));
    assertStatus(await c.post(`/api/v1/tickets/${t.id}/messages`, { kind: 'reply', body: 'On it' }, { token: T.tier1 }), 201);
    const now = await get(t.id);
    assert.equal(now.sla.business_seconds_to_response, 1800);
    assert.equal(now.sla.response_breached, false);
  });

  test('pending_customer at 10:00 pauses: no resolution due instant while paused', async () => {
    await clockTo(at(0, 10));
    const now = await patch(t.id, { status: 'pending_customer' });
    assert.equal(now.sla.paused, true);
    assert.equal(now.sla.resolution_due_at, null);
    assert.equal(now.sla.resolution_business_seconds, 3600);
  });

  test('back to open at 12:00: 7 h left -> 12-17 Monday and 09-11 Tuesday', async () => {
    await clockTo(at(0, 12));
    const now = await patch(t.id, { status: 'open' });
    assert.equal(now.sla.paused, false);
    assert.equal(now.sla.resolution_due_at, iso(at(1, 11)));
  });

  test('resolved at 13:00 after 2 business hours; reopened Tuesday 09:00 it resumes', async () => {
    await clockTo(at(0, 13));
    let now = await patch(t.id, { status: 'resolved' });
    assert.equal(now.sla.business_seconds_to_resolution, 7200);
    assert.equal(now.sla.resolution_breached, false);
    await clockTo(at(1, 9));
    now = await patch(t.id, { status: 'open' });
    assert.equal(now.sla.business_seconds_to_resolution, null);
    assert.equal(now.sla.resolution_due_at, iso(at(1, 15)));   // 6 h left from 09:00
    assert.equal(now.sla.tier_business_seconds['1'], 7200);
  });

  test('the timeline says why: sla events and clock segments (running, outside hours, paused, stopped)', async () => {
    const tl = await timeline(t.id);
    const sla = tl.items.filter((e) => e.kind === 'sla');
    assert.ok(sla.length >= 4, 'one sla event per change of due instants or pause');
    assert.ok(sla.some((e) => e.data.paused === true));
    const res = tl.sla_segments.filter((s) => s.clock === 'resolution');
    const states = res.map((s) => s.state);
    // new (outside hours, then running), open after the reply at 09:30,
    // paused 10-12, running 12-13, stopped from 13:00 to the reopen.
    assert.deepEqual(states, ['outside_hours', 'running', 'running', 'paused', 'running', 'stopped']);
    assert.deepEqual(res.map((s) => s.status), ['new', 'new', 'open', 'pending_customer', 'open', 'resolved']);
    assert.equal(res[0].from, iso(at(0, 8)));
    assert.equal(res[1].from, iso(at(0, 9)));
    assert.equal(res[2].from, iso(at(0, 9, 30)));
    assert.equal(res[3].from, iso(at(0, 10)));
    assert.equal(res[3].to, iso(at(0, 12)));
    assert.equal(res[5].from, iso(at(0, 13)));
    assert.equal(res[5].to, iso(at(1, 9)));
    assert.equal(res.reduce((s, x) => s + x.business_seconds, 0), 7200);
    const resp = tl.sla_segments.filter((s) => s.clock === 'response');
    assert.equal(resp.at(-1).state, 'stopped');
    assert.equal(resp.at(-1).from, iso(at(0, 9, 30)));
  });
});

describe('priority changes', () => {
  test('P3 -> P1 after 45 minutes: P1 counts around the clock, its 30-minute response was missed at 09:30; lowering it again keeps the breach', async () => {
    await clockTo(at(1, 10));
    const t = await create('P3');
    assert.equal(t.sla.response_due_at, iso(at(1, 14)));
    await clockTo(at(1, 10, 45));
    let now = await patch(t.id, { priority: 'P1', priority_reason: 'whole office down' });
    assert.equal(now.sla.response_breached, true);
    assert.equal(now.sla.response_due_at, iso(at(1, 10, 30)));
    // Resolution: 45 min used, 3 h 15 left on the 24x7 calendar.
    assert.equal(now.sla.resolution_due_at, iso(at(1, 14)));
    const ev = (await timeline(t.id)).items.filter((e) => e.kind === 'sla').at(-1);
    assert.match(ev.data.reason, /priority P3 -> P1/);
    now = await patch(t.id, { priority: 'P4', priority_reason: 'false alarm' });
    assert.equal(now.sla.response_breached, true, 'a breach stays a breach');
    await patch(t.id, { status: 'resolved' });
  });
});

describe('timers fired by the scheduler', () => {
  let t;
  test('response warnings at 75% and 90%, then the breach; the 90% warning notifies the dispatcher', async () => {
    await clockTo(at(2, 9));                     // Wednesday 09:00
    t = await create('P2');
    await clockTo(at(2, 9, 50));
    let tl = await timeline(t.id);
    let warns = tl.items.filter((e) => e.kind === 'sla.warning');
    assert.equal(warns.length, 1);
    assert.equal(warns[0].data.clock, 'response');
    assert.equal(warns[0].data.fraction, 0.75);
    assert.equal(warns[0].data.at, iso(at(2, 9, 45)));
    await clockTo(at(2, 9, 56));
    tl = await timeline(t.id);
    warns = tl.items.filter((e) => e.kind === 'sla.warning');
    assert.equal(warns.length, 2);
    assert.equal(warns[1].data.fraction, 0.9);
    assert.equal((await get(t.id)).sla.response_breached, false);
    await clockTo(at(2, 10, 1));
    tl = await timeline(t.id);
    const br = tl.items.filter((e) => e.kind === 'sla.breached');
    assert.equal(br.length, 1);
    assert.equal(br[0].data.clock, 'response');
    assert.equal(br[0].data.due_at, iso(at(2, 10)));
    assert.equal((await get(t.id)).sla.response_breached, true);
    // Moving on does not announce them again.
    await clockTo(at(2, 10, 30));
    assert.equal((await timeline(t.id)).items.filter((e) => e.kind.startsWith('sla.')).length, 3);
  });

  test('tier 1 held it 2 business hours: the OLA is breached; at the resolution breach the policy raises the tier', async () => {
    await clockTo(at(2, 11, 1));
    let now = await get(t.id);
    assert.deepEqual(now.sla.ola_breached_tiers, [1]);
    assert.ok((await timeline(t.id)).items.some((e) => e.kind === 'sla.ola_breached' && e.data.tier === 1));
    assert.equal(now.tier, 1);
    await clockTo(at(2, 17, 1));                 // 8 business hours after 09:00
    now = await get(t.id);
    assert.equal(now.sla.resolution_breached, true);
    assert.equal(now.tier, 2);
    const esc = (await timeline(t.id)).items.find((e) => e.kind === 'escalated');
    assert.match(esc.data.reason, /resolution_breached/);
    assert.equal(now.sla.tier_business_seconds['1'], 8 * 3600);
    await patch(t.id, { status: 'resolved' });
  });

  test('a paused ticket fires nothing', async () => {
    await clockTo(at(3, 9));
    const p = await create('P2');
    await patch(p.id, { status: 'pending_vendor' });
    await clockTo(at(3, 16));
    const tl = await timeline(p.id);
    assert.equal(tl.items.filter((e) => e.kind.startsWith('sla.')).length, 0);
    assert.equal((await get(p.id)).sla.response_breached, false);
    await patch(p.id, { status: 'resolved' });
  });
});

describe('a calendar edit recomputes open tickets', () => {
  test('Friday becomes a holiday: an open ticket due Friday moves to Monday', async () => {
    await clockTo(at(3, 16));                    // Thursday 16:00
    const t = await create('P2');
    assert.equal(t.sla.resolution_due_at, iso(at(4, 16)));  // 1 h Thu + 7 h Fri
    const r = await c.patch(`/api/v1/calendars/${office.id}`, { holidays: [{ date: dateOf(at(4, 0)), name: 'Bridge day' }] }, { token: T.dispatcher });
    assertStatus(r, 200);
    assert.ok(Number(r.headers.get('sla-recomputed')) >= 1);
    const now = await get(t.id);
    assert.equal(now.sla.resolution_due_at, iso(at(7, 16)));  // next Monday
    await patch(t.id, { status: 'resolved' });
  });

  test('a bad edit is 400 and changes nothing', async () => {
    assertProblem(await c.patch(`/api/v1/calendars/${office.id}`, { hours: { mon: [['09:00', '25:00']] } }, { token: T.dispatcher }), 400, { field: 'hours.mon[0][1]' });
    const cal = assertStatus(await c.get(`/api/v1/calendars/${office.id}`, { token: T.dispatcher }), 200);
    assert.deepEqual(cal.hours.mon, [['09:00', '17:00']]);
  });
});

describe('simulate', () => {
  const fri = '2026-11-20';
  test('a what-if history gives the due instants, breaches and segments, and touches no ticket', async () => {
    const body = {
      start: `${fri}T16:00:00Z`,
      priority: 'P2',
      events: [
        { at: '2026-11-23T09:30:00Z', type: 'first_response' },
        { at: '2026-11-23T10:00:00Z', type: 'status', value: 'pending_customer' },
        { at: '2026-11-23T11:00:00Z', type: 'status', value: 'open' },
        { at: '2026-11-23T12:00:00Z', type: 'resolved' },
      ],
    };
    const r = assertStatus(await c.post(`/api/v1/sla-policies/${policy.id}/simulate`, body, { token: T.tier1 }), 200);
    // Response: 1 h on Friday 16-17 reaches the target at 17:00, before the reply.
    assert.equal(r.response.due_at, '2026-11-20T17:00:00Z');
    assert.equal(r.response.breached, true);
    assert.equal(r.response.business_seconds, 5400);
    // Resolution: Fri 16-17, Mon 09-10, 11-12 = 3 h of 8.
    assert.equal(r.resolution.business_seconds, 3 * 3600);
    assert.equal(r.resolution.breached, false);
    assert.equal(r.resolution.stopped_at, '2026-11-23T12:00:00Z');
    assert.equal(r.resolution.due_at, '2026-11-23T17:00:00Z');
    assert.deepEqual(r.resolution.warnings.map((w) => w.fraction), [0.75, 0.9]);
    const states = r.segments.filter((s) => s.clock === 'resolution').map((s) => s.state);
    assert.deepEqual(states, ['running', 'outside_hours', 'running', 'paused', 'running']);
  });

  for (const [label, body, field] of [
    ['no priority', { start: '2026-11-20T16:00:00Z' }, 'priority'],
    ['events out of order', { start: '2026-11-20T16:00:00Z', priority: 'P2', events: [{ at: '2026-11-21T00:00:00Z', type: 'first_response' }, { at: '2026-11-20T20:00:00Z', type: 'resolved' }] }, 'events[1].at'],
    ['an unknown event type', { start: '2026-11-20T16:00:00Z', priority: 'P2', events: [{ at: '2026-11-21T00:00:00Z', type: 'lunch' }] }, 'events[0].type'],
    ['a status that is not one', { start: '2026-11-20T16:00:00Z', priority: 'P2', events: [{ at: '2026-11-21T00:00:00Z', type: 'status', value: 'asleep' }] }, 'events[0].value'],
    ['until before the last event', { start: '2026-11-20T16:00:00Z', priority: 'P2', until: '2026-11-20T15:00:00Z' }, 'until'],
  ]) {
    test(`${label} is 400 naming ${field}`, async () => {
      assertProblem(await c.post(`/api/v1/sla-policies/${policy.id}/simulate`, body, { token: T.tier1 }), 400, { field });
    });
  }

  test('an unknown policy is 404', async () => {
    assertProblem(await c.post('/api/v1/sla-policies/999999/simulate', { start: '2026-11-20T16:00:00Z', priority: 'P2' }, { token: T.tier1 }), 404);
  });
});

describe('who sees what', () => {
  test('the client admin sees the sla of their ticket without the tier clocks; another organisation sees nothing', async () => {
    const t = await create('P3');
    const mine = await get(t.id, 'acmeAdmin');
    assert.equal(mine.sla.policy_id, policy.id);
    assert.equal(mine.sla.tier_business_seconds, undefined);
    assertProblem(await c.get(`/api/v1/tickets/${t.id}`, { token: T.borealisIT }), 404);
    assertProblem(await c.get(`/api/v1/tickets/${t.id}/timeline`, { token: T.borealisIT }), 404);
    const other = assertStatus(await c.post('/api/v1/tickets', { client_id: BOREALIS, subject: uniq('other') }, { token: T.dispatcher }), 201);
    assert.equal(other.sla.policy_id, policy.id, 'the default policy serves clients without a contract');
  });
});
