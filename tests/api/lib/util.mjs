// util.mjs: assertions and small helpers shared by the API tests.
import assert from 'node:assert/strict';
import { createHmac, randomUUID } from 'node:crypto';

/* Asserts r is an RFC 9457 problem+json answer of status; slug, when
 * given, is the last segment of its type; field, when given, must be
 * named in errors[]. Returns the body. */
export function assertProblem(r, status, { slug, field } = {}) {
  const where = `${r.status} ${r.text}`;
  assert.equal(r.status, status, where);
  assert.match(r.headers.get('content-type') || '', /^application\/problem\+json/, where);
  assert.ok(r.body, `problem body is JSON: ${where}`);
  assert.equal(typeof r.body.type, 'string', where);
  assert.equal(typeof r.body.title, 'string', where);
  assert.equal(r.body.status, status, where);
  if (slug)
    assert.ok(r.body.type.endsWith('/' + slug), `type ends with /${slug}: ${where}`);
  if (field !== undefined) {
    assert.ok(Array.isArray(r.body.errors), `errors[] present: ${where}`);
    for (const e of r.body.errors) {
      assert.equal(typeof e.field, 'string', where);
      assert.equal(typeof e.message, 'string', where);
    }
    assert.ok(r.body.errors.some((e) => e.field === field), `errors[] names ${field}: ${where}`);
  }
  return r.body;
}

export function assertStatus(r, status) {
  assert.equal(r.status, status, `${r.status} ${r.text}`);
  return r.body;
}

export const uniq = (prefix = 'x') => `${prefix}-${randomUUID().slice(0, 8)}`;

/* ---- TOTP (RFC 6238: HMAC-SHA1, 30 s steps, 6 digits) ------------------------ */

export function base32Decode(s) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  const clean = s.toUpperCase().replace(/[\s=]/g, '');
  let bits = 0, value = 0;
  const out = [];
  for (const ch of clean) {
    const v = alphabet.indexOf(ch);
    if (v < 0)
      throw new Error(`not base32: ${ch}`);
    value = (value << 5) | v;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

export function totp(secretB32, atMs = Date.now(), step = 30, digits = 6) {
  const counter = Math.floor(atMs / 1000 / step);
  const msg = Buffer.alloc(8);
  msg.writeBigUInt64BE(BigInt(counter));
  const h = createHmac('sha1', base32Decode(secretB32)).update(msg).digest();
  const off = h[h.length - 1] & 0x0f;
  const bin = ((h[off] & 0x7f) << 24) | (h[off + 1] << 16) | (h[off + 2] << 8) | h[off + 3];
  return String(bin % 10 ** digits).padStart(digits, '0');
}

/* A 6-digit code that is not valid now (nor one step either side). */
export function wrongTotp(secretB32, atMs = Date.now()) {
  const valid = new Set([-1, 0, 1].map((d) => totp(secretB32, atMs + d * 30000)));
  for (let i = 0; ; i++) {
    const c = String((123456 + i * 7919) % 1000000).padStart(6, '0');
    if (!valid.has(c))
      return c;
  }
}
