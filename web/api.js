// api.js: the public API from the browser. JSON in and out, the session
// cookie (HttpOnly, set by the server), the CSRF header on every change,
// and RFC 9457 problems turned into ApiError with the fields they name.

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail || problem?.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem || {};
    this.fields = {};
    for (const e of this.problem.errors || [])
      this.fields[e.field] = e.message;
  }
}

const CSRF_KEY = 'itsup.csrf';

export const session = {
  get csrf() { return sessionStorage.getItem(CSRF_KEY); },
  set csrf(v) { if (v) sessionStorage.setItem(CSRF_KEY, v); else sessionStorage.removeItem(CSRF_KEY); },
  user: null,
};

/* The server's clock, from the Date of its answers (the SLA countdowns
 * follow it, not a browser clock that may be off). */
let skew = 0;
export const serverNow = () => Date.now() + skew;

let unauthorized = () => {};
/* fn runs when a call answers 401 (the session ended). */
export function onUnauthorized(fn) { unauthorized = fn; }

/* A body is sent as JSON, unless it is a Raw (a file, say, with its type). */
export class Raw {
  constructor(type, data) { this.type = type; this.data = data; }
}

export async function api(method, path, body, headers = {}) {
  const h = { Accept: 'application/json', ...headers };
  const raw = body instanceof Raw;
  if (body !== undefined)
    h['Content-Type'] = raw ? body.type : 'application/json';
  if (method !== 'GET' && session.csrf)
    h['X-CSRF-Token'] = session.csrf;
  const res = await fetch(path, {
    method, headers: h, credentials: 'same-origin',
    body: body === undefined ? undefined : raw ? body.data : JSON.stringify(body),
  });
  const date = Date.parse(res.headers.get('Date') || '');
  if (!Number.isNaN(date))
    skew = date - Date.now();
  const text = await res.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = null; }
  if (!res.ok) {
    const err = new ApiError(res.status, data);
    if (res.status === 401 && !path.endsWith('/auth/login'))
      unauthorized(err);
    throw err;
  }
  return { data, etag: res.headers.get('ETag'), headers: res.headers };
}

export const get = async (p) => (await api('GET', p)).data;
export const post = async (p, b) => (await api('POST', p, b)).data;
export const patch = async (p, b, etag) => (await api('PATCH', p, b, etag ? { 'If-Match': etag } : {})).data;
export const del = async (p) => (await api('DELETE', p)).data;

/* A query string from an object, leaving out empty values. */
export function qs(o) {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(o))
    if (v !== undefined && v !== null && v !== '' && v !== false)
      p.set(k, String(v));
  const s = p.toString();
  return s ? `?${s}` : '';
}
