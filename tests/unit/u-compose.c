/* u-compose.c: notification templates and outgoing messages
 * (src/notify/compose.h): every built-in template passes its own check;
 * the check names the field for unknown and unterminated placeholders,
 * line breaks in a subject and length; rendering substitutes once and
 * neutralises control characters in header values; a composed message
 * read back with the project's own parser (mail_parse) gives back what
 * went in, in CRLF, without any header a value tried to add; attachments
 * (multipart/mixed, base64) come back byte for byte, and bad names or
 * types are refused naming the field; addresses and ids are checked;
 * Message-IDs are random and well-formed. */
#include "base/common.h"

#include <ctype.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>

#include "mail/mail.h"
#include "notify/compose.h"

#define SUBJECT_MAX 200
#define BODY_MAX 10000

/* ---- templates ------------------------------------------------------------------------- */

static void test_defaults_pass_their_check(void **state)
{
	static const char *const keys[] = {
		"requester.created", "requester.reply", "requester.resolved", "staff.assigned",
		"staff.escalated", "staff.customer_reply", "staff.sla_warning",
		"staff.sla_breached", "staff.dispatcher", "client.sla_review",
	};
	struct err e;

	UNUSED(state);
	assert_int_equal(tmpl_defaults_count, ARRAY_SIZE(keys));
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
		const struct tmpl_default *d = tmpl_default(keys[i]);
		assert_non_null(d);
		assert_string_equal(d->key, keys[i]);
		assert_true(strlen(d->description) > 10);
		assert_int_equal(tmpl_check(d->subject, true, SUBJECT_MAX, "subject", &e), RC_OK);
		assert_int_equal(tmpl_check(d->body, false, BODY_MAX, "body", &e), RC_OK);
		/* so that a reply threads back into its ticket */
		if (strncmp(keys[i], "client.", 7))
			assert_non_null(strstr(d->subject, "[{{ticket.number}}]"));
	}
	for (size_t i = 0; i < tmpl_defaults_count; i++)
		assert_ptr_equal(tmpl_default(tmpl_defaults[i].key), &tmpl_defaults[i]);
	assert_null(tmpl_default("requester.nope"));
	assert_null(tmpl_default(NULL));
	assert_non_null(strstr(tmpl_default("requester.resolved")->body, "{{csat.url}}"));
	assert_non_null(strstr(tmpl_default("requester.reply")->body, "{{message.body}}"));
	assert_non_null(strstr(tmpl_default("staff.sla_warning")->body, "{{sla.due_at}}"));
	assert_non_null(strstr(tmpl_default("staff.escalated")->subject, "{{ticket.tier}}"));
	/* The review pack's mail names the client and the period, and says
	 * what is attached. */
	assert_non_null(strstr(tmpl_default("client.sla_review")->subject, "{{report.period}}"));
	assert_non_null(strstr(tmpl_default("client.sla_review")->subject, "{{client.name}}"));
	assert_non_null(strstr(tmpl_default("client.sla_review")->body, "{{report.attachments}}"));
	assert_non_null(strstr(tmpl_default("client.sla_review")->body, "{{report.from}}"));
}

static void test_check_errors_name_the_field(void **state)
{
	static const struct {
		const char *text;
		bool header;
		size_t max;
		enum result want;
		const char *in_msg;     /* a piece of the message, or NULL */
	} cases[] = {
		{ "Hi {{ticket.numbr}}", false, 100, RC_INVALID, "ticket.numbr" },
		{ "Hi {{ Ticket Number }}", false, 100, RC_INVALID, "Ticket Number" },
		{ "Hi {{}}", false, 100, RC_INVALID, "unknown" },
		{ "Hi {{ticket.number", false, 100, RC_INVALID, "unterminated" },
		{ "Hi {{ticket.number} there", false, 100, RC_INVALID, "unterminated" },
		{ "Hi {{ticket.number\n}}", false, 100, RC_INVALID, "unterminated" },
		{ "{{ticket.number {{ticket.subject}}", false, 100, RC_INVALID, "unterminated" },
		{ "a\r\nBcc: x@y", true, 100, RC_INVALID, "line" },
		{ "a\nb", true, 100, RC_INVALID, "line" },
		{ "a\rb", true, 100, RC_INVALID, "line" },
		{ "12345678901", false, 10, RC_INVALID, "10 bytes" },
		{ "1234567890", false, 10, RC_OK, NULL },
		{ "a\r\nb", false, 100, RC_OK, NULL },
		{ "{{ ticket.number }} {{\tticket.subject\t}}", true, 100, RC_OK, NULL },
		{ "a { alone, a } alone, }} too", true, 100, RC_OK, NULL },
		{ "", true, 100, RC_OK, NULL },
	};
	struct err e;

	UNUSED(state);
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		err_clear(&e);
		enum result r = tmpl_check(cases[i].text, cases[i].header, cases[i].max, "tmpl.subject", &e);
		assert_int_equal(r, cases[i].want);
		if (r == RC_OK)
			continue;
		assert_string_equal(e.field, "tmpl.subject");
		assert_non_null(strstr(e.msg, cases[i].in_msg));
	}
	assert_int_equal(tmpl_check(NULL, true, 10, "body", &e), RC_OK);
	/* an unknown name full of bytes is shown safely and shortened */
	assert_int_equal(tmpl_check("{{\x01\xff" "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa}}", false, 100,
				    "body", &e), RC_INVALID);
	assert_non_null(strstr(e.msg, "??aaa"));
	assert_non_null(strstr(e.msg, "...}}"));
}

static void test_render_substitutes_once(void **state)
{
	struct arena *a = arena_new(1u << 20);
	struct tmpl_vars v = { .n = 0 };

	UNUSED(state);
	tmpl_set(&v, "ticket.number", "T-000123");
	tmpl_set(&v, "ticket.subject", "Printer on fire");
	tmpl_set(&v, "requester.name", NULL);
	tmpl_set(&v, "message.body", "Line 1\nLine 2 {{ticket.number}}");
	assert_string_equal(tmpl_render(a, "[{{ticket.number}}] {{ ticket.subject }}!", &v, true),
			    "[T-000123] Printer on fire!");
	assert_string_equal(tmpl_render(a, "{{\tticket.number\t}}{{ticket.number}}", &v, false),
			    "T-000123T-000123");
	/* unset, NULL and unknown names render as "" */
	assert_string_equal(tmpl_render(a, "<{{requester.name}}|{{desk.name}}|{{nope}}>", &v, false),
			    "<||>");
	/* a value is never scanned again; body mode keeps its line breaks */
	assert_string_equal(tmpl_render(a, "{{message.body}}", &v, false),
			    "Line 1\nLine 2 {{ticket.number}}");
	assert_string_equal(tmpl_render(a, "{{message.body}}", &v, true),
			    "Line 1 Line 2 {{ticket.number}}");
	/* braces that are not placeholders stay text */
	assert_string_equal(tmpl_render(a, "{ x } }} {{ticket.number", &v, false),
			    "{ x } }} {{ticket.number");
	assert_string_equal(tmpl_render(a, "", &v, false), "");
	assert_string_equal(tmpl_render(a, NULL, &v, false), "");
	assert_string_equal(tmpl_render(a, "{{ticket.number}}", NULL, false), "");

	/* setting a name again replaces its value */
	tmpl_set(&v, "ticket.subject", "evil\r\nBcc: x@y\x7f\t.");
	assert_int_equal(v.n, 4);
	const char *s = tmpl_render(a, "Re: {{ticket.subject}} [{{ticket.number}}]", &v, true);
	assert_string_equal(s, "Re: evil  Bcc: x@y  . [T-000123]");
	assert_null(strpbrk(s, "\r\n"));
	assert_non_null(strstr(tmpl_render(a, "{{ticket.subject}}", &v, false), "\r\nBcc:"));

	/* past TMPL_MAX_VARS names, more are ignored */
	struct tmpl_vars full = { .n = 0 };
	char names[TMPL_MAX_VARS + 2][16];
	for (int i = 0; i < TMPL_MAX_VARS + 2; i++) {
		snprintf(names[i], sizeof(names[i]), "n%d", i);
		tmpl_set(&full, names[i], "x");
	}
	assert_int_equal(full.n, TMPL_MAX_VARS);
	arena_free(a);
}

static void test_every_default_renders(void **state)
{
	struct arena *a = arena_new(1u << 20);
	struct tmpl_vars v = { .n = 0 };

	UNUSED(state);
	for (const char *const *k = tmpl_vars_known; *k; k++)
		tmpl_set(&v, *k, "VALUE");
	assert_int_equal(v.n, 20);
	for (size_t i = 0; i < tmpl_defaults_count; i++) {
		const char *s = tmpl_render(a, tmpl_defaults[i].subject, &v, true);
		const char *b = tmpl_render(a, tmpl_defaults[i].body, &v, false);
		assert_non_null(s);
		assert_non_null(b);
		assert_null(strstr(s, "{{"));
		assert_null(strstr(b, "{{"));
		if (strncmp(tmpl_defaults[i].key, "client.", 7))
			assert_non_null(strstr(s, "[VALUE]"));
		else
			assert_string_equal(s, "SLA review VALUE: VALUE");
	}
	arena_free(a);
}

/* ---- composing -------------------------------------------------------------------------- */

static const char *const refs3[] = {
	"first@acme.example", "bad id@acme.example", "itsup-T123-5@msp.example",
	"x<y>@z", "",
};

static struct mail_out sample(void)
{
	struct mail_out m = {
		.from_name = "ACME Service Desk",
		.from_addr = "support@msp.example",
		.to_name = "Anna M\xc3\xbcller",
		.to_addr = "anna@acme.example",
		.subject = "St\xc3\xb6rung: Drucker 3. OG [T-000123]",
		.body = "Guten Tag,\n\nder Drucker im 3. OG ist repariert. Gr\xc3\xbc\xc3\x9f" "e\n",
		.message_id = "0123456789abcdef0123456789abcdef@msp.example",
		.in_reply_to = "itsup-T123-5@msp.example",
		.references = refs3,
		.nrefs = ARRAY_SIZE(refs3),
		.auto_submitted = "auto-generated",
		.ticket_number = "T-000123",
		.date_ms = 1795421700123LL,
	};
	return m;
}

/* Every line ends in CRLF and is at most 998 bytes before it. */
static void assert_crlf_and_short_lines(const char *raw, size_t len)
{
	size_t line = 0;

	assert_int_equal(strlen(raw), len);
	assert_true(len > 2 && raw[len - 2] == '\r' && raw[len - 1] == '\n');
	for (size_t i = 0; i < len; i++) {
		if (raw[i] == '\n') {
			assert_true(i > 0 && raw[i - 1] == '\r');
			line = 0;
		} else if (raw[i] != '\r') {
			line++;
			assert_true(line <= 998);
		}
	}
}

/* s with CRLF as LF: mail_parse gives the text with the line ends of the
 * wire, and a composed message has CRLF. */
static const char *lf(struct arena *a, const char *s)
{
	char *out = arena_strdup(a, s), *o = out;

	assert_non_null(out);
	for (const char *p = s; *p; p++)
		if (!(p[0] == '\r' && p[1] == '\n'))
			*o++ = *p;
	*o = '\0';
	return out;
}

/* Whether raw has a header line starting with name (case-insensitive). */
static bool has_line(const char *raw, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = raw; p; p = strchr(p, '\n')) {
		if (*p == '\n')
			p++;
		if (!strncasecmp(p, name, n))
			return true;
		if (!strncmp(p, "\r\n", 2))
			break;          /* end of the headers */
	}
	return false;
}

static void test_compose_round_trip(void **state)
{
	struct arena *a = arena_new(8u << 20);
	struct mail_out m = sample();
	struct mail_msg in;
	const char *raw;
	size_t len;
	struct err e;

	UNUSED(state);
	assert_int_equal(mail_compose(&m, a, &raw, &len, &e), RC_OK);
	assert_crlf_and_short_lines(raw, len);
	assert_true(has_line(raw, "Auto-Submitted: auto-generated\r\n"));
	assert_true(has_line(raw, "X-Itsup-Ticket: T-000123\r\n"));
	assert_true(has_line(raw, "Message-Id: <0123456789abcdef0123456789abcdef@msp.example>\r\n"));
	assert_true(has_line(raw, "In-Reply-To: <itsup-T123-5@msp.example>\r\n"));
	assert_true(has_line(raw, "Subject: =?"));            /* RFC 2047 */
	assert_true(has_line(raw, "Content-Type: text/plain; charset=utf-8"));
	assert_true(has_line(raw, "Content-Transfer-Encoding: quoted-printable"));
	assert_true(has_line(raw, "Date: "));
	assert_true(has_line(raw, "MIME-Version: 1.0"));
	assert_false(has_line(raw, "Bcc:"));
	/* the UTF-8 bytes themselves, not re-encoded as Latin-1 */
	assert_non_null(strstr(raw, "Gr=C3=BC=C3=9Fe"));

	assert_int_equal(mail_parse(raw, len, &mail_limits_default, a, &in, &e), RC_OK);
	assert_string_equal(in.subject, m.subject);
	assert_string_equal(lf(a, in.text), m.body);
	assert_string_equal(in.message_id, m.message_id);
	assert_string_equal(in.in_reply_to, m.in_reply_to);
	assert_int_equal(in.nrefs, 2);       /* the malformed ones were left out */
	assert_string_equal(in.references[0], "first@acme.example");
	assert_string_equal(in.references[1], "itsup-T123-5@msp.example");
	assert_true(in.has_from);
	assert_string_equal(in.from.email, "support@msp.example");
	assert_string_equal(in.from.name, "ACME Service Desk");
	assert_int_equal(in.nto, 1);
	assert_string_equal(in.to[0].email, "anna@acme.example");
	assert_string_equal(in.to[0].name, "Anna M\xc3\xbcller");
	assert_int_equal(in.date, 1795421700000LL);
	assert_true(in.auto_reply);          /* Auto-Submitted: our own mail loops nowhere */
	arena_free(a);
}

static void test_compose_long_lines_and_line_ends(void **state)
{
	struct arena *a = arena_new(8u << 20);
	struct mail_out m = sample();
	struct mail_msg in;
	char *body = malloc(2100);
	const char *raw;
	size_t len;
	struct err e;

	UNUSED(state);
	assert_non_null(body);
	memcpy(body, "\xc3\x9c" "ber:\n", 7);
	for (size_t i = 6; i < 2006; i++)
		body[i] = (char)('a' + i % 26);
	memcpy(body + 2006, "\nend\n", 6);
	m.body = body;
	m.subject = "Short";
	m.references = NULL;
	m.nrefs = 0;
	m.in_reply_to = NULL;
	m.auto_submitted = NULL;
	m.ticket_number = NULL;
	m.to_name = NULL;
	assert_int_equal(mail_compose(&m, a, &raw, &len, &e), RC_OK);
	assert_crlf_and_short_lines(raw, len);
	assert_false(has_line(raw, "In-Reply-To:"));
	assert_false(has_line(raw, "References:"));
	assert_false(has_line(raw, "Auto-Submitted:"));
	assert_false(has_line(raw, "X-Itsup-Ticket:"));
	assert_int_equal(mail_parse(raw, len, &mail_limits_default, a, &in, &e), RC_OK);
	assert_string_equal(in.subject, "Short");
	assert_string_equal(lf(a, in.text), body);
	assert_false(in.auto_reply);
	assert_int_equal(in.nrefs, 0);
	assert_null(in.in_reply_to);

	/* CRLF and lone CR in the body become plain line breaks, not =0D */
	m.body = "one\r\ntwo\rthree\n";
	assert_int_equal(mail_compose(&m, a, &raw, &len, &e), RC_OK);
	assert_crlf_and_short_lines(raw, len);
	assert_null(strstr(raw, "=0D"));
	assert_int_equal(mail_parse(raw, len, &mail_limits_default, a, &in, &e), RC_OK);
	assert_string_equal(in.text, "one\ntwo\nthree\n"); /* the parser keeps LF line ends */

	/* a subject of one 1,300-byte word still comes out in short lines */
	char *word = malloc(1301);
	assert_non_null(word);
	memset(word, 'w', 1300);
	word[1300] = '\0';
	m.subject = word;
	m.to_name = "M\xc3\xbcller, Anna \"AM\" (IT)";
	assert_int_equal(mail_compose(&m, a, &raw, &len, &e), RC_OK);
	assert_crlf_and_short_lines(raw, len);
	assert_int_equal(mail_parse(raw, len, &mail_limits_default, a, &in, &e), RC_OK);
	assert_string_equal(in.subject, word);
	assert_int_equal(in.nto, 1);
	assert_string_equal(in.to[0].email, "anna@acme.example");
	assert_string_equal(in.to[0].name, m.to_name);
	free(word);

	/* an empty body and subject, invalid UTF-8 made valid */
	m.body = NULL;
	m.subject = "caf\xe9";
	assert_int_equal(mail_compose(&m, a, &raw, &len, &e), RC_OK);
	assert_int_equal(mail_parse(raw, len, &mail_limits_default, a, &in, &e), RC_OK);
	assert_string_equal(in.subject, "caf\xef\xbf\xbd");
	free(body);
	arena_free(a);
}

static void test_compose_no_header_injection(void **state)
{
	struct arena *a = arena_new(8u << 20);
	struct mail_out m = sample();
	struct mail_msg in;
	const char *raw;
	size_t len;
	struct err e;

	UNUSED(state);
	m.subject = "Hello\r\nBcc: evil@x";
	m.to_name = "Eve\r\nBcc: evil@x";
	m.from_name = "Desk\nBcc: evil@x";
	m.ticket_number = "T-1\r\nBcc: evil@x";
	assert_int_equal(mail_compose(&m, a, &raw, &len, &e), RC_OK);
	assert_crlf_and_short_lines(raw, len);
	assert_false(has_line(raw, "Bcc:"));
	assert_true(has_line(raw, "Subject: Hello  Bcc: evil@x\r\n"));
	assert_int_equal(mail_parse(raw, len, &mail_limits_default, a, &in, &e), RC_OK);
	assert_string_equal(in.subject, "Hello  Bcc: evil@x");
	assert_int_equal(in.nto, 1);
	assert_string_equal(in.to[0].email, "anna@acme.example");
	assert_string_equal(in.to[0].name, "Eve  Bcc: evil@x");
	assert_string_equal(in.from.email, "support@msp.example");
	arena_free(a);
}

static void test_compose_refuses_bad_input(void **state)
{
	static const char *const bad_addrs[] = {
		"", "no-at", "a@b@c", "a b@c", "<a@b>", "a@", "@b", "a@b\r\nBcc: x@y",
		"a,b@c", "\"a\"@b", "a@b>", "m\xc3\xbc@b",
	};
	struct arena *a = arena_new(1u << 20);
	struct mail_out m;
	const char *raw = "x";
	size_t len = 1;
	struct err e;

	UNUSED(state);
	assert_true(mail_address_ok("anna@acme.example"));
	assert_true(mail_address_ok("a.b+c_d-e@x.y"));
	assert_false(mail_address_ok(NULL));
	for (size_t i = 0; i < ARRAY_SIZE(bad_addrs); i++) {
		assert_false(mail_address_ok(bad_addrs[i]));
		m = sample();
		m.to_addr = bad_addrs[i];
		assert_int_equal(mail_compose(&m, a, &raw, &len, &e), RC_INVALID);
		assert_string_equal(e.field, "to_addr");
		assert_null(raw);
		assert_int_equal(len, 0);
		m = sample();
		m.from_addr = bad_addrs[i];
		assert_int_equal(mail_compose(&m, a, &raw, &len, &e), RC_INVALID);
		assert_string_equal(e.field, "from_addr");
	}
	m = sample();
	m.to_addr = NULL;
	assert_int_equal(mail_compose(&m, a, &raw, &len, &e), RC_INVALID);
	assert_string_equal(e.field, "to_addr");

	m = sample();
	m.message_id = "<a@b>";
	assert_int_equal(mail_compose(&m, a, &raw, &len, &e), RC_INVALID);
	assert_string_equal(e.field, "message_id");
	m.message_id = NULL;
	assert_int_equal(mail_compose(&m, a, &raw, &len, &e), RC_INVALID);
	assert_string_equal(e.field, "message_id");

	m = sample();
	m.auto_submitted = "no\r\nBcc: x@y";
	assert_int_equal(mail_compose(&m, a, &raw, &len, &e), RC_INVALID);
	assert_string_equal(e.field, "auto_submitted");
	arena_free(a);

	/* an arena too small for the message: RC_NOMEM, nothing leaked */
	a = arena_new(64);
	m = sample();
	assert_int_equal(mail_compose(&m, a, &raw, &len, &e), RC_NOMEM);
	assert_null(raw);
	arena_free(a);
}


/* Attachments: multipart/mixed, the text first, each file in base64 with
 * its name, back byte for byte through the project's own parser; a
 * megabyte of binary too, in lines of at most 76. */
static void test_compose_attachments(void **state)
{
	static const char html[] = "<!DOCTYPE html><html><head><title>SLA review Borealis \xe2\x80\x94"
				   " March 2027</title></head><body><h1>Borealis</h1></body></html>\n";
	static const char csv[] = "number,ticket_id\r\nT-000001,1\r\n";
	struct arena *a = arena_new(32u << 20);
	unsigned char *bin = malloc(1u << 20);
	struct mail_attachment att[3] = {
		{ "sla-review-Borealis-2027-03.html", "text/html", html, sizeof(html) - 1 },
		{ "sla-review-Borealis-2027-03.csv", "text/csv", csv, sizeof(csv) - 1 },
		{ "data.bin", "application/octet-stream", bin, 1u << 20 },
	};
	struct mail_out m = sample();
	struct mail_msg in;
	const char *raw;
	size_t len;
	struct err e;

	UNUSED(state);
	assert_non_null(bin);
	for (size_t i = 0; i < (1u << 20); i++)
		bin[i] = (unsigned char)((i * 2654435761u) >> 13);
	m.attachments = att;
	m.nattachments = 3;
	m.body = "Attached: the review.\n";
	assert_int_equal(mail_compose(&m, a, &raw, &len, &e), RC_OK);
	assert_crlf_and_short_lines(raw, len);
	assert_true(has_line(raw, "Content-Type: multipart/mixed; boundary="));
	assert_non_null(strstr(raw, "Content-Type: text/plain; charset=utf-8\r\n"));
	assert_non_null(strstr(raw, "Content-Disposition: attachment; filename=sla-review-Borealis-2027-03.html"));
	assert_non_null(strstr(raw, "Content-Disposition: attachment; filename=sla-review-Borealis-2027-03.csv"));
	assert_non_null(strstr(raw, "Content-Type: text/html; charset=utf-8; name=sla-review-Borealis-2027-03.html"));
	assert_non_null(strstr(raw, "Content-Transfer-Encoding: base64"));
	/* The text part comes before the files. */
	assert_true(strstr(raw, "text/plain") < strstr(raw, "text/html"));
	assert_true(strstr(raw, "text/html") < strstr(raw, "text/csv"));
	/* Still the same headers around it. */
	assert_true(has_line(raw, "Auto-Submitted: auto-generated\r\n"));
	assert_true(has_line(raw, "MIME-Version: 1.0"));

	assert_int_equal(mail_parse(raw, len, &(struct mail_limits){ 64u << 20, 100, 8, 8u << 20, 1u << 20 },
				    a, &in, &e), RC_OK);
	assert_string_equal(lf(a, in.text), m.body);
	assert_int_equal(in.nparts, 3);
	for (size_t i = 0; i < 3; i++) {
		assert_string_equal(in.parts[i].filename, att[i].filename);
		assert_string_equal(in.parts[i].content_type, att[i].content_type);
		assert_false(in.parts[i].is_inline);
		assert_false(in.parts[i].too_big);
		assert_int_equal(in.parts[i].len, att[i].len);
		assert_memory_equal(in.parts[i].data, att[i].data, att[i].len);
	}
	free(bin);
	arena_free(a);
}

/* Attachments the composer refuses, naming the field. */
static void test_compose_refuses_bad_attachments(void **state)
{
	static const struct { const char *name, *type, *field; } bad[] = {
		{ "", "text/html", "attachments[].filename" },
		{ NULL, "text/html", "attachments[].filename" },
		{ "a/b.html", "text/html", "attachments[].filename" },
		{ "a\\b.html", "text/html", "attachments[].filename" },
		{ "a\"b.html", "text/html", "attachments[].filename" },
		{ "a\r\nX-Evil: 1", "text/html", "attachments[].filename" },
		{ "\xc3\xa4.html", "text/html", "attachments[].filename" },
		{ "ok.html", "texthtml", "attachments[].content_type" },
		{ "ok.html", "text/", "attachments[].content_type" },
		{ "ok.html", "/html", "attachments[].content_type" },
		{ "ok.html", "text/html; charset=x", "attachments[].content_type" },
		{ "ok.html", "text/ht ml", "attachments[].content_type" },
		{ "ok.html", NULL, "attachments[].content_type" },
	};
	struct arena *a = arena_new(1u << 20);
	struct mail_attachment att[MAIL_ATTACHMENTS_MAX + 1];
	struct mail_out m;
	const char *raw = "x";
	size_t len = 1;
	struct err e;
	char longname[202];

	UNUSED(state);
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		att[0] = (struct mail_attachment){ bad[i].name, bad[i].type, "x", 1 };
		m = sample();
		m.attachments = att;
		m.nattachments = 1;
		assert_int_equal(mail_compose(&m, a, &raw, &len, &e), RC_INVALID);
		assert_string_equal(e.field, bad[i].field);
		assert_null(raw);
	}
	memset(longname, 'n', 201);
	longname[201] = '\0';
	att[0] = (struct mail_attachment){ longname, "text/plain", "x", 1 };
	m = sample();
	m.attachments = att;
	m.nattachments = 1;
	assert_int_equal(mail_compose(&m, a, &raw, &len, &e), RC_INVALID);
	assert_string_equal(e.field, "attachments[].filename");
	longname[200] = '\0';
	assert_int_equal(mail_compose(&m, a, &raw, &len, &e), RC_OK);
	/* No data with a length; too many. */
	att[0] = (struct mail_attachment){ "a.txt", "text/plain", NULL, 5 };
	assert_int_equal(mail_compose(&m, a, &raw, &len, &e), RC_INVALID);
	assert_string_equal(e.field, "attachments[].data");
	for (size_t i = 0; i <= MAIL_ATTACHMENTS_MAX; i++)
		att[i] = (struct mail_attachment){ "a.txt", "text/plain", "x", 1 };
	m.nattachments = MAIL_ATTACHMENTS_MAX + 1;
	assert_int_equal(mail_compose(&m, a, &raw, &len, &e), RC_INVALID);
	assert_string_equal(e.field, "attachments");
	m.nattachments = MAIL_ATTACHMENTS_MAX;
	assert_int_equal(mail_compose(&m, a, &raw, &len, &e), RC_OK);
	/* An empty file is a file. */
	att[0] = (struct mail_attachment){ "empty.csv", "text/csv", NULL, 0 };
	m.nattachments = 1;
	assert_int_equal(mail_compose(&m, a, &raw, &len, &e), RC_OK);
	assert_non_null(strstr(raw, "filename=empty.csv"));
	arena_free(a);
}

static void test_message_ids(void **state)
{
	struct arena *a = arena_new(1u << 20);
	const char *ids[200];

	UNUSED(state);
	for (size_t i = 0; i < ARRAY_SIZE(ids); i++) {
		ids[i] = mail_new_message_id(a, "msp.example");
		assert_non_null(ids[i]);
		assert_int_equal(strlen(ids[i]), 32 + strlen("@msp.example"));
		for (size_t k = 0; k < 32; k++)
			assert_true(isxdigit((unsigned char)ids[i][k]) && !isupper((unsigned char)ids[i][k]));
		assert_string_equal(ids[i] + 32, "@msp.example");
		for (size_t j = 0; j < i; j++)
			assert_string_not_equal(ids[i], ids[j]);
	}
	assert_string_equal(mail_new_message_id(a, NULL) + 32, "@itsup.invalid");
	assert_string_equal(mail_new_message_id(a, "") + 32, "@itsup.invalid");
	arena_free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults_pass_their_check),
		cmocka_unit_test(test_check_errors_name_the_field),
		cmocka_unit_test(test_render_substitutes_once),
		cmocka_unit_test(test_every_default_renders),
		cmocka_unit_test(test_compose_round_trip),
		cmocka_unit_test(test_compose_long_lines_and_line_ends),
		cmocka_unit_test(test_compose_no_header_injection),
		cmocka_unit_test(test_compose_refuses_bad_input),
		cmocka_unit_test(test_compose_attachments),
		cmocka_unit_test(test_compose_refuses_bad_attachments),
		cmocka_unit_test(test_message_ids),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
