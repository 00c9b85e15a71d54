#include "common.h"
#include "config.h"
#include "util.h"

#include <ctype.h>

void config_defaults(struct config *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->listen, sizeof(c->listen), "127.0.0.1:8080");
	c->threads = 4;
	c->session_hours = 12;
	c->max_body = 1 << 20;
	c->mail_max_bytes = 25L << 20;
	c->import_max_bytes = 64L << 20;
	snprintf(c->log_level, sizeof(c->log_level), "info");
}

static enum result set_str(char *dst, size_t n, const char *key, const char *v,
			   struct err *e)
{
	if (strlen(v) >= n)
		return err_set(e, RC_INVALID, key, "%s is too long", key);
	snprintf(dst, n, "%s", v);
	return RC_OK;
}

static enum result set_int(long *dst, long lo, long hi, const char *key,
			   const char *v, struct err *e)
{
	int64_t n;

	if (!parse_i64(v, &n) || n < lo || n > hi)
		return err_set(e, RC_INVALID, key, "%s must be a number from %ld to %ld",
			       key, lo, hi);
	*dst = (long)n;
	return RC_OK;
}

static enum result set_bool(bool *dst, const char *key, const char *v, struct err *e)
{
	if (!strcmp(v, "1") || !strcmp(v, "true") || !strcmp(v, "yes") || !strcmp(v, "on"))
		*dst = true;
	else if (!strcmp(v, "0") || !strcmp(v, "false") || !strcmp(v, "no") || !strcmp(v, "off"))
		*dst = false;
	else
		return err_set(e, RC_INVALID, key, "%s must be true or false", key);
	return RC_OK;
}

/* The first line of file path into dst (a secret kept out of the config). */
static enum result read_secret(char *dst, size_t n, const char *key, const char *path,
			       struct err *e)
{
	FILE *f = fopen(path, "r");
	size_t len;

	if (!f)
		return err_set(e, RC_INVALID, key, "cannot open %s: %s", path, strerror(errno));
	if (!fgets(dst, (int)n, f))
		dst[0] = '\0';
	fclose(f);
	len = strlen(dst);
	while (len && (dst[len - 1] == '\n' || dst[len - 1] == '\r'))
		dst[--len] = '\0';
	return RC_OK;
}

enum result config_set(struct config *c, const char *key, const char *v,
		       struct err *e)
{
	long n = 0;
	enum result r;

	if (!strcmp(key, "db"))
		return set_str(c->db, sizeof(c->db), key, v, e);
	if (!strcmp(key, "pg"))
		return set_str(c->pg, sizeof(c->pg), key, v, e);
	if (!strcmp(key, "listen"))
		return set_str(c->listen, sizeof(c->listen), key, v, e);
	if (!strcmp(key, "web_root"))
		return set_str(c->web_root, sizeof(c->web_root), key, v, e);
	if (!strcmp(key, "log_level")) {
		if (strcmp(v, "debug") && strcmp(v, "info") && strcmp(v, "warn") && strcmp(v, "error"))
			return err_set(e, RC_INVALID, key, "log_level must be debug, info, warn or error");
		return set_str(c->log_level, sizeof(c->log_level), key, v, e);
	}
	if (!strcmp(key, "threads")) {
		r = set_int(&n, 1, 256, key, v, e);
		if (r == RC_OK)
			c->threads = (int)n;
		return r;
	}
	if (!strcmp(key, "session_hours")) {
		r = set_int(&n, 1, 24 * 30, key, v, e);
		if (r == RC_OK)
			c->session_hours = (int)n;
		return r;
	}
	if (!strcmp(key, "max_body"))
		return set_int(&c->max_body, 1024, 64L << 20, key, v, e);
	if (!strcmp(key, "public_url")) {
		if (*v && strncmp(v, "http://", 7) && strncmp(v, "https://", 8))
			return err_set(e, RC_INVALID, key, "public_url must start with http:// or https://");
		return set_str(c->public_url, sizeof(c->public_url), key, v, e);
	}
	if (!strcmp(key, "mail_from"))
		return set_str(c->mail_from, sizeof(c->mail_from), key, v, e);
	if (!strcmp(key, "smtp_url")) {
		if (*v && strncmp(v, "smtp://", 7) && strncmp(v, "smtps://", 8))
			return err_set(e, RC_INVALID, key, "smtp_url must start with smtp:// or smtps://");
		return set_str(c->smtp_url, sizeof(c->smtp_url), key, v, e);
	}
	if (!strcmp(key, "smtp_user"))
		return set_str(c->smtp_user, sizeof(c->smtp_user), key, v, e);
	if (!strcmp(key, "smtp_password_file"))
		return read_secret(c->smtp_password, sizeof(c->smtp_password), key, v, e);
	if (!strcmp(key, "smtp_starttls"))
		return set_bool(&c->smtp_starttls, key, v, e);
	if (!strcmp(key, "mail_max_bytes"))
		return set_int(&c->mail_max_bytes, 64L << 10, 256L << 20, key, v, e);
	if (!strcmp(key, "import_max_bytes"))
		return set_int(&c->import_max_bytes, 64L << 10, 1024L << 20, key, v, e);
	if (!strcmp(key, "webhook_allow"))
		return set_str(c->webhook_allow, sizeof(c->webhook_allow), key, v, e);
	if (!strcmp(key, "outbox_off"))
		return set_bool(&c->outbox_off, key, v, e);
	if (!strcmp(key, "production"))
		return set_bool(&c->production, key, v, e);
	if (!strcmp(key, "test_clock"))
		return set_bool(&c->test_clock, key, v, e);
	return err_set(e, RC_INVALID, key, "unknown setting '%s'", key);
}

static char *trim(char *s)
{
	char *end;

	while (isspace((unsigned char)*s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return s;
}

enum result config_load_file(struct config *c, const char *path, struct err *e)
{
	FILE *f = fopen(path, "r");
	char line[1024];
	int lineno = 0;
	enum result r = RC_OK;

	if (!f)
		return err_set(e, RC_IO, "config", "cannot open %s: %s", path, strerror(errno));
	while (fgets(line, sizeof(line), f)) {
		char *s = trim(line), *eq;
		lineno++;
		if (!*s || *s == '#')
			continue;
		eq = strchr(s, '=');
		if (!eq) {
			r = err_set(e, RC_INVALID, "config", "%s:%d: expected key = value", path, lineno);
			break;
		}
		*eq = '\0';
		r = config_set(c, trim(s), trim(eq + 1), e);
		if (r != RC_OK) {
			char msg[sizeof(e->msg)];
			snprintf(msg, sizeof(msg), "%s", e->msg);
			err_set(e, r, e->field, "%s:%d: %s", path, lineno, msg);
			break;
		}
	}
	fclose(f);
	return r;
}

enum result config_load_env(struct config *c, struct err *e)
{
	static const struct { const char *env, *key; } map[] = {
		{ "ITSUP_DB", "db" },           { "ITSUP_PG", "pg" },
		{ "ITSUP_LISTEN", "listen" },   { "ITSUP_THREADS", "threads" },
		{ "ITSUP_LOG_LEVEL", "log_level" }, { "ITSUP_PRODUCTION", "production" },
		{ "ITSUP_WEB_ROOT", "web_root" }, { "ITSUP_SESSION_HOURS", "session_hours" },
		{ "ITSUP_MAX_BODY", "max_body" },
		{ "ITSUP_PUBLIC_URL", "public_url" }, { "ITSUP_MAIL_FROM", "mail_from" },
		{ "ITSUP_SMTP_URL", "smtp_url" }, { "ITSUP_SMTP_USER", "smtp_user" },
		{ "ITSUP_SMTP_PASSWORD_FILE", "smtp_password_file" },
		{ "ITSUP_WEBHOOK_ALLOW", "webhook_allow" }, { "ITSUP_MAIL_MAX_BYTES", "mail_max_bytes" },
		{ "ITSUP_IMPORT_MAX_BYTES", "import_max_bytes" },
		{ "ITSUP_OUTBOX_OFF", "outbox_off" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(map); i++) {
		const char *v = getenv(map[i].env);
		enum result r;
		if (!v || !*v)
			continue;
		r = config_set(c, map[i].key, v, e);
		if (r != RC_OK)
			return r;
	}
	return RC_OK;
}
