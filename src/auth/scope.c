#include "base/common.h"
#include "auth/scope.h"

static const char *const role_names[] = {
	[ROLE_NONE] = "",
	[ROLE_ADMIN] = "admin",
	[ROLE_DISPATCHER] = "dispatcher",
	[ROLE_TECHNICIAN] = "technician",
	[ROLE_CLIENT_ADMIN] = "client_admin",
	[ROLE_CLIENT_USER] = "client_user",
	[ROLE_CLIENT_IT] = "client_it",
	[ROLE_SYSTEM] = "system",
};

const char *role_name(enum role r)
{
	if ((size_t)r < ARRAY_SIZE(role_names))
		return role_names[r];
	return "";
}

enum role role_parse(const char *s)
{
	if (!s)
		return ROLE_NONE;
	for (size_t i = ROLE_ADMIN; i < ROLE_SYSTEM; i++)
		if (strcmp(role_names[i], s) == 0)
			return (enum role)i;
	return ROLE_NONE;
}

bool role_is_staff(enum role r)
{
	return r == ROLE_ADMIN || r == ROLE_DISPATCHER || r == ROLE_TECHNICIAN;
}

bool role_is_client(enum role r)
{
	return r == ROLE_CLIENT_ADMIN || r == ROLE_CLIENT_USER || r == ROLE_CLIENT_IT;
}

struct scope scope_for(int64_t user_id, enum role role, int tier, int64_t client_id)
{
	struct scope s = { 0 };

	s.user_id = user_id;
	s.role = role;
	s.tier = role == ROLE_TECHNICIAN ? tier : 0;
	s.client_id = role_is_client(role) ? client_id : 0;
	s.all_tenants = role_is_staff(role) || role == ROLE_SYSTEM;
	return s;
}

struct scope scope_system(void)
{
	return scope_for(0, ROLE_SYSTEM, 0, 0);
}

bool scope_sees_tenant(const struct scope *s, int64_t client_id)
{
	return s->all_tenants || (s->client_id != 0 && s->client_id == client_id);
}
