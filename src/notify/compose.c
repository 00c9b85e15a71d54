/*
 * compose.c: notification templates and outgoing messages (compose.h).
 *
 * Templates. One scanner (ph_next) finds the placeholders of a text for
 * both tmpl_check and tmpl_render, so what the check accepts is exactly
 * what the renderer substitutes. A placeholder is "{{", optional blanks, a
 * name, optional blanks, "}}", all on one line and with no other "{{"
 * inside. Invariants:
 *   1. Substitution is one pass over the template: a value is copied, never
 *      scanned again, so a "{{...}}" typed by a requester stays text.
 *   2. In header mode every value byte below 0x20 and 0x7f becomes a
 *      space; the template's own text was refused by tmpl_check if it
 *      held CR or LF. A rendered subject is therefore one line.
 *   3. tmpl_render is pure string work into the arena (two passes: measure,
 *      then write).
 *
 * Messages. mail_compose checks what it is given (addresses, ids), cleans
 * every text it hands to GMime (valid UTF-8; control characters of a
 * header value become spaces; the body's line ends become LF), builds a
 * GMimeMessage, serialises it with CRLF line ends and copies the result
 * into the arena. GMime does all the encoding: RFC 2047 for non-ASCII
 * names and subject, quoted-printable for the body (which also folds
 * lines past 76 bytes), base64 for attachments (a multipart/mixed body:
 * the text first), header folding and RFC 2231 file names. Every GMime
 * object is released before returning.
 */
#include "base/common.h"

#include <gmime/gmime.h>
#include <pthread.h>
#include <sodium.h>

#include "base/util.h"
#include "mail/mail.h"
#include "notify/compose.h"

/* ---- the built-in templates ------------------------------------------------------------ */

#define TICKET_FACTS \
	"Client:   {{client.name}}\n" \
	"Subject:  {{ticket.subject}}\n" \
	"Priority: {{ticket.priority}}\n" \
	"Status:   {{ticket.status}}\n"

const struct tmpl_default tmpl_defaults[] = {
	{
		.key = "requester.created",
		.description = "To the requester when their ticket is opened.",
		.subject = "We received your request [{{ticket.number}}]: {{ticket.subject}}",
		.body = "Hello {{requester.name}},\n"
			"\n"
			"Thank you for contacting {{desk.name}}. We have received your request "
			"and opened ticket {{ticket.number}} (priority: {{ticket.priority}}).\n"
			"\n"
			"To add information, simply reply to this email and keep "
			"[{{ticket.number}}] in the subject line.\n"
			"\n"
			"You can follow your request here:\n"
			"{{ticket.url}}\n"
			"\n"
			"Kind regards,\n"
			"{{desk.name}}\n",
	},
	{
		.key = "requester.reply",
		.description = "To the requester when a staff member posts a public reply.",
		.subject = "Re: {{ticket.subject}} [{{ticket.number}}]",
		.body = "{{message.body}}\n"
			"\n"
			"-- \n"
			"{{author.name}}, {{desk.name}}\n"
			"Ticket {{ticket.number}}: {{ticket.url}}\n"
			"To answer, reply to this email and keep [{{ticket.number}}] in the subject.\n",
	},
	{
		.key = "requester.resolved",
		.description = "To the requester when their ticket is resolved.",
		.subject = "Resolved: {{ticket.subject}} [{{ticket.number}}]",
		.body = "Hello {{requester.name}},\n"
			"\n"
			"Your request {{ticket.number}} \"{{ticket.subject}}\" has been resolved.\n"
			"\n"
			"If the problem is not solved, simply reply to this email and we will "
			"reopen the ticket.\n"
			"\n"
			"How did we do? {{csat.url}}\n"
			"\n"
			"Kind regards,\n"
			"{{desk.name}}\n",
	},
	{
		.key = "staff.assigned",
		.description = "To a staff member when a ticket is assigned to them.",
		.subject = "Assigned to you: {{ticket.subject}} [{{ticket.number}}]",
		.body = "Hello {{assignee.name}},\n"
			"\n"
			"Ticket {{ticket.number}} has been assigned to you.\n"
			"\n"
			TICKET_FACTS
			"\n"
			"{{ticket.url}}\n",
	},
	{
		.key = "staff.escalated",
		.description = "To the assignee when a ticket is escalated to a higher tier.",
		.subject = "Escalated to tier {{ticket.tier}}: {{ticket.subject}} [{{ticket.number}}]",
		.body = "Ticket {{ticket.number}} has been escalated to tier {{ticket.tier}}.\n"
			"\n"
			TICKET_FACTS
			"Assignee: {{assignee.name}}\n"
			"\n"
			"{{ticket.url}}\n",
	},
	{
		.key = "staff.customer_reply",
		.description = "To the assignee when the requester replies to a ticket.",
		.subject = "Customer replied: {{ticket.subject}} [{{ticket.number}}]",
		.body = "{{requester.name}} ({{client.name}}) replied to ticket {{ticket.number}}:\n"
			"\n"
			"{{message.body}}\n"
			"\n"
			"{{ticket.url}}\n",
	},
	{
		.key = "staff.sla_warning",
		.description = "To the assignee when an SLA target is about to be missed.",
		.subject = "SLA warning ({{sla.clock}}): {{ticket.subject}} [{{ticket.number}}]",
		.body = "The {{sla.clock}} target of ticket {{ticket.number}} is due at "
			"{{sla.due_at}}.\n"
			"\n"
			TICKET_FACTS
			"\n"
			"{{ticket.url}}\n",
	},
	{
		.key = "staff.sla_breached",
		.description = "To the assignee when an SLA target has been missed.",
		.subject = "SLA breached ({{sla.clock}}): {{ticket.subject}} [{{ticket.number}}]",
		.body = "The {{sla.clock}} target of ticket {{ticket.number}} was due at "
			"{{sla.due_at}} and has been breached.\n"
			"\n"
			TICKET_FACTS
			"Assignee: {{assignee.name}}\n"
			"\n"
			"{{ticket.url}}\n",
	},
	{
		.key = "staff.dispatcher",
		.description = "To the dispatcher when an SLA policy action says \"notify the dispatcher\".",
		.subject = "{{sla.event}}: {{ticket.subject}} [{{ticket.number}}]",
		.body = "SLA event on ticket {{ticket.number}}: {{sla.event}} "
			"({{sla.clock}}, due at {{sla.due_at}}).\n"
			"\n"
			TICKET_FACTS
			"Assignee: {{assignee.name}}\n"
			"\n"
			"{{ticket.url}}\n",
	},
	{
		.key = "client.sla_review",
		.description = "To the addresses of a report schedule: the client's SLA review pack "
			       "for a month or a quarter (HTML, and the ticket rows as CSV when asked).",
		.subject = "SLA review {{report.period}}: {{client.name}}",
		.body = "Hello,\n"
			"\n"
			"attached is the SLA review of {{client.name}} for {{report.period}} "
			"({{report.from}} to {{report.to}}), with the figures of the period "
			"before it for comparison.\n"
			"\n"
			"{{report.attachments}}\n"
			"\n"
			"Kind regards,\n"
			"{{desk.name}}\n",
	},
};
const size_t tmpl_defaults_count = ARRAY_SIZE(tmpl_defaults);

const char *const tmpl_vars_known[] = {
	"ticket.number", "ticket.subject", "ticket.status", "ticket.priority", "ticket.tier",
	"ticket.url", "client.name", "requester.name", "assignee.name", "author.name",
	"message.body", "csat.url", "sla.clock", "sla.event", "sla.due_at", "desk.name",
	"report.period", "report.from", "report.to", "report.attachments",
	NULL,
};

const struct tmpl_default *tmpl_default(const char *key)
{
	for (size_t i = 0; key && i < tmpl_defaults_count; i++)
		if (!strcmp(tmpl_defaults[i].key, key))
			return &tmpl_defaults[i];
	return NULL;
}

void tmpl_set(struct tmpl_vars *v, const char *name, const char *value)
{
	int i;

	if (!name)
		return;
	for (i = 0; i < v->n; i++)
		if (!strcmp(v->name[i], name))
			break;
	if (i == TMPL_MAX_VARS)
		return;
	v->name[i] = name;
	v->value[i] = value;
	if (i == v->n)
		v->n++;
}

/* ---- placeholders ---------------------------------------------------------------------- */

struct ph {
	size_t start, end;      /* the bytes of "{{ ... }}" in the text */
	const char *name;       /* the name, blanks trimmed (not NUL-terminated) */
	size_t nlen;
	bool terminated;        /* false: a "{{" with no "}}" on its line */
};

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* The first "{{" of text at or after from, into *ph; false when none. */
static bool ph_next(const char *text, size_t from, struct ph *ph)
{
	const char *open = strstr(text + from, "{{");
	const char *p, *q;

	if (!open)
		return false;
	memset(ph, 0, sizeof(*ph));
	ph->start = (size_t)(open - text);
	ph->end = ph->start + 2;
	for (q = open + 2; *q && *q != '\n' && *q != '\r'; q++) {
		if (q[0] == '{' && q[1] == '{')
			break;
		if (q[0] == '}' && q[1] == '}') {
			ph->terminated = true;
			break;
		}
	}
	if (!ph->terminated)
		return true;
	p = open + 2;
	while (p < q && is_blank(*p))
		p++;
	ph->end = (size_t)(q + 2 - text);
	while (q > p && is_blank(q[-1]))
		q--;
	ph->name = p;
	ph->nlen = (size_t)(q - p);
	return true;
}

static bool name_is(const char *name, size_t nlen, const char *s)
{
	return strlen(s) == nlen && !memcmp(name, s, nlen);
}

static bool ph_known(const struct ph *ph)
{
	for (const char *const *k = tmpl_vars_known; *k; k++)
		if (name_is(ph->name, ph->nlen, *k))
			return true;
	return false;
}

/* The name as a person can read it in an error: printable ASCII, at most
 * 40 bytes, anything else as '?'. */
static void ph_show(const struct ph *ph, char out[48])
{
	size_t n = ph->nlen < 40 ? ph->nlen : 40;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)ph->name[i];
		out[i] = c >= 0x20 && c < 0x7f ? (char)c : '?';
	}
	out[n] = '\0';
	if (n < ph->nlen)
		memcpy(out + n, "...", 4);
}

enum result tmpl_check(const char *text, bool header, size_t max, const char *field,
		       struct err *e)
{
	struct ph ph;
	size_t from = 0, len;

	if (!text)
		text = "";
	len = strlen(text);
	if (len > max)
		return err_set(e, RC_INVALID, field, "is longer than %zu bytes", max);
	if (header && strpbrk(text, "\r\n"))
		return err_set(e, RC_INVALID, field, "must be one line (no line breaks)");
	while (ph_next(text, from, &ph)) {
		char shown[48];
		if (!ph.terminated)
			return err_set(e, RC_INVALID, field,
				       "has an unterminated placeholder (\"{{\" without \"}}\")");
		if (!ph_known(&ph)) {
			ph_show(&ph, shown);
			return err_set(e, RC_INVALID, field, "has an unknown placeholder \"{{%s}}\"",
				       shown);
		}
		from = ph.end;
	}
	return RC_OK;
}

static const char *var_value(const struct tmpl_vars *v, const struct ph *ph)
{
	for (int i = 0; v && i < v->n; i++)
		if (name_is(ph->name, ph->nlen, v->name[i]))
			return v->value[i] ? v->value[i] : "";
	return "";
}

/* Copies n bytes of s to out + at (when out is not NULL); in header mode
 * control characters become spaces. Returns n. */
static size_t put(char *out, size_t at, const char *s, size_t n, bool header)
{
	if (!out)
		return n;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		out[at + i] = header && (c < 0x20 || c == 0x7f) ? ' ' : s[i];
	}
	return n;
}

/* Renders text into out (or only measures it when out is NULL). */
static size_t render_into(char *out, const char *text, const struct tmpl_vars *v, bool header)
{
	struct ph ph;
	size_t n = 0, from = 0;

	while (ph_next(text, from, &ph)) {
		n += put(out, n, text + from, ph.start - from, false);
		if (ph.terminated) {
			const char *val = ph_known(&ph) ? var_value(v, &ph) : "";
			n += put(out, n, val, strlen(val), header);
		} else {
			n += put(out, n, text + ph.start, 2, false);
		}
		from = ph.end;
	}
	n += put(out, n, text + from, strlen(text + from), false);
	return n;
}

const char *tmpl_render(struct arena *a, const char *text, const struct tmpl_vars *v,
			bool header)
{
	size_t n;
	char *out;

	if (!text)
		text = "";
	n = render_into(NULL, text, v, header);
	out = arena_alloc(a, n + 1);
	if (!out)
		return NULL;
	render_into(out, text, v, header);
	out[n] = '\0';
	return out;
}

/* ---- message ids, addresses and header values ---------------------------------------- */

const char *mail_new_message_id(struct arena *a, const char *domain)
{
	unsigned char raw[16];
	char hex[2 * sizeof(raw) + 1];

	if (sodium_init() < 0)
		return NULL;
	randombytes_buf(raw, sizeof(raw));
	hex_encode(raw, sizeof(raw), hex);
	return arena_printf(a, "%s@%s", hex, domain && *domain ? domain : "itsup.invalid");
}

/* An addr-spec we are willing to write: ASCII, one '@' with something on
 * both sides, no blanks, control characters or RFC 5322 specials that
 * would need quoting. */
static bool addr_ok(const char *s)
{
	const char *at;
	size_t n = s ? strlen(s) : 0;

	if (n < 3 || n > 254)
		return false;
	for (const char *p = s; *p; p++) {
		unsigned char c = (unsigned char)*p;
		if (c <= 0x20 || c >= 0x7f || strchr("<>()[]\\,;:\"", c))
			return false;
	}
	at = strchr(s, '@');
	return at && at != s && at[1] && !strchr(at + 1, '@');
}

bool mail_address_ok(const char *addr)
{
	return addr_ok(addr);
}

/* A message id (without <>) fit for a header: printable ASCII without
 * blanks or angle brackets, at most 250 bytes. */
static bool msgid_ok(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n == 0 || n > 250)
		return false;
	for (const char *p = s; *p; p++) {
		unsigned char c = (unsigned char)*p;
		if (c <= 0x20 || c >= 0x7f || c == '<' || c == '>')
			return false;
	}
	return true;
}

/* s as valid UTF-8 in the arena: when one_line, every control character
 * becomes a space; otherwise CRLF and a lone CR become LF. NULL: no memory. */
static char *clean_text(struct arena *a, const char *s, bool one_line)
{
	gchar *valid = g_utf8_make_valid(s ? s : "", -1);
	char *out = arena_alloc(a, strlen(valid) + 1), *o = out;

	for (const char *p = valid; out && *p; p++) {
		unsigned char c = (unsigned char)*p;
		if (one_line && (c < 0x20 || c == 0x7f)) {
			*o++ = ' ';
		} else if (!one_line && c == '\r') {
			*o++ = '\n';
			if (p[1] == '\n')
				p++;
		} else {
			*o++ = *p;
		}
	}
	if (out)
		*o = '\0';
	g_free(valid);
	return out;
}

/* A MIME token (RFC 2045): printable ASCII without blanks and tspecials. */
static bool token_ok(const char *s, size_t n)
{
	if (!n || n > 64)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c <= 0x20 || c >= 0x7f || strchr("()<>@,;:\\\"/[]?=", c))
			return false;
	}
	return true;
}

static bool content_type_ok(const char *s)
{
	const char *slash = s ? strchr(s, '/') : NULL;

	return slash && token_ok(s, (size_t)(slash - s)) && token_ok(slash + 1, strlen(slash + 1));
}

static bool filename_ok(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (!n || n > 200)
		return false;
	for (const char *p = s; *p; p++) {
		unsigned char c = (unsigned char)*p;
		if (c < 0x20 || c >= 0x7f || c == '"' || c == '/' || c == '\\')
			return false;
	}
	return true;
}

static enum result check_attachments(const struct mail_out *m, struct err *e)
{
	if (m->nattachments > MAIL_ATTACHMENTS_MAX || (m->nattachments && !m->attachments))
		return err_set(e, RC_INVALID, "attachments", "at most %d", MAIL_ATTACHMENTS_MAX);
	for (size_t i = 0; i < m->nattachments; i++) {
		const struct mail_attachment *at = &m->attachments[i];
		if (!filename_ok(at->filename))
			return err_set(e, RC_INVALID, "attachments[].filename",
				       "attachment %zu: the file name must be 1 to 200 printable ASCII"
				       " characters without quotes, slashes or backslashes", i);
		if (!content_type_ok(at->content_type))
			return err_set(e, RC_INVALID, "attachments[].content_type",
				       "attachment %zu: the type must be type/subtype", i);
		if (at->len && !at->data)
			return err_set(e, RC_INVALID, "attachments[].data", "attachment %zu has no data", i);
	}
	return RC_OK;
}

static enum result check_out(const struct mail_out *m, struct err *e)
{
	if (!addr_ok(m->from_addr))
		return err_set(e, RC_INVALID, "from_addr", "is not an e-mail address");
	if (!addr_ok(m->to_addr))
		return err_set(e, RC_INVALID, "to_addr", "is not an e-mail address");
	if (!msgid_ok(m->message_id))
		return err_set(e, RC_INVALID, "message_id", "is not a message id");
	if (m->auto_submitted && strcmp(m->auto_submitted, "auto-generated") &&
	    strcmp(m->auto_submitted, "auto-replied"))
		return err_set(e, RC_INVALID, "auto_submitted",
			       "must be \"auto-generated\" or \"auto-replied\"");
	return check_attachments(m, e);
}

/* ---- building the message ------------------------------------------------------------- */


static bool add_mailbox(GMimeMessage *msg, GMimeAddressType type, const char *name,
			const char *addr, struct arena *a)
{
	char *clean = clean_text(a, name, true);
	InternetAddress *ia;

	if (!clean)
		return false;
	ia = internet_address_mailbox_new(*clean ? clean : NULL, addr);
	internet_address_list_add(g_mime_message_get_addresses(msg, type), ia);
	g_object_unref(ia);
	return true;
}

/* In-Reply-To and References, each id as "<id>"; ids unfit for a header
 * are left out. */
static void set_threading(GMimeMessage *msg, const struct mail_out *m)
{
	GString *refs = g_string_new(NULL);

	if (msgid_ok(m->in_reply_to)) {
		char *v = g_strdup_printf("<%s>", m->in_reply_to);
		g_mime_object_set_header(GMIME_OBJECT(msg), "In-Reply-To", v, NULL);
		g_free(v);
	}
	for (size_t i = 0; m->references && i < m->nrefs; i++) {
		if (!msgid_ok(m->references[i]))
			continue;
		g_string_append_printf(refs, "%s<%s>", refs->len ? " " : "", m->references[i]);
	}
	if (refs->len)
		g_mime_object_set_header(GMIME_OBJECT(msg), "References", refs->str, NULL);
	g_string_free(refs, TRUE);
}

/* The text/plain part: the UTF-8 bytes as given (not re-encoded into
 * another charset, as g_mime_text_part_set_text would for Latin-1 text),
 * labelled utf-8, written in quoted-printable. The caller unrefs it. */
static GMimeObject *text_part(const char *text)
{
	GMimeTextPart *part = g_mime_text_part_new_with_subtype("plain");
	GMimeStream *stream = g_mime_stream_mem_new_with_buffer(text, strlen(text));
	GMimeDataWrapper *content =
		g_mime_data_wrapper_new_with_stream(stream, GMIME_CONTENT_ENCODING_DEFAULT);

	g_mime_part_set_content(GMIME_PART(part), content);
	g_mime_text_part_set_charset(part, "utf-8");
	g_mime_part_set_content_encoding(GMIME_PART(part), GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE);
	g_object_unref(content);
	g_object_unref(stream);
	return GMIME_OBJECT(part);
}

/* An attachment part (checked by check_attachments): its bytes in
 * base64, Content-Disposition: attachment with the file name (GMime
 * writes the name parameter of Content-Type too); text types say utf-8.
 * The caller unrefs it. */
static GMimeObject *attachment_part(const struct mail_attachment *at)
{
	const char *slash = strchr(at->content_type, '/');
	char *type = g_strndup(at->content_type, (gsize)(slash - at->content_type));
	GMimePart *part = g_mime_part_new_with_type(type, slash + 1);
	GMimeStream *stream = g_mime_stream_mem_new_with_buffer(at->data ? at->data : "", at->len);
	GMimeDataWrapper *content =
		g_mime_data_wrapper_new_with_stream(stream, GMIME_CONTENT_ENCODING_DEFAULT);

	g_mime_part_set_content(part, content);
	g_mime_part_set_content_encoding(part, GMIME_CONTENT_ENCODING_BASE64);
	if (!g_ascii_strcasecmp(type, "text"))
		g_mime_object_set_content_type_parameter(GMIME_OBJECT(part), "charset", "utf-8");
	g_mime_object_set_disposition(GMIME_OBJECT(part), GMIME_DISPOSITION_ATTACHMENT);
	g_mime_part_set_filename(part, at->filename);
	g_object_unref(content);
	g_object_unref(stream);
	g_free(type);
	return GMIME_OBJECT(part);
}

/* The body: the text alone, or multipart/mixed of the text and the
 * attachments. */
static void set_body(GMimeMessage *msg, const char *text, const struct mail_out *m)
{
	GMimeObject *t = text_part(text);
	GMimeMultipart *mixed;

	if (!m->nattachments) {
		g_mime_message_set_mime_part(msg, t);
		g_object_unref(t);
		return;
	}
	mixed = g_mime_multipart_new_with_subtype("mixed");
	g_mime_multipart_add(mixed, t);
	g_object_unref(t);
	for (size_t i = 0; i < m->nattachments; i++) {
		GMimeObject *p = attachment_part(&m->attachments[i]);
		g_mime_multipart_add(mixed, p);
		g_object_unref(p);
	}
	g_mime_message_set_mime_part(msg, GMIME_OBJECT(mixed));
	g_object_unref(mixed);
}

/* Everything but the serialisation; false when the arena is full. */
static bool build(GMimeMessage *msg, const struct mail_out *m, struct arena *a)
{
	GDateTime *date = g_date_time_new_from_unix_utc(m->date_ms / 1000);
	const char *subject = clean_text(a, m->subject, true);
	const char *body = clean_text(a, m->body, false);
	const char *ticket = m->ticket_number ? clean_text(a, m->ticket_number, true) : NULL;

	if (!subject || !body || (m->ticket_number && !ticket) ||
	    !add_mailbox(msg, GMIME_ADDRESS_TYPE_FROM, m->from_name, m->from_addr, a) ||
	    !add_mailbox(msg, GMIME_ADDRESS_TYPE_TO, m->to_name, m->to_addr, a)) {
		if (date)
			g_date_time_unref(date);
		return false;
	}
	g_mime_message_set_subject(msg, subject, "utf-8");
	if (date) {
		g_mime_message_set_date(msg, date);
		g_date_time_unref(date);
	}
	g_mime_message_set_message_id(msg, m->message_id);
	set_threading(msg, m);
	if (m->auto_submitted)
		g_mime_object_set_header(GMIME_OBJECT(msg), "Auto-Submitted", m->auto_submitted, NULL);
	if (ticket)
		g_mime_object_set_header(GMIME_OBJECT(msg), "X-Itsup-Ticket", ticket, NULL);
	set_body(msg, body, m);
	return true;
}

enum result mail_compose(const struct mail_out *m, struct arena *a, const char **out,
			 size_t *len, struct err *e)
{
	enum result r;
	GMimeMessage *msg = NULL;
	GMimeFormatOptions *fo = NULL;
	char *raw = NULL, *copy;
	size_t n;

	*out = NULL;
	*len = 0;
	r = check_out(m, e);
	if (r != RC_OK)
		return r;
	mail_gmime_init();
	r = RC_NOMEM;
	msg = g_mime_message_new(TRUE);
	if (!build(msg, m, a))
		goto out;
	fo = g_mime_format_options_new();
	g_mime_format_options_set_newline_format(fo, GMIME_NEWLINE_FORMAT_DOS);
	raw = g_mime_object_to_string(GMIME_OBJECT(msg), fo);
	n = raw ? strlen(raw) : 0;
	copy = raw ? arena_alloc(a, n + 1) : NULL;
	if (!copy)
		goto out;
	memcpy(copy, raw, n + 1);
	*out = copy;
	*len = n;
	r = RC_OK;
out:
	g_free(raw);
	if (fo)
		g_mime_format_options_free(fo);
	if (msg)
		g_object_unref(msg);
	if (r == RC_NOMEM)
		err_set(e, RC_NOMEM, NULL, "out of memory composing the message");
	return r;
}
