/*
 * api_auth.c: login, logout, the caller, API tokens and TOTP enrolment.
 *
 * Login decides in this order, and every refusal before the password
 * check looks the same whether or not the account exists:
 *   1. throttled (account or address)        -> 429, audited
 *   2. unknown, inactive or wrong password   -> 401, counted, audited
 *   3. TOTP enrolled and no code             -> 401 mfa-required
 *      TOTP enrolled and wrong code          -> 401, counted, audited
 *   4. ok: a new session (new id every login), CSRF token returned once.
 *      Staff without TOTP while the policy requires it get a session that
 *      may only enrol (scope.mfa_pending).
 */
#include "base/common.h"

#include "auth/auth.h"
#include "base/clock.h"
#include "base/jschema.h"
#include "base/util.h"
#include "http/http.h"

#define SESSION_COOKIE "__Host-itsup_session"

json_t *user_json(const struct user *u)
{
	json_t *o = json_object();

	json_object_set_new(o, "id", json_integer(u->id));
	json_object_set_new(o, "email", json_string(u->email));
	json_object_set_new(o, "name", json_string(u->name));
	json_object_set_new(o, "role", json_string(role_name(u->role)));
	json_object_set_new(o, "tier", u->tier ? json_integer(u->tier) : json_null());
	json_object_set_new(o, "client_id", u->client_id ? json_integer(u->client_id) : json_null());
	json_object_set_new(o, "active", json_boolean(u->active));
	json_object_set_new(o, "mfa_enabled", json_boolean(u->totp_enabled));
	json_object_set_new(o, "created_at", json_instant(u->created_at));
	json_object_set_new(o, "updated_at", json_instant(u->updated_at));
	json_object_set_new(o, "last_login_at", json_instant(u->last_login_at));
	return o;
}

/* ---- login ----------------------------------------------------------------- */

struct login_in {
	const char *email, *password, *totp;
};

static const struct jfield login_fields[] = {
	{ "email", JT_STRING, JF_REQUIRED, offsetof(struct login_in, email), 1, 254, NULL },
	{ "password", JT_STRING, JF_REQUIRED, offsetof(struct login_in, password), 1, PASSWORD_MAX, NULL },
	{ "totp", JT_STRING, JF_NULLABLE, offsetof(struct login_in, totp), 0, 16, NULL },
};

struct login_ctx {
	struct user user;
	char session[TOKEN_MAX], csrf[TOKEN_MAX];
	char account[256];
	bool mfa_pending;
};

static void login_failed_then(struct req *r)
{
	req_problem(r, 401, "invalid-credentials", "Login failed",
		    "the e-mail, password or code is not right");
}

/* Counts the failure on both counters and audits it, in one write. */
static void login_failed(struct req *r, const char *account, const char *why, int64_t user_id)
{
	req_write_init(r, W_THROTTLE, "login.failed", "user");
	throttle_key("account", account, r->w.in.throttle.key[0]);
	r->w.in.throttle.window_ms[0] = throttle_policy_of("account")->window_ms;
	throttle_key("address", r->addr, r->w.in.throttle.key[1]);
	r->w.in.throttle.window_ms[1] = throttle_policy_of("address")->window_ms;
	r->w.in.throttle.n = 2;
	r->w.in.throttle.now = clock_now_ms();
	r->w.audit.outcome = "failed";
	r->w.audit.object_id = user_id;
	r->w.audit.detail = arena_printf(r->a, "%s; account %s", why, account);
	req_write(r, login_failed_then);
}

/* ms until the counter of kind/key lets a login through (0: now); -1
 * with e set when the store does not answer. */
static int64_t throttle_check(struct req *r, const char *kind, const char *key, int64_t now,
			      struct err *e)
{
	struct throttle_slot slot = { 0, 0 };
	unsigned char k[32];
	enum result rc;

	throttle_key(kind, key, k);
	rc = store_throttle_get(r->srv->store, k, &slot.window_start, &slot.failures, e);
	if (rc == RC_NOTFOUND)
		return 0;
	if (rc != RC_OK)
		return -1;
	return throttle_wait(&slot, throttle_policy_of(kind), now);
}

static void throttled_then(struct req *r)
{
	req_problem(r, 429, "throttled", "Too many failed logins",
		    "wait before trying again; see Retry-After");
}

static void login_then(struct req *r)
{
	struct login_ctx *c = r->ctx;
	json_t *o;

	if (r->w.rc == RC_DENIED && !strcmp(r->w.err.field, "totp")) {
		/* The code was used before (on this server or another). */
		login_failed(r, c->account, "TOTP code used before", c->user.id);
		return;
	}
	if (r->w.rc != RC_OK) {
		req_fail(r, r->w.rc, &r->w.err);
		return;
	}
	req_header(r, "Set-Cookie",
		   arena_printf(r->a, SESSION_COOKIE "=%s; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age=%d",
				c->session, r->srv->cfg.session_hours * 3600));
	o = json_object();
	json_object_set_new(o, "user", user_json(&c->user));
	json_object_set_new(o, "csrf_token", json_string(c->csrf));
	json_object_set_new(o, "mfa_enrollment_required", json_boolean(c->mfa_pending));
	req_json(r, 200, o);
}

void h_login(struct req *r)
{
	struct login_in in = { 0 };
	struct jseen seen;
	json_t *errs = json_array();
	struct login_ctx *c;
	char account[256];
	int64_t now = clock_now_ms(), wait_acct, wait_addr, wait, totp_step = 0;
	struct err e;
	enum result rc;
	bool known;

	if (!jschema_parse(r->json, login_fields, ARRAY_SIZE(login_fields), &in, &seen, errs)) {
		req_invalid(r, errs);
		return;
	}
	json_decref(errs);
	str_lower(in.email, account, sizeof(account));

	wait_acct = throttle_check(r, "account", account, now, &e);
	wait_addr = wait_acct < 0 ? -1 : throttle_check(r, "address", r->addr, now, &e);
	if (wait_acct < 0 || wait_addr < 0) {
		req_fail(r, e.code, &e);
		return;
	}
	wait = wait_acct > wait_addr ? wait_acct : wait_addr;
	if (wait) {
		req_header(r, "Retry-After", arena_printf(r->a, "%" PRId64, (wait + 999) / 1000));
		req_write_init(r, W_AUDIT, "login.throttled", "user");
		r->w.audit.outcome = "denied";
		r->w.audit.detail = arena_printf(r->a, "account %s", account);
		req_write(r, throttled_then);
		return;
	}

	c = arena_alloc(r->a, sizeof(*c));
	if (!c) {
		req_fail(r, RC_NOMEM, NULL);
		return;
	}
	r->ctx = c;
	snprintf(c->account, sizeof(c->account), "%s", account);
	rc = store_user_auth(r->srv->store, account, r->a, &c->user, &e);
	if (rc != RC_OK && rc != RC_NOTFOUND) {
		req_fail(r, rc, &e);
		return;
	}
	known = rc == RC_OK && c->user.active && c->user.password_hash;
	/* password_verify(NULL, ...) spends the same time on a dummy hash. */
	if (!password_verify(known ? c->user.password_hash : NULL, in.password)) {
		login_failed(r, account, known ? "wrong password" : "unknown or inactive account",
			     rc == RC_OK ? c->user.id : 0);
		return;
	}
	if (c->user.totp_enabled) {
		if (!in.totp || !*in.totp) {
			req_problem(r, 401, "mfa-required", "Code required",
				    "this account uses an authenticator: send its 6-digit code as totp");
			return;
		}
		totp_step = totp_step_of(c->user.totp_secret, in.totp, now);
		if (!totp_step) {
			login_failed(r, account, "wrong TOTP code", c->user.id);
			return;
		}
	}

	c->mfa_pending = !c->user.totp_enabled && role_is_staff(c->user.role) &&
			 settings_mfa_required(r);
	token_new("", c->session);
	token_new("", c->csrf);
	r->scope = scope_for(c->user.id, c->user.role, c->user.tier, c->user.client_id);
	req_write_init(r, W_LOGIN, "login", "user");
	r->w.totp_step = totp_step;   /* used once: the store refuses it again */
	/* The account's failures are forgotten with the login (the address's
	 * are not: one right password must not reset a spray). */
	throttle_key("account", account, r->w.in.session.throttle_reset);
	r->w.in.session.has_throttle_reset = true;
	r->w.audit.object_id = c->user.id;
	r->w.audit.tenant_id = c->user.client_id;
	r->w.audit.detail = c->user.totp_enabled ? "password+totp"
			    : c->mfa_pending ? "password; mfa enrolment pending" : "password";
	token_hash(c->session, r->w.in.session.id_hash);
	token_hash(c->csrf, r->w.in.session.s.csrf_hash);
	r->w.in.session.s.user_id = c->user.id;
	r->w.in.session.s.created_at = now;
	r->w.in.session.s.expires_at = now + (int64_t)r->srv->cfg.session_hours * 3600 * 1000;
	r->w.in.session.s.mfa_ok = !c->mfa_pending;
	r->w.in.session.addr = r->addr;
	req_write(r, login_then);
}

/* ---- logout, me ---------------------------------------------------------------- */

static void logout_then(struct req *r)
{
	if (r->w.rc != RC_OK) {
		req_fail(r, r->w.rc, &r->w.err);
		return;
	}
	req_header(r, "Set-Cookie", SESSION_COOKIE "=; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age=0");
	req_text(r, 204, NULL, "", 0);
}

void h_logout(struct req *r)
{
	if (!r->via_cookie) {
		req_text(r, 204, NULL, "", 0);
		return;
	}
	req_write_init(r, W_SESSION_DELETE, "logout", "user");
	r->w.audit.object_id = r->scope.user_id;
	r->w.audit.tenant_id = r->scope.client_id;
	memcpy(r->w.in.session.id_hash, r->session_hash, 32);
	req_write(r, logout_then);
}

void h_me(struct req *r)
{
	struct user u;
	struct err e;
	enum result rc = store_user_get(r->srv->store, &r->scope, r->scope.user_id, r->a, &u, &e);
	json_t *o;

	if (rc != RC_OK) {
		req_fail(r, rc, &e);
		return;
	}
	o = user_json(&u);
	json_object_set_new(o, "mfa_enrollment_required", json_boolean(r->scope.mfa_pending));
	json_object_set_new(o, "auth", json_string(r->via_cookie ? "session" : "token"));
	req_json(r, 200, o);
}

/* ---- API tokens ------------------------------------------------------------------ */

struct token_in {
	const char *name;
	int64_t expires_at;
};

static const struct jfield token_fields[] = {
	{ "name", JT_STRING, JF_REQUIRED, offsetof(struct token_in, name), 1, 100, NULL },
	{ "expires_at", JT_INSTANT, JF_NULLABLE, offsetof(struct token_in, expires_at), 0, 0, NULL },
};

static void token_then(struct req *r)
{
	const char *token = r->ctx;
	json_t *o;

	if (r->w.rc != RC_OK) {
		req_fail(r, r->w.rc, &r->w.err);
		return;
	}
	o = json_object();
	json_object_set_new(o, "id", json_integer(r->w.id));
	json_object_set_new(o, "name", json_string(r->w.in.token.t.name));
	json_object_set_new(o, "token", json_string(token));
	json_object_set_new(o, "expires_at", json_instant(r->w.in.token.t.expires_at));
	req_json(r, 201, o);
}

void h_token_create(struct req *r)
{
	struct token_in in = { 0 };
	struct jseen seen;
	json_t *errs = json_array();
	char *token;

	if (!jschema_parse(r->json, token_fields, ARRAY_SIZE(token_fields), &in, &seen, errs)) {
		req_invalid(r, errs);
		return;
	}
	if (in.expires_at && in.expires_at <= clock_now_ms()) {
		jschema_error(errs, "expires_at", "must be in the future");
		req_invalid(r, errs);
		return;
	}
	json_decref(errs);
	token = arena_alloc(r->a, TOKEN_MAX);
	if (!token) {
		req_fail(r, RC_NOMEM, NULL);
		return;
	}
	token_new("itsup_", token);
	r->ctx = token;
	req_write_init(r, W_TOKEN_CREATE, "token.create", "api_token");
	r->w.audit.tenant_id = r->scope.client_id;
	r->w.audit.detail = arena_printf(r->a, "name %s", in.name);
	r->w.in.token.t.user_id = r->scope.user_id;
	r->w.in.token.t.name = in.name;
	r->w.in.token.t.expires_at = in.expires_at;
	token_hash(token, r->w.in.token.hash);
	req_write(r, token_then);
}

/* ---- TOTP enrolment ---------------------------------------------------------------- */

struct totp_ctx {
	char secret[TOTP_SECRET_MAX];
	char uri[768];
};

static void totp_enrol_then(struct req *r)
{
	struct totp_ctx *c = r->ctx;

	if (r->w.rc != RC_OK) {
		req_fail(r, r->w.rc, &r->w.err);
		return;
	}
	req_json(r, 200, json_pack("{s:s,s:s,s:s}", "secret", c->secret, "otpauth_uri", c->uri,
				   "next", "POST /api/v1/me/totp/confirm {\"code\": \"123456\"}"));
}

void h_totp_enrol(struct req *r)
{
	struct user u;
	struct err e;
	struct totp_ctx *c;
	enum result rc = store_user_auth_by_id(r->srv->store, r->scope.user_id, r->a, &u, &e);

	if (rc != RC_OK) {
		req_fail(r, rc, &e);
		return;
	}
	if (u.totp_enabled) {
		req_problem(r, 409, "conflict", "Conflict",
			    "an authenticator is already enrolled; an admin can reset it");
		return;
	}
	c = arena_alloc(r->a, sizeof(*c));
	if (!c) {
		req_fail(r, RC_NOMEM, NULL);
		return;
	}
	totp_secret_new(c->secret);
	totp_uri("itsup", u.email, c->secret, c->uri, sizeof(c->uri));
	r->ctx = c;
	req_write_init(r, W_USER_UPDATE, "mfa.enrol.start", "user");
	r->w.id = u.id;
	r->w.fields = F_TOTP;
	r->w.in.user.totp_secret = c->secret;
	r->w.in.user.totp_enabled = false;
	req_write(r, totp_enrol_then);
}

struct confirm_in {
	const char *code;
};

static const struct jfield confirm_fields[] = {
	{ "code", JT_STRING, JF_REQUIRED, offsetof(struct confirm_in, code), 1, 16, NULL },
};

static void confirm_done(struct req *r)
{
	if (r->w.rc != RC_OK) {
		req_fail(r, r->w.rc, &r->w.err);
		return;
	}
	req_json(r, 200, json_pack("{s:b}", "mfa_enabled", 1));
}

static void confirm_then(struct req *r)
{
	if (r->w.rc == RC_DENIED && !strcmp(r->w.err.field, "totp")) {
		json_t *errs = json_array();
		jschema_error(errs, "code", "was used already; wait for the next one");
		req_invalid(r, errs);
		return;
	}
	if (r->w.rc != RC_OK || !r->via_cookie) {
		confirm_done(r);
		return;
	}
	/* This session has now passed MFA. */
	req_write_init(r, W_SESSION_MFA_OK, NULL, NULL);
	memcpy(r->w.in.session.id_hash, r->session_hash, 32);
	req_write(r, confirm_done);
}

void h_totp_confirm(struct req *r)
{
	struct confirm_in in = { 0 };
	struct jseen seen;
	json_t *errs = json_array();
	struct user u;
	struct err e;
	enum result rc;
	int64_t step;

	if (!jschema_parse(r->json, confirm_fields, ARRAY_SIZE(confirm_fields), &in, &seen, errs)) {
		req_invalid(r, errs);
		return;
	}
	rc = store_user_auth_by_id(r->srv->store, r->scope.user_id, r->a, &u, &e);
	if (rc != RC_OK) {
		json_decref(errs);
		req_fail(r, rc, &e);
		return;
	}
	if (u.totp_enabled || !u.totp_secret) {
		json_decref(errs);
		req_problem(r, 409, "conflict", "Conflict",
			    u.totp_enabled ? "an authenticator is already enrolled"
					   : "start with POST /api/v1/me/totp");
		return;
	}
	step = totp_step_of(u.totp_secret, in.code, clock_now_ms());
	if (!step) {
		jschema_error(errs, "code", "is not the current code of the authenticator");
		req_invalid(r, errs);
		return;
	}
	json_decref(errs);
	req_write_init(r, W_USER_UPDATE, "mfa.enrol", "user");
	r->w.totp_step = step;
	r->w.id = u.id;
	r->w.fields = F_TOTP;
	r->w.in.user.totp_secret = u.totp_secret;
	r->w.in.user.totp_enabled = true;
	req_write(r, confirm_then);
}
