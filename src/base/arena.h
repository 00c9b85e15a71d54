/*
 * arena.h: a bump allocator with a ceiling and registered cleanups.
 *
 * One arena per request (or per CLI command). Everything allocated from it
 * lives until arena_free(), which first runs the cleanups in reverse order
 * of registration (statements, JSON values, anything with its own free),
 * then releases the memory. Like nginx's ngx_pool_t.
 *
 * An allocation that would take the arena past its ceiling returns NULL;
 * callers treat that as RC_NOMEM. The ceiling bounds what one request can
 * make the server allocate.
 */
#ifndef ITSUP_ARENA_H
#define ITSUP_ARENA_H

#include <stddef.h>

struct arena;

/* A new arena that will hand out at most ceiling bytes; NULL on failure. */
struct arena *arena_new(size_t ceiling);

/* Runs the cleanups, frees all memory. NULL is fine. */
void arena_free(struct arena *a);

/* n bytes, aligned for any type, zeroed. NULL past the ceiling. */
void *arena_alloc(struct arena *a, size_t n);

/* A copy of s (NULL stays NULL, and so does a failure: check when s!=NULL). */
char *arena_strdup(struct arena *a, const char *s);
char *arena_strndup(struct arena *a, const char *s, size_t n);

/* A formatted string in the arena; NULL past the ceiling. */
char *arena_printf(struct arena *a, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Registers fn(ptr) to run at arena_free(). Returns 0, or -1 (and runs
 * fn(ptr) at once) when it cannot be registered. */
int arena_defer(struct arena *a, void (*fn)(void *), void *ptr);

/* Bytes handed out so far. */
size_t arena_used(const struct arena *a);

#endif
