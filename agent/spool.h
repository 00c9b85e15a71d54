/*
 * spool.h: itsup-agent's on-disk spool (issue 7). When the server cannot
 * be reached, readings are kept here and sent later, oldest first; each
 * batch carries an id, so that the server stores a batch sent twice (the
 * answer lost, the agent restarted) once.
 *
 *  - A batch is one file DIR/NNNNNNNNNNNNNNNNNNNN.json, NNN its id, written
 *    to a temporary name, fsync()ed and renamed: a crash leaves the whole
 *    batch or none of it.
 *  - Ids increase and are never reused, also across restarts: the next id
 *    is kept in DIR/next (written the same way), and is never below the
 *    largest spooled id + 1.
 *  - Bounded: past max_files batches or max_bytes in all, the oldest are
 *    dropped (counted in `dropped`): the newest readings matter most.
 *  - spool_oldest() gives the oldest batch; spool_ack() removes it once
 *    the server said it is stored.
 *
 * Not thread-safe: the agent has one thread.
 */
#ifndef ITSUP_AGENT_SPOOL_H
#define ITSUP_AGENT_SPOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct spool {
	char dir[512];
	size_t max_files;
	uint64_t max_bytes;
	uint64_t next;        /* the next batch's id */
	uint64_t dropped;     /* batches dropped to stay within the bounds */
};

/* Opens (creating, mode 0700) the spool in dir. false with errno set. */
bool spool_open(struct spool *s, const char *dir, size_t max_files, uint64_t max_bytes);
/* Stores data as a new batch; its id in *id. false with errno set. */
bool spool_put(struct spool *s, const char *data, size_t len, uint64_t *id);
/* The oldest batch: its id, and its data in a malloc()ed buffer (*data,
 * *len; the caller frees it). false when the spool is empty (errno 0) or
 * on an error (errno set). */
bool spool_oldest(struct spool *s, uint64_t *id, char **data, size_t *len);
/* Removes batch id (sent and stored). */
bool spool_ack(struct spool *s, uint64_t id);
/* How many batches and bytes are spooled. */
void spool_size(const struct spool *s, size_t *files, uint64_t *bytes);

#endif
