/*
 * notify.h: the outbox dispatcher (issue 8; docs/MAIL.md).
 *
 * Invariants:
 *   1. Every notification and webhook starts as an outbox row written in
 *      the transaction of the change it reports (store.h: ticket_write's
 *      ob[]); a change rolled back leaves none, a change committed never
 *      loses its row.
 *   2. Expansion (outbox row -> deliveries) is one transaction that also
 *      marks the row done (W_OUTBOX_EXPAND, which refuses a row already
 *      done): a row is expanded once, even with several servers.
 *   3. An e-mail is composed whole at expansion (Message-ID included), so
 *      every retry sends the same bytes; a webhook's JSON likewise.
 *   4. Each attempt's outcome is written (W_DELIVERY_RESULT): sent;
 *      pending again after notify_backoff(attempts); or failed (refused
 *      for good, or NOTIFY_MAX_ATTEMPTS reached). A failed delivery can be
 *      retried by an admin. Delivery is at least once: a crash between
 *      the SMTP server's "250" and the write sends that message again.
 *   5. Only the leader (store_lead) dispatches; without an SMTP server
 *      configured, e-mail deliveries wait (no attempt is spent).
 *   6. A row whose expansion fails for a reason that may pass (a review
 *      pack whose figures could not be read) is put back
 *      (W_OUTBOX_DEFER) with the deliveries' backoff, so it is not
 *      rebuilt on every pass ahead of other rows, and ends failed after
 *      NOTIFY_MAX_ATTEMPTS (notify_outbox_retry).
 *
 *   outbox row (pending) --expand--> deliveries (pending) --send--> sent
 *                                           |  ^ backoff           \--> failed --retry--> pending
 *                                           \--/
 */
#ifndef ITSUP_NOTIFY_H
#define ITSUP_NOTIFY_H

#include <stdbool.h>
#include <stdint.h>

#include "base/err.h"

struct server;

#define NOTIFY_MAX_ATTEMPTS 40

struct notify_result { int expanded, sent, retried, failed; };

/* One pass at now: expands pending outbox rows and sends the deliveries
 * due. The caller checks leadership. */
void notify_run(struct server *s, int64_t now, struct notify_result *out);

/* The dispatcher thread (idle with the test clock, whose route runs
 * notify_run). */
enum result notify_start(struct server *s, struct err *e);
void notify_stop(void);
/* Wakes the thread now (an outbox row was written). */
void notify_kick(void);

/* Pure: the wait after a delivery's attempts-th failed attempt (ms):
 * 30 s doubling to at most an hour. */
int64_t notify_backoff(int attempts);
/* Pure: an outbox row whose expansion failed for the attempts-th time
 * (1, 2, ...; a review pack that could not be built now): "pending"
 * again at *next_at = now + notify_backoff(attempts), or "failed" (*next_at
 * 0) once attempts reaches NOTIFY_MAX_ATTEMPTS, as a delivery would. */
const char *notify_outbox_retry(int attempts, int64_t now, int64_t *next_at);
/* Pure: the webhook event an outbox event is announced as (ticket.created,
 * ticket.updated, ticket.resolved, sla.warning, sla.breach, alert.firing,
 * alert.resolved), NULL when webhooks do not see it. */
const char *notify_webhook_event(const char *outbox_event);
/* Pure: whether a subscription's events (a JSON array text) include
 * event ("*" takes all). */
bool notify_webhook_wants(const char *events_json, const char *event);
/* The webhook events an admin may subscribe to (NULL-terminated). */
extern const char *const notify_webhook_events[];

/* Pure: the e-mail template of an outbox event and whether it goes to the
 * requester (else staff); NULL when the event sends no e-mail. */
const char *notify_template_of(const char *outbox_event, bool *to_requester);

#endif
