/*
 * api_mail.c: the mail intake (issue 8; docs/MAIL.md): POST
 * /api/v1/mail/inbound, what `itsup mailgate` posts, and the routes around
 * it: the intake log and filing a held message, recipient routes, the
 * intake policy, and a ticket's attachments.
 *
 * One message is handled in three steps:
 *   1. read it (mail_parse: refused whole with 400 when it is not mail or
 *      is past a limit; the MTA then bounces it, it will never do better);
 *   2. gather the facts from the store: was this Message-ID stored before,
 *      how much has this sender sent in the last hour, who the sender is
 *      (staff, a client's login, a contact), which ticket it answers (the
 *      [T-n] tag, In-Reply-To, References; for a bounce, the message it
 *      reports on), which client a recipient route or the sender's domain
 *      names;
 *   3. intake_decide (src/mail/intake.h, pure) says what to do, and one
 *      store write does all of it: the ticket change or new ticket, the
 *      message with its quoted part marked, the attachments, the contact
 *      for an unknown sender, the Message-ID, the log row. Two deliveries
 *      of one message racing each other meet at the Message-ID's unique
 *      key: one is filed, the other answers "duplicate".
 *
 * The answer is 200 (201 for a new ticket) whenever the message was taken,
 * including when it was held, ignored as an automatic reply, or rate
 * limited: the MTA must not retry those. Only a failure to store it is a
 * 5xx (mailgate: exit 75, the MTA retries later).
 *
 * Nothing in an incoming message's headers is trusted for identity beyond
 * its From address, and no header itsup writes on its own mail (X-Itsup-*)
 * is read back: threading uses the subject's tag and Message-IDs only.
 */
#include "base/common.h"

#include <inttypes.h>
#include <sodium.h>

#include "base/clock.h"
#include "base/jschema.h"
#include "base/log.h"
#include "base/util.h"
#include "http/http.h"
#include "mail/intake.h"
#include "mail/mail.h"
#include "ticket/ticket.h"

#define RATE_DEFAULT 30          /* messages per sender per hour */
#define RATE_WINDOW_MS 3600000LL
#define THREAD_IDS_MAX 32
#define CHANGE_TRIES 8
#define SUBJECT_MAX 300          /* as POST /api/v1/tickets */
#define NAME_MAX_BYTES 200
#define ADDRESS_MAX 254          /* RFC 5321's path limit */
#define HAS(seen, f) (((seen).present >> (f)) & 1u)

static const char *json_text_of(struct arena *a, json_t *v)
{
	char *s = json_dumps(v, JSON_COMPACT);
	const char *out = arena_strdup(a, s ? s : "{}");

	free(s);
	json_decref(v);
	return out;
}

/* ---- the intake policy (setting "mail") ------------------------------------------------------ */

struct mail_policy {
	bool hold_unknown;
	int rate_per_hour;               /* 0: no limit */
};

static void policy_read(struct req *r, struct mail_policy *p)
{
	const char *v = NULL;
	struct err e;
	json_t *o;

	p->hold_unknown = false;
	p->rate_per_hour = RATE_DEFAULT;
	if (store_setting_get(r->srv->store, SETTING_MAIL, r->a, &v, &e) != RC_OK || !v)
		return;
	o = json_loads(v, 0, NULL);
	if (!o)
		return;
	p->hold_unknown = !strcmp(json_string_value(json_object_get(o, "unknown_sender")) ?: "", "hold");
	if (json_is_integer(json_object_get(o, "rate_per_hour")))
		p->rate_per_hour = (int)json_integer_value(json_object_get(o, "rate_per_hour"));
	json_decref(o);
}

static json_t *policy_json(const struct mail_policy *p)
{
	return json_pack("{s:s,s:i}", "unknown_sender", p->hold_unknown ? "hold" : "create_contact",
			 "rate_per_hour", p->rate_per_hour);
}

void h_mail_settings_get(struct req *r)
{
	struct mail_policy p;

	policy_read(r, &p);
	req_json(r, 200, policy_json(&p));
}

struct policy_in {
	const char *unknown_sender;
	int64_t rate;
};

static const char *const unknown_choices[] = { "create_contact", "hold", NULL };

static const struct jfield policy_fields[] = {
	{ "unknown_sender", JT_ENUM, 0, offsetof(struct policy_in, unknown_sender), 0, 0, unknown_choices },
	{ "rate_per_hour", JT_INT, 0, offsetof(struct policy_in, rate), 0, 100000, NULL },
};

static void settings_then(struct req *r)
{
	struct mail_policy *p = r->ctx;

	if (r->w.rc != RC_OK) {
		req_fail(r, r->w.rc, &r->w.err);
		return;
	}
	req_json(r, 200, policy_json(p));
}

void h_mail_settings_patch(struct req *r)
{
	struct policy_in in = { 0 };
	struct mail_policy *p = arena_alloc(r->a, sizeof(*p));
	struct jseen seen;
	json_t *errs = json_array();

	if (!p) {
		json_decref(errs);
		req_fail(r, RC_NOMEM, NULL);
		return;
	}
	if (!jschema_parse(r->json, policy_fields, ARRAY_SIZE(policy_fields), &in, &seen, errs)) {
		req_invalid(r, errs);
		return;
	}
	json_decref(errs);
	policy_read(r, p);
	if (in.unknown_sender)
		p->hold_unknown = !strcmp(in.unknown_sender, "hold");
	if (HAS(seen, 1))
		p->rate_per_hour = (int)in.rate;
	r->ctx = p;
	req_write_init(r, W_SETTING_SET, "settings.mail", "setting");
	r->w.in.setting.key = SETTING_MAIL;
	r->w.in.setting.value = json_text_of(r->a, policy_json(p));
	req_write(r, settings_then);
}

/* ---- gathering the facts --------------------------------------------------------------------- */

/* Pure: one line of at most max bytes from what a sender wrote: control
 * characters (CR and LF included) become spaces, runs of spaces one, the
 * ends trimmed, never cut inside a UTF-8 sequence. */
static const char *one_line(struct arena *a, const char *s, size_t max)
{
	size_t n = strlen(s), j = 0;
	char *out = arena_alloc(a, (n < max ? n : max) + 1);
	bool space = true;

	if (!out)
		return "";
	for (size_t i = 0; i < n && j < max; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c == 0x7f || c == ' ') {
			if (!space)
				out[j++] = ' ';
			space = true;
			continue;
		}
		out[j++] = (char)c;
		space = false;
	}
	if (j == max) {                   /* cut: drop a sequence left incomplete */
		size_t k = j;
		while (k > 0 && ((unsigned char)out[k - 1] & 0xC0) == 0x80)
			k--;
		if (k > 0 && ((unsigned char)out[k - 1] & 0xC0) == 0xC0) {
			unsigned char lead = (unsigned char)out[k - 1];
			size_t need = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 2;
			if (j - (k - 1) < need)
				j = k - 1;
		}
	}
	while (j > 0 && out[j - 1] == ' ')
		j--;
	out[j] = '\0';
	return out;
}

struct intake {
	struct mail_msg m;
	const char *raw;
	size_t len;
	const char *message_id, *sender, *sender_name, *recipient, *queue;
	struct mail_policy pol;
	struct intake_facts f;
	enum intake_action act;
	struct user su;                  /* the sender's login (f.sender staff or client user) */
	int64_t sender_contact;          /* the sender's contact in the new mail's client */
	int64_t ticket_contact;          /* ... in the client of the ticket it threads to */
	int64_t dup_ticket;
	int64_t release_id;              /* filing a held message */
	int64_t force_client;            /* ... under this client */
	struct ticket old;               /* the ticket it threads to */
	struct ticket_write *tw;
	struct mail_file mf;
	int tries, nev;
	bool creating;
};

/* The Message-ID, or for a message without one an id made of its SHA-256
 * (the same bytes delivered twice are still stored once). */
static const char *message_id_of(struct req *r, const struct mail_msg *m, const char *raw, size_t len)
{
	unsigned char h[32];
	char hex[65];

	if (m->message_id && *m->message_id)
		return m->message_id;
	crypto_hash_sha256(h, (const unsigned char *)raw, len);
	sodium_bin2hex(hex, sizeof(hex), h, sizeof(h));
	return arena_printf(r->a, "%s@no-message-id.itsup.invalid", hex);
}

/* Whether the sender is a contact or login of client; *contact: the
 * sender's contact there (0: none). */
static bool sender_of(struct req *r, struct intake *in, int64_t client, int64_t *contact)
{
	struct err e;
	int64_t id = 0;

	*contact = 0;
	if (!client || !*in->sender)
		return false;
	if (store_contact_by_email(r->srv->store, client, in->sender, &id, &e) == RC_OK && id) {
		*contact = id;
		return true;
	}
	return in->f.sender == IS_CLIENT_USER && in->su.client_id == client;
}

static void who_sent(struct req *r, struct intake *in)
{
	struct err e;
	int64_t id, client;

	in->f.sender = IS_UNKNOWN;
	if (!*in->sender)
		return;
	if (store_user_auth(r->srv->store, in->sender, r->a, &in->su, &e) == RC_OK && in->su.active) {
		in->f.sender = role_is_staff(in->su.role) ? IS_STAFF : IS_CLIENT_USER;
		return;
	}
	if (store_contact_find_email(r->srv->store, in->sender, &id, &client, &e) == RC_OK && id)
		in->f.sender = IS_CONTACT;
}

/* The ticket the message answers: for a bounce, the message it reports on;
 * else the subject's [T-n] tag, In-Reply-To, then References newest first. */
static void thread_of(struct req *r, struct intake *in)
{
	const struct mail_msg *m = &in->m;
	const char *ids[THREAD_IDS_MAX];
	struct scope sys = scope_system();
	size_t n = 0;
	int found = -1;
	int64_t tid = 0, number, client;
	struct err e;

	if (m->bounce && m->bounced_message_id)
		ids[n++] = m->bounced_message_id;
	number = m->bounce ? 0 : mail_ticket_number(m->subject);
	if (number && store_ticket_by_number(r->srv->store, number, &tid, &client, &e) == RC_OK && tid) {
		in->f.by_tag_only = true;
	} else {
		tid = 0;
		if (m->in_reply_to && n < THREAD_IDS_MAX)
			ids[n++] = m->in_reply_to;
		for (size_t i = m->nrefs; i > 0 && n < THREAD_IDS_MAX; i--)
			ids[n++] = m->references[i - 1];
		if (n && store_mail_thread(r->srv->store, ids, n, &found, &tid, &e) != RC_OK)
			tid = 0;
	}
	if (!tid || store_ticket_get(r->srv->store, &sys, tid, r->a, &in->old, &e) != RC_OK)
		return;
	in->f.thread_ticket = tid;
	if (in->f.by_tag_only && found < 0) {
		/* A tag, and a Message-ID of the same ticket too: not a guess. */
		const char *more[THREAD_IDS_MAX];
		size_t k = 0;
		int64_t t2 = 0;
		if (m->in_reply_to)
			more[k++] = m->in_reply_to;
		for (size_t i = m->nrefs; i > 0 && k < THREAD_IDS_MAX; i--)
			more[k++] = m->references[i - 1];
		if (k && store_mail_thread(r->srv->store, more, k, &found, &t2, &e) == RC_OK && t2 == tid)
			in->f.by_tag_only = false;
	}
	in->f.sender_of_ticket_client = sender_of(r, in, in->old.client_id, &in->ticket_contact);
	in->f.sender_is_requester = in->f.sender_of_ticket_client &&
		((in->ticket_contact && in->ticket_contact == in->old.requester_contact_id) ||
		 (in->f.sender == IS_CLIENT_USER && in->su.id == in->old.requester_user_id));
}

/* The client of new mail, and the route's queue. */
static void client_of(struct req *r, struct intake *in)
{
	struct err e;
	int64_t id = 0, client = 0;

	for (size_t i = 0; i < in->m.nto; i++) {
		struct mail_route_row rt;
		if (store_mail_route_find(r->srv->store, in->m.to[i].email, r->a, &rt, &e) == RC_OK) {
			in->recipient = rt.address;
			in->queue = rt.queue;
			client = rt.client_id;
			break;
		}
	}
	if (in->force_client)
		client = in->force_client;
	if (!client && in->f.sender == IS_CLIENT_USER)
		client = in->su.client_id;
	if (!client && in->f.sender == IS_CONTACT &&
	    store_contact_find_email(r->srv->store, in->sender, &id, &client, &e) != RC_OK)
		client = 0;
	if (!client && *in->sender) {
		const char *at = strrchr(in->sender, '@');
		if (at && store_client_by_domain(r->srv->store, at + 1, &id, &e) == RC_OK)
			client = id;
	}
	in->f.client_id = client;
	in->f.sender_of_client = sender_of(r, in, client, &in->sender_contact);
}

static void gather(struct req *r, struct intake *in)
{
	struct err e;
	int found = -1;
	int64_t n = 0;

	in->f.bounce = in->m.bounce;
	in->f.auto_reply = in->m.auto_reply;
	if (!in->release_id &&
	    store_mail_thread(r->srv->store, &in->message_id, 1, &found, &in->dup_ticket, &e) == RC_OK &&
	    found == 0)
		in->f.duplicate = true;
	if (!in->release_id && in->pol.rate_per_hour > 0 && *in->sender &&
	    store_inbound_count(r->srv->store, in->sender, clock_now_ms() - RATE_WINDOW_MS, &n, &e) == RC_OK &&
	    n >= in->pol.rate_per_hour)
		in->f.over_rate = true;
	who_sent(r, in);
	if (!in->release_id)
		thread_of(r, in);
	client_of(r, in);
	in->f.hold_unknown = in->pol.hold_unknown && !in->release_id;
}

/* ---- doing it ----------------------------------------------------------------------------------- */

static json_t *answer_json(struct intake *in, int64_t ticket_id, int64_t number, int64_t inbound_id)
{
	return json_pack("{s:s,s:o,s:o,s:o,s:s}", "action", intake_log_action[in->act], "ticket_id",
			 ticket_id ? json_integer(ticket_id) : json_null(), "number",
			 number ? json_sprintf("T-%06" PRId64, number) : json_null(), "inbound_id",
			 inbound_id ? json_integer(inbound_id) : json_null(), "message_id", in->message_id);
}

static void log_fill(struct intake *in, struct inbound_row *l, const char *reason)
{
	l->message_id = in->message_id;
	l->sender = in->sender;
	l->recipient = in->recipient ? in->recipient : "";
	l->subject = in->m.subject;
	l->action = intake_log_action[in->act];
	l->reason = reason;
	l->size = (int64_t)in->len;
	l->received_at = clock_now_ms();
}

static const char *reason_of(const struct intake *in)
{
	switch (in->act) {
	case IA_DUPLICATE: return "this Message-ID was stored before";
	case IA_RATE_LIMITED: return "the sender is over the hourly limit";
	case IA_BOUNCE_NOTE: return "delivery failure report, filed on the ticket it concerns";
	case IA_BOUNCE_DROP: return "delivery failure report about no known ticket";
	case IA_AUTO_NOTE: return "automatic reply, filed as a note";
	case IA_AUTO_DROP: return "automatic reply or bulk mail, not threaded to a ticket";
	case IA_STAFF_REPLY: return "a staff member's reply";
	case IA_REPLY: return "the requester's side replied";
	case IA_NOTE: return "a reply from outside the client, filed as a note";
	case IA_NEW: return "new ticket";
	case IA_NEW_CONTACT: return "new ticket; the sender became a contact";
	case IA_HOLD:
		return in->f.client_id ? "unknown sender; the policy holds such mail"
				       : "no client for this sender or recipient";
	default: return "";
	}
}

static void logged_then(struct req *r)
{
	struct intake *in = r->ctx;

	if (r->w.rc == RC_CONFLICT && !strcmp(r->w.err.field, "message_id")) {
		in->act = IA_DUPLICATE;
		req_json(r, 200, answer_json(in, 0, 0, 0));
		return;
	}
	if (r->w.rc != RC_OK) {
		req_fail(r, r->w.rc, &r->w.err);
		return;
	}
	req_json(r, 200, answer_json(in, in->act == IA_DUPLICATE ? in->dup_ticket : 0, 0, r->w.id));
}

/* Only logged: duplicates, rate limited, automatic mail about no ticket,
 * held (with the raw message, for a person to file). */
static void log_only(struct req *r, struct intake *in)
{
	req_write_init(r, W_MAIL_LOG, NULL, NULL);
	log_fill(in, &r->w.in.inbound, reason_of(in));
	if (in->act == IA_DUPLICATE)
		r->w.in.inbound.ticket_id = in->dup_ticket;
	if (in->act == IA_HOLD) {
		r->w.in.inbound.raw = (const unsigned char *)in->raw;
		r->w.in.inbound.raw_len = in->len;
	}
	r->w.in.inbound.client_id = in->f.client_id;
	req_write(r, logged_then);
}

/* The message's text as a ticket message: the text, a line for every
 * attachment too big to keep, never empty. */
static const char *body_of(struct req *r, const struct intake *in, const char *prefix)
{
	struct buf b;
	const char *out;

	buf_init(&b, 4u << 20);
	if (prefix)
		buf_appendf(&b, "%s\n\n", prefix);
	buf_append(&b, in->m.text, strlen(in->m.text));
	for (size_t i = 0; i < in->m.nparts; i++)
		if (in->m.parts[i].too_big)
			buf_appendf(&b, "\n[attachment %s was too large to keep]", in->m.parts[i].filename);
	if (!b.len)
		buf_appendf(&b, "%s", in->m.nparts ? "(attachments only)" : "(no text)");
	out = arena_strndup(r->a, buf_str(&b), b.len);
	buf_release(&b);
	return out ? out : "";
}

static void attachments_of(struct req *r, struct intake *in)
{
	size_t n = 0;

	in->mf.att = arena_alloc(r->a, (in->m.nparts + 1) * sizeof(*in->mf.att));
	if (!in->mf.att)
		return;
	for (size_t i = 0; i < in->m.nparts; i++) {
		const struct mail_part *p = &in->m.parts[i];
		struct attachment_row *a = &in->mf.att[n];
		if (p->too_big || !p->data)
			continue;
		a->filename = *p->filename ? p->filename : "attachment";
		a->content_type = *p->content_type ? p->content_type : "application/octet-stream";
		a->content_id = p->content_id;
		a->is_inline = p->is_inline;
		a->data = p->data;
		a->size = (int64_t)p->len;
		n++;
	}
	in->mf.natt = n;
}

static void filed_then(struct req *r);
static void decide_and_act(struct req *r, struct intake *in);

static void file_write(struct req *r, struct intake *in)
{
	struct ticket_write *tw = in->tw;

	req_write_init(r, in->creating ? W_TICKET_CREATE : W_TICKET_CHANGE, NULL, "ticket");
	r->w.in.tw = tw;
	tw->mail = &in->mf;
	req_write(r, filed_then);
}

/* The "ticket received" notice answers the requester's message: its
 * outbox row carries the Message-ID (In-Reply-To of the notice). */
static void answers_message(struct req *r, struct ticket_write *tw, const char *message_id)
{
	for (int i = 0; i < tw->nob; i++) {
		json_t *o;
		if (strcmp(tw->ob[i].event, "ticket.created"))
			continue;
		o = json_loads(tw->ob[i].payload, 0, NULL);
		if (!o)
			return;
		json_object_set_new(o, "in_reply_to", json_string(message_id));
		tw->ob[i].payload = json_text_of(r->a, o);
	}
}

/* A new ticket from the message (NEW, NEW_CONTACT). */
static bool prepare_new(struct req *r, struct intake *in, int64_t now)
{
	struct ticket *t = &in->tw->t;
	struct prio_matrix m;
	const char *subj = in->m.subject;

	t->client_id = in->f.client_id;
	t->requester_contact_id = in->sender_contact;
	if (in->f.sender == IS_CLIENT_USER && in->su.client_id == t->client_id)
		t->requester_user_id = in->su.id;
	while (*subj == ' ')
		subj++;
	t->subject = *subj ? subj : "(no subject)";
	t->description = body_of(r, in, NULL);
	t->type = TT_INCIDENT;
	t->impact = LV_MEDIUM;
	t->urgency = LV_MEDIUM;
	tickets_matrix_of(r, t->client_id, &m);
	t->priority = priority_of(&m, t->impact, t->urgency);
	t->channel = CH_EMAIL;
	t->queue = in->queue && *in->queue ? in->queue : "general";
	t->tier = 1;
	t->tags = "[]";
	t->status = TS_NEW;
	t->fcr = -1;
	t->created_at = t->last_activity_at = now;
	if (in->act == IA_NEW_CONTACT) {
		in->mf.new_contact_email = in->sender;
		in->mf.new_contact_name = *in->sender_name ? in->sender_name : in->sender;
	}
	tickets_prepare_new(r, in->tw, now);
	answers_message(r, in->tw, in->message_id);
	in->creating = true;
	return true;
}

/* The message joins old (the ticket as read): a reply or a note. */
static bool prepare_append(struct req *r, struct intake *in, int64_t now)
{
	struct ticket_write *tw = in->tw;
	const char *body = body_of(r, in, NULL);
	size_t q = mail_quote_start(body);
	enum mail_reply ro = MR_OK;
	bool note = in->act == IA_NOTE || in->act == IA_AUTO_NOTE || in->act == IA_BOUNCE_NOTE;

	tw->t = in->old;
	tw->if_version = in->old.version;
	tw->has_msg = true;
	tw->msg.source = "email";
	tw->msg.quote_at = q < strlen(body) ? (int64_t)q : 0;
	if (in->act == IA_STAFF_REPLY) {
		tw->msg.author_user_id = in->su.id;
		ro = tickets_prepare_reply(r, &in->old, tw, true, in->su.id, body, CH_EMAIL, now);
		if (ro == MR_CLOSED) {
			note = true;  /* a closed ticket takes staff mail as a note */
			in->act = IA_NOTE;
		}
	} else if (in->act == IA_REPLY) {
		int64_t uid = in->f.sender == IS_CLIENT_USER ? in->su.id : 0;
		tw->msg.author_user_id = uid;
		tw->msg.author_contact_id = in->ticket_contact;
		ro = tickets_prepare_reply(r, &in->old, tw, false, uid, body, CH_EMAIL, now);
	}
	if (note) {
		const char *who = *in->sender_name
			? arena_printf(r->a, "%s <%s>", in->sender_name, in->sender) : in->sender;
		const char *what = in->act == IA_BOUNCE_NOTE ? "Delivery failure report"
				 : in->act == IA_AUTO_NOTE ? "Automatic reply" : "E-mail";
		tw->msg.kind = "note";
		tw->msg.author_user_id = in->f.sender == IS_STAFF ? in->su.id : 0;
		tw->msg.author_contact_id = in->f.sender == IS_STAFF ? 0 : in->ticket_contact;
		tw->msg.body = body_of(r, in, arena_printf(r->a, "%s from %s", what, *who ? who : "(no sender)"));
		tw->msg.quote_at = 0;
		return true;
	}
	tw->msg.kind = "reply";
	tw->msg.body = body;
	if (ro == MR_SPAWNED) {
		/* A reply to a closed ticket: a new one, linked, the message its
		 * description (and its first message). */
		in->creating = true;
		in->act = IA_NEW;
		tw->t.requester_contact_id = in->ticket_contact;
		tickets_prepare_change(r, NULL, tw, now);
		return true;
	}
	tw->t.updated_at = now;
	tw->t.last_activity_at = now;
	tickets_prepare_change(r, &in->old, tw, now);
	return true;
}

static void act(struct req *r, struct intake *in)
{
	int64_t now = clock_now_ms();

	switch (in->act) {
	case IA_DUPLICATE:
	case IA_RATE_LIMITED:
	case IA_BOUNCE_DROP:
	case IA_AUTO_DROP:
	case IA_HOLD:
		log_only(r, in);
		return;
	default:
		break;
	}
	in->tw = arena_alloc(r->a, sizeof(*in->tw));
	if (!in->tw) {
		req_fail(r, RC_NOMEM, NULL);
		return;
	}
	memset(&in->mf, 0, sizeof(in->mf));
	in->mf.message_id = in->message_id;
	in->mf.release_id = in->release_id;
	attachments_of(r, in);
	log_fill(in, &in->mf.log, reason_of(in));
	in->creating = false;
	if (in->act == IA_NEW || in->act == IA_NEW_CONTACT)
		prepare_new(r, in, now);
	else
		prepare_append(r, in, now);
	in->mf.log.action = intake_log_action[in->act];
	in->mf.log.reason = reason_of(in);
	if (in->release_id)
		in->mf.log.action = "released";
	in->nev = in->tw->nev;
	file_write(r, in);
}

static void filed_then(struct req *r)
{
	struct intake *in = r->ctx;
	struct ticket_write *tw = in->tw;

	if (r->w.rc == RC_CONFLICT && !strcmp(r->w.err.field, "message_id")) {
		in->act = IA_DUPLICATE;
		req_json(r, 200, answer_json(in, 0, 0, 0));
		return;
	}
	if (r->w.rc == RC_CONFLICT && !strcmp(r->w.err.field, "email") && ++in->tries < CHANGE_TRIES) {
		/* Another message from this new sender made the contact
		 * first: the sender is known now. */
		decide_and_act(r, in);
		return;
	}
	if ((r->w.rc == RC_STALE || sla_gen_stale(&r->w)) && ++in->tries < CHANGE_TRIES) {
		/* The ticket or the SLA set-up moved meanwhile: read the facts
		 * again and redo. */
		decide_and_act(r, in);
		return;
	}
	if (r->w.rc != RC_OK) {
		req_fail(r, r->w.rc, &r->w.err);
		return;
	}
	req_json(r, in->creating ? 201 : 200,
		 answer_json(in, in->creating ? r->w.id : tw->t.id, tw->t.number, in->mf.inbound_id));
}

/* Gathers the facts, decides and acts (again, after a write lost a race:
 * the facts are read afresh). */
static void decide_and_act(struct req *r, struct intake *in)
{
	memset(&in->f, 0, sizeof(in->f));
	in->sender_contact = in->ticket_contact = in->dup_ticket = 0;
	in->recipient = in->queue = NULL;
	gather(r, in);
	in->act = intake_decide(&in->f);
	if (in->release_id && in->act == IA_HOLD) {
		req_problem(r, 409, "conflict", "Conflict", "the message still has no client to go to");
		return;
	}
	act(r, in);
}

/* Reads the message and files it (a new intake, or filing a held one). */
static void intake_run(struct req *r, struct intake *in)
{
	struct err e;
	struct mail_limits lim = mail_limits_default;

	/* The message may be as large as the route takes. */
	lim.message_max = (size_t)r->srv->cfg.mail_max_bytes;
	if (mail_parse(in->raw, in->len, &lim, r->a, &in->m, &e) != RC_OK) {
		json_t *errs = json_array();
		jschema_error(errs, e.field[0] ? e.field : "message", e.msg);
		req_invalid(r, errs);
		return;
	}
	in->message_id = message_id_of(r, &in->m, in->raw, in->len);
	/* What a sender wrote reaches tickets, contacts and outgoing headers
	 * only as bounded single lines; an address past the SMTP limit is no
	 * address. */
	in->sender = in->m.has_from && strlen(in->m.from.email) <= ADDRESS_MAX ? in->m.from.email : "";
	in->sender_name = in->m.has_from ? one_line(r->a, in->m.from.name, NAME_MAX_BYTES) : "";
	in->m.subject = one_line(r->a, in->m.subject, SUBJECT_MAX);
	if (strlen(in->message_id) > 995)
		in->message_id = message_id_of(r, &(struct mail_msg){ 0 }, in->raw, in->len);
	policy_read(r, &in->pol);
	decide_and_act(r, in);
}

void h_mail_inbound(struct req *r)
{
	const char *ct = req_header_in(r, "Content-Type");
	struct intake *in = arena_alloc(r->a, sizeof(*in));

	if (!ct || strncasecmp(ct, "message/rfc822", 14) != 0) {
		req_problem(r, 415, "unsupported-media-type", "Unsupported media type",
			    "send the message as Content-Type: message/rfc822");
		return;
	}
	if (!in) {
		req_fail(r, RC_NOMEM, NULL);
		return;
	}
	in->raw = buf_str(&r->body);
	in->len = r->body.len;
	if (!in->len) {
		json_t *errs = json_array();
		jschema_error(errs, "message", "is empty");
		req_invalid(r, errs);
		return;
	}
	r->ctx = in;
	intake_run(r, in);
}

/* ---- the intake log, and filing a held message ---------------------------------------------- */

static json_t *inbound_json(const struct inbound_row *l)
{
	return json_pack("{s:I,s:o,s:s,s:s,s:s,s:s,s:s,s:s,s:o,s:I,s:o,s:b}", "id", (json_int_t)l->id,
			 "client_id", l->client_id ? json_integer(l->client_id) : json_null(),
			 "message_id", l->message_id, "sender", l->sender, "recipient", l->recipient,
			 "subject", l->subject, "action", l->action, "reason", l->reason, "ticket_id",
			 l->ticket_id ? json_integer(l->ticket_id) : json_null(), "size", (json_int_t)l->size,
			 "received_at", json_instant(l->received_at), "raw_kept", l->has_raw || l->raw);
}

static const char *const action_names[] = {
	"created", "appended", "duplicate", "held", "rate_limited", "auto_reply", "bounce",
	"ignored", "released", NULL
};

void h_mail_inbound_list(struct req *r)
{
	struct list_q lq;
	struct inbound_q q = { 0 };
	struct inbound_list l;
	const char *action = req_query(r, "action");
	struct err e;
	json_t *items;

	if (!req_page(r, &lq))
		return;
	if (action) {
		bool ok = false;
		for (size_t i = 0; action_names[i]; i++)
			ok |= !strcmp(action, action_names[i]);
		if (!ok) {
			json_t *errs = json_array();
			jschema_error(errs, "action", "is not an intake action");
			req_invalid(r, errs);
			return;
		}
	}
	q.after = lq.after;
	q.limit = lq.limit;
	q.action = action;
	if (store_inbound_list(r->srv->store, &q, r->a, &l, &e) != RC_OK) {
		req_fail(r, e.code, &e);
		return;
	}
	items = json_array();
	for (size_t i = 0; i < l.n; i++)
		json_array_append_new(items, inbound_json(&l.items[i]));
	req_json(r, 200, page_json(items, l.next_after));
}

void h_mail_inbound_get(struct req *r)
{
	struct inbound_row l;
	struct err e;

	if (store_inbound_get(r->srv->store, r->params[0], r->a, &l, &e) != RC_OK) {
		req_fail(r, e.code, &e);
		return;
	}
	req_json(r, 200, inbound_json(&l));
}

struct file_in {
	int64_t client_id;
};

static const struct jfield file_fields[] = {
	{ "client_id", JT_INT, JF_REQUIRED, offsetof(struct file_in, client_id), 1, INT64_MAX, NULL },
};

/* A held message filed under a client by a person: the intake again, with
 * the client given and the sender made a contact when unknown. */
void h_mail_inbound_file(struct req *r)
{
	struct file_in fin = { 0 };
	struct jseen seen;
	json_t *errs = json_array();
	struct intake *in = arena_alloc(r->a, sizeof(*in));
	struct inbound_row l;
	struct client c;
	struct err e;

	if (!in) {
		json_decref(errs);
		req_fail(r, RC_NOMEM, NULL);
		return;
	}
	if (!jschema_parse(r->json, file_fields, ARRAY_SIZE(file_fields), &fin, &seen, errs)) {
		req_invalid(r, errs);
		return;
	}
	if (store_client_get(r->srv->store, &r->scope, fin.client_id, r->a, &c, &e) != RC_OK) {
		jschema_error(errs, "client_id", "is not a client");
		req_invalid(r, errs);
		return;
	}
	json_decref(errs);
	if (store_inbound_get(r->srv->store, r->params[0], r->a, &l, &e) != RC_OK) {
		req_fail(r, e.code, &e);
		return;
	}
	if (strcmp(l.action, "held") || !l.raw) {
		req_problem(r, 409, "conflict", "Conflict", "only a held message can be filed");
		return;
	}
	in->raw = (const char *)l.raw;
	in->len = l.raw_len;
	in->release_id = l.id;
	in->force_client = fin.client_id;
	r->ctx = in;
	intake_run(r, in);
}

/* ---- recipient routes --------------------------------------------------------------------------- */

static json_t *route_json(const struct mail_route_row *rt)
{
	return json_pack("{s:I,s:s,s:o,s:o,s:o}", "id", (json_int_t)rt->id, "address", rt->address,
			 "client_id", rt->client_id ? json_integer(rt->client_id) : json_null(),
			 "queue", json_str_or_null(rt->queue), "created_at", json_instant(rt->created_at));
}

void h_mail_route_list(struct req *r)
{
	struct mail_route_row *items;
	size_t n;
	struct err e;
	json_t *arr;

	if (store_mail_route_list(r->srv->store, r->a, &items, &n, &e) != RC_OK) {
		req_fail(r, e.code, &e);
		return;
	}
	arr = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, route_json(&items[i]));
	req_json(r, 200, json_pack("{s:o}", "items", arr));
}

struct route_in {
	const char *address, *queue;
	int64_t client_id;
};

static const struct jfield route_fields[] = {
	{ "address", JT_EMAIL, JF_REQUIRED, offsetof(struct route_in, address), 3, 254, NULL },
	{ "client_id", JT_INT, JF_NULLABLE, offsetof(struct route_in, client_id), 1, INT64_MAX, NULL },
	{ "queue", JT_STRING, JF_NULLABLE, offsetof(struct route_in, queue), 1, 64, NULL },
};

/* Pure: a plausible address (one @, no spaces or controls, parts non-empty). */
static bool address_ok(const char *s)
{
	const char *at = strchr(s, '@');

	if (!at || at == s || !at[1] || strchr(at + 1, '@'))
		return false;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p <= ' ' || *p == 0x7f || *p == '<' || *p == '>' || *p == ',' || *p == ';')
			return false;
	return true;
}

static void route_then(struct req *r)
{
	struct mail_route_row *rt = &r->w.in.route;

	if (r->w.rc != RC_OK) {
		req_fail(r, r->w.rc, &r->w.err);
		return;
	}
	rt->id = r->w.id;
	req_header(r, "Location", arena_printf(r->a, "/api/v1/mail/routes/%" PRId64, rt->id));
	req_json(r, 201, route_json(rt));
}

void h_mail_route_create(struct req *r)
{
	struct route_in in = { 0 };
	struct jseen seen;
	json_t *errs = json_array();
	char *addr;

	if (!jschema_parse(r->json, route_fields, ARRAY_SIZE(route_fields), &in, &seen, errs)) {
		req_invalid(r, errs);
		return;
	}
	addr = arena_strdup(r->a, in.address);
	if (!addr) {
		json_decref(errs);
		req_fail(r, RC_NOMEM, NULL);
		return;
	}
	for (char *p = addr; *p; p++)
		*p = (char)((*p >= 'A' && *p <= 'Z') ? *p + 32 : *p);
	if (!address_ok(addr))
		jschema_error(errs, "address", "is not an e-mail address");
	if (!in.client_id && !in.queue)
		jschema_error(errs, "client_id", "a route names a client, a queue or both");
	if (json_array_size(errs)) {
		req_invalid(r, errs);
		return;
	}
	json_decref(errs);
	req_write_init(r, W_MAIL_ROUTE_PUT, "mail_route.create", "mail_route");
	r->w.in.route.address = addr;
	r->w.in.route.client_id = in.client_id;
	r->w.in.route.queue = in.queue;
	r->w.in.route.created_at = clock_now_ms();
	req_write(r, route_then);
}

void h_mail_route_delete(struct req *r)
{
	req_write_init(r, W_MAIL_ROUTE_DELETE, "mail_route.delete", "mail_route");
	r->w.id = r->params[0];
	req_write(r, req_written_204);
}

/* ---- attachments --------------------------------------------------------------------------------- */

static bool staff_scope(const struct req *r)
{
	return role_is_staff(r->scope.role);
}

static json_t *attachment_json(const struct attachment_row *a)
{
	char hex[65];

	sodium_bin2hex(hex, sizeof(hex), a->sha256, sizeof(a->sha256));
	return json_pack("{s:I,s:I,s:o,s:s,s:s,s:o,s:b,s:I,s:s,s:o,s:o}", "id", (json_int_t)a->id,
			 "ticket_id", (json_int_t)a->ticket_id, "message_id",
			 a->message_id ? json_integer(a->message_id) : json_null(), "filename", a->filename,
			 "content_type", a->content_type, "content_id", json_str_or_null(a->content_id),
			 "inline", a->is_inline, "size", (json_int_t)a->size, "sha256", hex, "created_at",
			 json_instant(a->created_at), "url",
			 json_sprintf("/api/v1/attachments/%" PRId64, a->id));
}

void h_attachment_list(struct req *r)
{
	struct attachment_list l;
	struct err e;
	json_t *arr;

	if (store_attachment_list(r->srv->store, &r->scope, r->params[0], staff_scope(r), r->a, &l,
				  &e) != RC_OK) {
		req_fail(r, e.code, &e);
		return;
	}
	arr = json_array();
	for (size_t i = 0; i < l.n; i++)
		json_array_append_new(arr, attachment_json(&l.items[i]));
	req_json(r, 200, json_pack("{s:o}", "items", arr));
}

/* Pure: a file name safe inside a quoted Content-Disposition parameter
 * (ASCII printable, no quotes or backslashes; the rest becomes '_'). */
static const char *disposition_name(struct req *r, const char *name)
{
	char *s = arena_strdup(r->a, name && *name ? name : "attachment");

	if (!s)
		return "attachment";
	for (char *p = s; *p; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f || *p == '"' || *p == '\\' ||
		    *p == '/' || *p == ';')
			*p = '_';
	return s;
}

/* The file, always as a download: never rendered by the browser on the
 * desk's origin (Content-Disposition: attachment, nosniff, and a CSP
 * sandbox for good measure). */
void h_attachment_get(struct req *r)
{
	struct attachment_row a;
	struct err e;

	if (store_attachment_get(r->srv->store, &r->scope, r->params[0], staff_scope(r), r->a, &a,
				 &e) != RC_OK) {
		req_fail(r, e.code, &e);
		return;
	}
	req_header(r, "Content-Disposition",
		   arena_printf(r->a, "attachment; filename=\"%s\"", disposition_name(r, a.filename)));
	req_header(r, "Content-Security-Policy", "sandbox; default-src 'none'");
	req_text(r, 200, "application/octet-stream", (const char *)a.data, (size_t)a.size);
}
