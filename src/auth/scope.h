/*
 * scope.h: who is asking, and which tenants they may see.
 *
 * The auth middleware builds one struct scope per request from the session
 * or token; every store call takes it, and the store adds the tenant
 * predicate itself (DESIGN.md section 4), so a handler cannot forget it.
 *
 * Roles: provider staff (admin, dispatcher, technician with a tier) see
 * every client organisation; client roles (client_admin, client_user,
 * client_it) see their own organisation only. The CLI acts as "system",
 * which sees everything and is audited as actor 0.
 */
#ifndef ITSUP_SCOPE_H
#define ITSUP_SCOPE_H

#include <stdbool.h>
#include <stdint.h>

enum role {
	ROLE_NONE = 0,
	ROLE_ADMIN,
	ROLE_DISPATCHER,
	ROLE_TECHNICIAN,
	ROLE_CLIENT_ADMIN,
	ROLE_CLIENT_USER,
	ROLE_CLIENT_IT,
	ROLE_SYSTEM,
};

struct scope {
	int64_t user_id;     /* 0 for the system (CLI) */
	enum role role;
	int tier;            /* technicians: 1..3; others 0 */
	int64_t client_id;   /* client roles: their organisation; else 0 */
	bool all_tenants;    /* provider staff and system */
	bool mfa_pending;    /* session may only enrol MFA or log out */
};

/* "admin", "client_user", ...; "" for ROLE_NONE. */
const char *role_name(enum role r);
/* ROLE_NONE when s is not a role name a user can have (system excluded). */
enum role role_parse(const char *s);
bool role_is_staff(enum role r);
bool role_is_client(enum role r);

/* The scope of a user with this role and organisation. */
struct scope scope_for(int64_t user_id, enum role role, int tier, int64_t client_id);
/* The CLI's scope: everything, audited as the system. */
struct scope scope_system(void);
/* Whether the scope includes tenant (client organisation) id. */
bool scope_sees_tenant(const struct scope *s, int64_t client_id);

#endif
