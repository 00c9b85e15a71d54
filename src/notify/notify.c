/*
 * notify.c: the outbox dispatcher (notify.h has the invariants and the
 * state diagram). Expansion reads an outbox row and its ticket, picks the
 * recipients (notify_template_of says who: the requester, the assignee, or
 * the dispatchers), renders each e-mail from its template (an admin's
 * override or the built-in text; src/notify/compose.h) and composes it,
 * and builds one JSON body per webhook subscribed to the row's event. A
 * row "report.review" (a scheduled SLA review pack) is expanded by
 * review_mail.c instead: one e-mail per address of the row, with the pack
 * built then. The sending half hands each due delivery to smtp_send or
 * webhook_post (src/notify/send.h) and records the outcome.
 */
#include "base/common.h"

#include <inttypes.h>
#include <pthread.h>

#include "base/clock.h"
#include "base/log.h"
#include "http/http.h"
#include "jobs/report_jobs.h"
#include "notify/compose.h"
#include "notify/notify.h"
#include "notify/review_mail.h"
#include "notify/send.h"
#include "ticket/ticket.h"

#define EXPAND_BATCH 100
#define SEND_BATCH 100
#define MAX_RCPT 32
#define MAX_DELIVERIES 64
#define TICK_MS 1000
#define SMTP_TIMEOUT_MS 30000L
#define WEBHOOK_TIMEOUT_MS 10000L
#define BACKOFF_FIRST_MS 30000LL
#define BACKOFF_MAX_MS 3600000LL
#define ROW_ARENA ((size_t)64 << 20)       /* one row's composed mail */
#define SEND_BYTES ((size_t)64 << 20)      /* bodies read at once, but for the last */
#define SEND_ARENA ((size_t)256 << 20)     /* a batch of deliveries with their bodies */
#define REVIEW_ARENA ((size_t)256 << 20)   /* a review pack's: review_mail.h */

/* ---- pure decisions ----------------------------------------------------------------------------- */

static const struct { const char *outbox, *webhook; } webhook_map[] = {
	{ "ticket.created", "ticket.created" },
	{ "ticket.resolved", "ticket.resolved" },
	{ "ticket.reply", "ticket.updated" },
	{ "ticket.customer_reply", "ticket.updated" },
	{ "ticket.assigned", "ticket.updated" },
	{ "ticket.escalated", "ticket.updated" },
	{ "ticket.reopened", "ticket.updated" },
	{ "ticket.escalation_rule", "ticket.updated" },
	{ "sla.warning", "sla.warning" },
	{ "sla.breached", "sla.breach" },
	{ "sla.ola_breached", "sla.breach" },
	{ "alert.firing", "alert.firing" },
	{ "alert.resolved", "alert.resolved" },
};

const char *const notify_webhook_events[] = {
	"ticket.created", "ticket.updated", "ticket.resolved", "sla.warning", "sla.breach",
	"alert.firing", "alert.resolved", "*", NULL
};

const char *notify_webhook_event(const char *outbox_event)
{
	for (size_t i = 0; i < ARRAY_SIZE(webhook_map); i++)
		if (!strcmp(webhook_map[i].outbox, outbox_event))
			return webhook_map[i].webhook;
	return NULL;
}

bool notify_webhook_wants(const char *events_json, const char *event)
{
	json_t *arr = json_loads(events_json ? events_json : "[]", 0, NULL);
	size_t i;
	json_t *v;
	bool yes = false;

	json_array_foreach(arr, i, v) {
		const char *s = json_string_value(v);
		if (s && (!strcmp(s, "*") || !strcmp(s, event)))
			yes = true;
	}
	json_decref(arr);
	return yes;
}

static const struct { const char *event, *tmpl; bool requester; } mail_map[] = {
	{ "ticket.created", "requester.created", true },
	{ "ticket.reply", "requester.reply", true },
	{ "ticket.resolved", "requester.resolved", true },
	{ "ticket.assigned", "staff.assigned", false },
	{ "ticket.escalated", "staff.escalated", false },
	{ "ticket.customer_reply", "staff.customer_reply", false },
	{ "sla.warning", "staff.sla_warning", false },
	{ "sla.breached", "staff.sla_breached", false },
	{ "sla.notify_dispatcher", "staff.dispatcher", false },
};

const char *notify_template_of(const char *outbox_event, bool *to_requester)
{
	for (size_t i = 0; i < ARRAY_SIZE(mail_map); i++)
		if (!strcmp(mail_map[i].event, outbox_event)) {
			*to_requester = mail_map[i].requester;
			return mail_map[i].tmpl;
		}
	*to_requester = false;
	return NULL;
}

int64_t notify_backoff(int attempts)
{
	int64_t ms = BACKOFF_FIRST_MS;

	for (int i = 1; i < attempts && ms < BACKOFF_MAX_MS; i++)
		ms *= 2;
	return ms < BACKOFF_MAX_MS ? ms : BACKOFF_MAX_MS;
}

const char *notify_outbox_retry(int attempts, int64_t now, int64_t *next_at)
{
	if (attempts >= NOTIFY_MAX_ATTEMPTS) {
		*next_at = 0;
		return "failed";
	}
	*next_at = now + notify_backoff(attempts);
	return "pending";
}

/* ---- expansion ------------------------------------------------------------------------------------ */

struct rcpt { const char *name, *addr; };

struct expand_ctx {
	struct server *s;
	struct arena *a;
	const struct outbox_row *o;
	json_t *payload;
	struct ticket t;
	bool has_ticket;
	struct delivery_row items[MAX_DELIVERIES];
	size_t n;
	const char *from_name, *from_addr, *domain;
};

/* "Name <addr>" or "addr" -> its parts (pure string work in a). */
static void from_parts(struct arena *a, const char *from, const char **name, const char **addr)
{
	const char *lt = strchr(from, '<'), *gt = lt ? strchr(lt, '>') : NULL;

	if (!lt || !gt) {
		*name = "";
		*addr = from;
		return;
	}
	{
		const char *end = lt;
		while (end > from && end[-1] == ' ')
			end--;
		*name = arena_strndup(a, from, (size_t)(end - from));
		*addr = arena_strndup(a, lt + 1, (size_t)(gt - lt - 1));
	}
	if (!*name)
		*name = "";
	if (!*addr)
		*addr = "";
}

static const char *pstr(json_t *payload, const char *key)
{
	return json_string_value(json_object_get(payload, key));
}

static int64_t pint(json_t *payload, const char *key)
{
	return json_integer_value(json_object_get(payload, key));
}

static const char *user_name(struct expand_ctx *x, int64_t id, const char **email)
{
	struct scope sys = scope_system();
	struct user u;
	struct err e;

	if (email)
		*email = NULL;
	if (!id || store_user_get(x->s->store, &sys, id, x->a, &u, &e) != RC_OK || !u.active)
		return NULL;
	if (email)
		*email = u.email;
	return u.name;
}

/* Who gets the e-mail of this row. */
static size_t recipients(struct expand_ctx *x, bool to_requester, const char *tmpl,
			 struct rcpt *out)
{
	struct scope sys = scope_system();
	struct err e;
	size_t n = 0;
	int64_t assignee;

	if (!x->has_ticket)
		return 0;
	if (to_requester) {
		struct contact c;
		const char *email = NULL, *name = NULL;
		if (x->t.channel == CH_MONITORING)
			return 0;
		if (x->t.requester_contact_id &&
		    store_contact_get(x->s->store, &sys, x->t.requester_contact_id, x->a, &c, &e) == RC_OK &&
		    c.email && *c.email) {
			email = c.email;
			name = c.name;
		} else {
			name = user_name(x, x->t.requester_user_id, &email);
		}
		if (email && *email) {
			out[n].name = name ? name : "";
			out[n++].addr = email;
		}
		return n;
	}
	assignee = pint(x->payload, "assignee_id");
	if (!assignee)
		assignee = x->t.assignee_id;
	if (strcmp(tmpl, "staff.dispatcher") && assignee) {
		const char *email;
		const char *name = user_name(x, assignee, &email);
		if (email) {
			out[n].name = name ? name : "";
			out[n++].addr = email;
		}
		return n;
	}
	if (!strcmp(tmpl, "staff.assigned") || !strcmp(tmpl, "staff.customer_reply"))
		return 0;
	/* No assignee (or the dispatcher's own notice): the dispatchers. */
	{
		struct list_q q = { 0, MAX_RCPT, 0, "dispatcher", NULL };
		struct user_list l;
		if (store_user_list(x->s->store, &sys, &q, x->a, &l, &e) != RC_OK)
			return 0;
		for (size_t i = 0; i < l.n && n < MAX_RCPT; i++)
			if (l.items[i].active) {
				out[n].name = l.items[i].name;
				out[n++].addr = l.items[i].email;
			}
	}
	return n;
}

static const char *public_base(struct expand_ctx *x)
{
	const struct config *c = &x->s->cfg;

	if (*c->public_url) {
		size_t len = strlen(c->public_url);
		return len && c->public_url[len - 1] == '/'
			? arena_strndup(x->a, c->public_url, len - 1) : c->public_url;
	}
	return arena_printf(x->a, "http://%s", c->listen);
}

static void vars_of(struct expand_ctx *x, const struct rcpt *to, struct tmpl_vars *v)
{
	struct scope sys = scope_system();
	struct client c;
	struct err e;
	const char *base = public_base(x), *csat = pstr(x->payload, "csat_url");
	const char *sla_at = pstr(x->payload, "due_at");

	memset(v, 0, sizeof(*v));
	tmpl_set(v, "desk.name", *x->from_name ? x->from_name : "itsup");
	tmpl_set(v, "requester.name", to->name);
	if (x->has_ticket) {
		const struct ticket *t = &x->t;
		tmpl_set(v, "ticket.number", arena_printf(x->a, "T-%06" PRId64, t->number));
		tmpl_set(v, "ticket.subject", t->subject);
		tmpl_set(v, "ticket.status", tstatus_names[t->status]);
		tmpl_set(v, "ticket.priority", prio_names[t->priority]);
		tmpl_set(v, "ticket.tier", arena_printf(x->a, "%d", t->tier));
		tmpl_set(v, "ticket.url", arena_printf(x->a, "%s/#/tickets/%" PRId64, base, t->id));
		if (store_client_get(x->s->store, &sys, t->client_id, x->a, &c, &e) == RC_OK)
			tmpl_set(v, "client.name", c.name);
		tmpl_set(v, "assignee.name", user_name(x, t->assignee_id, NULL));
	}
	tmpl_set(v, "author.name", user_name(x, pint(x->payload, "author_user_id"), NULL));
	tmpl_set(v, "message.body", pstr(x->payload, "body"));
	tmpl_set(v, "csat.url", csat ? arena_printf(x->a, "%s%s", base, csat) : NULL);
	tmpl_set(v, "sla.clock", pstr(x->payload, "clock"));
	tmpl_set(v, "sla.event", pstr(x->payload, "event"));
	tmpl_set(v, "sla.due_at", sla_at ? sla_at : pstr(x->payload, "at"));
}

static void add_email(struct expand_ctx *x, const char *tmpl, const struct rcpt *to)
{
	const struct tmpl_default *d = tmpl_default(tmpl);
	struct template_row over;
	struct tmpl_vars v;
	struct mail_out m;
	struct delivery_row *dl;
	const char *subject, *body, *raw, *root, *refs[2];
	size_t len;
	struct err e;

	if (!d || x->n >= MAX_DELIVERIES)
		return;
	if (store_template_get(x->s->store, tmpl, x->a, &over, &e) == RC_OK) {
		subject = over.subject;
		body = over.body;
	} else {
		subject = d->subject;
		body = d->body;
	}
	vars_of(x, to, &v);
	memset(&m, 0, sizeof(m));
	m.from_name = x->from_name;
	m.from_addr = x->from_addr;
	m.to_name = to->name;
	m.to_addr = to->addr;
	m.subject = tmpl_render(x->a, subject, &v, true);
	m.body = tmpl_render(x->a, body, &v, false);
	m.message_id = mail_new_message_id(x->a, x->domain);
	/* Every mail about a ticket references the ticket's own id, so a
	 * requester's mail program keeps them in one thread; the ticket's
	 * first message (mail intake) is what the first notice answers. */
	root = x->has_ticket ? arena_printf(x->a, "ticket-%" PRId64 "@%s", x->t.id, x->domain) : NULL;
	m.in_reply_to = pstr(x->payload, "in_reply_to") ? pstr(x->payload, "in_reply_to") : root;
	m.nrefs = 0;
	if (root)
		refs[m.nrefs++] = root;
	if (m.in_reply_to && m.in_reply_to != root)
		refs[m.nrefs++] = m.in_reply_to;
	m.references = refs;
	m.auto_submitted = "auto-generated";
	m.ticket_number = x->has_ticket ? arena_printf(x->a, "T-%06" PRId64, x->t.number) : NULL;
	m.date_ms = clock_now_ms();
	if (!m.subject || !m.body || !m.message_id ||
	    mail_compose(&m, x->a, &raw, &len, &e) != RC_OK) {
		log_event(LOG_WARN, "outbox", json_pack("{s:s,s:s,s:s}", "template", tmpl, "to", to->addr,
						       "error", e.msg));
		return;
	}
	dl = &x->items[x->n++];
	memset(dl, 0, sizeof(*dl));
	dl->channel = "email";
	dl->template_key = tmpl;
	dl->target = to->addr;
	dl->message_id = m.message_id;
	dl->subject = m.subject;
	dl->body = (const unsigned char *)raw;
	dl->body_len = len;
}

static json_t *ticket_summary(const struct ticket *t)
{
	return json_pack("{s:I,s:o,s:I,s:s,s:s,s:s,s:i,s:s?,s:o}", "id", (json_int_t)t->id, "number",
			 json_sprintf("T-%06" PRId64, t->number), "client_id", (json_int_t)t->client_id,
			 "subject", t->subject, "status", tstatus_names[t->status], "priority",
			 prio_names[t->priority], "tier", t->tier, "queue", t->queue, "assignee_id",
			 t->assignee_id ? json_integer(t->assignee_id) : json_null());
}

static void add_webhooks(struct expand_ctx *x)
{
	const char *ev = notify_webhook_event(x->o->event);
	struct webhook_row *hooks;
	size_t nh;
	struct err e;

	if (!ev || store_webhook_list(x->s->store, x->a, &hooks, &nh, &e) != RC_OK)
		return;
	for (size_t i = 0; i < nh && x->n < MAX_DELIVERIES; i++) {
		const struct webhook_row *h = &hooks[i];
		struct delivery_row *dl;
		json_t *body;
		char *text;

		if (!h->active || !notify_webhook_wants(h->events, ev) ||
		    (h->client_id && h->client_id != x->o->client_id))
			continue;
		body = json_pack("{s:I,s:s,s:s,s:o,s:I,s:O}", "id", (json_int_t)x->o->id, "event", ev,
				 "source_event", x->o->event, "occurred_at", json_instant(x->o->created_at),
				 "client_id", (json_int_t)x->o->client_id, "data", x->payload);
		if (!body)
			continue;
		json_object_set_new(body, "ticket", x->has_ticket ? ticket_summary(&x->t) : json_null());
		text = json_dumps(body, JSON_COMPACT | JSON_SORT_KEYS);
		json_decref(body);
		if (!text)
			continue;
		dl = &x->items[x->n++];
		memset(dl, 0, sizeof(*dl));
		dl->channel = "webhook";
		dl->webhook_id = h->id;
		dl->target = h->url;
		dl->body_len = strlen(text);
		dl->body = (const unsigned char *)arena_strdup(x->a, text);
		free(text);
	}
}

/* A review pack's e-mails (review_mail.h): false to put the row back
 * for later (a failure that may pass: defer); a row that can never be sent
 * is done without deliveries, and the log says why. */
static bool add_review(struct expand_ctx *x)
{
	/* No public_url: no link (the listen address is no one's to open). */
	struct review_mail_from f = { x->from_name, x->from_addr, x->domain,
				      *x->s->cfg.public_url ? public_base(x) : NULL };
	struct err e = { 0 };
	size_t n = 0;
	enum result rc;

	if (!*x->from_addr)
		return true;                    /* no mail_from: no e-mail is made */
	rc = review_mail_expand(x->s, x->a, x->o, x->payload, &f, x->items, MAX_DELIVERIES, &n, &e);
	if (rc == RC_OK) {
		x->n = n;
		return true;
	}
	log_event(LOG_ERROR, "outbox", json_pack("{s:I,s:s,s:s}", "outbox", (json_int_t)x->o->id,
						 "event", x->o->event, "error", e.msg));
	return rc == RC_INVALID || rc == RC_NOTFOUND;
}

/* Row o's expansion failed for a reason that may pass: try again after
 * the backoff, or give up (notify.h invariant 6). */
static void defer(struct server *s, const struct outbox_row *o, int64_t now)
{
	struct scope sys = scope_system();
	struct store_write w;

	store_write_init(&w, W_OUTBOX_DEFER, &sys);
	w.in.dres.id = o->id;
	w.in.dres.now = now;
	w.in.dres.state = notify_outbox_retry(o->attempts + 1, now, &w.in.dres.next_attempt_at);
	if (store_write_sync(s->store, &w) != RC_OK && w.rc != RC_CONFLICT)
		log_event(LOG_ERROR, "outbox", json_pack("{s:I,s:s}", "outbox", (json_int_t)o->id,
							 "error", w.err.msg));
	else if (w.rc == RC_OK && !strcmp(w.in.dres.state, "failed"))
		log_event(LOG_ERROR, "outbox", json_pack("{s:I,s:s,s:i}", "outbox", (json_int_t)o->id,
							 "state", "failed", "attempts", o->attempts + 1));
}

static bool expand_one(struct server *s, struct arena *a, const struct outbox_row *o, int64_t now)
{
	struct expand_ctx *x = arena_alloc(a, sizeof(*x));
	struct scope sys = scope_system();
	struct store_write w;
	struct err e;
	bool to_req;
	const char *tmpl;

	if (!x || o->next_attempt_at > now)
		return false;                   /* put back by defer: not due yet */
	x->s = s;
	x->a = a;
	x->o = o;
	/* A row whose payload did not load is left for the next pass (never
	 * expanded without what it says). */
	x->payload = o->payload ? json_loads(o->payload, 0, NULL) : NULL;
	if (!x->payload) {
		log_event(LOG_ERROR, "outbox", json_pack("{s:I,s:s}", "outbox", (json_int_t)o->id,
							 "error", "its payload could not be read"));
		defer(s, o, now);
		return false;
	}
	arena_defer(a, (void (*)(void *))json_decref, x->payload);
	from_parts(a, s->cfg.mail_from, &x->from_name, &x->from_addr);
	x->domain = strchr(x->from_addr, '@') ? strchr(x->from_addr, '@') + 1 : "itsup.invalid";
	x->has_ticket = o->ticket_id &&
			store_ticket_get(s->store, &sys, o->ticket_id, a, &x->t, &e) == RC_OK;
	/* A new ticket's row was written before the store numbered it: its
	 * id and number come from the ticket. */
	if (x->has_ticket) {
		json_object_set_new(x->payload, "ticket_id", json_integer(x->t.id));
		json_object_set_new(x->payload, "number", json_sprintf("T-%06" PRId64, x->t.number));
	}
	tmpl = notify_template_of(o->event, &to_req);
	if (!strcmp(o->event, REPORT_REVIEW_EVENT)) {
		if (!add_review(x)) {
			defer(s, o, now);
			return false;
		}
	} else if (tmpl && *x->from_addr) {
		struct rcpt to[MAX_RCPT];
		size_t n = recipients(x, to_req, tmpl, to);
		for (size_t i = 0; i < n; i++)
			add_email(x, tmpl, &to[i]);
	}
	add_webhooks(x);
	for (size_t i = 0; i < x->n; i++) {
		x->items[i].client_id = o->client_id;
		x->items[i].outbox_id = o->id;
		x->items[i].ticket_id = o->ticket_id;
		x->items[i].event = o->event;
	}
	store_write_init(&w, W_OUTBOX_EXPAND, &sys);
	w.in.expand.outbox_id = o->id;
	w.in.expand.now = now;
	w.in.expand.items = x->items;
	w.in.expand.n = x->n;
	if (store_write_sync(s->store, &w) == RC_OK)
		return true;
	if (w.rc != RC_CONFLICT)            /* conflict: another server did it */
		log_event(LOG_ERROR, "outbox", json_pack("{s:I,s:s}", "outbox", (json_int_t)o->id,
							 "error", w.err.msg));
	return false;
}

/* ---- sending -------------------------------------------------------------------------------------- */

static enum result send_one(struct server *s, struct arena *a, const struct delivery_row *d,
			    int64_t now, long *status, struct err *e)
{
	*status = 0;
	if (!strcmp(d->channel, "email")) {
		struct smtp_cfg c = { s->cfg.smtp_url, *s->cfg.smtp_user ? s->cfg.smtp_user : NULL,
				      s->cfg.smtp_password, s->cfg.smtp_starttls, SMTP_TIMEOUT_MS };
		const char *name, *addr;
		from_parts(a, s->cfg.mail_from, &name, &addr);
		return smtp_send(&c, addr, d->target, (const char *)d->body, d->body_len, e);
	} else {
		struct net_policy p;
		struct webhook_row h;
		enum result rc = store_webhook_get(s->store, d->webhook_id, a, &h, e);
		/* The subscription as it is now: its URL; switched off or
		 * narrowed to another client, what it had queued ends. */
		if (rc == RC_NOTFOUND)
			return err_set(e, RC_INVALID, "webhook", "the webhook was deleted");
		if (rc != RC_OK)
			return RC_IO;
		if (!h.active)
			return err_set(e, RC_INVALID, "webhook", "the webhook is switched off");
		if (h.client_id && h.client_id != d->client_id)
			return err_set(e, RC_INVALID, "webhook", "the webhook no longer takes this client's events");
		if (net_policy_parse(s->cfg.webhook_allow, &p, "webhook_allow", e) != RC_OK)
			return RC_IO;
		return webhook_post(&p, h.url, h.secret, d->event ? notify_webhook_event(d->event) : "",
				    d->id, (const char *)d->body, d->body_len, now / 1000,
				    WEBHOOK_TIMEOUT_MS, status, e);
	}
}

/* The deliveries due (without an SMTP server e-mail waits; webhooks must
 * not wait behind it) in a new arena *a (the caller frees it): at most
 * SEND_BATCH, and bodies of at most SEND_BYTES before the last one (review
 * packs are megabytes each), so a batch always fits SEND_ARENA. */
static enum result read_due(struct server *s, int64_t now, struct arena **a,
			    struct delivery_list *l, struct err *e)
{
	*a = arena_new(SEND_ARENA);
	if (!*a)
		return err_set(e, RC_NOMEM, NULL, "out of memory");
	return store_deliveries_due(s->store, now, *s->cfg.smtp_url ? NULL : "webhook", SEND_BATCH,
				    SEND_BYTES, *a, l, e);
}

static void send_due(struct server *s, int64_t now, struct notify_result *out)
{
	struct delivery_list l;
	struct scope sys = scope_system();
	struct arena *a = NULL;
	struct err e;

	if (read_due(s, now, &a, &l, &e) != RC_OK) {
		log_event(LOG_ERROR, "outbox", json_pack("{s:s,s:s}", "reading", "deliveries due",
							 "error", e.msg));
		arena_free(a);
		return;
	}
	for (size_t i = 0; i < l.n; i++) {
		const struct delivery_row *d = &l.items[i];
		struct store_write w;
		struct err se = { 0 };
		long status = 0;
		enum result rc;

		rc = send_one(s, a, d, now, &status, &se);
		store_write_init(&w, W_DELIVERY_RESULT, &sys);
		w.in.dres.id = d->id;
		w.in.dres.now = now;
		w.in.dres.status = status;
		if (rc == RC_OK) {
			w.in.dres.state = "sent";
			out->sent++;
		} else if (rc == RC_IO && d->attempts + 1 < NOTIFY_MAX_ATTEMPTS) {
			w.in.dres.state = "pending";
			w.in.dres.next_attempt_at = now + notify_backoff(d->attempts + 1);
			w.in.dres.error = arena_strdup(a, se.msg);
			out->retried++;
		} else {
			w.in.dres.state = "failed";
			w.in.dres.error = arena_strdup(a, se.msg);
			out->failed++;
		}
		if (store_write_sync(s->store, &w) != RC_OK)
			log_event(LOG_WARN, "outbox", json_pack("{s:I,s:s}", "delivery", (json_int_t)d->id,
							       "error", w.err.msg));
	}
	arena_free(a);
}

static pthread_mutex_t run_mu = PTHREAD_MUTEX_INITIALIZER;

void notify_run(struct server *s, int64_t now, struct notify_result *out)
{
	struct outbox_list ol;
	struct arena *a;
	struct err e;

	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&run_mu);
	/* Ceilings, not allocations: a batch of rows or deliveries at their
	 * largest (a reply's text is capped at 64 KiB in the payload). */
	a = arena_new(256u << 20);
	if (a && store_outbox_pending(s->store, EXPAND_BATCH, a, &ol, &e) != RC_OK) {
		log_event(LOG_ERROR, "outbox", json_pack("{s:s,s:s}", "reading", "outbox rows",
							 "error", e.msg));
		ol.n = 0;
	}
	if (a) {
		for (size_t i = 0; i < ol.n; i++) {
			/* Each row in an arena of its own (its composed mail). */
			struct arena *x = arena_new(strcmp(ol.items[i].event, REPORT_REVIEW_EVENT)
						    ? ROW_ARENA : REVIEW_ARENA);
			if (!x)
				break;
			out->expanded += expand_one(s, x, &ol.items[i], now);
			arena_free(x);
		}
	}
	arena_free(a);
	send_due(s, now, out);
	pthread_mutex_unlock(&run_mu);
	if (out->sent || out->retried || out->failed)
		log_event(LOG_INFO, "outbox", json_pack("{s:i,s:i,s:i,s:i}", "expanded", out->expanded,
							"sent", out->sent, "retried", out->retried,
							"failed", out->failed));
}

/* ---- the thread ------------------------------------------------------------------------------------ */

static pthread_t thread;
static bool running, stopping;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;

static void *notify_main(void *arg)
{
	struct server *s = arg;

	pthread_mutex_lock(&mu);
	while (!stopping) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += TICK_MS / 1000;
		pthread_cond_timedwait(&cv, &mu, &ts);
		if (stopping)
			break;
		pthread_mutex_unlock(&mu);
		/* Passes until one finds nothing to do (a backlog drains at
		 * once, not a batch a tick). */
		for (int pass = 0; pass < 1000 && !clock_is_test() && store_lead(s->store); pass++) {
			struct notify_result r;
			notify_run(s, clock_now_ms(), &r);
			if (!r.expanded && !r.sent && !r.failed && !r.retried)
				break;
			if (__atomic_load_n(&stopping, __ATOMIC_RELAXED))
				break;
		}
		pthread_mutex_lock(&mu);
	}
	pthread_mutex_unlock(&mu);
	return NULL;
}

enum result notify_start(struct server *s, struct err *e)
{
	stopping = false;
	if (s->cfg.outbox_off)
		return RC_OK;
	if (pthread_create(&thread, NULL, notify_main, s) != 0)
		return err_set(e, RC_IO, NULL, "cannot start the outbox dispatcher");
	running = true;
	return RC_OK;
}

void notify_kick(void)
{
	pthread_mutex_lock(&mu);
	pthread_cond_signal(&cv);
	pthread_mutex_unlock(&mu);
}

void notify_stop(void)
{
	if (!running) {
		smtp_close();
		return;
	}
	pthread_mutex_lock(&mu);
	stopping = true;
	pthread_cond_signal(&cv);
	pthread_mutex_unlock(&mu);
	pthread_join(thread, NULL);
	running = false;
	smtp_close();
}
