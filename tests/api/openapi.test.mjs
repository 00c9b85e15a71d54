// openapi.test.mjs: docs/openapi.json against the route table in
// src/http/routes.c. No server: it reads both files, so the document and
// the routes cannot drift apart unnoticed.
//
//   node --test tests/api/openapi.test.mjs
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

const doc = JSON.parse(readFileSync(new URL('../../docs/openapi.json', import.meta.url), 'utf8'));
const routesC = readFileSync(new URL('../../src/http/routes.c', import.meta.url), 'utf8');

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

// { "GET", "/healthz", h_healthz, P_PUBLIC, false, false, false },
// method, pattern, handler, permission, JSON body, Idempotency-Key, test-only
// (the route exists only with `itsup serve --test-clock`; the 7th field may
// be left out, meaning false).
const ROUTE_RE = /\{\s*"([A-Z]+)"\s*,\s*"([^"]+)"\s*,\s*(\w+)\s*,\s*(P_\w+)\s*,\s*(true|false)\s*,\s*(true|false)\s*(?:,\s*(true|false)\s*)?\}/g;
const routes = [...routesC.matchAll(ROUTE_RE)].map((m) => ({
  method: m[1].toLowerCase(),
  path: m[2],
  handler: m[3],
  perm: m[4],
  jsonBody: m[5] === 'true',
  idempotent: m[6] === 'true',
  testOnly: m[7] === 'true',
}));
// Every row of the table, parsed or not: a row the pattern above misses
// must fail the tests instead of silently dropping out of them.
const ROW_RE = /^\s*\{\s*"[A-Z]+"\s*,\s*"\//gm;
const rowCount = [...routesC.matchAll(ROW_RE)].length;
const key = (method, path) => `${method.toUpperCase()} ${path}`;

const operations = [];
for (const [path, item] of Object.entries(doc.paths ?? {})) {
  for (const method of METHODS) {
    if (item[method]) operations.push({ method, path, item, op: item[method] });
  }
}

// Resolves a local $ref ("#/components/...") or returns undefined.
function resolve(ref) {
  if (typeof ref !== 'string' || !ref.startsWith('#/')) return undefined;
  let node = doc;
  for (const raw of ref.slice(2).split('/')) {
    const part = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
    if (node === null || typeof node !== 'object' || !Object.hasOwn(node, part)) return undefined;
    node = node[part];
  }
  return node;
}
const deref = (v) => (v && typeof v === 'object' && typeof v.$ref === 'string' ? resolve(v.$ref) : v);

function* refs(node, where = '#') {
  if (Array.isArray(node)) {
    for (let i = 0; i < node.length; i++) yield* refs(node[i], `${where}/${i}`);
  } else if (node && typeof node === 'object') {
    for (const [k, v] of Object.entries(node)) {
      if (k === '$ref' && typeof v === 'string') yield { ref: v, where };
      else yield* refs(v, `${where}/${k}`);
    }
  }
}

// The parameters of an operation, path-level ones included, dereferenced.
const paramsOf = ({ item, op }) => [...(item.parameters ?? []), ...(op.parameters ?? [])].map(deref);
const isPublic = ({ op }) => Array.isArray(op.security) && op.security.length === 0;

test('the route table parses', () => {
  assert.ok(routes.length >= 20, `only ${routes.length} routes found in routes.c`);
  assert.equal(routes.length, rowCount, 'some rows of the route table in routes.c did not parse');
  const seen = new Set();
  for (const r of routes) {
    assert.ok(!seen.has(key(r.method, r.path)), `${key(r.method, r.path)} twice in routes.c`);
    seen.add(key(r.method, r.path));
  }
});

test('the document is OpenAPI 3.1 with info and servers', () => {
  assert.equal(typeof doc.openapi, 'string');
  assert.ok(doc.openapi.startsWith('3.1'), `openapi is ${doc.openapi}`);
  assert.equal(doc.info?.title, 'itsup');
  assert.equal(typeof doc.info?.version, 'string');
  assert.ok(Array.isArray(doc.servers) && doc.servers.length > 0);
  assert.ok(doc.components?.securitySchemes?.bearerAuth);
  assert.ok(doc.components?.securitySchemes?.cookieAuth);
});

test('every route in routes.c has an operation', () => {
  const ops = new Set(operations.map((o) => key(o.method, o.path)));
  const missing = routes.filter((r) => !ops.has(key(r.method, r.path))).map((r) => key(r.method, r.path));
  assert.deepEqual(missing, [], 'routes without an operation in docs/openapi.json');
});

test('every operation has a route in routes.c', () => {
  const rs = new Set(routes.map((r) => key(r.method, r.path)));
  const extra = operations.filter((o) => !rs.has(key(o.method, o.path))).map((o) => key(o.method, o.path));
  assert.deepEqual(extra, [], 'operations in docs/openapi.json that routes.c does not serve');
});

test('operationIds are present and unique', () => {
  const ids = new Map();
  for (const o of operations) {
    const id = o.op.operationId;
    assert.equal(typeof id, 'string', `${key(o.method, o.path)} has no operationId`);
    assert.ok(!ids.has(id), `operationId ${id} used by ${ids.get(id)} and ${key(o.method, o.path)}`);
    ids.set(id, key(o.method, o.path));
  }
});

test('every $ref resolves within the document', () => {
  const broken = [];
  for (const { ref, where } of refs(doc)) {
    if (resolve(ref) === undefined) broken.push(`${where}: ${ref}`);
  }
  assert.deepEqual(broken, []);
});

test('every operation has at least one response', () => {
  for (const o of operations) {
    const codes = Object.keys(o.op.responses ?? {});
    assert.ok(codes.length > 0, `${key(o.method, o.path)} has no responses`);
    assert.ok(codes.some((c) => /^[23]/.test(c)), `${key(o.method, o.path)} has no success response`);
  }
});

test('public routes declare security: [] and the others 401', () => {
  const perm = new Map(routes.map((r) => [key(r.method, r.path), r.perm]));
  for (const o of operations) {
    const k = key(o.method, o.path);
    if (perm.get(k) === 'P_PUBLIC') {
      assert.ok(isPublic(o), `${k} is public in routes.c: it needs security: []`);
    } else {
      assert.ok(!isPublic(o), `${k} needs a login in routes.c but is public in the document`);
      assert.ok(o.op.responses?.['401'], `${k} does not declare 401`);
    }
  }
});

test('path parameters are declared as integers', () => {
  for (const o of operations) {
    const names = [...o.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
    const params = paramsOf(o).filter((p) => p?.in === 'path');
    assert.deepEqual(params.map((p) => p.name).sort(), [...names].sort(), `${key(o.method, o.path)} path parameters`);
    for (const p of params) {
      assert.equal(p.required, true, `${key(o.method, o.path)} {${p.name}} must be required`);
      assert.equal(deref(p.schema)?.type, 'integer', `${key(o.method, o.path)} {${p.name}} must be an integer`);
    }
  }
});

test('JSON-body routes have a JSON request body, the others none', () => {
  const byKey = new Map(operations.map((o) => [key(o.method, o.path), o]));
  for (const r of routes) {
    const o = byKey.get(key(r.method, r.path));
    if (!o) continue; // reported by the drift test
    const body = deref(o.op.requestBody);
    if (r.jsonBody) {
      assert.ok(body?.content?.['application/json']?.schema, `${key(r.method, r.path)} needs a JSON requestBody`);
      assert.ok(o.op.responses?.['415'], `${key(r.method, r.path)} should declare 415`);
    } else {
      // No JSON body; a raw upload (e.g. text/calendar) is documented as such.
      assert.ok(body === undefined || !body.content?.['application/json'],
        `${key(r.method, r.path)} takes no JSON body in routes.c`);
    }
  }
});

test('routes that honour Idempotency-Key declare it', () => {
  const byKey = new Map(operations.map((o) => [key(o.method, o.path), o]));
  for (const r of routes) {
    const o = byKey.get(key(r.method, r.path));
    if (!o) continue;
    const has = paramsOf(o).some((p) => p?.in === 'header' && p.name === 'Idempotency-Key');
    assert.equal(has, r.idempotent, `${key(r.method, r.path)}: Idempotency-Key declared ${has}, routes.c says ${r.idempotent}`);
  }
});

test('request body schemas refuse unknown members', () => {
  for (const o of operations) {
    const schema = deref(deref(o.op.requestBody)?.content?.['application/json']?.schema);
    if (!schema) continue;
    assert.equal(schema.additionalProperties, false, `${key(o.method, o.path)} request body must be closed`);
  }
});

test('test-only routes are marked and say how to get them', () => {
  const byKey = new Map(operations.map((o) => [key(o.method, o.path), o]));
  for (const r of routes) {
    const o = byKey.get(key(r.method, r.path));
    if (!o) continue;
    const k = key(r.method, r.path);
    assert.equal(o.op['x-itsup-test-only'] === true, r.testOnly,
      `${k}: x-itsup-test-only must be ${r.testOnly} (routes.c test-only field)`);
    if (r.testOnly) {
      assert.match(o.op.description ?? '', /--test-clock/, `${k} must say it exists only with itsup serve --test-clock`);
      assert.ok(o.op.responses?.['404'], `${k} must declare 404 (without --test-clock)`);
    }
  }
});
