// tickets-escalation.test.mjs: escalation rules (no update for N minutes,
// unassigned for N minutes) driven by the test clock: they fire when due,
// not before, once per quiet spell, and are recorded on the timeline.
// Rules are global, so every test deletes its rule and resolves its
// tickets before the next one moves the clock.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ACME, DEMO, startServer } from './lib/server.mjs';
import { assertProblem, assertStatus, uniq } from './lib/util.mjs';

let srv, c;
const T = {};
const U = {};
const MIN = 60;

before(async () => {
  srv = await startServer({ testClock: true });
  c = srv.client;
  await Promise.all(['admin', 'dispatcher', 'tier1', 'tier2', 'acmeAdmin', 'acmeUser'].map(async (k) => {
    const s = await c.session(DEMO[k], srv.password);
    U[k] = s.user.id;
    T[k] = await c.token(s);
  }));
});
after(() => srv?.stop());

const create = async (body = {}, who = 'dispatcher') => {
  const r = await c.post('/api/v1/tickets', { client_id: ACME, subject: uniq('Quiet'), ...body }, { token: T[who] });
  assertStatus(r, 201);
  return r.body;
};
const get = async (id, who = 'admin') => assertStatus(await c.get(`/api/v1/tickets/${id}`, { token: T[who] }), 200);
const timeline = async (id, who = 'admin') => assertStatus(await c.get(`/api/v1/tickets/${id}/timeline`, { token: T[who] }), 200).items;
const advance = async (seconds) => {
  const r = await c.post('/api/v1/test/clock', { advance_seconds: seconds }, { token: T.admin });
  assertStatus(r, 200);
  return r.body;
};
const rule = async (body) => {
  const r = await c.post('/api/v1/escalation-rules', { name: uniq('rule'), ...body }, { token: T.dispatcher });
  assertStatus(r, 201);
  return r.body;
};
const drop = async (id) => assertStatus(await c.api('DELETE', `/api/v1/escalation-rules/${id}`, { token: T.dispatcher }), 204);
const resolveAll = async (tickets) => {
  for (const t of tickets) {
    const now = await get(t.id);
    if (now.status !== 'resolved' && now.status !== 'closed')
      assertStatus(await c.patch(`/api/v1/tickets/${t.id}`, { status: 'resolved' }, { token: T.tier2 }), 200);
  }
};
/* Runs fn with rules made from bodies; afterwards drops them and resolves
 * the tickets fn returns, so later tests start quiet. */
const withRules = async (bodies, fn) => {
  const rules = [];
  let tickets = [];
  try {
    for (const b of bodies)
      rules.push(await rule(b));
    tickets = (await fn(...rules)) || [];
  } finally {
    for (const r of rules)
      await drop(r.id);
    await resolveAll(tickets);
  }
};
const ruleEvents = (tl, ruleId) => tl.filter((e) => e.data?.rule_id === ruleId);

describe('escalation rules: the API', () => {
  test('create, list, patch, delete', async () => {
    const r = await rule({ kind: 'no_update', minutes: 90, priority: 'P2', raise_to_tier: 3, notify: true });
    assert.equal(r.kind, 'no_update');
    assert.equal(r.minutes, 90);
    assert.equal(r.priority, 'P2');
    assert.equal(r.raise_to_tier, 3);
    assert.equal(r.notify, true);
    assert.equal(r.enabled, true);
    const list = assertStatus(await c.get('/api/v1/escalation-rules', { token: T.tier1 }), 200).items;
    assert.ok(list.some((x) => x.id === r.id));
    const p = await c.patch(`/api/v1/escalation-rules/${r.id}`, { minutes: 120, enabled: false }, { token: T.dispatcher });
    assertStatus(p, 200);
    assert.equal(p.body.minutes, 120);
    assert.equal(p.body.enabled, false);
    assert.equal(p.body.raise_to_tier, 3);
    await drop(r.id);
    const after = assertStatus(await c.get('/api/v1/escalation-rules', { token: T.tier1 }), 200).items;
    assert.ok(!after.some((x) => x.id === r.id));
    assertProblem(await c.patch(`/api/v1/escalation-rules/${r.id}`, { minutes: 5 }, { token: T.dispatcher }), 404);
  });

  test('invalid rules are 400 naming the field', async () => {
    const bad = [
      [{ kind: 'no_update', minutes: 60, raise_to_tier: 2 }, 'name'],
      [{ name: 'x', minutes: 60, raise_to_tier: 2 }, 'kind'],
      [{ name: 'x', kind: 'sleepy', minutes: 60, raise_to_tier: 2 }, 'kind'],
      [{ name: 'x', kind: 'no_update', raise_to_tier: 2 }, 'minutes'],
      [{ name: 'x', kind: 'no_update', minutes: 0, raise_to_tier: 2 }, 'minutes'],
      [{ name: 'x', kind: 'no_update', minutes: 60, raise_to_tier: 4 }, 'raise_to_tier'],
      [{ name: 'x', kind: 'no_update', minutes: 60, raise_to_tier: 1 }, 'raise_to_tier'],
      [{ name: 'x', kind: 'no_update', minutes: 60, priority: 'P9', raise_to_tier: 2 }, 'priority'],
      [{ name: 'x', kind: 'no_update', minutes: 60 }, 'raise_to_tier'],
    ];
    for (const [body, field] of bad) {
      const r = await c.post('/api/v1/escalation-rules', body, { token: T.dispatcher });
      assertProblem(r, 400, { field });
    }
    const list = assertStatus(await c.get('/api/v1/escalation-rules', { token: T.admin }), 200).items;
    assert.equal(list.length, 0);
  });

  test('only dispatchers and admins manage rules; client roles cannot read them', async () => {
    const body = { name: 'x', kind: 'unassigned', minutes: 30, notify: true };
    for (const who of ['tier1', 'acmeAdmin', 'acmeUser'])
      assertProblem(await c.post('/api/v1/escalation-rules', body, { token: T[who] }), 403);
    for (const who of ['acmeAdmin', 'acmeUser'])
      assertProblem(await c.get('/api/v1/escalation-rules', { token: T[who] }), 403);
    const r = await rule({ kind: 'unassigned', minutes: 30, notify: true });
    assertProblem(await c.patch(`/api/v1/escalation-rules/${r.id}`, { minutes: 1 }, { token: T.tier2 }), 403);
    assertProblem(await c.api('DELETE', `/api/v1/escalation-rules/${r.id}`, { token: T.tier2 }), 403);
    await drop(r.id);
  });
});

describe('escalation rules: the timers', () => {
  test('no_update raises the tier when due, not before, and only once', async () => {
    await withRules([{ kind: 'no_update', minutes: 60, raise_to_tier: 2 }], async (r) => {
      const t = await create({ assignee_id: U.tier1 });
      let a = await advance(59 * MIN);
      assert.equal((await get(t.id)).tier, 1, 'not after 59 minutes');
      assert.equal(a.ran.escalated, 0);
      a = await advance(2 * MIN);
      assert.ok(a.ran.escalated >= 1, JSON.stringify(a));
      const now = await get(t.id);
      assert.equal(now.tier, 2);
      assert.equal(now.escalations, 1);
      assert.equal(now.assignee_id, null, 'a tier move clears the assignee');
      const ev = ruleEvents(await timeline(t.id), r.id);
      assert.equal(ev.length, 1);
      assert.equal(ev[0].kind, 'escalated');
      assert.equal(ev[0].data.from_tier, 1);
      assert.equal(ev[0].data.to_tier, 2);
      assert.equal(typeof ev[0].data.reason, 'string');
      await advance(5 * 60 * MIN);
      assert.equal(ruleEvents(await timeline(t.id), r.id).length, 1, 'fires once');
      assert.equal((await get(t.id)).tier, 2);
      return [t];
    });
  });

  test('activity restarts the quiet spell', async () => {
    await withRules([{ kind: 'no_update', minutes: 60, raise_to_tier: 2 }], async () => {
      const t = await create({ assignee_id: U.tier1 });
      await advance(50 * MIN);
      assertStatus(await c.post(`/api/v1/tickets/${t.id}/messages`, { kind: 'reply', body: 'still working on it' }, { token: T.tier1 }), 201);
      await advance(50 * MIN);
      assert.equal((await get(t.id)).tier, 1, '50 minutes after the reply');
      await advance(11 * MIN);
      assert.equal((await get(t.id)).tier, 2, '61 minutes after the reply');
      return [t];
    });
  });

  test('unassigned notifies once per quiet spell and leaves assigned tickets alone', async () => {
    await withRules([{ kind: 'unassigned', minutes: 30, notify: true }], async (r) => {
      const free = await create();
      const taken = await create({ assignee_id: U.tier1 });
      await advance(29 * MIN);
      assert.equal(ruleEvents(await timeline(free.id), r.id).length, 0);
      await advance(2 * MIN);
      const ev = ruleEvents(await timeline(free.id), r.id);
      assert.equal(ev.length, 1);
      assert.equal(ev[0].kind, 'escalation_rule');
      assert.equal((await get(free.id)).tier, 1, 'notify only: the tier stays');
      assert.equal(ruleEvents(await timeline(taken.id), r.id).length, 0);
      await advance(120 * MIN);
      assert.equal(ruleEvents(await timeline(free.id), r.id).length, 1, 'once per quiet spell');
      // A change starts a new spell; the rule may fire again after it.
      assertStatus(await c.patch(`/api/v1/tickets/${free.id}`, { queue: 'desk' }, { token: T.dispatcher }), 200);
      await advance(31 * MIN);
      assert.equal(ruleEvents(await timeline(free.id), r.id).length, 2);
      return [free, taken];
    });
  });

  test('a priority rule touches only that priority', async () => {
    await withRules([{ kind: 'no_update', minutes: 15, priority: 'P1', raise_to_tier: 3 }], async () => {
      const p1 = await create({ impact: 'high', urgency: 'high' });
      const p3 = await create({});
      assert.equal(p1.priority, 'P1');
      await advance(16 * MIN);
      assert.equal((await get(p1.id)).tier, 3);
      assert.equal((await get(p3.id)).tier, 1);
      return [p1, p3];
    });
  });

  test('waiting, resolved and closed tickets are not escalated', async () => {
    await withRules([{ kind: 'no_update', minutes: 10, raise_to_tier: 2 }], async () => {
      const waiting = await create({ assignee_id: U.tier1 });
      const vendor = await create({ assignee_id: U.tier1 });
      const hold = await create({ assignee_id: U.tier1 });
      const done = await create({ assignee_id: U.tier1 });
      assertStatus(await c.patch(`/api/v1/tickets/${waiting.id}`, { status: 'pending_customer' }, { token: T.tier1 }), 200);
      assertStatus(await c.patch(`/api/v1/tickets/${vendor.id}`, { status: 'pending_vendor' }, { token: T.tier1 }), 200);
      assertStatus(await c.patch(`/api/v1/tickets/${hold.id}`, { status: 'on_hold' }, { token: T.tier1 }), 200);
      assertStatus(await c.patch(`/api/v1/tickets/${done.id}`, { status: 'resolved' }, { token: T.tier1 }), 200);
      await advance(60 * MIN);
      for (const t of [waiting, vendor, hold, done]) {
        const now = await get(t.id);
        assert.equal(now.tier, 1, `${now.status} stays at tier 1`);
        assert.equal(now.escalations, 0);
      }
      return [waiting, vendor, hold, done];
    });
  });

  test('a disabled or deleted rule does not fire', async () => {
    const r = await rule({ kind: 'no_update', minutes: 10, raise_to_tier: 2 });
    const off = await rule({ kind: 'unassigned', minutes: 10, notify: true, raise_to_tier: 3 });
    assertStatus(await c.patch(`/api/v1/escalation-rules/${off.id}`, { enabled: false }, { token: T.dispatcher }), 200);
    await drop(r.id);
    const t = await create();
    await advance(60 * MIN);
    const now = await get(t.id);
    assert.equal(now.tier, 1);
    assert.equal(ruleEvents(await timeline(t.id), off.id).length, 0);
    await drop(off.id);
    await resolveAll([t]);
  });

  test('a rule-driven escalation is internal, and makes FCR false', async () => {
    await withRules([{ kind: 'no_update', minutes: 30, raise_to_tier: 2 }], async (r) => {
      const t = await create({}, 'acmeUser');
      assertStatus(await c.post(`/api/v1/tickets/${t.id}/messages`, { kind: 'reply', body: 'on it' }, { token: T.tier1 }), 201);
      await advance(31 * MIN);
      assert.equal((await get(t.id)).tier, 2);
      const clientTl = await timeline(t.id, 'acmeUser');
      assert.equal(ruleEvents(clientTl, r.id).length, 0);
      assert.ok(!clientTl.some((e) => e.internal));
      const res = assertStatus(await c.patch(`/api/v1/tickets/${t.id}`, { status: 'resolved' }, { token: T.tier1 }), 200);
      assert.equal(res.fcr, false);
      return [t];
    });
  });

  test('an assignee cleared by a rule-driven escalation starts the unassigned clock then', async () => {
    await withRules([
      { kind: 'no_update', minutes: 60, raise_to_tier: 2 },
      { kind: 'unassigned', minutes: 30, notify: true },
    ], async (quiet, unassigned) => {
      const t = await create({ assignee_id: U.tier1 });
      await advance(61 * MIN);
      const now = await get(t.id);
      assert.equal(now.tier, 2);
      assert.equal(now.assignee_id, null);
      assert.equal(ruleEvents(await timeline(t.id), unassigned.id).length, 0,
        'the ticket was assigned until the escalation a moment ago: not "unassigned for 30 minutes"');
      await advance(31 * MIN);
      assert.equal(ruleEvents(await timeline(t.id), unassigned.id).length, 1);
      return [t];
    });
  });

  test('nothing fires until the test clock moves', async () => {
    await withRules([{ kind: 'unassigned', minutes: 1, notify: true, raise_to_tier: 2 }], async (r) => {
      const t = await create();
      assert.equal((await get(t.id)).tier, 1);
      assert.equal(ruleEvents(await timeline(t.id), r.id).length, 0);
      await advance(2 * MIN);
      assert.equal((await get(t.id)).tier, 2);
      return [t];
    });
  });
});
