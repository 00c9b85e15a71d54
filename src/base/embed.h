/*
 * embed.h: files compiled into the binary by scripts/embed.py (SQL
 * migrations, the OpenAPI document). Arrays end with a NULL name.
 */
#ifndef ITSUP_EMBED_H
#define ITSUP_EMBED_H

#include <stddef.h>

struct embedded_file {
	const char *name;
	const char *data;
	size_t size;
};

extern const struct embedded_file sqlite_migrations[];
extern const struct embedded_file embedded_docs[];
extern const struct embedded_file embedded_web[];  /* web/: the browser UI */

#endif
