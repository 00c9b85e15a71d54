// tickets-search.test.mjs: the ticket list. Full-text search (subject,
// description, public replies; notes for staff only), the filters, cursor
// pagination that stays correct while tickets are created, and the bulk
// change that is all-or-nothing.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ACME, BOREALIS, DEMO, startServer } from './lib/server.mjs';
import { assertProblem, assertStatus, uniq } from './lib/util.mjs';

let srv, c;
const T = {};
const U = {};

before(async () => {
  srv = await startServer();
  c = srv.client;
  await Promise.all(['admin', 'dispatcher', 'tier1', 'tier2', 'acmeAdmin', 'acmeUser', 'borealisIT'].map(async (k) => {
    const s = await c.session(DEMO[k], srv.password);
    U[k] = s.user.id;
    T[k] = await c.token(s);
  }));
});
after(() => srv?.stop());

const create = async (body, who = 'dispatcher') => {
  const r = await c.post('/api/v1/tickets', { ...(who.startsWith('acme') ? {} : { client_id: ACME }), subject: uniq('Listed'), ...body }, { token: T[who] });
  assertStatus(r, 201);
  return r.body;
};
const get = async (id) => assertStatus(await c.get(`/api/v1/tickets/${id}`, { token: T.admin }), 200);
const list = async (query, who = 'admin') => {
  const r = await c.get(`/api/v1/tickets?${query}`, { token: T[who] });
  assertStatus(r, 200);
  assert.ok(Array.isArray(r.body.items));
  return r.body;
};
const ids = async (query, who = 'admin') => (await list(query, who)).items.map((t) => t.id);
const search = (q, who = 'admin') => ids(`limit=500&q=${encodeURIComponent(q)}`, who);

describe('full-text search', () => {
  let t, other;
  before(async () => {
    t = await create({ subject: 'Outlook crashes on startup', description: 'Since the update the mailbox plugin fails' }, 'acmeUser');
    other = await create({ subject: 'Keyboard missing keys', description: 'coffee incident' }, 'acmeUser');
    assertStatus(await c.post(`/api/v1/tickets/${t.id}/messages`, { kind: 'reply', body: 'Please disable the telephony addin' }, { token: T.tier1 }), 201);
    assertStatus(await c.post(`/api/v1/tickets/${t.id}/messages`, { kind: 'reply', body: 'Done, the frobnicator dialog is gone' }, { token: T.acmeUser }), 201);
    assertStatus(await c.post(`/api/v1/tickets/${t.id}/messages`, { kind: 'note', body: 'user runs a pirated xyzzyplugin' }, { token: T.tier1 }), 201);
  });

  for (const who of ['tier2', 'acmeUser', 'acmeAdmin']) {
    test(`${who} finds words of the subject, the description and public replies`, async () => {
      for (const q of ['outlook', 'Outlook startup', 'mailbox', 'telephony', 'frobnicator', 'CRASHES'])
        assert.deepEqual(await search(q, who), [t.id], q);
      assert.deepEqual(await search('coffee', who), [other.id]);
    });
  }

  test('staff find words that are only in a note; client roles do not', async () => {
    assert.deepEqual(await search('xyzzyplugin', 'tier2'), [t.id]);
    assert.deepEqual(await search('xyzzyplugin', 'acmeUser'), []);
    assert.deepEqual(await search('xyzzyplugin', 'acmeAdmin'), []);
    assert.deepEqual(await search('outlook xyzzyplugin', 'acmeAdmin'), []);
  });

  test('every word must match; a word that is nowhere finds nothing', async () => {
    assert.deepEqual(await search('outlook keyboard'), []);
    assert.deepEqual(await search('nonexistentwordqq'), []);
  });

  test('a changed subject is searched by its new words only', async () => {
    const x = await create({ subject: 'Scanner offline', description: 'in the basement' });
    assert.deepEqual(await search('scanner basement'), [x.id]);
    assertStatus(await c.patch(`/api/v1/tickets/${x.id}`, { subject: 'Plotter offline' }, { token: T.tier1 }), 200);
    assert.deepEqual(await search('plotter'), [x.id]);
    assert.deepEqual(await search('scanner'), []);
  });

  test('search syntax from users is taken as words, never as an error', async () => {
    for (const q of ['"', 'a"b', '((', 'outlook OR keyboard', 'NEAR(outlook keyboard)', 'out*', '-outlook', 'subject:outlook', "o'brien", '^', '   ', 'ünïcödé'])
      await list(`q=${encodeURIComponent(q)}`);
    assert.ok(!(await search('outlook OR keyboard')).includes(other.id), 'OR is a word, not an operator');
    assertProblem(await c.get(`/api/v1/tickets?q=${'a'.repeat(600)}`, { token: T.admin }), 400, { field: 'q' });
  });

  test('search respects tenancy', async () => {
    const b = await create({ client_id: BOREALIS, subject: 'Outlook crashes in the warehouse' });
    assert.deepEqual(await search('outlook', 'borealisIT'), [b.id]);
    assert.ok(!(await search('warehouse', 'acmeAdmin')).includes(b.id));
    assert.deepEqual((await search('outlook', 'tier1')).sort((x, y) => x - y), [t.id, b.id].sort((x, y) => x - y));
  });
});

describe('filters', () => {
  let queue, a, b, d, e;
  before(async () => {
    queue = uniq('filters');
    a = await create({ queue, impact: 'high', urgency: 'high', assignee_id: U.tier1 });
    b = await create({ queue, tier: 2 });
    d = await create({ queue, client_id: BOREALIS, assignee_id: U.tier2 });
    e = await create({ queue });
    assertStatus(await c.patch(`/api/v1/tickets/${e.id}`, { status: 'resolved' }, { token: T.tier1 }), 200);
  });
  const q = (extra, who) => ids(`queue=${queue}&limit=500${extra}`, who);

  test('queue, newest first', async () => {
    assert.deepEqual(await q(''), [e.id, d.id, b.id, a.id]);
  });

  test('status, priority, tier, client_id, open=true', async () => {
    assert.deepEqual(await q('&status=resolved'), [e.id]);
    assert.deepEqual(await q('&status=new'), [b.id]);
    assert.deepEqual(await q('&status=open'), [d.id, a.id]);
    assert.deepEqual(await q('&priority=P1'), [a.id]);
    assert.deepEqual(await q('&tier=2'), [b.id]);
    assert.deepEqual(await q(`&client_id=${BOREALIS}`), [d.id]);
    assert.deepEqual(await q('&open=true'), [d.id, b.id, a.id]);
    assert.deepEqual(await q('&open=true&tier=1&client_id=1'), [a.id]);
  });

  test('assignee_id: an id, me, none', async () => {
    assert.deepEqual(await q(`&assignee_id=${U.tier1}`), [a.id]);
    assert.deepEqual(await q('&assignee_id=me', 'tier2'), [d.id]);
    assert.deepEqual(await q('&assignee_id=none'), [e.id, b.id]);
  });

  test('bad filters are 400 naming them', async () => {
    for (const [query, field] of [['status=done', 'status'], ['priority=P7', 'priority'], ['tier=9', 'tier'],
      ['assignee_id=someone', 'assignee_id'], ['limit=0', 'limit'], ['limit=100000', 'limit'], ['cursor=abc', 'cursor'], ['client_id=x', 'client_id']])
      assertProblem(await c.get(`/api/v1/tickets?${query}`, { token: T.admin }), 400, { field });
  });
});

describe('cursor pagination', () => {
  test('pages are newest first, never repeat or skip, while tickets are created between pages', async () => {
    const queue = uniq('pages');
    const made = [];
    for (let i = 0; i < 11; i++)
      made.push((await create({ queue, subject: `page ticket ${i}` })).id);
    const expected = [...made].reverse();
    const seen = [];
    let cursor = null;
    let pages = 0;
    do {
      const page = await list(`queue=${queue}&limit=3${cursor ? `&cursor=${cursor}` : ''}`);
      assert.ok(page.items.length <= 3);
      seen.push(...page.items.map((t) => t.id));
      cursor = page.next_cursor;
      pages++;
      // New tickets arrive while the client pages: they are newer than
      // the cursor, so they belong on page one, not on a later page.
      await create({ queue, subject: `arrived during page ${pages}` });
      await create({ queue: uniq('elsewhere') });
      assert.ok(pages < 10, 'paging ends');
    } while (cursor !== null && cursor !== undefined);
    assert.deepEqual(seen, expected);
    assert.equal(pages, 4);
  });

  test('the last page has no next_cursor; a full page ends where the next begins', async () => {
    const queue = uniq('exact');
    const made = [];
    for (let i = 0; i < 4; i++)
      made.push((await create({ queue })).id);
    const p1 = await list(`queue=${queue}&limit=2`);
    assert.deepEqual(p1.items.map((t) => t.id), [made[3], made[2]]);
    assert.ok(p1.next_cursor);
    const p2 = await list(`queue=${queue}&limit=2&cursor=${p1.next_cursor}`);
    assert.deepEqual(p2.items.map((t) => t.id), [made[1], made[0]]);
    if (p2.next_cursor) {
      const p3 = await list(`queue=${queue}&limit=2&cursor=${p2.next_cursor}`);
      assert.deepEqual(p3.items, []);
      assert.equal(p3.next_cursor ?? null, null);
    }
    const all = await list(`queue=${queue}&limit=4`);
    assert.equal(all.items.length, 4);
  });

  test('a client_user\'s pages hold only their own tickets', async () => {
    const mine = [];
    for (let i = 0; i < 5; i++) {
      mine.push((await create({ subject: `mine ${i}` }, 'acmeUser')).id);
      await create({ client_id: ACME, subject: `not mine ${i}` });
    }
    const seen = [];
    let cursor = null;
    do {
      const page = await list(`limit=2${cursor ? `&cursor=${cursor}` : ''}`, 'acmeUser');
      seen.push(...page.items.map((t) => t.id));
      cursor = page.next_cursor;
    } while (cursor);
    for (const id of mine)
      assert.ok(seen.includes(id));
    assert.equal(new Set(seen).size, seen.length);
    const all = assertStatus(await c.get('/api/v1/tickets?limit=500', { token: T.acmeUser }), 200).items;
    assert.deepEqual(seen, all.map((t) => t.id));
    assert.ok(all.every((t) => t.requester_user_id === U.acmeUser));
  });
});

describe('bulk changes', () => {
  const bulk = (body, who = 'dispatcher') => c.patch('/api/v1/tickets', body, { token: T[who] });
  const snapshot = async (list) => Promise.all(list.map((t) => get(t.id)));

  test('assign, move and set status of several tickets at once', async () => {
    const ts = [await create({}), await create({}), await create({ client_id: BOREALIS })];
    const r = await bulk({ ids: ts.map((t) => t.id), set: { assignee_id: U.tier2, queue: 'network', status: 'pending_customer', reason: 'waiting for photos' } });
    assertStatus(r, 200);
    assert.deepEqual(r.body.items.map((t) => t.id), ts.map((t) => t.id));
    for (const t of await snapshot(ts)) {
      assert.equal(t.assignee_id, U.tier2);
      assert.equal(t.queue, 'network');
      assert.equal(t.status, 'pending_customer');
    }
    const tl = assertStatus(await c.get(`/api/v1/tickets/${ts[0].id}/timeline`, { token: T.admin }), 200).items;
    assert.ok(tl.some((e) => e.kind === 'status' && e.data.to === 'pending_customer'));
  });

  test('one unknown id: 404 naming it, nothing changed', async () => {
    const ts = [await create({}), await create({})];
    const before = await snapshot(ts);
    const body = assertProblem(await bulk({ ids: [ts[0].id, 999999, ts[1].id], set: { queue: 'moved', assignee_id: U.tier1 } }), 404);
    assert.match(body.detail, /999999/);
    assert.deepEqual(await snapshot(ts), before);
  });

  test('one forbidden transition: 409, nothing changed', async () => {
    const ok = await create({});
    const closed = await create({});
    assertStatus(await c.patch(`/api/v1/tickets/${closed.id}`, { status: 'resolved' }, { token: T.tier1 }), 200);
    assertStatus(await c.patch(`/api/v1/tickets/${closed.id}`, { status: 'closed' }, { token: T.tier1 }), 200);
    const before = await snapshot([ok, closed]);
    assertProblem(await bulk({ ids: [ok.id, closed.id], set: { status: 'resolved', queue: 'done' } }), 409);
    assert.deepEqual(await snapshot([ok, closed]), before);
  });

  test('a bad assignee: 400, nothing changed', async () => {
    const ts = [await create({}), await create({})];
    const before = await snapshot(ts);
    assertProblem(await bulk({ ids: ts.map((t) => t.id), set: { assignee_id: U.acmeUser } }), 400, { field: 'assignee_id' });
    assert.deepEqual(await snapshot(ts), before);
  });

  test('malformed bulk requests are 400; other fields cannot be bulk-set', async () => {
    const t = await create({});
    const before = await get(t.id);
    for (const body of [
      { ids: [], set: { queue: 'x' } },
      { ids: 'all', set: { queue: 'x' } },
      { ids: [t.id, 'two'], set: { queue: 'x' } },
      { ids: Array.from({ length: 101 }, (_, i) => i + 1), set: { queue: 'x' } },
      { ids: [t.id] },
      { ids: [t.id], set: {} },
      { ids: [t.id], set: { subject: 'renamed' } },
      { ids: [t.id], set: { priority: 'P1', priority_reason: 'x' } },
      { ids: [t.id], set: { status: 'done' } },
      { ids: [t.id], set: { queue: 'x' }, extra: true },
    ])
      assertProblem(await bulk(body), 400);
    assert.deepEqual(await get(t.id), before);
  });

  test('technicians may bulk-change; client roles may not', async () => {
    const t = await create({});
    assertStatus(await bulk({ ids: [t.id], set: { assignee_id: U.tier1 } }, 'tier1'), 200);
    for (const who of ['acmeAdmin', 'acmeUser', 'borealisIT'])
      assertProblem(await bulk({ ids: [t.id], set: { queue: 'x' } }, who), 403);
    assert.equal((await get(t.id)).queue, 'general');
  });
});
