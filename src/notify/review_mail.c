/*
 * review_mail.c: the e-mails of a scheduled SLA review pack
 * (review_mail.h has the model and the size rules).
 *
 * One expansion: read the row's payload (nothing in it is trusted
 * beyond its shape: the client is the row's own tenant), build the HTML
 * pack and, when asked, the CSV with the system's scope (the schedule is
 * the provider's decision to send this client its own review), decide
 * what fits, render the template once per recipient and compose each
 * message with its attachments.
 */
#include "base/common.h"

#include <inttypes.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/log.h"
#include "http/http.h"
#include "jobs/review_sched.h"
#include "notify/compose.h"
#include "notify/review_mail.h"
#include "report/report.h"

#define HTML_BUILD_MAX ((size_t)32 << 20)   /* a pack bigger than this is not attached */
#define CSV_SLACK ((size_t)64 << 10)        /* one CSV row at most, past the budget */

struct pack {
	int64_t client_id, from_day, to_day;
	const char *client_name, *label;
	struct buf html, csv;
	bool html_built, csv_wanted, csv_built;
	struct mail_attachment att[2];
	size_t natt;
	const char *note;                   /* report.attachments */
};

/* The payload's shape: from, to (dates), recipients (addresses), csv. */
static enum result read_payload(json_t *p, struct pack *k, const char ***rcpt, size_t *nrcpt,
				struct arena *a, struct err *e)
{
	json_t *list = json_object_get(p, "recipients"), *v;
	size_t i;

	if (!rsched_parse_day(json_string_value(json_object_get(p, "from")), &k->from_day) ||
	    !rsched_parse_day(json_string_value(json_object_get(p, "to")), &k->to_day) ||
	    k->to_day <= k->from_day)
		return err_set(e, RC_INVALID, "payload", "the report row has no period");
	if (!json_is_array(list) || !json_array_size(list))
		return err_set(e, RC_INVALID, "payload", "the report row has no recipients");
	*nrcpt = 0;
	*rcpt = arena_alloc(a, sizeof(**rcpt) * json_array_size(list));
	if (!*rcpt)
		return err_set(e, RC_NOMEM, NULL, "out of memory");
	json_array_foreach(list, i, v) {
		if (json_is_string(v) && *nrcpt < REVIEW_MAIL_RCPT_MAX)
			(*rcpt)[(*nrcpt)++] = json_string_value(v);
	}
	k->csv_wanted = json_is_true(json_object_get(p, "csv"));
	return RC_OK;
}

static const char *size_text(struct arena *a, size_t n)
{
	return n >= (1u << 20) ? arena_printf(a, "%.1f MB", (double)n / (1u << 20))
			       : arena_printf(a, "%zu KB", (n + 1023) / 1024);
}

const char *review_mail_left_out(struct arena *a, const char *base_url, const char *what,
				 const char *it, const char *size, int64_t client_id,
				 int64_t from_day, int64_t to_day, const char *format)
{
	char from[16], to[16];

	if (!base_url || !*base_url)
		return arena_printf(a, "%s too large to attach (%s). Ask the service desk for %s:"
				    " no download link can be given, as the desk's public address"
				    " is not configured.\n", what, size, it);
	rsched_day_text(from_day, from);
	rsched_day_text(to_day, to);
	return arena_printf(a, "%s too large to attach (%s). Download %s here (sign-in required):\n"
			    "%s/api/v1/reports/sla-review?client_id=%" PRId64 "&from=%s&to=%s&format=%s\n",
			    what, size, it, base_url, client_id, from, to, format);
}

void review_mail_plan(bool html_built, size_t html_len, bool csv_built, size_t csv_len,
		      size_t budget, struct review_mail_plan *out)
{
	out->html = html_built && html_len <= budget;
	if (out->html)
		budget -= html_len;
	out->csv = csv_built && csv_len <= budget;
}

/* Adds the document in b as attachment "<name>.<ext>" with its line in
 * the note; false when the arena is full. */
static bool attach(struct arena *a, struct pack *k, const char *ext, const char *type,
		   const struct buf *b, struct buf *note, const char *what)
{
	char *name = arena_alloc(a, 128);

	if (!name)
		return false;
	rsched_filename(k->client_name, k->label, ext, name, 128);
	k->att[k->natt++] = (struct mail_attachment){ name, type, b->data, b->len };
	buf_appendf(note, "- %s: %s\n", name, what);
	return true;
}

/* Builds the documents (the pack always, the CSV when asked) and decides
 * what is attached (review_mail.h: REVIEW_MAIL_ATTACH_MAX together, the
 * pack first), with the text that says so. */
static enum result build(struct server *s, struct arena *a, const struct review_mail_from *f,
			 struct pack *k, struct err *e)
{
	struct scope sys = scope_system();
	struct review_params p = { k->client_id, k->from_day, k->to_day, REVIEW_HTML };
	struct review_mail_plan plan;
	struct buf note;
	const char *line;
	enum result rc;

	rc = report_sla_review(s->store, &sys, &p, a, &k->html, e);
	if (rc == RC_OK)
		k->html_built = true;
	else if (rc != RC_NOMEM)
		return rc;                  /* a pack past HTML_BUILD_MAX is only not attached */
	if (k->csv_wanted) {
		p.format = REVIEW_CSV;
		rc = report_sla_review(s->store, &sys, &p, a, &k->csv, e);
		if (rc == RC_OK)
			k->csv_built = true;
		else if (rc != RC_NOMEM)
			return rc;
	}
	rc = RC_OK;
	/* A document past its buffer's ceiling is RC_NOMEM above (never cut);
	 * one built but past the attachment budget is not attached. */
	review_mail_plan(k->html_built, k->html.len, k->csv_built, k->csv.len, REVIEW_MAIL_ATTACH_MAX,
			 &plan);
	buf_init(&note, 16u << 10);
	if (plan.html || plan.csv)
		buf_appends(&note, "Attached:\n");
	if (plan.html && !attach(a, k, "html", "text/html", &k->html, &note,
				"the review (open it in a web browser; it prints to PDF)"))
		rc = err_set(e, RC_NOMEM, NULL, "out of memory");
	if (plan.csv && !attach(a, k, "csv", "text/csv", &k->csv, &note,
			       "the tickets behind the figures, one row each"))
		rc = err_set(e, RC_NOMEM, NULL, "out of memory");
	if (!plan.html && !(line = review_mail_left_out(a, f->base_url, "The review is", "it",
							 k->html_built ? size_text(a, k->html.len)
								       : "more than 32 MB",
							 k->client_id, k->from_day, k->to_day,
							 "html")))
		rc = err_set(e, RC_NOMEM, NULL, "out of memory");
	else if (!plan.html)
		buf_appends(&note, line);
	if (k->csv_wanted && !plan.csv &&
	    !(line = review_mail_left_out(a, f->base_url, "The ticket rows are", "them",
					  k->csv.len <= REVIEW_MAIL_ATTACH_MAX ? size_text(a, k->csv.len)
									       : "more than 4 MB",
					  k->client_id, k->from_day, k->to_day, "csv")))
		rc = err_set(e, RC_NOMEM, NULL, "out of memory");
	else if (k->csv_wanted && !plan.csv)
		buf_appends(&note, line);
	k->note = arena_strdup(a, buf_str(&note));
	buf_release(&note);
	if (rc == RC_OK && !k->note)
		rc = err_set(e, RC_NOMEM, NULL, "out of memory");
	return rc;
}

static void pack_release(void *p)
{
	struct pack *k = p;

	buf_release(&k->html);
	buf_release(&k->csv);
}

enum result review_mail_expand(struct server *s, struct arena *a, const struct outbox_row *o,
			       json_t *payload, const struct review_mail_from *f,
			       struct delivery_row *items, size_t max, size_t *n, struct err *e)
{
	struct scope sys = scope_system();
	struct pack *k = arena_alloc(a, sizeof(*k));
	const struct tmpl_default *d = tmpl_default(REVIEW_MAIL_TEMPLATE);
	const char **rcpt = NULL, *subject, *body;
	struct template_row over;
	struct client c;
	struct tmpl_vars v;
	char label[32], title[48], from[16], last[16];
	size_t nrcpt = 0;
	enum result rc;

	*n = 0;
	if (!k || !d)
		return err_set(e, RC_NOMEM, NULL, "out of memory");
	buf_init(&k->html, HTML_BUILD_MAX);
	buf_init(&k->csv, REVIEW_MAIL_ATTACH_MAX + CSV_SLACK);
	if (arena_defer(a, pack_release, k) != 0)
		return err_set(e, RC_NOMEM, NULL, "out of memory");
	if ((rc = read_payload(payload, k, &rcpt, &nrcpt, a, e)) != RC_OK)
		return rc;
	if ((rc = store_client_get(s->store, &sys, o->client_id, a, &c, e)) != RC_OK)
		return rc;
	k->client_id = c.id;
	k->client_name = c.name;
	rsched_label(k->from_day, k->to_day, label);
	rsched_title(k->from_day, k->to_day, title);
	rsched_day_text(k->from_day, from);
	rsched_day_text(k->to_day - 1, last);
	k->label = label;
	if ((rc = build(s, a, f, k, e)) != RC_OK)
		return rc;
	if (store_template_get(s->store, REVIEW_MAIL_TEMPLATE, a, &over, e) == RC_OK) {
		subject = over.subject;
		body = over.body;
	} else {
		subject = d->subject;
		body = d->body;
	}
	for (size_t i = 0; i < nrcpt && *n < max; i++) {
		struct mail_out m;
		struct delivery_row *dl;
		const char *raw;
		size_t len;
		struct err ce;

		memset(&v, 0, sizeof(v));
		tmpl_set(&v, "desk.name", *f->name ? f->name : "itsup");
		tmpl_set(&v, "client.name", c.name);
		tmpl_set(&v, "report.period", title);
		tmpl_set(&v, "report.from", from);
		tmpl_set(&v, "report.to", last);
		tmpl_set(&v, "report.attachments", k->note);
		memset(&m, 0, sizeof(m));
		m.from_name = f->name;
		m.from_addr = f->addr;
		m.to_addr = rcpt[i];
		m.subject = tmpl_render(a, subject, &v, true);
		m.body = tmpl_render(a, body, &v, false);
		m.message_id = mail_new_message_id(a, f->domain);
		m.auto_submitted = "auto-generated";
		m.date_ms = clock_now_ms();
		m.attachments = k->att;
		m.nattachments = k->natt;
		if (!m.subject || !m.body || !m.message_id)
			return err_set(e, RC_NOMEM, NULL, "out of memory");
		rc = mail_compose(&m, a, &raw, &len, &ce);
		if (rc == RC_NOMEM)
			return err_set(e, RC_NOMEM, NULL, "out of memory composing the review");
		if (rc != RC_OK) {
			/* One bad address (it was checked when saved) costs only its mail. */
			log_event(LOG_WARN, "outbox", json_pack("{s:I,s:s,s:s}", "outbox", (json_int_t)o->id,
								"to", rcpt[i], "error", ce.msg));
			continue;
		}
		dl = &items[(*n)++];
		memset(dl, 0, sizeof(*dl));
		dl->channel = "email";
		dl->template_key = REVIEW_MAIL_TEMPLATE;
		dl->target = rcpt[i];
		dl->message_id = m.message_id;
		dl->subject = m.subject;
		dl->body = (const unsigned char *)raw;
		dl->body_len = len;
	}
	return RC_OK;
}
