// tickets-triage.test.mjs: triage rules applied when tickets are created
// (and updated, when asked), their order and stop, and the dry-run that
// explains which rules match and why. Rules are global: each test keys
// its rules on a word of its own so that they do not touch other tests'
// tickets.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ACME, BOREALIS, DEMO, startServer } from './lib/server.mjs';
import { assertProblem, assertStatus } from './lib/util.mjs';

let srv, c;
const T = {};
const U = {};
let wordNo = 0;
/* A word nothing else contains (letters only: words are split on anything else). */
const word = () => `zq${'abcdefghij'[wordNo % 10]}${'klmnopqrst'[Math.floor(wordNo++ / 10) % 10]}word`;

before(async () => {
  srv = await startServer();
  c = srv.client;
  await Promise.all(['admin', 'dispatcher', 'tier1', 'tier2', 'acmeAdmin', 'acmeUser'].map(async (k) => {
    const s = await c.session(DEMO[k], srv.password);
    U[k] = s.user.id;
    T[k] = await c.token(s);
  }));
});
after(() => srv?.stop());

const mkRule = async (body, who = 'dispatcher') => {
  const r = await c.post('/api/v1/triage-rules', { name: `rule ${wordNo}`, ...body }, { token: T[who] });
  assertStatus(r, 201);
  return r.body;
};
const textIs = (w) => ({ field: 'text', op: 'word', value: w });
const create = async (body, who = 'dispatcher') => {
  const r = await c.post('/api/v1/tickets', { ...(who.startsWith('acme') ? {} : { client_id: ACME }), ...body }, { token: T[who] });
  assertStatus(r, 201);
  return r.body;
};
const get = async (id, who = 'admin') => assertStatus(await c.get(`/api/v1/tickets/${id}`, { token: T[who] }), 200);
const timeline = async (id, who = 'admin') => assertStatus(await c.get(`/api/v1/tickets/${id}/timeline`, { token: T[who] }), 200).items;
const dryRun = async (body) => assertStatus(await c.post('/api/v1/triage-rules/dry-run', body, { token: T.tier1 }), 200);

describe('rules on create', () => {
  test('a matching rule sets queue, tier, category, priority and tags, and is recorded', async () => {
    const w = word();
    const r = await mkRule({
      conditions: [textIs(w)],
      actions: { queue: 'printers', tier: 2, category: 'hardware', priority: 'P2', tags: ['printer', 'onsite'] },
    });
    assert.equal(r.enabled, true);
    assert.equal(r.on_create, true);
    const t = await create({ subject: `The ${w} in room 4 is jammed` });
    assert.equal(t.queue, 'printers');
    assert.equal(t.tier, 2);
    assert.equal(t.category, 'hardware');
    assert.equal(t.priority, 'P2');
    assert.ok(t.priority_reason, 'a rule-set priority carries a reason');
    assert.deepEqual([...t.tags].sort(), ['onsite', 'printer']);
    const ev = (await timeline(t.id)).filter((e) => e.kind === 'rule_matched');
    assert.equal(ev.length, 1);
    assert.equal(ev[0].data.rule_id, r.id);
    assert.equal(ev[0].internal, true);
    // A ticket without the word is untouched.
    const other = await create({ subject: 'Another printer problem' });
    assert.equal(other.queue, 'general');
    assert.equal(other.tier, 1);
    assert.deepEqual(other.tags, []);
  });

  test('conditions match the description too, whole words only, any case', async () => {
    const w = word();
    await mkRule({ conditions: [textIs(w)], actions: { queue: 'desc' } });
    assert.equal((await create({ subject: 'x', description: `see ${w.toUpperCase()}.` })).queue, 'desc');
    assert.equal((await create({ subject: `${w}s`, description: `pre${w}` })).queue, 'general', 'parts of words do not match');
  });

  test('a client\'s own ticket is triaged too, and the rule\'s trace stays internal', async () => {
    const w = word();
    await mkRule({ conditions: [textIs(w), { field: 'client_id', op: 'eq', value: ACME }], actions: { queue: 'acme', note: `auto note ${w}` } });
    const t = await create({ subject: `help ${w}` }, 'acmeUser');
    assert.equal((await get(t.id)).queue, 'acme');
    const staffMsgs = assertStatus(await c.get(`/api/v1/tickets/${t.id}/messages`, { token: T.tier1 }), 200).items;
    assert.ok(staffMsgs.some((m) => m.kind === 'note' && m.body === `auto note ${w}`), JSON.stringify(staffMsgs));
    const clientMsgs = await c.get(`/api/v1/tickets/${t.id}/messages`, { token: T.acmeUser });
    assertStatus(clientMsgs, 200);
    assert.ok(!clientMsgs.text.includes('auto note'), clientMsgs.text);
    const clientTl = await c.get(`/api/v1/tickets/${t.id}/timeline`, { token: T.acmeUser });
    assert.ok(!clientTl.body.items.some((e) => e.kind === 'rule_matched' || e.internal), clientTl.text);
    // Not for Borealis.
    const b = await create({ client_id: BOREALIS, subject: `help ${w}` });
    assert.equal(b.queue, 'general');
  });

  test('each field and operator', async () => {
    const w = word();
    const cases = [
      [{ field: 'channel', op: 'eq', value: 'phone' }, { channel: 'phone' }, { channel: 'email' }],
      [{ field: 'channel', op: 'neq', value: 'phone' }, { channel: 'email' }, { channel: 'phone' }],
      [{ field: 'channel', op: 'in', values: ['email', 'monitoring'] }, { channel: 'monitoring' }, { channel: 'api' }],
      [{ field: 'client_id', op: 'in', values: [BOREALIS] }, { client_id: BOREALIS }, { client_id: ACME }],
      [{ field: 'requester_contact_id', op: 'eq', value: 1 }, { requester_contact_id: 1 }, { requester_contact_id: 2 }],
      [{ field: 'type', op: 'eq', value: 'service_request' }, { type: 'service_request' }, { type: 'incident' }],
      [{ field: 'category', op: 'exists', value: true }, { category: 'network' }, {}],
      [{ field: 'category', op: 'exists', value: false }, {}, { category: 'network' }],
      [{ field: 'category', op: 'in', values: ['network', 'vpn'] }, { category: 'vpn' }, { category: 'email' }],
      [{ field: 'priority', op: 'eq', value: 'P1' }, { impact: 'high', urgency: 'high' }, {}],
      [{ field: 'text', op: 'word', values: ['alpha' + w, 'beta' + w] }, { description: `beta${w}` }, { description: `gamma${w}` }],
    ];
    for (const [i, [cond, yes, no]] of cases.entries()) {
      const tag = `case${i}`;
      const key = `${w}c${'abcdefghijklmnop'[i]}`;
      await mkRule({ conditions: [textIs(key), cond], actions: { tags: [tag] } });
      const hit = await create({ subject: `${key} hit`, client_id: ACME, ...yes });
      const miss = await create({ subject: `${key} miss`, client_id: ACME, ...no });
      assert.deepEqual(hit.tags, [tag], `${JSON.stringify(cond)} matches ${JSON.stringify(yes)}`);
      assert.deepEqual(miss.tags, [], `${JSON.stringify(cond)} does not match ${JSON.stringify(no)}`);
    }
  });

  test('rules run by position; later ones win, tags add up, stop ends the run', async () => {
    const w = word();
    const first = await mkRule({ position: 1, conditions: [textIs(w)], actions: { queue: 'first', tags: ['a'] } });
    const second = await mkRule({ position: 2, conditions: [textIs(w)], actions: { queue: 'second', tier: 3, tags: ['b'] }, stop: true });
    const third = await mkRule({ position: 3, conditions: [textIs(w)], actions: { queue: 'third', tags: ['c'] } });
    const t = await create({ subject: w });
    assert.equal(t.queue, 'second');
    assert.equal(t.tier, 3);
    assert.deepEqual([...t.tags].sort(), ['a', 'b']);
    const matched = (await timeline(t.id)).filter((e) => e.kind === 'rule_matched').map((e) => e.data.rule_id);
    assert.deepEqual(matched, [first.id, second.id]);
    assert.ok(!matched.includes(third.id));
  });

  test('a rule can assign; the ticket then starts open', async () => {
    const w = word();
    await mkRule({ conditions: [textIs(w)], actions: { assignee_id: U.tier2 } });
    const t = await create({ subject: w });
    assert.equal(t.assignee_id, U.tier2);
    assert.equal(t.status, 'open');
  });

  test('a rule cannot assign tickets to a non-staff or unknown user', async () => {
    // Refused when the rule is saved (400 naming actions.assignee_id), or
    // at the latest never applied to a ticket.
    for (const assignee of [U.acmeUser, 999999]) {
      const w = word();
      const r = await c.post('/api/v1/triage-rules', { name: `assign to ${assignee}`, conditions: [textIs(w)], actions: { assignee_id: assignee } }, { token: T.dispatcher });
      if (r.status === 201) {
        const res = await c.post('/api/v1/tickets', { client_id: ACME, subject: w }, { token: T.dispatcher });
        await c.api('DELETE', `/api/v1/triage-rules/${r.body.id}`, { token: T.dispatcher });
        assert.notEqual(res.body?.assignee_id, assignee,
          `a rule saved with assignee_id ${assignee} assigned a ticket to that user: ${res.status} ${res.text}`);
        assertStatus(res, 201);
        continue;
      }
      assertProblem(r, 400, { field: 'actions.assignee_id' });
    }
  });

  test('a hand-set priority beats the rule\'s', async () => {
    const w = word();
    await mkRule({ conditions: [textIs(w)], actions: { priority: 'P4' } });
    const t = await create({ subject: w, priority: 'P1', priority_reason: 'on the phone with the CEO' });
    assert.equal(t.priority, 'P1');
    assert.equal(t.priority_reason, 'on the phone with the CEO');
  });

  test('disabled rules, update-only rules and deleted rules do not apply on create', async () => {
    const w = word();
    const off = await mkRule({ conditions: [textIs(w)], actions: { tags: ['off'] }, enabled: false });
    const upd = await mkRule({ conditions: [textIs(w)], actions: { tags: ['upd'] }, on_create: false, on_update: true });
    const del = await mkRule({ conditions: [textIs(w)], actions: { tags: ['del'] } });
    assertStatus(await c.api('DELETE', `/api/v1/triage-rules/${del.id}`, { token: T.dispatcher }), 204);
    assertProblem(await c.get(`/api/v1/triage-rules/${del.id}`, { token: T.tier1 }), 404);
    const t = await create({ subject: w });
    assert.deepEqual(t.tags, []);
    // on_update rules run when staff change the ticket.
    const p = await c.patch(`/api/v1/tickets/${t.id}`, { description: 'more detail' }, { token: T.tier1 });
    assertStatus(p, 200);
    assert.deepEqual(p.body.tags, ['upd']);
    // Enabling a rule applies it to the next ticket.
    const g = await c.get(`/api/v1/triage-rules/${off.id}`, { token: T.tier1 });
    assertStatus(await c.patch(`/api/v1/triage-rules/${off.id}`, { enabled: true }, { token: T.dispatcher, headers: { 'If-Match': g.headers.get('etag') } }), 200);
    assert.deepEqual((await create({ subject: w })).tags, ['off']);
    assert.ok(upd.id);
  });
});

describe('the rules API', () => {
  test('GET one and the list; PATCH keeps what is not sent; stale If-Match is 412', async () => {
    const w = word();
    const r = await mkRule({ conditions: [textIs(w)], actions: { queue: 'q1' } });
    const one = await c.get(`/api/v1/triage-rules/${r.id}`, { token: T.tier1 });
    assertStatus(one, 200);
    assert.deepEqual(one.body.conditions, [textIs(w)]);
    assert.deepEqual(one.body.actions, { queue: 'q1' });
    const list = assertStatus(await c.get('/api/v1/triage-rules', { token: T.tier1 }), 200).items;
    assert.ok(list.some((x) => x.id === r.id));
    const p = await c.patch(`/api/v1/triage-rules/${r.id}`, { actions: { queue: 'q2' } }, { token: T.dispatcher, headers: { 'If-Match': one.headers.get('etag') } });
    assertStatus(p, 200);
    assert.deepEqual(p.body.conditions, [textIs(w)]);
    assert.deepEqual(p.body.actions, { queue: 'q2' });
    assert.equal(p.body.name, r.name);
    assertProblem(await c.patch(`/api/v1/triage-rules/${r.id}`, { name: 'stale' }, { token: T.dispatcher, headers: { 'If-Match': one.headers.get('etag') } }), 412);
    assert.equal((await create({ subject: w })).queue, 'q2');
  });

  test('invalid rules are 400 naming the part', async () => {
    const bad = [
      [{ conditions: [], actions: { queue: 'x' } }, 'name'],
      [{ name: 'n', actions: { queue: 'x' } }, 'conditions'],
      [{ name: 'n', conditions: [] }, 'actions'],
      [{ name: 'n', conditions: [{ field: 'colour', op: 'eq', value: 'red' }], actions: { queue: 'x' } }, 'conditions[0].field'],
      [{ name: 'n', conditions: [textIs('a'), { field: 'text', op: 'eq', value: 'x' }], actions: { queue: 'x' } }, 'conditions[1].op'],
      [{ name: 'n', conditions: [{ field: 'channel', op: 'eq', value: 'fax' }], actions: { queue: 'x' } }, 'conditions[0].value'],
      [{ name: 'n', conditions: [{ field: 'client_id', op: 'eq', value: 'acme' }], actions: { queue: 'x' } }, 'conditions[0].value'],
      [{ name: 'n', conditions: [{ field: 'channel', op: 'in', values: [] }], actions: { queue: 'x' } }, 'conditions[0].values'],
      [{ name: 'n', conditions: [], actions: {} }, 'actions'],
      [{ name: 'n', conditions: [], actions: { colour: 'red' } }, 'actions.colour'],
      [{ name: 'n', conditions: [], actions: { tier: 5 } }, 'actions.tier'],
      [{ name: 'n', conditions: [], actions: { priority: 'urgent' } }, 'actions.priority'],
    ];
    const before = assertStatus(await c.get('/api/v1/triage-rules', { token: T.admin }), 200).items.length;
    for (const [body, field] of bad)
      assertProblem(await c.post('/api/v1/triage-rules', body, { token: T.dispatcher }), 400, { field });
    assert.equal(assertStatus(await c.get('/api/v1/triage-rules', { token: T.admin }), 200).items.length, before);
  });

  test('technicians read rules; only dispatchers and admins change them; clients neither', async () => {
    const body = { name: 'n', conditions: [textIs(word())], actions: { queue: 'x' } };
    assertProblem(await c.post('/api/v1/triage-rules', body, { token: T.tier1 }), 403);
    for (const who of ['acmeAdmin', 'acmeUser']) {
      assertProblem(await c.post('/api/v1/triage-rules', body, { token: T[who] }), 403);
      assertProblem(await c.get('/api/v1/triage-rules', { token: T[who] }), 403);
      assertProblem(await c.post('/api/v1/triage-rules/dry-run', { ticket: { subject: 'x' } }, { token: T[who] }), 403);
    }
    const r = await mkRule(body, 'admin');
    assertProblem(await c.api('DELETE', `/api/v1/triage-rules/${r.id}`, { token: T.tier2 }), 403);
    assertStatus(await c.get(`/api/v1/triage-rules/${r.id}`, { token: T.tier2 }), 200);
  });
});

describe('dry-run', () => {
  test('explains which rules match and why the others do not, and creates nothing', async () => {
    const w = word();
    const hit = await mkRule({ position: 500, conditions: [textIs(w), { field: 'channel', op: 'eq', value: 'email' }], actions: { queue: 'mail', tags: ['dry'] } });
    const miss = await mkRule({ position: 501, conditions: [textIs(w), { field: 'client_id', op: 'eq', value: BOREALIS }], actions: { queue: 'borealis' } });
    const ticketsBefore = assertStatus(await c.get('/api/v1/tickets?limit=1', { token: T.admin }), 200).items[0]?.id;
    const r = await dryRun({ ticket: { client_id: ACME, channel: 'email', subject: `${w} please`, description: '' } });
    assert.ok(r.matched.includes(hit.id));
    assert.ok(!r.matched.includes(miss.id));
    const tHit = r.trace.find((x) => x.rule_id === hit.id);
    const tMiss = r.trace.find((x) => x.rule_id === miss.id);
    assert.equal(tHit.matched, true);
    assert.equal(typeof tHit.why, 'string');
    assert.equal(tMiss.matched, false);
    assert.match(tMiss.why, /client_id/);
    assert.match(tMiss.why, /2|1/);
    assert.equal(r.result.queue, 'mail');
    assert.deepEqual(r.result.tags, ['dry']);
    // Rules without the word say why not.
    const other = r.trace.filter((x) => x.rule_id !== hit.id && x.rule_id !== miss.id);
    assert.ok(other.every((x) => x.matched === false || x.why));
    const none = await dryRun({ ticket: { client_id: ACME, channel: 'phone', subject: `${w}` } });
    const nt = none.trace.find((x) => x.rule_id === hit.id);
    assert.equal(nt.matched, false);
    assert.match(nt.why, /channel/);
    assert.equal(assertStatus(await c.get('/api/v1/tickets?limit=1', { token: T.admin }), 200).items[0]?.id, ticketsBefore, 'nothing created');
  });

  test('a draft rule is tried alone; on=update considers update rules', async () => {
    const w = word();
    const r = await dryRun({
      ticket: { client_id: ACME, subject: 'x', impact: 'high', urgency: 'high' },
      rule: { conditions: [{ field: 'priority', op: 'eq', value: 'P1' }], actions: { tier: 3 } },
    });
    assert.equal(r.trace.length, 1);
    assert.equal(r.trace[0].matched, true);
    assert.equal(r.result.tier, 3);
    assert.equal(r.result.priority, 'P1');
    const u = await mkRule({ conditions: [textIs(w)], actions: { queue: 'upd' }, on_create: false, on_update: true });
    const onCreate = await dryRun({ ticket: { subject: w } });
    assert.ok(!onCreate.matched.includes(u.id));
    const onUpdate = await dryRun({ ticket: { subject: w }, on: 'update' });
    assert.ok(onUpdate.matched.includes(u.id));
    assert.equal(onUpdate.result.queue, 'upd');
  });

  test('bad dry-runs are 400', async () => {
    assertProblem(await c.post('/api/v1/triage-rules/dry-run', {}, { token: T.tier1 }), 400, { field: 'ticket' });
    assertProblem(await c.post('/api/v1/triage-rules/dry-run', { ticket: {}, on: 'delete' }, { token: T.tier1 }), 400, { field: 'on' });
    assertProblem(await c.post('/api/v1/triage-rules/dry-run', { ticket: {}, rule: { conditions: [{ field: 'colour', op: 'eq', value: 'x' }], actions: { queue: 'x' } } }, { token: T.tier1 }), 400);
  });
});
