/*
 * wqueue.c: the writers' queue (see wqueue.h): a singly linked list under
 * one mutex, with a condition variable the writer waits on.
 */
#include "base/common.h"
#include "store/wqueue.h"

void wqueue_init(struct wqueue *q)
{
	memset(q, 0, sizeof(*q));
	pthread_mutex_init(&q->mu, NULL);
	pthread_cond_init(&q->cv, NULL);
}

void wqueue_destroy(struct wqueue *q)
{
	pthread_cond_destroy(&q->cv);
	pthread_mutex_destroy(&q->mu);
}

void wqueue_push(struct wqueue *q, struct store_write *w)
{
	w->next = NULL;
	pthread_mutex_lock(&q->mu);
	if (q->stopping) {
		pthread_mutex_unlock(&q->mu);
		w->rc = err_set(&w->err, RC_BUSY, NULL, "the server is shutting down");
		if (w->done)
			w->done(w);
		return;
	}
	if (q->tail)
		q->tail->next = w;
	else
		q->head = w;
	q->tail = w;
	q->len++;
	pthread_cond_signal(&q->cv);
	pthread_mutex_unlock(&q->mu);
}

struct store_write *wqueue_take(struct wqueue *q, size_t max, size_t *n)
{
	struct store_write *batch, *last;

	pthread_mutex_lock(&q->mu);
	while (!q->head && !q->stopping)
		pthread_cond_wait(&q->cv, &q->mu);
	batch = last = q->head;
	*n = 0;
	if (!batch) {
		pthread_mutex_unlock(&q->mu);
		return NULL;   /* stopping, and drained */
	}
	*n = 1;
	while (last->next && *n < max) {
		last = last->next;
		(*n)++;
	}
	q->head = last->next;
	if (!q->head)
		q->tail = NULL;
	q->len -= *n;
	last->next = NULL;
	pthread_mutex_unlock(&q->mu);
	return batch;
}

void wqueue_stop(struct wqueue *q)
{
	pthread_mutex_lock(&q->mu);
	q->stopping = true;
	pthread_cond_signal(&q->cv);
	pthread_mutex_unlock(&q->mu);
}

size_t wqueue_len(struct wqueue *q)
{
	size_t n;

	pthread_mutex_lock(&q->mu);
	n = q->len;
	pthread_mutex_unlock(&q->mu);
	return n;
}

void wqueue_answer(struct store_write *batch)
{
	while (batch) {
		/* done() may free the write: read the link first. */
		struct store_write *next = batch->next;
		batch->next = NULL;
		if (batch->done)
			batch->done(batch);
		batch = next;
	}
}
