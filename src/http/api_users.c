/*
 * api_users.c: logins and their roles.
 *
 * Who may do what (decided by auth_may_manage_user and auth_role_shape_ok,
 * pure functions in auth/):
 *   admin         any user, any role
 *   client_admin  client roles of their own organisation
 *   anyone        themselves: name; e-mail and password with the current password
 * Staff may list and read every user; client admins their organisation's;
 * client users and client IT only themselves (others are 404). Nobody
 * changes their own role, activity or MFA through the API (no lock-out by
 * accident; another admin or the CLI can).
 */
#include "base/common.h"

#include <ctype.h>

#include "auth/auth.h"
#include "base/jschema.h"
#include "http/http.h"

static const char *const role_choices[] = { "admin", "dispatcher", "technician", "client_admin",
					    "client_user", "client_it", NULL };

struct user_in {
	const char *email, *name, *role, *password, *current_password;
	int64_t tier, client_id;
	bool active, mfa_reset;
};

enum { UF_EMAIL, UF_NAME, UF_ROLE, UF_TIER, UF_CLIENT, UF_ACTIVE, UF_PASSWORD, UF_CURRENT, UF_MFA_RESET };

static const struct jfield user_fields[] = {
	[UF_EMAIL] = { "email", JT_EMAIL, 0, offsetof(struct user_in, email), 3, 254, NULL },
	[UF_NAME] = { "name", JT_STRING, 0, offsetof(struct user_in, name), 1, 200, NULL },
	[UF_ROLE] = { "role", JT_ENUM, 0, offsetof(struct user_in, role), 0, 0, role_choices },
	[UF_TIER] = { "tier", JT_INT, JF_NULLABLE, offsetof(struct user_in, tier), 1, 3, NULL },
	[UF_CLIENT] = { "client_id", JT_INT, JF_NULLABLE, offsetof(struct user_in, client_id), 1, INT64_MAX, NULL },
	[UF_ACTIVE] = { "active", JT_BOOL, 0, offsetof(struct user_in, active), 0, 0, NULL },
	[UF_PASSWORD] = { "password", JT_STRING, JF_NULLABLE, offsetof(struct user_in, password), 0, PASSWORD_MAX, NULL },
	[UF_CURRENT] = { "current_password", JT_STRING, 0, offsetof(struct user_in, current_password), 0, PASSWORD_MAX, NULL },
	[UF_MFA_RESET] = { "mfa_reset", JT_BOOL, 0, offsetof(struct user_in, mfa_reset), 0, 0, NULL },
};

#define HAS(seen, f) (((seen).present >> (f)) & 1u)

static const char *lower_email(struct req *r, const char *email)
{
	char *s = arena_strdup(r->a, email);

	for (char *p = s; p && *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return s;
}

/* Adds the problem of e (a struct err with a field) to errs. */
static void err_to(json_t *errs, const struct err *e)
{
	jschema_error(errs, e->field[0] ? e->field : "", e->msg);
}

static void user_answer(struct req *r, int64_t id, int status)
{
	struct user u;
	struct err e;
	enum result rc = store_user_get(r->srv->store, &r->scope, id, r->a, &u, &e);

	if (rc != RC_OK) {
		req_fail(r, rc, &e);
		return;
	}
	req_etag(r, u.version);
	if (status == 201)
		req_header(r, "Location", arena_printf(r->a, "/api/v1/users/%" PRId64, u.id));
	req_json(r, status, user_json(&u));
}

static void written_user(struct req *r)
{
	if (r->w.rc != RC_OK) {
		req_fail(r, r->w.rc, &r->w.err);
		return;
	}
	if (r->w.replayed)
		req_header(r, "Idempotent-Replayed", "true");
	user_answer(r, r->w.id, r->w.kind == W_USER_CREATE ? 201 : 200);
}

/* Hashes in.password into the arena; false (answered) when it fails. */
static bool hash_password(struct req *r, const char *password, const char **out)
{
	char *h = arena_alloc(r->a, PWHASH_MAX);
	struct err e;

	if (!h || password_hash(password, h, &e) != RC_OK) {
		req_fail(r, RC_NOMEM, NULL);
		return false;
	}
	*out = h;
	return true;
}

void h_user_create(struct req *r)
{
	struct user_in in = { 0 };
	struct jseen seen;
	json_t *errs = json_array();
	struct user *u = &r->w.in.user;
	struct err e;
	enum role role;
	const char *why;

	in.active = true;
	jschema_parse(r->json, user_fields, ARRAY_SIZE(user_fields), &in, &seen, errs);
	for (int f = UF_EMAIL; f <= UF_ROLE; f++)
		if (!HAS(seen, f))
			jschema_error(errs, user_fields[f].name, "is required");
	if (HAS(seen, UF_CURRENT))
		jschema_error(errs, "current_password", "is only for changing your own password");
	if (HAS(seen, UF_MFA_RESET))
		jschema_error(errs, "mfa_reset", "is only for existing users");
	if (json_array_size(errs)) {
		req_invalid(r, errs);
		return;
	}
	role = role_parse(in.role);
	if (r->scope.role == ROLE_CLIENT_ADMIN && !HAS(seen, UF_CLIENT) && role_is_client(role))
		in.client_id = r->scope.client_id;
	if (!auth_may_manage_user(&r->scope, role, in.client_id, &e)) {
		json_decref(errs);
		req_deny(r, e.msg);
		return;
	}
	if (!auth_role_shape_ok(role, (int)in.tier, in.client_id, &e))
		err_to(errs, &e);
	if (in.password && (why = password_policy(in.password)))
		jschema_error(errs, "password", why);
	if (json_array_size(errs)) {
		req_invalid(r, errs);
		return;
	}
	json_decref(errs);

	req_write_init(r, W_USER_CREATE, "user.create", "user");
	u->email = lower_email(r, in.email);
	u->name = in.name;
	u->role = role;
	u->tier = (int)in.tier;
	u->client_id = in.client_id;
	u->active = in.active;
	if (in.password && !hash_password(r, in.password, &u->password_hash))
		return;
	r->w.audit.detail = arena_printf(r->a, "email %s, role %s", u->email, in.role);
	req_write(r, written_user);
}

static bool may_list_users(const struct scope *s)
{
	return role_is_staff(s->role) || s->role == ROLE_CLIENT_ADMIN;
}

void h_user_list(struct req *r)
{
	struct list_q q;
	struct user_list l;
	struct err e;
	enum result rc;
	const char *cid = req_query(r, "client_id"), *role = req_query(r, "role");
	json_t *items;

	if (!may_list_users(&r->scope)) {
		req_deny(r, "only staff and client admins list users");
		return;
	}
	if (!req_page(r, &q))
		return;
	if (cid) {
		int64_t v = 0;
		char *end;
		errno = 0;
		v = strtoll(cid, &end, 10);
		if (errno || *end || v <= 0) {
			json_t *errs = json_array();
			jschema_error(errs, "client_id", "must be a client id");
			req_invalid(r, errs);
			return;
		}
		q.client_id = v;
	}
	if (role) {
		if (role_parse(role) == ROLE_NONE) {
			json_t *errs = json_array();
			jschema_error(errs, "role", "is not a role");
			req_invalid(r, errs);
			return;
		}
		q.role = role;
	}
	rc = store_user_list(r->srv->store, &r->scope, &q, r->a, &l, &e);
	if (rc != RC_OK) {
		req_fail(r, rc, &e);
		return;
	}
	items = json_array();
	for (size_t i = 0; i < l.n; i++)
		json_array_append_new(items, user_json(&l.items[i]));
	req_json(r, 200, page_json(items, l.next_after));
}

/* Client users and client IT see only themselves. */
static bool sees_user(const struct scope *s, int64_t id)
{
	return id == s->user_id || may_list_users(s);
}

void h_user_get(struct req *r)
{
	if (!sees_user(&r->scope, r->params[0])) {
		req_problem(r, 404, "not-found", "Not found", "user not found");
		return;
	}
	user_answer(r, r->params[0], 200);
}

void h_user_patch(struct req *r)
{
	struct user_in in = { 0 };
	struct jseen seen;
	json_t *errs;
	struct user cur, *u = &r->w.in.user;
	struct err e;
	enum result rc;
	int64_t version;
	bool self = r->params[0] == r->scope.user_id;
	const char *why;
	char detail[160] = "";
	bool set_role = false;
	enum role nrole = ROLE_NONE;
	int ntier = 0;
	int64_t nclient = 0;

	if (!sees_user(&r->scope, r->params[0])) {
		req_problem(r, 404, "not-found", "Not found", "user not found");
		return;
	}
	rc = store_user_auth_by_id(r->srv->store, r->params[0], r->a, &cur, &e);
	if (rc == RC_OK && !self && !scope_sees_tenant(&r->scope, cur.client_id) && cur.client_id)
		rc = RC_NOTFOUND;
	if (rc == RC_OK && !r->scope.all_tenants && !self && cur.client_id != r->scope.client_id)
		rc = RC_NOTFOUND;
	if (rc != RC_OK) {
		if (rc == RC_NOTFOUND)
			err_set(&e, RC_NOTFOUND, NULL, "user not found");
		req_fail(r, rc, &e);
		return;
	}
	if (!req_if_match(r, &version))
		return;

	errs = json_array();
	jschema_parse(r->json, user_fields, ARRAY_SIZE(user_fields), &in, &seen, errs);
	if (!seen.present)
		jschema_error(errs, "", "nothing to change");
	if (json_array_size(errs)) {
		req_invalid(r, errs);
		return;
	}

	if (self) {
		if (HAS(seen, UF_ROLE) || HAS(seen, UF_TIER) || HAS(seen, UF_CLIENT) ||
		    HAS(seen, UF_ACTIVE) || HAS(seen, UF_MFA_RESET)) {
			json_decref(errs);
			req_deny(r, "nobody changes their own role, activity or MFA");
			return;
		}
		/* A stolen session must not be enough to take the account over:
		 * changing the password or the login e-mail needs the password. */
		if ((HAS(seen, UF_PASSWORD) || HAS(seen, UF_EMAIL)) &&
		    (!in.current_password || !password_verify(cur.password_hash, in.current_password)))
			jschema_error(errs, "current_password", "must be your current password");
	} else {
		enum role role = HAS(seen, UF_ROLE) ? role_parse(in.role) : cur.role;
		int64_t client = HAS(seen, UF_CLIENT) ? in.client_id
				 : role_is_client(role) ? cur.client_id : 0;
		int tier = HAS(seen, UF_TIER) ? (int)in.tier
			   : role == ROLE_TECHNICIAN ? (cur.tier ? cur.tier : 0) : 0;

		if (!auth_may_manage_user(&r->scope, cur.role, cur.client_id, &e) ||
		    !auth_may_manage_user(&r->scope, role, client, &e)) {
			json_decref(errs);
			req_deny(r, e.msg);
			return;
		}
		if (HAS(seen, UF_CURRENT))
			jschema_error(errs, "current_password", "is only for changing your own password");
		if (HAS(seen, UF_ROLE) || HAS(seen, UF_TIER) || HAS(seen, UF_CLIENT)) {
			if (!auth_role_shape_ok(role, tier, client, &e))
				err_to(errs, &e);
			set_role = true;
			nrole = role;
			ntier = tier;
			nclient = client;
		}
	}
	if (HAS(seen, UF_PASSWORD) && in.password && (why = password_policy(in.password)))
		jschema_error(errs, "password", why);
	if (json_array_size(errs)) {
		req_invalid(r, errs);
		return;
	}
	json_decref(errs);

	req_write_init(r, W_USER_UPDATE, "user.update", "user");
	if (set_role) {
		r->w.fields |= F_ROLE;
		u->role = nrole;
		u->tier = ntier;
		u->client_id = nclient;
	}
	r->w.id = cur.id;
	r->w.if_version = version;
	if (HAS(seen, UF_NAME)) {
		r->w.fields |= F_NAME;
		u->name = in.name;
	}
	if (HAS(seen, UF_EMAIL)) {
		r->w.fields |= F_EMAIL;
		u->email = lower_email(r, in.email);
	}
	if (HAS(seen, UF_ACTIVE)) {
		r->w.fields |= F_ACTIVE;
		u->active = in.active;
	}
	if (HAS(seen, UF_PASSWORD)) {
		r->w.fields |= F_PASSWORD;
		u->password_hash = NULL; /* null: the user can no longer log in */
		if (in.password && !hash_password(r, in.password, &u->password_hash))
			return;
	}
	if (HAS(seen, UF_MFA_RESET) && in.mfa_reset) {
		r->w.fields |= F_TOTP;
		u->totp_secret = NULL;
		u->totp_enabled = false;
	}
	for (size_t f = 0; f < ARRAY_SIZE(user_fields); f++)
		if (HAS(seen, f) && f != UF_CURRENT) {
			size_t n = strlen(detail);
			snprintf(detail + n, sizeof(detail) - n, "%s%s", n ? "," : "changed ",
				 user_fields[f].name);
		}
	r->w.audit.detail = arena_strdup(r->a, detail);
	req_write(r, written_user);
}
