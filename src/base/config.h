/*
 * config.h: server settings from, in rising precedence, built-in defaults,
 * a config file (--config FILE: "key = value" lines, '#' comments), the
 * environment (ITSUP_DB, ITSUP_LISTEN, ITSUP_PG, ITSUP_THREADS...) and
 * command-line flags. Unknown keys in a file are errors, so a typo is seen.
 */
#ifndef ITSUP_CONFIG_H
#define ITSUP_CONFIG_H

#include <stdbool.h>
#include "err.h"

struct config {
	char db[512];          /* SQLite file */
	char pg[512];          /* PostgreSQL URL (later issue) */
	char listen[128];      /* host:port */
	int threads;           /* HTTP thread pool size */
	int session_hours;     /* absolute session lifetime */
	long max_body;         /* request body ceiling, bytes */
	bool production;       /* refuses --test-clock */
	bool test_clock;
	char log_level[16];
	char web_root[512];    /* static UI files */
	/* Mail and the outbox (issue 8; docs/MAIL.md). */
	char public_url[256];  /* the desk's address in links ("https://desk.example");
				* "": http://<listen> */
	char mail_from[256];   /* notifications' From: "Name <addr>" or "addr"; "": none sent */
	char smtp_url[256];    /* "smtp://host:25", "smtps://..."; "": e-mail is not sent
				* (deliveries wait) */
	char smtp_user[128];
	char smtp_password[256]; /* read from smtp_password_file */
	bool smtp_starttls;
	long mail_max_bytes;   /* the largest message POST /api/v1/mail/inbound takes */
	long import_max_bytes; /* the largest file POST /api/v1/import/tickets takes */
	char webhook_allow[512]; /* CIDRs webhooks may reach despite the default deny list */
	bool outbox_off;       /* no dispatcher thread (benchmarks of the intake alone) */
};

void config_defaults(struct config *c);
/* Applies one key=value; RC_INVALID with a message for unknown keys or
 * bad values. */
enum result config_set(struct config *c, const char *key, const char *value,
		       struct err *e);
enum result config_load_file(struct config *c, const char *path, struct err *e);
enum result config_load_env(struct config *c, struct err *e);

#endif
