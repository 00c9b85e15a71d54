/*
 * server.c: the libmicrohttpd adapter, the middleware, and the helpers
 * handlers answer with.
 *
 * Request states (r->state)
 *
 *   NEW --body chunks--> NEW --last call--> dispatch()
 *     dispatch answers at once ............................ -> ANSWERED
 *     dispatch calls req_write(): suspend, submit ......... -> WAITING
 *   WAITING --store commits, write_done(): resume--> handler called again
 *     then(r) answers ..................................... -> ANSWERED
 *     then(r) calls req_write() again ..................... -> WAITING
 *   ANSWERED --response sent--> completed(): log, metrics, arena freed.
 *
 * Invariants
 *  1. A connection is suspended before its write is submitted, so the
 *     writer's resume can never come first.
 *  2. Every response carries the security headers (add_common_headers).
 *  3. Nothing state-changing happens on GET; a cookie session needs the
 *     CSRF header on every other method.
 *  4. The request log names the route pattern, never the raw URL.
 */
#include "base/common.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "auth/auth.h"
#include "base/clock.h"
#include "base/log.h"
#include "base/util.h"
#include "http/http.h"

#include <sodium.h>

enum { RQ_NEW, RQ_WAITING, RQ_ANSWERED };

#define SESSION_COOKIE "__Host-itsup_session"
#define PROBLEM_BASE "https://itsup.dev/problems/"
#define ARENA_CEILING (16u << 20)

static const char *const security_headers[][2] = {
	{ "Content-Security-Policy",
	  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
	  "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'" },
	{ "X-Content-Type-Options", "nosniff" },
	{ "X-Frame-Options", "DENY" },
	{ "Referrer-Policy", "no-referrer" },
	{ "Cross-Origin-Opener-Policy", "same-origin" },
	{ "Cross-Origin-Resource-Policy", "same-origin" },
	{ "Permissions-Policy", "camera=(), microphone=(), geolocation=()" },
	{ "Cache-Control", "no-store" },
};

/* ---- answering ------------------------------------------------------------ */

/* RFC 9110 IMF-fixdate, "Tue, 24 Nov 2026 14:00:00 GMT". */
static void http_date(int64_t ms, char out[40])
{
	static const char *const wd[7] = { "Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed" };
	static const char *const mo[12] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug",
					    "Sep", "Oct", "Nov", "Dec" };
	int64_t days = ms / 86400000, secs = (ms / 1000) % 86400, y;
	unsigned m, d;

	civil_from_days(days, &y, &m, &d);
	snprintf(out, 40, "%s, %02u %s %04" PRId64 " %02d:%02d:%02d GMT", wd[((days % 7) + 7) % 7], d,
		 mo[(m - 1) % 12], y, (int)(secs / 3600), (int)(secs / 60 % 60), (int)(secs % 60));
}

void req_header(struct req *r, const char *name, const char *value)
{
	if (r->nhdrs < REQ_MAX_HEADERS) {
		r->hdrs[r->nhdrs].name = name;
		r->hdrs[r->nhdrs].value = value;
		r->nhdrs++;
	}
}

void req_text(struct req *r, int status, const char *ctype, const char *text, size_t len)
{
	static const char nomem[] = "{\"type\":\"https://itsup.dev/problems/internal\","
				    "\"title\":\"Internal error\",\"status\":500,"
				    "\"detail\":\"the answer does not fit in memory\"}";

	r->status = status;
	r->ctype = ctype;
	r->out = arena_strndup(r->a, text, len);
	r->out_len = r->out ? len : 0;
	if (!r->out) {                      /* never a truncated 200 */
		r->status = 500;
		r->ctype = "application/problem+json";
		r->out = (char *)nomem;
		r->out_len = sizeof(nomem) - 1;
	}
	r->state = RQ_ANSWERED;
}

void req_json(struct req *r, int status, json_t *v)
{
	/* 15 significant digits: a decimal such as 0.7 reads back as written
	 * (17 would print 0.69999999999999996). */
	char *s = json_dumps(v, JSON_COMPACT | JSON_REAL_PRECISION(15));

	json_decref(v);
	if (!s) {
		req_text(r, 500, "application/problem+json",
			 "{\"type\":\"" PROBLEM_BASE "internal\",\"title\":\"Internal error\",\"status\":500}",
			 strlen("{\"type\":\"" PROBLEM_BASE "internal\",\"title\":\"Internal error\",\"status\":500}"));
		return;
	}
	req_text(r, status, "application/json", s, strlen(s));
	free(s);
}

static void problem(struct req *r, int status, const char *slug, const char *title,
		    const char *detail, json_t *errs)
{
	json_t *p = json_pack("{s:s+,s:s,s:i}", "type", PROBLEM_BASE, slug, "title", title,
			      "status", status);

	/* Every problem has a detail (DESIGN.md section 7), if only the title. */
	json_object_set_new(p, "detail", json_string(detail ? detail : title));
	if (errs)
		json_object_set_new(p, "errors", errs);
	req_json(r, status, p);
	r->ctype = "application/problem+json";
}

void req_problem(struct req *r, int status, const char *slug, const char *title,
		 const char *detail)
{
	problem(r, status, slug, title, detail, NULL);
}

void req_invalid(struct req *r, json_t *errs)
{
	problem(r, 400, "validation", "Invalid request",
		"One or more fields are invalid; see errors.", errs);
}

int result_status(enum result rc)
{
	static const int map[] = {
		[RC_OK] = 200,        [RC_INVALID] = 400, [RC_NOTFOUND] = 404,
		[RC_CONFLICT] = 409,  [RC_DENIED] = 403,  [RC_STALE] = 412,
		[RC_BUSY] = 503,      [RC_NOMEM] = 500,   [RC_IO] = 500,
	};
	return (size_t)rc < ARRAY_SIZE(map) ? map[rc] : 500;
}

void req_fail(struct req *r, enum result rc, const struct err *e)
{
	static const struct { const char *slug, *title; } names[] = {
		[RC_OK] = { "ok", "OK" },
		[RC_INVALID] = { "validation", "Invalid request" },
		[RC_NOTFOUND] = { "not-found", "Not found" },
		[RC_CONFLICT] = { "conflict", "Conflict" },
		[RC_DENIED] = { "forbidden", "Forbidden" },
		[RC_STALE] = { "precondition-failed", "Precondition failed" },
		[RC_BUSY] = { "unavailable", "Service unavailable" },
		[RC_NOMEM] = { "internal", "Internal error" },
		[RC_IO] = { "internal", "Internal error" },
	};
	int status = result_status(rc);
	const char *detail = e && e->msg[0] ? e->msg : NULL;
	json_t *errs = NULL;

	if ((size_t)rc >= ARRAY_SIZE(names))
		rc = RC_IO;
	if (rc == RC_IO || rc == RC_NOMEM) {
		/* Internal details go to the log, not to the caller. */
		log_msg(LOG_ERROR, "internal error", "%s", detail ? detail : "");
		detail = NULL;
	}
	if (e && e->field[0] && (rc == RC_INVALID || rc == RC_CONFLICT)) {
		errs = json_array();
		json_array_append_new(errs, json_pack("{s:s,s:s}", "field", e->field,
						      "message", e->msg));
	}
	if (rc == RC_BUSY)
		req_header(r, "Retry-After", "1");
	problem(r, status, names[rc].slug, names[rc].title, detail, errs);
}

/* ---- writes ------------------------------------------------------------------ */

static void write_done(struct store_write *w)
{
	struct req *r = w->arg;

	struct server *s = r->srv;

	/* On the store's thread: only wake the connection up. The count
	 * drops after the resume, so server_stop() never stops the daemon
	 * while a resume is still to come. */
	MHD_resume_connection(r->conn);
	__atomic_sub_fetch(&s->inflight, 1, __ATOMIC_SEQ_CST);
}

void req_write_init(struct req *r, enum store_wkind kind, const char *action,
		    const char *object_type)
{
	/* The Idempotency-Key read by the middleware survives the reset. */
	const char *key = r->w.idem_key;
	unsigned char fp[32];

	memcpy(fp, r->w.idem_fp, 32);
	store_write_init(&r->w, kind, &r->scope);
	r->w.idem_key = key;
	memcpy(r->w.idem_fp, fp, 32);
	r->w.audit.action = action;
	r->w.audit.object_type = object_type;
	r->w.audit.addr = r->addr;
}

void req_written_204(struct req *r)
{
	if (r->w.rc != RC_OK) {
		req_fail(r, r->w.rc, &r->w.err);
		return;
	}
	req_text(r, 204, NULL, "", 0);
}

void req_write(struct req *r, handler_fn then)
{
	r->then = then;
	r->state = RQ_WAITING;
	r->w.done = write_done;
	r->w.arg = r;
	__atomic_add_fetch(&r->srv->inflight, 1, __ATOMIC_SEQ_CST);
	MHD_suspend_connection(r->conn);
	store_submit(r->srv->store, &r->w);
}

static void deny_then(struct req *r)
{
	req_problem(r, 403, "forbidden", "Forbidden", r->w.audit.detail);
}

void req_deny(struct req *r, const char *why)
{
	req_write_init(r, W_AUDIT, "permission.denied", "route");
	r->w.idem_key = NULL;
	r->w.audit.outcome = "denied";
	r->w.audit.tenant_id = r->scope.client_id;
	r->w.audit.detail = arena_printf(r->a, "%s %s: %s", r->method,
					 r->route ? r->route->pattern : "?", why);
	req_write(r, deny_then);
}

/* ---- request helpers ---------------------------------------------------------- */

const char *req_query(struct req *r, const char *name)
{
	return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
}

const char *req_header_in(struct req *r, const char *name)
{
	return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

bool req_page(struct req *r, struct list_q *q)
{
	const char *limit = req_query(r, "limit"), *cursor = req_query(r, "cursor");
	json_t *errs = json_array();
	int64_t v;

	memset(q, 0, sizeof(*q));
	q->limit = 50;
	if (limit) {
		if (!parse_i64(limit, &v) || v < 1 || v > 500)
			json_array_append_new(errs, json_pack("{s:s,s:s}", "field", "limit",
							      "message", "must be a number from 1 to 500"));
		else
			q->limit = (int)v;
	}
	if (cursor) {
		if (!parse_i64(cursor, &v) || v < 0)
			json_array_append_new(errs, json_pack("{s:s,s:s}", "field", "cursor",
							      "message", "is not a cursor this server gave"));
		else
			q->after = v;
	}
	if (json_array_size(errs)) {
		req_invalid(r, errs);
		return false;
	}
	json_decref(errs);
	return true;
}

bool req_if_match(struct req *r, int64_t *version)
{
	const char *h = req_header_in(r, "If-Match");
	char tmp[32];
	size_t n;

	*version = 0;
	if (!h || !strcmp(h, "*"))
		return true;
	n = strlen(h);
	if (n >= 4 && n < sizeof(tmp) && h[0] == '"' && h[1] == 'v' && h[n - 1] == '"') {
		memcpy(tmp, h + 2, n - 3);
		tmp[n - 3] = '\0';
		if (parse_i64(tmp, version) && *version > 0)
			return true;
	}
	req_problem(r, 400, "validation", "Invalid request",
		    "If-Match must be an ETag this server gave, such as \"v3\"");
	return false;
}

void req_etag(struct req *r, int64_t version)
{
	req_header(r, "ETag", arena_printf(r->a, "\"v%" PRId64 "\"", version));
}

json_t *page_json(json_t *items, int64_t next_after)
{
	json_t *o = json_object();

	json_object_set_new(o, "items", items);
	if (next_after)
		json_object_set_new(o, "next_cursor", json_sprintf("%" PRId64, next_after));
	else
		json_object_set_new(o, "next_cursor", json_null());
	return o;
}

bool req_idempotency(struct req *r)
{
	const char *k = req_header_in(r, "Idempotency-Key");
	crypto_hash_sha256_state st;

	if (!k)
		return true;
	if (!*k || strlen(k) > 255 || !text_valid(k, false)) {
		req_problem(r, 400, "validation", "Invalid request",
			    "Idempotency-Key must be 1 to 255 printable characters");
		return false;
	}
	r->w.idem_key = k;
	/* The request's fingerprint: method, path and body. */
	crypto_hash_sha256_init(&st);
	crypto_hash_sha256_update(&st, (const unsigned char *)r->method, strlen(r->method) + 1);
	crypto_hash_sha256_update(&st, (const unsigned char *)r->url, strlen(r->url) + 1);
	crypto_hash_sha256_update(&st, (const unsigned char *)buf_str(&r->body), r->body.len);
	crypto_hash_sha256_final(&st, r->w.idem_fp);
	return true;
}

json_t *json_instant(int64_t ms)
{
	char t[32];

	if (!ms)
		return json_null();
	time_format(ms, t);
	return json_string_nocheck(t);   /* ASCII by construction */
}

json_t *json_str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

/* ---- middleware ------------------------------------------------------------ */

static bool method_changes_state(const char *m)
{
	return strcmp(m, "GET") && strcmp(m, "HEAD");
}

/* The scope of an active user. */
static bool set_principal(struct req *r, const struct user *u)
{
	if (!u->active)
		return false;
	r->scope = scope_for(u->id, u->role, u->tier, u->client_id);
	return true;
}

static void authenticate(struct req *r)
{
	const char *authz = req_header_in(r, "Authorization");
	const char *cookie = MHD_lookup_connection_value(r->conn, MHD_COOKIE_KIND, SESSION_COOKIE);
	int64_t now = clock_now_ms();
	struct user u;
	struct err e;

	if (authz && strncasecmp(authz, "Bearer ", 7) == 0) {
		struct api_token t;
		unsigned char h[32];
		token_hash(authz + 7, h);
		if (store_token_get(r->srv->store, h, r->a, &t, &u, &e) != RC_OK)
			return;
		if (t.expires_at && t.expires_at <= now)
			return;
		r->authed = set_principal(r, &u);
		return;
	}
	if (cookie && *cookie) {
		token_hash(cookie, r->session_hash);
		if (store_session_get(r->srv->store, r->session_hash, r->a, &r->session, &u, &e) != RC_OK)
			return;
		if (r->session.expires_at <= now || !set_principal(r, &u))
			return;
		r->authed = true;
		r->via_cookie = true;
		r->scope.mfa_pending = !r->session.mfa_ok;
	}
}

/* Every query parameter's name and value must be UTF-8 (text reaches the
 * store, and PostgreSQL refuses invalid UTF-8 where SQLite would store
 * it): the first that is not is a 400 naming it. jansson's json_string()
 * is the validator (it refuses invalid UTF-8). */
struct utf8_scan { const char *bad; };

static enum MHD_Result utf8_arg(void *cls, enum MHD_ValueKind kind, const char *key,
				const char *value)
{
	struct utf8_scan *u = cls;
	const char *parts[2] = { key, value };

	UNUSED(kind);
	for (int i = 0; i < 2; i++) {
		json_t *t;
		if (!parts[i])
			continue;
		t = json_string(parts[i]);
		if (!t) {
			u->bad = key;
			return MHD_NO;
		}
		json_decref(t);
	}
	return MHD_YES;
}

static bool query_utf8(struct req *r)
{
	struct utf8_scan u = { NULL };
	json_t *errs;

	MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, utf8_arg, &u);
	if (!u.bad)
		return true;
	errs = json_array();
	{
		json_t *k = json_string(u.bad);
		json_array_append_new(errs, json_pack("{s:s,s:s}", "field", k ? u.bad : "query",
						      "message", "must be UTF-8 text"));
		json_decref(k);
	}
	req_invalid(r, errs);
	return false;
}

static bool csrf_ok(struct req *r)
{
	const char *h = req_header_in(r, "X-CSRF-Token");
	unsigned char hh[32];

	if (!h || !*h)
		return false;
	token_hash(h, hh);
	return hash_equal(hh, r->session.csrf_hash);
}

static bool perm_ok(enum perm p, const struct scope *s)
{
	switch (p) {
	case P_PUBLIC:
	case P_ENROL:
	case P_USER:
		return true;
	case P_STAFF:
		return role_is_staff(s->role);
	case P_DISPATCH:
		return s->role == ROLE_ADMIN || s->role == ROLE_DISPATCHER;
	case P_ADMIN:
		return s->role == ROLE_ADMIN;
	}
	return false;
}

/* The body ceiling of a path: mail intake takes whole messages, the
 * history import whole files. */
static long body_ceiling(const struct server *s, const char *url)
{
	if (url && !strcmp(url, IMPORT_TICKETS_PATH))
		return s->cfg.import_max_bytes;
	return url && !strcmp(url, MAIL_INBOUND_PATH) ? s->cfg.mail_max_bytes : s->cfg.max_body;
}

static void dispatch(struct req *r)
{
	const char *path = r->url;
	const struct route *rt = NULL;
	bool path_matched = false;
	char allow[64] = "";

	if (web_serve(r, path))
		return;
	for (size_t i = 0; i < routes_count; i++) {
		int64_t params[REQ_MAX_PARAMS];
		if (routes[i].test_only && !r->srv->cfg.test_clock)
			continue;
		if (route_match(routes[i].pattern, path, params, REQ_MAX_PARAMS) < 0)
			continue;
		path_matched = true;
		if (strcmp(routes[i].method, r->method) == 0 ||
		    (!strcmp(r->method, "HEAD") && !strcmp(routes[i].method, "GET"))) {
			rt = &routes[i];
			r->route_idx = (int)i;
			memcpy(r->params, params, sizeof(params));
			break;
		}
		size_t n = strlen(allow);
		snprintf(allow + n, sizeof(allow) - n, "%s%s", n ? ", " : "", routes[i].method);
	}
	if (!rt) {
		if (path_matched) {
			req_header(r, "Allow", arena_strdup(r->a, allow));
			req_problem(r, 405, "method-not-allowed", "Method not allowed",
				    arena_printf(r->a, "%s is not allowed here; see Allow", r->method));
		} else {
			req_problem(r, 404, "not-found", "Not found", "no such path");
		}
		return;
	}
	r->route = rt;

	if (r->body_too_big) {
		req_problem(r, 413, "too-large", "Request body too large",
			    arena_printf(r->a, "the body may be at most %ld bytes",
					 body_ceiling(r->srv, r->url)));
		return;
	}

	if (rt->perm != P_PUBLIC) {
		authenticate(r);
		if (!r->authed) {
			req_header(r, "WWW-Authenticate", "Bearer realm=\"itsup\"");
			req_problem(r, 401, "unauthenticated", "Authentication required",
				    "log in, or send Authorization: Bearer TOKEN");
			return;
		}
		if (r->via_cookie && method_changes_state(r->method) && !csrf_ok(r)) {
			req_deny(r, "missing or wrong X-CSRF-Token");
			return;
		}
		if (r->scope.mfa_pending && rt->perm != P_ENROL) {
			req_problem(r, 403, "mfa-enrolment-required", "MFA enrolment required",
				    "enrol an authenticator at POST /api/v1/me/totp first");
			return;
		}
		if (!perm_ok(rt->perm, &r->scope)) {
			req_deny(r, "role not allowed");
			return;
		}
	}

	if (rt->json_body) {
		const char *ct = req_header_in(r, "Content-Type");
		json_error_t je;
		if (!ct || strncasecmp(ct, "application/json", 16) != 0) {
			req_problem(r, 415, "unsupported-media-type", "Unsupported media type",
				    "send Content-Type: application/json");
			return;
		}
		r->json = json_loadb(buf_str(&r->body), r->body.len, JSON_REJECT_DUPLICATES, &je);
		if (!r->json) {
			req_problem(r, 400, "malformed-json", "Malformed JSON",
				    arena_printf(r->a, "line %d, column %d: %s", je.line,
						 je.column, je.text));
			return;
		}
		arena_defer(r->a, (void (*)(void *))json_decref, r->json);
		if (!json_is_object(r->json)) {
			json_t *errs = json_array();
			json_array_append_new(errs, json_pack("{s:s,s:s}", "field", "",
							      "message", "the body must be a JSON object"));
			req_invalid(r, errs);
			return;
		}
	}
	if (!query_utf8(r))
		return;
	if (rt->idempotent && !req_idempotency(r))
		return;
	rt->fn(r);
}

/* ---- libmicrohttpd callbacks -------------------------------------------------- */

/* The security headers; a header the handler set itself (the UI's assets
 * set Cache-Control) replaces the default of that name. */
static void add_common_headers(struct MHD_Response *resp, const struct req *r)
{
	for (size_t i = 0; i < ARRAY_SIZE(security_headers); i++) {
		bool own = false;
		for (int k = 0; k < r->nhdrs; k++)
			own = own || (r->hdrs[k].value && !strcasecmp(r->hdrs[k].name, security_headers[i][0]));
		if (!own)
			MHD_add_response_header(resp, security_headers[i][0], security_headers[i][1]);
	}
}

static enum MHD_Result send_answer(struct req *r)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;

	if (r->state != RQ_ANSWERED)
		req_problem(r, 500, "internal", "Internal error", NULL);
	resp = MHD_create_response_from_buffer(r->out_len, r->out, MHD_RESPMEM_PERSISTENT);
	if (!resp)
		return MHD_NO;
	add_common_headers(resp, r);
	if (clock_is_test()) {
		/* The test clock's time, so a browser's countdowns follow it
		 * (libmicrohttpd adds the real one otherwise). */
		char date[40];
		http_date(clock_now_ms(), date);
		MHD_add_response_header(resp, "Date", date);
	}
	if (r->ctype)
		MHD_add_response_header(resp, "Content-Type", r->ctype);
	for (int i = 0; i < r->nhdrs; i++)
		if (r->hdrs[i].value)
			MHD_add_response_header(resp, r->hdrs[i].name, r->hdrs[i].value);
	ret = MHD_queue_response(r->conn, (unsigned)r->status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static void client_addr(struct MHD_Connection *c, char out[64])
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = ci ? ci->client_addr : NULL;

	snprintf(out, 64, "unknown");
	if (!sa)
		return;
	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, out, 64);
	else if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, out, 64);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version,
				  const char *upload_data, size_t *upload_data_size,
				  void **con_cls)
{
	struct server *s = cls;
	struct req *r = *con_cls;

	UNUSED(version);
	if (!r) {
		/* A message's decoded parts and the write hold a few copies
		 * (the intake, and a held message read back or filed). */
		bool mail = !strncmp(url, MAIL_INBOUND_PATH, strlen(MAIL_INBOUND_PATH));
		bool report = !strncmp(url, "/api/v1/reports/", 16);  /* CSV without a row cap */
		struct arena *a = arena_new(mail ? ARENA_CEILING + 4 * (size_t)s->cfg.mail_max_bytes
					    : report ? (size_t)1 << 30 : ARENA_CEILING);
		if (!a)
			return MHD_NO;
		r = arena_alloc(a, sizeof(*r));
		if (!r) {
			arena_free(a);
			return MHD_NO;
		}
		r->a = a;
		r->srv = s;
		r->conn = conn;
		r->url = url;
		r->method = method;
		r->route_idx = -1;
		r->t0_ns = clock_mono_ns();
		r->state = RQ_NEW;
		buf_init(&r->body, (size_t)body_ceiling(s, url));
		client_addr(conn, r->addr);
		*con_cls = r;
		/* A whole message (or an import file) is taken only from a
		 * caller who may post one: the credentials are checked on the
		 * headers, and without them the body is not kept (the answer is
		 * the 401 or 403 of dispatch). */
		if ((!strcmp(url, MAIL_INBOUND_PATH) || !strcmp(url, IMPORT_TICKETS_PATH)) &&
		    !strcmp(method, "POST")) {
			store_read_begin(s->store);
			authenticate(r);
			store_read_end(s->store);
			r->discard_body = !r->authed || (!strcmp(url, IMPORT_TICKETS_PATH) &&
							 r->scope.role != ROLE_ADMIN);
			r->authed = false;   /* dispatch authenticates as for any route */
		}
		return MHD_YES;
	}
	if (*upload_data_size) {
		if (!r->discard_body && !r->body_too_big &&
		    buf_append(&r->body, upload_data, *upload_data_size) != RC_OK)
			r->body_too_big = true;
		*upload_data_size = 0;
		return MHD_YES;
	}
	/* The request's reads share one snapshot; it ends before the thread
	 * goes on to other connections. */
	store_read_begin(s->store);
	if (r->state == RQ_NEW) {
		dispatch(r);
	} else if (r->state == RQ_WAITING) {
		/* Resumed: the write committed (or failed). */
		r->state = RQ_NEW;
		r->then(r);
	}
	store_read_end(s->store);
	if (r->state == RQ_WAITING)
		return MHD_YES;
	return send_answer(r);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct req *r = *con_cls;
	int64_t ns;

	UNUSED(cls);
	UNUSED(conn);
	if (!r)
		return;
	ns = clock_mono_ns() - r->t0_ns;
	if (r->state != RQ_ANSWERED)
		r->status = toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? r->status : 499;
	metrics_record(r->route_idx, r->status, ns);
	log_request(r->method, r->route ? r->route->pattern : "-", r->status, (double)ns / 1e6,
		    r->addr, r->scope.user_id);
	buf_release(&r->body);
	arena_free(r->a);
	*con_cls = NULL;
}

static bool parse_listen(const char *listen, struct sockaddr_in *sa, struct err *e)
{
	char host[64];
	const char *colon = strrchr(listen, ':');
	int64_t port;

	memset(sa, 0, sizeof(*sa));
	if (!colon || (size_t)(colon - listen) >= sizeof(host) || !parse_i64(colon + 1, &port) ||
	    port < 0 || port > 65535) {
		err_set(e, RC_INVALID, "listen", "listen must be HOST:PORT, e.g. 127.0.0.1:8080");
		return false;
	}
	memcpy(host, listen, (size_t)(colon - listen));
	host[colon - listen] = '\0';
	sa->sin_family = AF_INET;
	sa->sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, host, &sa->sin_addr) != 1) {
		err_set(e, RC_INVALID, "listen", "listen host must be an IPv4 address, e.g. 127.0.0.1");
		return false;
	}
	return true;
}

enum result server_start(struct server *s, struct err *e)
{
	struct sockaddr_in sa, bound;
	socklen_t blen = sizeof(bound);
	const union MHD_DaemonInfo *info;
	char host[32];

	if (!parse_listen(s->cfg.listen, &sa, e))
		return RC_INVALID;
	metrics_init(routes_count);
	s->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC |
					MHD_ALLOW_SUSPEND_RESUME,
				0, NULL, NULL, on_request, s,
				MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
				MHD_OPTION_THREAD_POOL_SIZE, (unsigned int)s->cfg.threads,
				MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
				MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)60,
				MHD_OPTION_CONNECTION_LIMIT, (unsigned int)4096,
				MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(256 * 1024),
				MHD_OPTION_END);
	if (!s->d)
		return err_set(e, RC_IO, "listen", "cannot listen on %s", s->cfg.listen);
	info = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_LISTEN_FD);
	if (info && getsockname(info->listen_fd, (struct sockaddr *)&bound, &blen) == 0) {
		inet_ntop(AF_INET, &bound.sin_addr, host, sizeof(host));
		snprintf(s->bound, sizeof(s->bound), "%s:%u", host, ntohs(bound.sin_port));
	} else {
		snprintf(s->bound, sizeof(s->bound), "%s", s->cfg.listen);
	}
	return RC_OK;
}

void server_stop(struct server *s)
{
	if (s->d) {
		/* Stop accepting, let every write in flight commit and resume
		 * its connection, then stop. */
		MHD_socket fd = MHD_quiesce_daemon(s->d);
		for (int i = 0; i < 3000 && __atomic_load_n(&s->inflight, __ATOMIC_SEQ_CST); i++) {
			struct timespec ts = { 0, 10 * 1000 * 1000 };
			nanosleep(&ts, NULL);
		}
		MHD_stop_daemon(s->d);
		if (fd != MHD_INVALID_SOCKET)
			close(fd);
		s->d = NULL;
	}
}
