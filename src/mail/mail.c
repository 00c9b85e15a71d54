/*
 * mail.c: an incoming message read with GMime (mail.h). GMime owns the
 * MIME work (headers, encoded words, transfer encodings, charsets); this
 * file walks its tree once, copies what the help desk needs into the
 * arena, and frees GMime's objects before returning.
 */
#include "base/common.h"

#include <ctype.h>
#include <gmime/gmime.h>
#include <pthread.h>
#include <stdlib.h>

#include "base/buf.h"
#include "mail/mail.h"

const struct mail_limits mail_limits_default = {
	.message_max = 25u << 20,
	.parts_max = 200,
	.depth_max = 20,
	.attachment_max = 20u << 20,
	.text_max = 1u << 20,
};

static pthread_once_t gmime_once = PTHREAD_ONCE_INIT;

static void gmime_start(void)
{
	g_mime_init();
}

void mail_gmime_init(void)
{
	pthread_once(&gmime_once, gmime_start);
}

/* The text as kept: valid UTF-8, line ends made LF (CRLF and lone CR), at
 * most max bytes, never cut inside a UTF-8 sequence. */
static char *keep_text(struct arena *a, const char *raw, size_t max)
{
	char *valid = g_utf8_make_valid(raw, -1);   /* bad sequences: U+FFFD */
	const char *s = valid ? valid : "";
	size_t n = strlen(s), j = 0;
	char *out = arena_alloc(a, (n < max ? n : max) + 1);

	if (!out) {
		g_free(valid);
		return NULL;
	}
	for (size_t i = 0; i < n && j < max; i++) {
		if (s[i] == '\r') {
			out[j++] = '\n';
			if (s[i + 1] == '\n')
				i++;
		} else {
			out[j++] = s[i];
		}
	}
	/* Back off a sequence cut short by max. */
	if (j == max) {
		size_t k = j;
		while (k > 0 && ((unsigned char)out[k - 1] & 0xC0) == 0x80)
			k--;
		if (k > 0 && ((unsigned char)out[k - 1] & 0x80)) {
			unsigned char lead = (unsigned char)out[k - 1];
			size_t need = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
			if (j - (k - 1) < need)
				j = k - 1;
		}
	}
	out[j] = '\0';
	g_free(valid);
	return out;
}

/* ---- small helpers -------------------------------------------------------------------- */

/* s as valid UTF-8 (bad sequences become U+FFFD) of at most max bytes (cut
 * at a character) in a; dflt when s is NULL. Everything the parser hands
 * on is valid text, whatever a sender's header says. */
static const char *utf8_or(struct arena *a, const char *s, size_t max, const char *dflt)
{
	char *v;
	const char *out;
	size_t n;

	if (!s)
		return dflt;
	v = g_utf8_make_valid(s, -1);
	if (!v)
		return dflt;
	n = strlen(v);
	if (n > max) {
		const char *end = g_utf8_find_prev_char(v, v + max + 1);
		n = end ? (size_t)(end - v) : 0;
	}
	out = arena_strndup(a, v, n);
	g_free(v);
	return out ? out : dflt;
}

static char *lower(char *s)
{
	for (char *p = s; p && *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return s;
}

static bool header_is(GMimeObject *o, const char *name, const char *value)
{
	const char *v = g_mime_object_get_header(o, name);

	while (v && isspace((unsigned char)*v))
		v++;
	return v && !g_ascii_strncasecmp(v, value, strlen(value));
}

/* The nesting of multiparts, from the boundaries alone: the deepest run of
 * Content-Type: multipart headers before their closing boundaries. A cheap
 * upper bound taken before GMime's recursive parser sees the message. */
static int multipart_depth_bound(const char *raw, size_t len)
{
	int n = 0;
	const char *p = raw, *end = raw + len;

	while (p < end) {
		const char *hit = memmem(p, (size_t)(end - p), "multipart/", 10);
		if (!hit)
			break;
		n++;
		p = hit + 10;
	}
	return n;
}

/* ---- addresses -------------------------------------------------------------------------- */

static bool first_mailbox(InternetAddressList *l, struct arena *a, struct mail_addr *out)
{
	int n = l ? internet_address_list_length(l) : 0;

	for (int i = 0; i < n; i++) {
		InternetAddress *ia = internet_address_list_get_address(l, i);
		if (INTERNET_ADDRESS_IS_MAILBOX(ia)) {
			const char *addr = internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia));
			const char *name = internet_address_get_name(ia);
			out->email = lower(arena_strdup(a, utf8_or(a, addr ? addr : "", 1024, "")));
			out->name = utf8_or(a, name, 256, "");
			return out->email && out->name;
		}
	}
	return false;
}

static void add_mailboxes(InternetAddressList *l, struct arena *a, struct mail_msg *m, size_t max)
{
	int n = l ? internet_address_list_length(l) : 0;

	for (int i = 0; i < n && m->nto < max; i++) {
		InternetAddress *ia = internet_address_list_get_address(l, i);
		if (INTERNET_ADDRESS_IS_GROUP(ia)) {
			add_mailboxes(internet_address_group_get_members(INTERNET_ADDRESS_GROUP(ia)), a, m, max);
			continue;
		}
		if (INTERNET_ADDRESS_IS_MAILBOX(ia)) {
			const char *addr = internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia));
			const char *name = internet_address_get_name(ia);
			m->to[m->nto].email = lower(arena_strdup(a, utf8_or(a, addr ? addr : "", 1024, "")));
			m->to[m->nto].name = utf8_or(a, name, 256, "");
			m->nto++;
		}
	}
}

/* ---- the walk over the parts ------------------------------------------------------------ */

struct walk {
	struct arena *a;
	const struct mail_limits *lim;
	struct mail_msg *m;
	char *plain, *html;          /* g_malloc'd: the first text/plain, text/html body */
	size_t cap;
	bool failed;
};

/* The decoded content of a part (transfer encoding undone), in the arena. */
static bool part_bytes(GMimePart *p, struct walk *w, const unsigned char **data, size_t *len,
		       bool *too_big)
{
	GMimeDataWrapper *dw = g_mime_part_get_content(p);
	GMimeStream *mem;
	GByteArray *ba;

	*data = NULL;
	*len = 0;
	*too_big = false;
	if (!dw)
		return true;
	mem = g_mime_stream_mem_new();
	g_mime_data_wrapper_write_to_stream(dw, mem);
	ba = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem));
	if (ba && ba->len > w->lim->attachment_max) {
		*too_big = true;
	} else if (ba && ba->len) {
		unsigned char *copy = arena_alloc(w->a, ba->len);
		if (!copy) {
			g_object_unref(mem);
			return false;
		}
		memcpy(copy, ba->data, ba->len);
		*data = copy;
		*len = ba->len;
	}
	g_object_unref(mem);
	return true;
}

static void add_part(struct walk *w, GMimeObject *part, const char *filename, bool is_inline)
{
	struct mail_part *mp;
	GMimeContentType *ct = g_mime_object_get_content_type(part);
	char *type = ct ? g_mime_content_type_get_mime_type(ct) : NULL;

	if (w->m->nparts >= w->cap) {
		g_free(type);
		w->failed = true;
		return;
	}
	mp = &w->m->parts[w->m->nparts];
	memset(mp, 0, sizeof(*mp));
	mp->filename = utf8_or(w->a, filename, 255, "");
	mp->content_type = lower(arena_strdup(w->a, utf8_or(w->a, type ? type : "application/octet-stream",
							   127, "application/octet-stream")));
	mp->is_inline = is_inline;
	g_free(type);
	if (GMIME_IS_PART(part)) {
		const char *cid = g_mime_part_get_content_id(GMIME_PART(part));
		mp->content_id = utf8_or(w->a, cid, 255, NULL);
		if (!part_bytes(GMIME_PART(part), w, &mp->data, &mp->len, &mp->too_big)) {
			w->failed = true;
			return;
		}
	} else if (GMIME_IS_MESSAGE_PART(part)) {
		/* A forwarded message: kept whole, as message/rfc822. */
		GMimeMessage *inner = g_mime_message_part_get_message(GMIME_MESSAGE_PART(part));
		char *text = inner ? g_mime_object_to_string(GMIME_OBJECT(inner), NULL) : NULL;
		size_t n = text ? strlen(text) : 0;
		if (n > w->lim->attachment_max) {
			mp->too_big = true;
		} else if (n) {
			unsigned char *copy = arena_alloc(w->a, n);
			if (copy) {
				memcpy(copy, text, n);
				mp->data = copy;
				mp->len = n;
			}
		}
		g_free(text);
	}
	w->m->nparts++;
}

/* A bounce's report: the reported message's headers (text/rfc822-headers)
 * or the message itself (message/rfc822) give its Message-ID. */
static void bounced_id(struct walk *w, GMimeObject *part)
{
	GMimeMessage *inner = NULL;
	const char *id;

	if (w->m->bounced_message_id)
		return;
	if (GMIME_IS_MESSAGE_PART(part)) {
		inner = g_mime_message_part_get_message(GMIME_MESSAGE_PART(part));
		id = inner ? g_mime_message_get_message_id(inner) : NULL;
		if (id)
			w->m->bounced_message_id = arena_strdup(w->a, id);
		return;
	}
	if (GMIME_IS_PART(part)) {
		const unsigned char *data;
		size_t len;
		bool big;
		if (part_bytes(GMIME_PART(part), w, &data, &len, &big) && data) {
			GMimeStream *s = g_mime_stream_mem_new_with_buffer((const char *)data, len);
			GMimeParser *p = g_mime_parser_new_with_stream(s);
			GMimeMessage *hm = g_mime_parser_construct_message(p, NULL);
			id = hm ? g_mime_message_get_message_id(hm) : NULL;
			if (id)
				w->m->bounced_message_id = arena_strdup(w->a, id);
			if (hm)
				g_object_unref(hm);
			g_object_unref(p);
			g_object_unref(s);
		}
	}
}

static void on_part(GMimeObject *parent, GMimeObject *part, gpointer data)
{
	struct walk *w = data;
	GMimeContentType *ct = g_mime_object_get_content_type(part);
	GMimeContentDisposition *cd = g_mime_object_get_content_disposition(part);
	bool attachment = cd && g_mime_content_disposition_is_attachment(cd);
	bool inline_ = cd && !attachment;
	const char *filename = GMIME_IS_PART(part) ? g_mime_part_get_filename(GMIME_PART(part)) : NULL;

	UNUSED(parent);
	if (w->failed || GMIME_IS_MULTIPART(part))
		return;
	if (w->m->bounce && ct && (g_mime_content_type_is_type(ct, "message", "rfc822") ||
				   g_mime_content_type_is_type(ct, "text", "rfc822-headers")))
		bounced_id(w, part);
	if (!attachment && !filename && GMIME_IS_TEXT_PART(part) && ct &&
	    g_mime_content_type_is_type(ct, "text", "plain") && !w->plain) {
		w->plain = g_mime_text_part_get_text(GMIME_TEXT_PART(part));
		return;
	}
	if (!attachment && !filename && GMIME_IS_TEXT_PART(part) && ct &&
	    g_mime_content_type_is_type(ct, "text", "html") && !w->html) {
		w->html = g_mime_text_part_get_text(GMIME_TEXT_PART(part));
		return;
	}
	if (ct && (g_mime_content_type_is_type(ct, "message", "delivery-status") ||
		   g_mime_content_type_is_type(ct, "text", "rfc822-headers")))
		return;   /* the report's machine part */
	add_part(w, part, filename, inline_);
}

/* ---- the message ----------------------------------------------------------------------- */

static void threading(GMimeMessage *msg, struct arena *a, struct mail_msg *m)
{
	const char *irt = g_mime_object_get_header(GMIME_OBJECT(msg), "In-Reply-To");
	const char *refs = g_mime_object_get_header(GMIME_OBJECT(msg), "References");
	const char *id = g_mime_message_get_message_id(msg);

	m->message_id = id ? arena_strdup(a, id) : NULL;
	if (irt) {
		GMimeReferences *r = g_mime_references_parse(NULL, irt);
		if (r && g_mime_references_length(r) > 0)
			m->in_reply_to = arena_strdup(a, g_mime_references_get_message_id(r, 0));
		if (r)
			g_mime_references_free(r);
	}
	if (refs) {
		GMimeReferences *r = g_mime_references_parse(NULL, refs);
		int n = r ? g_mime_references_length(r) : 0;
		if (n > 100)
			n = 100;
		m->references = arena_alloc(a, sizeof(*m->references) * (size_t)(n ? n : 1));
		for (int i = 0; m->references && i < n; i++)
			m->references[m->nrefs++] = arena_strdup(a, g_mime_references_get_message_id(r, i));
		if (r)
			g_mime_references_free(r);
	}
}

static bool is_auto(GMimeObject *o)
{
	const char *rp = g_mime_object_get_header(o, "Return-Path");
	const char *as = g_mime_object_get_header(o, "Auto-Submitted");

	if (as) {
		while (isspace((unsigned char)*as))
			as++;
		if (g_ascii_strncasecmp(as, "no", 2) || (as[2] && !isspace((unsigned char)as[2]) && as[2] != ';'))
			return true;
	}
	if (g_mime_object_get_header(o, "X-Autoreply") || g_mime_object_get_header(o, "X-Autorespond"))
		return true;
	if (header_is(o, "Precedence", "bulk") || header_is(o, "Precedence", "junk") ||
	    header_is(o, "Precedence", "list"))
		return true;
	if (rp) {
		while (isspace((unsigned char)*rp))
			rp++;
		if (!strncmp(rp, "<>", 2))
			return true;
	}
	return false;
}

static bool is_dsn(GMimeMessage *msg)
{
	GMimeObject *body = g_mime_message_get_mime_part(msg);
	GMimeContentType *ct = body ? g_mime_object_get_content_type(body) : NULL;
	const char *rt = ct ? g_mime_content_type_get_parameter(ct, "report-type") : NULL;

	return ct && g_mime_content_type_is_type(ct, "multipart", "report") && rt &&
	       !g_ascii_strcasecmp(rt, "delivery-status");
}

enum result mail_parse(const char *raw, size_t len, const struct mail_limits *lim,
		       struct arena *a, struct mail_msg *out, struct err *e)
{
	GMimeStream *stream = NULL;
	GMimeParser *parser = NULL;
	GMimeMessage *msg = NULL;
	struct walk w;
	enum result r = RC_INVALID;
	GDateTime *dt;

	memset(out, 0, sizeof(*out));
	memset(&w, 0, sizeof(w));
	if (!lim)
		lim = &mail_limits_default;
	if (len > lim->message_max)
		return err_set(e, RC_INVALID, "message", "the message is larger than %zu bytes", lim->message_max);
	if (multipart_depth_bound(raw, len) > lim->depth_max * 8 + 8)
		return err_set(e, RC_INVALID, "message", "the message has too many multipart parts");
	mail_gmime_init();
	stream = g_mime_stream_mem_new_with_buffer(raw, len);
	parser = g_mime_parser_new_with_stream(stream);
	msg = g_mime_parser_construct_message(parser, NULL);
	if (!msg) {
		err_set(e, RC_INVALID, "message", "this is not an RFC 5322 message");
		goto out;
	}
	out->subject = utf8_or(a, g_mime_message_get_subject(msg), 4096, "");
	out->has_from = first_mailbox(g_mime_message_get_from(msg), a, &out->from);
	out->has_reply_to = first_mailbox(g_mime_message_get_reply_to(msg), a, &out->reply_to);
	out->to = arena_alloc(a, sizeof(*out->to) * 100);
	if (out->to) {
		add_mailboxes(g_mime_message_get_to(msg), a, out, 100);
		add_mailboxes(g_mime_message_get_cc(msg), a, out, 100);
	}
	threading(msg, a, out);
	dt = g_mime_message_get_date(msg);
	out->date = dt ? (int64_t)g_date_time_to_unix(dt) * 1000 : 0;
	out->auto_reply = is_auto(GMIME_OBJECT(msg));
	out->bounce = is_dsn(msg);

	w.a = a;
	w.lim = lim;
	w.m = out;
	w.cap = lim->parts_max;
	out->parts = arena_alloc(a, sizeof(*out->parts) * (w.cap ? w.cap : 1));
	if (!out->parts || !out->to || !out->subject) {
		r = err_set(e, RC_NOMEM, NULL, "out of memory");
		goto out;
	}
	g_mime_message_foreach(msg, on_part, &w);
	if (w.failed) {
		err_set(e, RC_INVALID, "message", "the message has more than %zu parts", lim->parts_max);
		goto out;
	}
	if (w.plain) {
		out->text = keep_text(a, w.plain, lim->text_max);
	} else if (w.html) {
		char *t = mail_html_text(w.html, strlen(w.html));
		if (t) {
			out->text = keep_text(a, t, lim->text_max);
			out->text_from_html = true;
		}
		free(t);
	}
	if (!out->text)
		out->text = "";
	r = RC_OK;
out:
	g_free(w.plain);
	g_free(w.html);
	if (msg)
		g_object_unref(msg);
	if (parser)
		g_object_unref(parser);
	if (stream)
		g_object_unref(stream);
	return r;
}

/* ---- pure helpers ---------------------------------------------------------------------- */

int64_t mail_ticket_number(const char *subject)
{
	const char *p = subject;

	while (p && (p = strstr(p, "[T-"))) {
		int64_t n = 0;
		const char *q = p + 3;
		int digits = 0;
		while (isdigit((unsigned char)*q) && digits < 15) {
			n = n * 10 + (*q - '0');
			q++;
			digits++;
		}
		if (digits && *q == ']' && n > 0)
			return n;
		p += 3;
	}
	return 0;
}

/* The start of the line holding p. */
static size_t line_start(const char *text, const char *p)
{
	while (p > text && p[-1] != '\n')
		p--;
	return (size_t)(p - text);
}

size_t mail_quote_start(const char *text)
{
	size_t n = strlen(text), best = n;
	const char *p;

	/* Outlook: a separator line, or a header block "From: ... Sent: ..." */
	p = strstr(text, "-----Original Message-----");
	if (p && line_start(text, p) < best)
		best = line_start(text, p);
	for (p = text; (p = strstr(p, "\nFrom: ")); p++) {
		const char *sent = strstr(p, "\nSent: ");
		const char *eol2 = sent ? strchr(p + 1, '\n') : NULL;
		if (sent && eol2 && sent == eol2) {
			if ((size_t)(p + 1 - text) < best)
				best = (size_t)(p + 1 - text);
			break;
		}
	}
	/* Gmail and most others: "On <date>, <name> wrote:" then quoted lines. */
	for (p = text; (p = strstr(p, "wrote:")); p++) {
		size_t ls = line_start(text, p);
		if (!strncmp(text + ls, "On ", 3) || !strncmp(text + ls, "Am ", 3) ||
		    !strncmp(text + ls, "Le ", 3)) {
			if (ls < best)
				best = ls;
			break;
		}
	}
	/* A run of lines quoted with ">" to the end. */
	{
		size_t start = n;
		const char *line = text;
		while (*line) {
			const char *eol = strchr(line, '\n');
			size_t l = eol ? (size_t)(eol - line) : strlen(line);
			bool quoted = l && line[0] == '>';
			bool blank = !l || (l == 1 && line[0] == '\r');
			if (quoted && start == n)
				start = (size_t)(line - text);
			else if (!quoted && !blank)
				start = n;
			line = eol ? eol + 1 : line + l;
		}
		if (start < best)
			best = start;
	}
	return best;
}

/* ---- HTML to text ------------------------------------------------------------------------ */

static const struct { const char *name; const char *text; } entities[] = {
	{ "amp", "&" }, { "lt", "<" }, { "gt", ">" }, { "quot", "\"" }, { "apos", "'" },
	{ "nbsp", " " }, { "copy", "\xc2\xa9" }, { "reg", "\xc2\xae" }, { "hellip", "\xe2\x80\xa6" },
	{ "ndash", "\xe2\x80\x93" }, { "mdash", "\xe2\x80\x94" }, { "euro", "\xe2\x82\xac" },
};

static void put_utf8(struct buf *b, unsigned long cp)
{
	char u[4];

	if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
		cp = 0xFFFD;
	if (cp < 0x80) {
		u[0] = (char)cp;
		buf_append(b, u, 1);
	} else if (cp < 0x800) {
		u[0] = (char)(0xC0 | (cp >> 6));
		u[1] = (char)(0x80 | (cp & 0x3F));
		buf_append(b, u, 2);
	} else if (cp < 0x10000) {
		u[0] = (char)(0xE0 | (cp >> 12));
		u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		u[2] = (char)(0x80 | (cp & 0x3F));
		buf_append(b, u, 3);
	} else {
		u[0] = (char)(0xF0 | (cp >> 18));
		u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
		u[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
		u[3] = (char)(0x80 | (cp & 0x3F));
		buf_append(b, u, 4);
	}
}

/* An entity at p (after '&'): appends its text, returns its length. */
static size_t entity(struct buf *b, const char *p, const char *end)
{
	const char *semi = memchr(p, ';', (size_t)(end - p) < 12 ? (size_t)(end - p) : 12);

	if (!semi)
		return 0;
	if (*p == '#') {
		char *stop;
		unsigned long cp = (p[1] == 'x' || p[1] == 'X') ? strtoul(p + 2, &stop, 16)
								 : strtoul(p + 1, &stop, 10);
		if (stop != semi)
			return 0;
		put_utf8(b, cp);
		return (size_t)(semi + 1 - p);
	}
	for (size_t i = 0; i < ARRAY_SIZE(entities); i++) {
		size_t n = strlen(entities[i].name);
		if ((size_t)(semi - p) == n && !strncmp(p, entities[i].name, n)) {
			buf_appends(b, entities[i].text);
			return n + 1;
		}
	}
	return 0;
}

static bool tag_named(const char *t, size_t tl, const char *name)
{
	size_t n = strlen(name);

	if (tl < n || g_ascii_strncasecmp(t, name, n))
		return false;
	return tl == n || !isalnum((unsigned char)t[n]);
}

char *mail_html_text(const char *html, size_t len)
{
	static const char *const blocks[] = { "br", "p", "div", "li", "tr", "h1", "h2", "h3", "h4",
					      "h5", "h6", "blockquote", "table", "ul", "ol", "hr", "pre" };
	struct buf b;
	const char *p = html, *end = html + len;
	bool space = true;

	buf_init(&b, len + 1024);
	while (p < end) {
		if (*p == '<') {
			const char *gt = memchr(p, '>', (size_t)(end - p));
			const char *t = p + 1;
			bool closing = t < end && *t == '/';
			size_t tl;
			if (!gt)
				break;
			if (closing)
				t++;
			tl = (size_t)(gt - t);
			if (!closing && (tag_named(t, tl, "script") || tag_named(t, tl, "style") ||
					 tag_named(t, tl, "head") || tag_named(t, tl, "title"))) {
				/* Dropped whole, to its closing tag. */
				char close[16];
				const char *c;
				size_t nl = 0;
				while (nl < tl && nl < 8 && isalpha((unsigned char)t[nl]))
					nl++;
				snprintf(close, sizeof(close), "</%.*s", (int)nl, t);
				c = g_strstr_len(gt, end - gt, close);
				if (!c) {
					/* Case differs: look without case. */
					const char *q = gt;
					c = NULL;
					while (q < end && (q = memchr(q, '<', (size_t)(end - q)))) {
						if (end - q > (ptrdiff_t)nl + 1 && q[1] == '/' &&
						    !g_ascii_strncasecmp(q + 2, t, nl)) {
							c = q;
							break;
						}
						q++;
					}
				}
				if (!c)
					break;
				gt = memchr(c, '>', (size_t)(end - c));
				if (!gt)
					break;
				p = gt + 1;
				continue;
			}
			if (end - p >= 4 && !memcmp(p, "<!--", 4)) {
				const char *c = g_strstr_len(p, end - p, "-->");
				p = c ? c + 3 : end;
				continue;
			}
			for (size_t i = 0; i < ARRAY_SIZE(blocks); i++)
				if (tag_named(t, tl, blocks[i])) {
					if (b.len && buf_str(&b)[b.len - 1] != '\n')
						buf_append(&b, "\n", 1);
					space = true;
					break;
				}
			p = gt + 1;
			continue;
		}
		if (*p == '&') {
			size_t n = entity(&b, p + 1, end);
			if (n) {
				p += n + 1;
				space = false;
				continue;
			}
		}
		if (isspace((unsigned char)*p)) {
			if (!space)
				buf_append(&b, " ", 1);
			space = true;
			p++;
			continue;
		}
		buf_append(&b, p, 1);
		space = false;
		p++;
	}
	{
		char *out = b.len ? buf_detach(&b, NULL) : NULL;
		buf_release(&b);
		return out ? out : strdup("");
	}
}
