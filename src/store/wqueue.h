/*
 * wqueue.h: the write queue both store writers use (store_sqlite.c,
 * pg_writer.c). Request threads push writes; one writer thread takes
 * everything queued, up to a batch size, commits it, and answers each
 * write with wqueue_answer only after its commit.
 *
 * Contract:
 *   - wqueue_push after wqueue_stop answers the write at once with RC_BUSY
 *     ("the server is shutting down").
 *   - wqueue_take blocks until something is queued; it returns the batch
 *     (linked by ->next, NULL-terminated, at most max) and its size, or
 *     NULL once stopping and drained.
 *   - wqueue_answer calls each write's done(), reading the link first
 *     (done() may free the write).
 */
#ifndef ITSUP_STORE_WQUEUE_H
#define ITSUP_STORE_WQUEUE_H

#include <pthread.h>

#include "store/store.h"

struct wqueue {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct store_write *head, *tail;
	size_t len;
	bool stopping;
};

void wqueue_init(struct wqueue *q);
void wqueue_destroy(struct wqueue *q);
void wqueue_push(struct wqueue *q, struct store_write *w);
struct store_write *wqueue_take(struct wqueue *q, size_t max, size_t *n);
void wqueue_stop(struct wqueue *q);
size_t wqueue_len(struct wqueue *q);
void wqueue_answer(struct store_write *batch);

#endif
