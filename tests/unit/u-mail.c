/* u-mail.c: reading incoming mail (src/mail/mail.h) on the corpus in
 * tests/fixtures/mail: encoded words, charsets, transfer encodings,
 * multipart/alternative, HTML reduced to text, attachments and inline
 * images, threading headers, auto-replies, bulk mail, DSN bounces,
 * forwarded messages, malformed MIME; and the pure helpers (ticket number
 * in a subject, where a reply's quoted text starts, HTML to text). */
#include "base/common.h"

#include <setjmp.h>
#include <cmocka.h>
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>

#include "base/buf.h"
#include "mail/intake.h"
#include "mail/mail.h"
#include "mail/mailgate.h"

static char *slurp(const char *name, size_t *len)
{
	char path[512];
	FILE *f;
	char *buf;
	long n;

	snprintf(path, sizeof(path), "%s/mail/%s", FIXTURES, name);
	f = fopen(path, "rb");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return buf;
}

struct fx { struct arena *a; struct mail_msg m; char *raw; };

static void parse(struct fx *x, const char *name)
{
	size_t len;
	struct err e;

	x->a = arena_new(64u << 20);
	x->raw = slurp(name, &len);
	assert_int_equal(mail_parse(x->raw, len, NULL, x->a, &x->m, &e), RC_OK);
}

static void done(struct fx *x)
{
	free(x->raw);
	arena_free(x->a);
}

static void test_plain_encoded_words_and_addresses(void **state)
{
	struct fx x;

	UNUSED(state);
	parse(&x, "plain.eml");
	assert_string_equal(x.m.subject, "Re: [T-000123] Drucker defekt \xe2\x80\x93 dringend");
	assert_int_equal(mail_ticket_number(x.m.subject), 123);
	assert_true(x.m.has_from);
	assert_string_equal(x.m.from.email, "anna@acme.example");
	assert_string_equal(x.m.from.name, "Anna M\xc3\xbcller");
	assert_string_equal(x.m.message_id, "CAF1=plain@mail.acme.example");
	assert_int_equal(x.m.nto, 4);   /* To, Cc, and the group's two */
	assert_string_equal(x.m.to[0].email, "support@msp.example");
	assert_string_equal(x.m.to[3].email, "dave@acme.example");
	assert_non_null(strstr(x.m.text, "druckt nicht mehr"));
	assert_false(x.m.auto_reply);
	assert_false(x.m.bounce);
	assert_int_equal(x.m.date, 1795421700000LL);
	assert_int_equal(x.m.nparts, 0);
	done(&x);
}

static void test_alternative_prefers_plain_in_utf8(void **state)
{
	struct fx x;

	UNUSED(state);
	parse(&x, "alternative.eml");
	assert_string_equal(x.m.subject, "Probl\xc3\xa8me de connexion");
	assert_false(x.m.text_from_html);
	assert_non_null(strstr(x.m.text, "Je n'arrive pas \xc3\xa0 me connecter au VPN"));
	assert_int_equal(x.m.nparts, 0);
	done(&x);
}

static void test_html_only_is_reduced_to_text(void **state)
{
	struct fx x;

	UNUSED(state);
	parse(&x, "html-only.eml");
	assert_true(x.m.text_from_html);
	assert_null(strstr(x.m.text, "<p"));
	assert_null(strstr(x.m.text, "<script"));
	assert_null(strstr(x.m.text, "alert"));
	assert_null(strstr(x.m.text, "color"));
	assert_null(strstr(x.m.text, "hidden"));
	assert_non_null(strstr(x.m.text, "Hello team & \xe2\x80\x9c" "friends\xe2\x80\x9d"));
	assert_non_null(strstr(x.m.text, "\nLine two <b>"));
	assert_non_null(strstr(x.m.text, "Caf\xc3\xa9 \xe2\x98\xba"));
	done(&x);
}

static void test_attachments_and_inline_images(void **state)
{
	struct fx x;

	UNUSED(state);
	parse(&x, "attachment.eml");
	assert_string_equal(x.m.text, "See the screenshot.");
	assert_int_equal(x.m.nparts, 2);
	assert_string_equal(x.m.parts[0].content_type, "image/png");
	assert_true(x.m.parts[0].is_inline);
	assert_string_equal(x.m.parts[0].content_id, "img1@client.example");
	assert_int_equal(x.m.parts[0].len, 72);
	assert_memory_equal(x.m.parts[0].data, "\x89PNG\r\n\x1a\n", 8);
	assert_string_equal(x.m.parts[1].content_type, "application/pdf");
	assert_string_equal(x.m.parts[1].filename, "Rechnung M\xc3\xa4rz.pdf");
	assert_false(x.m.parts[1].is_inline);
	assert_int_equal(x.m.parts[1].len, 13);
	assert_memory_equal(x.m.parts[1].data, "%PDF-1.4 test", 13);
	done(&x);
}

static void test_threading_headers_and_quotes(void **state)
{
	struct fx x;
	size_t q;

	UNUSED(state);
	parse(&x, "gmail-reply.eml");
	assert_string_equal(x.m.in_reply_to, "itsup-T123-5@msp.example");
	assert_int_equal(x.m.nrefs, 2);
	assert_string_equal(x.m.references[0], "first@acme.example");
	assert_string_equal(x.m.references[1], "itsup-T123-5@msp.example");
	q = mail_quote_start(x.m.text);
	assert_true(q < strlen(x.m.text));
	assert_true(!strncmp(x.m.text + q, "On Mon, Nov 23", 14));
	assert_true(!strncmp(x.m.text, "Thanks, it works again.", 23));
	done(&x);

	parse(&x, "outlook-reply.eml");
	assert_int_equal(mail_ticket_number(x.m.subject), 42);
	q = mail_quote_start(x.m.text);
	assert_true(!strncmp(x.m.text + q, "From: Support", 13));
	done(&x);
}

static void test_auto_replies_bulk_and_bounces(void **state)
{
	struct fx x;

	UNUSED(state);
	parse(&x, "autoreply.eml");
	assert_true(x.m.auto_reply);
	assert_false(x.m.bounce);
	done(&x);
	parse(&x, "bulk.eml");
	assert_true(x.m.auto_reply);
	done(&x);
	parse(&x, "dsn.eml");
	assert_true(x.m.bounce);
	assert_true(x.m.auto_reply);
	assert_string_equal(x.m.bounced_message_id, "itsup-T42-7@msp.example");
	assert_non_null(strstr(x.m.text, "could not be delivered"));
	done(&x);
}

static void test_forwarded_message_is_an_attachment(void **state)
{
	struct fx x;

	UNUSED(state);
	parse(&x, "forwarded.eml");
	assert_string_equal(x.m.text, "Is this phishing?");
	assert_int_equal(x.m.nparts, 1);
	assert_string_equal(x.m.parts[0].content_type, "message/rfc822");
	assert_non_null(x.m.parts[0].data);
	assert_non_null(memmem(x.m.parts[0].data, x.m.parts[0].len, "Your password expires", 21));
	done(&x);
}

/* Malformed or hostile input: stored safely or refused, never a crash. */
static void test_malformed_and_limits(void **state)
{
	struct fx x;
	struct err e;
	struct mail_limits lim = mail_limits_default;
	struct mail_msg m;
	struct arena *a = arena_new(16u << 20);
	struct buf deep;

	UNUSED(state);
	parse(&x, "malformed.eml");
	assert_non_null(x.m.text);
	assert_non_null(x.m.subject);
	done(&x);
	/* Deep nesting is refused before GMime's recursive parser sees it. */
	buf_init(&deep, 1u << 20);
	buf_appends(&deep, "From: a@b.example\r\nSubject: deep\r\n");
	for (int i = 0; i < 500; i++)
		buf_appendf(&deep, "Content-Type: multipart/mixed; boundary=\"b%d\"\r\n\r\n--b%d\r\n", i, i);
	buf_appends(&deep, "Content-Type: text/plain\r\n\r\nhi\r\n");
	assert_int_equal(mail_parse(buf_str(&deep), deep.len, NULL, a, &m, &e), RC_INVALID);
	assert_string_equal(e.field, "message");
	buf_release(&deep);
	/* Too big. */
	lim.message_max = 10;
	assert_int_equal(mail_parse("From: a@b.example\r\n\r\nhello", 27, &lim, a, &m, &e), RC_INVALID);
	/* Not a message at all still parses as one with no headers. */
	assert_int_equal(mail_parse("\x01\x02", 2, NULL, a, &m, &e) == RC_OK ||
			 e.code == RC_INVALID, 1);
	arena_free(a);
}

static void test_helpers(void **state)
{
	char *t;

	UNUSED(state);
	assert_int_equal(mail_ticket_number("Re: [T-000123] x"), 123);
	assert_int_equal(mail_ticket_number("[T-] [T-abc] [T-7]"), 7);
	assert_int_equal(mail_ticket_number("no ticket"), 0);
	assert_int_equal(mail_ticket_number("[T-0]"), 0);
	assert_int_equal(mail_quote_start("just text\n"), strlen("just text\n"));
	assert_int_equal(mail_quote_start("hi\n> old\n> older\n"), 3);
	assert_int_equal(mail_quote_start("a\n> q\nb\n"), strlen("a\n> q\nb\n"));   /* inline quote */
	assert_int_equal(mail_quote_start("x\n-----Original Message-----\nFrom: y\n"), 2);
	t = mail_html_text("<P>a<BR>b</P><SCRIPT>x</SCRIPT>c&#0;d&bogus;", 44);
	assert_string_equal(t, "a\nb\nc\xef\xbf\xbd" "d&bogus;");
	free(t);
	t = mail_html_text("", 0);
	assert_string_equal(t, "");
	free(t);
	t = mail_html_text("<style>never closed", 19);
	assert_string_equal(t, "");
	free(t);
}

/* Hostile and broken input, mechanically: every corpus message mutated a
 * few hundred ways (bytes flipped, cut short, runs repeated, MIME
 * punctuation injected) with a fixed seed. mail_parse must answer OK or
 * INVALID every time; the ASan+UBSan run of this test is the fuzzing the
 * suite can afford (no libFuzzer toolchain in the build). */
static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static void test_mutations_never_crash(void **state)
{
	static const char *const names[] = { "plain.eml", "alternative.eml", "html-only.eml",
					      "attachment.eml", "gmail-reply.eml", "dsn.eml",
					      "forwarded.eml", "malformed.eml" };
	static const char *const inserts[] = { "\r\n--", "boundary=\"x\"", "=?UTF-8?B?", "<", "&#",
					       "Content-Type: multipart/mixed; boundary=\"z\"\r\n\r\n--z\r\n",
					       "\r\n\r\n", "=\r\n", "\x00", "\xff\xfe" };
	int ok = 0, refused = 0;

	UNUSED(state);
	for (size_t f = 0; f < ARRAY_SIZE(names); f++) {
		size_t len;
		char *raw = slurp(names[f], &len);
		for (int i = 0; i < 300; i++) {
			size_t cap = len * 2 + 256, n = len;
			char *m = malloc(cap);
			struct mail_msg msg;
			struct err e;
			enum result r;
			memcpy(m, raw, len);
			for (int k = 0; k < 1 + (int)(rng() % 4); k++) {
				size_t at = n ? rng() % n : 0;
				switch (rng() % 4) {
				case 0:
					if (n)
						m[at] = (char)(rng() & 0xff);
					break;
				case 1:
					n = at;   /* cut short */
					break;
				case 2: {
					const char *ins = inserts[rng() % ARRAY_SIZE(inserts)];
					size_t il = strlen(ins) ? strlen(ins) : 1;
					if (n + il < cap) {
						memmove(m + at + il, m + at, n - at);
						memcpy(m + at, ins, il);
						n += il;
					}
					break;
				}
				default: {
					size_t run = n - at < 64 ? n - at : 64;
					if (n + run < cap) {
						memmove(m + at + run, m + at, n - at);
						n += run;
					}
					break;
				}
				}
			}
			struct arena *a = arena_new(64u << 20);
			r = mail_parse(m, n, NULL, a, &msg, &e);
			assert_true(r == RC_OK || r == RC_INVALID);
			if (r == RC_OK) {
				assert_non_null(msg.text);
				assert_non_null(msg.subject);
				ok++;
			} else {
				refused++;
			}
			arena_free(a);
			free(m);
		}
		free(raw);
	}
	assert_true(ok > 0);
	(void)refused;
}

/* The MTA's exit status for each answer (sysexits.h). */
static void test_mailgate_exit_status(void **state)
{
	UNUSED(state);
	assert_int_equal(mailgate_exit_status(200), 0);
	assert_int_equal(mailgate_exit_status(201), 0);
	assert_int_equal(mailgate_exit_status(0), 75);
	assert_int_equal(mailgate_exit_status(500), 75);
	assert_int_equal(mailgate_exit_status(503), 75);
	assert_int_equal(mailgate_exit_status(429), 75);
	assert_int_equal(mailgate_exit_status(401), 75);
	assert_int_equal(mailgate_exit_status(400), 65);
	assert_int_equal(mailgate_exit_status(413), 65);
	assert_int_equal(mailgate_exit_status(422), 65);
}

/* The intake's rules (intake.h), one case per rule and the order between
 * them. */
static void test_intake_decide(void **state)
{
	struct intake_facts f;

	(void)state;
	/* 6. new mail */
	memset(&f, 0, sizeof(f));
	assert_int_equal(intake_decide(&f), IA_HOLD);                 /* no client */
	f.client_id = 3;
	assert_int_equal(intake_decide(&f), IA_NEW_CONTACT);          /* unknown, policy create */
	f.hold_unknown = true;
	assert_int_equal(intake_decide(&f), IA_HOLD);                 /* unknown, policy hold */
	f.sender_of_client = true;
	f.sender = IS_CONTACT;
	assert_int_equal(intake_decide(&f), IA_NEW);                  /* known contact */
	f.sender_of_client = false;
	f.sender = IS_STAFF;
	assert_int_equal(intake_decide(&f), IA_NEW);                  /* staff forwarding */
	/* 5. threads to a ticket */
	memset(&f, 0, sizeof(f));
	f.thread_ticket = 9;
	f.sender = IS_STAFF;
	assert_int_equal(intake_decide(&f), IA_STAFF_REPLY);
	f.sender = IS_CONTACT;
	f.sender_of_ticket_client = true;
	assert_int_equal(intake_decide(&f), IA_REPLY);
	f.sender_of_ticket_client = false;
	assert_int_equal(intake_decide(&f), IA_NOTE);                 /* a Message-ID: a vendor */
	f.by_tag_only = true;
	assert_int_equal(intake_decide(&f), IA_HOLD);                 /* a guessed tag: new mail, no client */
	f.sender_of_ticket_client = true;
	assert_int_equal(intake_decide(&f), IA_HOLD);                 /* a colleague: still a guess */
	f.sender_is_requester = true;
	assert_int_equal(intake_decide(&f), IA_REPLY);                /* the requester */
	f.sender = IS_STAFF;
	assert_int_equal(intake_decide(&f), IA_NOTE);                 /* staff by the tag: a note only */
	f.sender = IS_CONTACT;
	f.sender_is_requester = f.sender_of_ticket_client = false;
	f.client_id = 4;
	f.sender_of_client = true;
	assert_int_equal(intake_decide(&f), IA_NEW);
	/* 4, 3: automatic mail never opens or replies */
	f.auto_reply = true;
	f.by_tag_only = false;                                        /* threaded by a Message-ID */
	assert_int_equal(intake_decide(&f), IA_AUTO_NOTE);
	f.thread_ticket = 0;
	assert_int_equal(intake_decide(&f), IA_AUTO_DROP);
	/* ... and a guessed tag from outside the ticket's client files nothing */
	f.thread_ticket = 9;
	f.by_tag_only = true;
	f.sender_of_ticket_client = false;
	f.sender = IS_CONTACT;
	assert_int_equal(intake_decide(&f), IA_AUTO_DROP);
	f.bounce = true;
	assert_int_equal(intake_decide(&f), IA_BOUNCE_DROP);
	f.bounce = false;
	f.sender_of_ticket_client = true;
	assert_int_equal(intake_decide(&f), IA_AUTO_DROP);            /* a colleague's guess */
	f.sender_is_requester = true;
	assert_int_equal(intake_decide(&f), IA_AUTO_NOTE);
	f.by_tag_only = false;
	f.thread_ticket = 0;
	f.bounce = true;
	assert_int_equal(intake_decide(&f), IA_BOUNCE_DROP);
	f.thread_ticket = 9;
	assert_int_equal(intake_decide(&f), IA_BOUNCE_NOTE);
	/* 2, 1: the rate limit before all that, a duplicate before anything */
	f.over_rate = true;
	assert_int_equal(intake_decide(&f), IA_RATE_LIMITED);
	f.duplicate = true;
	assert_int_equal(intake_decide(&f), IA_DUPLICATE);
	for (int i = 0; i < IA_COUNT; i++)
		assert_non_null(intake_log_action[i]);
	assert_string_equal(intake_log_action[IA_NEW_CONTACT], "created");
	assert_string_equal(intake_log_action[IA_NOTE], "appended");
}

/* Whatever bytes a sender puts in a header or a body part, what the parser
 * hands on is valid UTF-8 (PostgreSQL refuses anything else). */
static void test_invalid_utf8_made_valid(void **state)
{
	static const char raw[] =
		"From: \"Bad \xff Name\" <x@example.org>\r\n"
		"Subject: broken \xc3\x28 subject\r\n"
		"Message-ID: <bad-utf8@example.org>\r\n"
		"MIME-Version: 1.0\r\n"
		"Content-Type: multipart/mixed; boundary=b\r\n\r\n"
		"--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
		"text \xf0\x28\x8c\x28 here\r\n"
		"--b\r\nContent-Type: application/pdf\r\n"
		"Content-Disposition: attachment; filename*=utf-8''a%FFb.pdf\r\n"
		"Content-ID: <c\xfe@x>\r\n\r\nPDF\r\n--b--\r\n";
	struct arena *a = arena_new(16u << 20);
	struct mail_msg m;
	struct err e;

	(void)state;
	assert_int_equal(mail_parse(raw, sizeof(raw) - 1, &mail_limits_default, a, &m, &e), RC_OK);
	assert_true(g_utf8_validate(m.subject, -1, NULL));
	assert_true(g_utf8_validate(m.from.name, -1, NULL));
	assert_true(g_utf8_validate(m.text, -1, NULL));
	assert_non_null(strstr(m.text, "here"));
	assert_int_equal(m.nparts, 1);
	assert_true(g_utf8_validate(m.parts[0].filename, -1, NULL));
	assert_true(!m.parts[0].content_id || g_utf8_validate(m.parts[0].content_id, -1, NULL));
	arena_free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_encoded_words_and_addresses),
		cmocka_unit_test(test_alternative_prefers_plain_in_utf8),
		cmocka_unit_test(test_html_only_is_reduced_to_text),
		cmocka_unit_test(test_attachments_and_inline_images),
		cmocka_unit_test(test_threading_headers_and_quotes),
		cmocka_unit_test(test_auto_replies_bulk_and_bounces),
		cmocka_unit_test(test_forwarded_message_is_an_attachment),
		cmocka_unit_test(test_malformed_and_limits),
		cmocka_unit_test(test_helpers),
		cmocka_unit_test(test_mailgate_exit_status),
		cmocka_unit_test(test_mutations_never_crash),
		cmocka_unit_test(test_intake_decide),
		cmocka_unit_test(test_invalid_utf8_made_valid),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
