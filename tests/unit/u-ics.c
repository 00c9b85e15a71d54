/* u-ics.c: holidays from iCalendar feeds (sla/ics.c): all-day events,
 * DTEND and DURATION spans, RRULE / RDATE / EXDATE / RECURRENCE-ID, the
 * window clipping both ends, timed and cancelled events skipped, days
 * deduplicated and sorted, summaries cut on a UTF-8 boundary, CRLF and
 * folded lines, and the refusals: garbage, too many days, absurd rules. */
#include "base/common.h"

#include <setjmp.h>
#include <cmocka.h>

#include "base/clock.h"
#include "base/util.h"
#include "sla/ics.h"

#define CAL(body) "BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//itsup//u-ics//EN\n" body "END:VCALENDAR\n"
#define ALLDAY(uid, date, summary) \
	"BEGIN:VEVENT\nUID:" uid "\nDTSTART;VALUE=DATE:" date "\nSUMMARY:" summary "\nEND:VEVENT\n"

static struct ics_day out[1024];
static size_t n, skipped;
static struct err e;

static int64_t D(int y, int m, int d)
{
	return days_from_civil(y, (unsigned)m, (unsigned)d);
}

/* Runs ics_holidays over text (strlen) with poisoned outputs. */
static enum result run(const char *text, int64_t from, int64_t to, size_t max)
{
	assert_true(max <= ARRAY_SIZE(out));
	memset(out, 0x5a, sizeof(out));
	memset(&e, 0, sizeof(e));
	n = skipped = 12345;
	return ics_holidays(text, text ? strlen(text) : 0, from, to, out, max, &n, &skipped, &e);
}

/* All of 2026. */
static enum result run2026(const char *text)
{
	return run(text, D(2026, 1, 1), D(2026, 12, 31), 400);
}

static void assert_day(size_t i, int y, int m, int d, const char *name)
{
	assert_true(i < n);
	assert_int_equal(out[i].day, D(y, m, d));
	if (name)
		assert_string_equal(out[i].name, name);
}

static void assert_invalid(enum result rc, const char *msg_part)
{
	assert_int_equal(rc, RC_INVALID);
	assert_string_equal(e.field, "ics");
	assert_non_null(strstr(e.msg, msg_part));
	assert_true(text_valid(e.msg, false));
	assert_int_equal(n, 0);
}

static void test_german_feed(void **state)
{
	const char *feed = CAL(
		"CALSCALE:GREGORIAN\nX-WR-CALNAME:Feiertage in Deutschland\n"
		"BEGIN:VTIMEZONE\nTZID:Europe/Berlin\nBEGIN:STANDARD\nDTSTART:19701025T030000\n"
		"TZOFFSETFROM:+0200\nTZOFFSETTO:+0100\nEND:STANDARD\nEND:VTIMEZONE\n"
		ALLDAY("neujahr-2026@feiertage", "20260101", "Neujahr")
		ALLDAY("arbeit-2026@feiertage", "20260501", "Tag der Arbeit")
		"BEGIN:VEVENT\nUID:einheit-2026@feiertage\nDTSTAMP:20250101T000000Z\n"
		"DTSTART;VALUE=DATE:20261003\nDTEND;VALUE=DATE:20261004\n"
		"SUMMARY:Tag der Deutschen Einheit\nTRANSP:TRANSPARENT\nEND:VEVENT\n"
		/* DTSTART without VALUE=DATE: still a date. */
		"BEGIN:VEVENT\nUID:w1-2026@feiertage\nDTSTART:20261225\nSUMMARY:1. Weihnachtstag\nEND:VEVENT\n"
		ALLDAY("w2-2026@feiertage", "20261226", "2. Weihnachtstag")
		ALLDAY("neujahr-2027@feiertage", "20270101", "Neujahr"));

	UNUSED(state);
	assert_int_equal(run2026(feed), RC_OK);
	assert_int_equal(n, 5);
	assert_int_equal(skipped, 0);
	assert_day(0, 2026, 1, 1, "Neujahr");
	assert_day(1, 2026, 5, 1, "Tag der Arbeit");
	assert_day(2, 2026, 10, 3, "Tag der Deutschen Einheit");
	assert_day(3, 2026, 12, 25, "1. Weihnachtstag");
	assert_day(4, 2026, 12, 26, "2. Weihnachtstag");
	/* A UTF-8 byte-order mark in front is fine; skipped may be NULL. */
	{
		char bom[2048];
		snprintf(bom, sizeof(bom), "\xef\xbb\xbf%s", feed);
		assert_int_equal(ics_holidays(bom, strlen(bom), D(2026, 12, 1), D(2027, 1, 31), out,
					      10, &n, NULL, &e), RC_OK);
		assert_int_equal(n, 3);
		assert_day(2, 2027, 1, 1, "Neujahr");
	}
}

static void test_spans(void **state)
{
	UNUSED(state);
	/* DTEND is exclusive: 28, 29, 30 December. */
	assert_int_equal(run2026(CAL("BEGIN:VEVENT\nUID:a\nSUMMARY:Betriebsferien\n"
				     "DTSTART;VALUE=DATE:20261228\nDTEND;VALUE=DATE:20261231\nEND:VEVENT\n")),
			 RC_OK);
	assert_int_equal(n, 3);
	assert_day(0, 2026, 12, 28, "Betriebsferien");
	assert_day(2, 2026, 12, 30, "Betriebsferien");
	/* DURATION:P2D: two days; P1W: seven. */
	assert_int_equal(run2026(CAL("BEGIN:VEVENT\nUID:b\nSUMMARY:Zwei\nDTSTART;VALUE=DATE:20260817\n"
				     "DURATION:P2D\nEND:VEVENT\n"
				     "BEGIN:VEVENT\nUID:c\nSUMMARY:Woche\nDTSTART;VALUE=DATE:20260907\n"
				     "DURATION:P1W\nEND:VEVENT\n")),
			 RC_OK);
	assert_int_equal(n, 9);
	assert_day(0, 2026, 8, 17, "Zwei");
	assert_day(1, 2026, 8, 18, "Zwei");
	assert_day(2, 2026, 9, 7, "Woche");
	assert_day(8, 2026, 9, 13, "Woche");
	/* DTEND not after DTSTART: one day. A span is clipped to the window. */
	assert_int_equal(run(CAL("BEGIN:VEVENT\nUID:d\nDTSTART;VALUE=DATE:20260301\n"
				 "DTEND;VALUE=DATE:20260301\nEND:VEVENT\n"
				 "BEGIN:VEVENT\nUID:e\nDTSTART;VALUE=DATE:20260325\n"
				 "DTEND;VALUE=DATE:20260410\nEND:VEVENT\n"),
			     D(2026, 3, 1), D(2026, 3, 31), 400),
			 RC_OK);
	assert_int_equal(n, 8);
	assert_day(0, 2026, 3, 1, "");
	assert_day(1, 2026, 3, 25, "");
	assert_day(7, 2026, 3, 31, "");
}

static void test_yearly_rrule(void **state)
{
	const char *feed = CAL("BEGIN:VEVENT\nUID:ny\nSUMMARY:Neujahr\nDTSTART;VALUE=DATE:20200101\n"
			       "RRULE:FREQ=YEARLY\nEND:VEVENT\n"
			       /* Two days a year, from 31 December. */
			       "BEGIN:VEVENT\nUID:sil\nSUMMARY:Silvester\nDTSTART;VALUE=DATE:20201231\n"
			       "DTEND;VALUE=DATE:20210102\nRRULE:FREQ=YEARLY;BYMONTH=12;BYMONTHDAY=31\n"
			       "END:VEVENT\n");

	UNUSED(state);
	/* Three years from 2025-06-01: 2025-12-31 (Silvester), 2026-01-01
	 * (Neujahr first in the file), 2026-12-31, 2027-01-01, 2027-12-31,
	 * 2028-01-01; the window ends 2028-06-30, so not 2028-12-31. */
	assert_int_equal(run(feed, D(2025, 6, 1), D(2028, 6, 30), 400), RC_OK);
	assert_int_equal(n, 6);
	assert_day(0, 2025, 12, 31, "Silvester");
	assert_day(1, 2026, 1, 1, "Neujahr");
	assert_day(2, 2026, 12, 31, "Silvester");
	assert_day(3, 2027, 1, 1, "Neujahr");
	assert_day(5, 2028, 1, 1, "Neujahr");
	/* A window from 1 January cuts off an instance's first day, not its second. */
	assert_int_equal(run(CAL("BEGIN:VEVENT\nUID:sil\nSUMMARY:Silvester\nDTSTART;VALUE=DATE:20201231\n"
				 "DTEND;VALUE=DATE:20210102\nRRULE:FREQ=YEARLY\nEND:VEVENT\n"),
			     D(2026, 1, 1), D(2026, 12, 31), 400),
			 RC_OK);
	assert_int_equal(n, 2);
	assert_day(0, 2026, 1, 1, "Silvester");
	assert_day(1, 2026, 12, 31, "Silvester");
	/* COUNT and UNTIL end the series. */
	assert_int_equal(run(CAL("BEGIN:VEVENT\nUID:c\nDTSTART;VALUE=DATE:20250101\n"
				 "RRULE:FREQ=YEARLY;COUNT=2\nEND:VEVENT\n"
				 "BEGIN:VEVENT\nUID:u\nDTSTART;VALUE=DATE:20250501\n"
				 "RRULE:FREQ=YEARLY;UNTIL=20270501\nEND:VEVENT\n"),
			     D(2020, 1, 1), D(2030, 12, 31), 400),
			 RC_OK);
	assert_int_equal(n, 5);
	assert_day(1, 2025, 5, 1, NULL);
	assert_day(2, 2026, 1, 1, NULL);
	assert_day(4, 2027, 5, 1, NULL);
	/* Buss- und Bettag: the Wednesday between 16 and 22 November. */
	assert_int_equal(run(CAL("BEGIN:VEVENT\nUID:bb\nDTSTART;VALUE=DATE:19951122\n"
				 "RRULE:FREQ=YEARLY;BYMONTH=11;BYMONTHDAY=16,17,18,19,20,21,22;BYDAY=WE\n"
				 "END:VEVENT\n"),
			     D(2026, 1, 1), D(2028, 12, 31), 400),
			 RC_OK);
	assert_int_equal(n, 3);
	assert_day(0, 2026, 11, 18, NULL);
	assert_day(1, 2027, 11, 17, NULL);
	assert_day(2, 2028, 11, 22, NULL);
	/* An impossible rule (30 February) leaves only DTSTART. */
	assert_int_equal(run2026(CAL("BEGIN:VEVENT\nUID:x\nDTSTART;VALUE=DATE:20260101\n"
				     "RRULE:FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30\nEND:VEVENT\n")),
			 RC_OK);
	assert_int_equal(n, 1);
	/* A window that ends before it starts holds nothing. */
	assert_int_equal(run(feed, D(2027, 1, 1), D(2026, 1, 1), 400), RC_OK);
	assert_int_equal(n, 0);
}

static void test_exdate_rdate(void **state)
{
	UNUSED(state);
	/* 1 May 2025..2029 less 2027 and 2028 (one comma list), less 2025 (own line). */
	assert_int_equal(run(CAL("BEGIN:VEVENT\nUID:may\nSUMMARY:Tag der Arbeit\n"
				 "DTSTART;VALUE=DATE:20250501\nRRULE:FREQ=YEARLY;COUNT=5\n"
				 "EXDATE;VALUE=DATE:20270501,20280501\nEXDATE;VALUE=DATE:20250501\n"
				 "END:VEVENT\n"),
			     D(2020, 1, 1), D(2035, 12, 31), 400),
			 RC_OK);
	assert_int_equal(n, 2);
	assert_day(0, 2026, 5, 1, "Tag der Arbeit");
	assert_day(1, 2029, 5, 1, "Tag der Arbeit");
	/* Easter Monday by RDATE, one of them excluded again. */
	assert_int_equal(run(CAL("BEGIN:VEVENT\nUID:easter\nSUMMARY:Ostermontag\n"
				 "DTSTART;VALUE=DATE:20260406\nRDATE;VALUE=DATE:20270329,20280417\n"
				 "RDATE;VALUE=DATE:20290402\nEXDATE;VALUE=DATE:20280417\nEND:VEVENT\n"),
			     D(2026, 1, 1), D(2029, 12, 31), 400),
			 RC_OK);
	assert_int_equal(n, 3);
	assert_day(0, 2026, 4, 6, "Ostermontag");
	assert_day(1, 2027, 3, 29, "Ostermontag");
	assert_day(2, 2029, 4, 2, "Ostermontag");
	/* An RDATE instance lasts as long as the event. */
	assert_int_equal(run2026(CAL("BEGIN:VEVENT\nUID:r\nDTSTART;VALUE=DATE:20260601\n"
				     "DTEND;VALUE=DATE:20260603\nRDATE;VALUE=DATE:20260701\nEND:VEVENT\n")),
			 RC_OK);
	assert_int_equal(n, 4);
	assert_day(2, 2026, 7, 1, "");
	assert_day(3, 2026, 7, 2, "");
}

static void test_override(void **state)
{
	UNUSED(state);
	/* A yearly event whose 2027 instance moves to 8 March and whose 2028
	 * instance is cancelled (overrides share the UID). */
	assert_int_equal(run(CAL("BEGIN:VEVENT\nUID:wd\nSUMMARY:Frauentag\nDTSTART;VALUE=DATE:20260307\n"
				 "RRULE:FREQ=YEARLY\nEND:VEVENT\n"
				 "BEGIN:VEVENT\nUID:wd\nRECURRENCE-ID;VALUE=DATE:20270307\n"
				 "SUMMARY:Frauentag (verlegt)\nDTSTART;VALUE=DATE:20270308\nEND:VEVENT\n"
				 "BEGIN:VEVENT\nUID:wd\nRECURRENCE-ID;VALUE=DATE:20280307\n"
				 "STATUS:CANCELLED\nDTSTART;VALUE=DATE:20280307\nEND:VEVENT\n"),
			     D(2026, 1, 1), D(2028, 12, 31), 400),
			 RC_OK);
	assert_int_equal(n, 2);
	assert_int_equal(skipped, 1);
	assert_day(0, 2026, 3, 7, "Frauentag");
	assert_day(1, 2027, 3, 8, "Frauentag (verlegt)");
}

static void test_skipped(void **state)
{
	UNUSED(state);
	assert_int_equal(run2026(CAL(
		ALLDAY("a", "20260406", "Ostermontag")
		"BEGIN:VEVENT\nUID:b\nSUMMARY:Weihnachtsfeier\nDTSTART:20261218T180000Z\n"
		"DTEND:20261218T230000Z\nEND:VEVENT\n"
		"BEGIN:VEVENT\nUID:c\nSUMMARY:Team\nDTSTART;TZID=Europe/Berlin:20260105T090000\n"
		"RRULE:FREQ=WEEKLY\nEND:VEVENT\n"
		"BEGIN:VEVENT\nUID:d\nSUMMARY:Abgesagt\nDTSTART;VALUE=DATE:20260815\n"
		"STATUS:CANCELLED\nEND:VEVENT\n"
		/* A timed event's unreadable RRULE does not matter. */
		"BEGIN:VEVENT\nUID:e\nDTSTART:20260105T090000\nRRULE:FREQ=SOMETIMES\nEND:VEVENT\n"
		"BEGIN:VEVENT\nUID:f\nDTSTART;VALUE=DATE:20260816\nSTATUS:CONFIRMED\nEND:VEVENT\n")),
			 RC_OK);
	assert_int_equal(n, 2);
	assert_int_equal(skipped, 4);
	assert_day(0, 2026, 4, 6, "Ostermontag");
	assert_day(1, 2026, 8, 16, "");
}

static void test_dedup_and_sort(void **state)
{
	UNUSED(state);
	assert_int_equal(run2026(CAL(
		ALLDAY("1", "20261226", "2. Weihnachtstag")
		ALLDAY("2", "20260101", "Neujahr")
		ALLDAY("3", "20261225", "1. Weihnachtstag")
		ALLDAY("4", "20261225", "Christmas Day")
		"BEGIN:VEVENT\nUID:5\nSUMMARY:Zwischen den Jahren\nDTSTART;VALUE=DATE:20261224\n"
		"DTEND;VALUE=DATE:20261228\nEND:VEVENT\n"
		ALLDAY("6", "20260106", "Heilige Drei Koenige")
		ALLDAY("7", "20260101", "New Year"))),
			 RC_OK);
	assert_int_equal(n, 6);
	assert_day(0, 2026, 1, 1, "Neujahr");
	assert_day(1, 2026, 1, 6, "Heilige Drei Koenige");
	assert_day(2, 2026, 12, 24, "Zwischen den Jahren");
	assert_day(3, 2026, 12, 25, "1. Weihnachtstag");
	assert_day(4, 2026, 12, 26, "2. Weihnachtstag");
	assert_day(5, 2026, 12, 27, "Zwischen den Jahren");
	for (size_t i = 1; i < n; i++)
		assert_true(out[i - 1].day < out[i].day);
}

static void test_names(void **state)
{
	char feed[4096], want[128];
	size_t len;

	UNUSED(state);
	/* 50 x "ü" (100 bytes): 47 fit in 95 bytes; the 48th is not split. */
	len = (size_t)snprintf(feed, sizeof(feed), "BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART;VALUE=DATE:20260101\nSUMMARY:");
	for (int i = 0; i < 50; i++)
		len += (size_t)snprintf(feed + len, sizeof(feed) - len, "\xc3\xbc");
	snprintf(feed + len, sizeof(feed) - len, "\nEND:VEVENT\nEND:VCALENDAR\n");
	assert_int_equal(run2026(feed), RC_OK);
	assert_int_equal(n, 1);
	assert_int_equal(strlen(out[0].name), 94);
	assert_true(text_valid(out[0].name, false));
	for (int i = 0; i < 47; i++)
		assert_memory_equal(out[0].name + 2 * i, "\xc3\xbc", 2);
	/* "a" + 40 x "€" (121 bytes): 1 + 31 x 3 = 94 bytes. */
	len = (size_t)snprintf(feed, sizeof(feed), "BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART;VALUE=DATE:20260101\nSUMMARY:a");
	for (int i = 0; i < 40; i++)
		len += (size_t)snprintf(feed + len, sizeof(feed) - len, "\xe2\x82\xac");
	snprintf(feed + len, sizeof(feed) - len, "\nEND:VEVENT\nEND:VCALENDAR\n");
	assert_int_equal(run2026(feed), RC_OK);
	assert_int_equal(strlen(out[0].name), 94);
	assert_true(text_valid(out[0].name, false));
	/* Exactly 95 bytes fit whole. */
	memset(want, 'x', 95);
	want[95] = '\0';
	snprintf(feed, sizeof(feed), CAL("BEGIN:VEVENT\nDTSTART;VALUE=DATE:20260101\nSUMMARY:%s\nEND:VEVENT\n"), want);
	assert_int_equal(run2026(feed), RC_OK);
	assert_string_equal(out[0].name, want);
	/* Escapes are undone; a newline becomes a space; a Latin-1 byte U+FFFD. */
	assert_int_equal(run2026(CAL("BEGIN:VEVENT\nDTSTART;VALUE=DATE:20260101\n"
				     "SUMMARY:Neujahr\\, Jahresanfang\\nfrei \xe4\nEND:VEVENT\n")),
			 RC_OK);
	assert_string_equal(out[0].name, "Neujahr, Jahresanfang frei \xef\xbf\xbd");
	assert_true(text_valid(out[0].name, false));
}

static void test_crlf_folding(void **state)
{
	UNUSED(state);
	/* CRLF everywhere; SUMMARY and RRULE folded (space and tab), one fold
	 * inside the two bytes of "ü". */
	assert_int_equal(run(
		"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//x//y//EN\r\n"
		"BEGIN:VEVENT\r\nUID:1\r\nDTSTART;VALUE=DATE:20261003\r\n"
		"SUMMARY:Tag der Deutschen \r\n Einheit (bundesweit, gesetzlicher Feiertag seit 1990\r\n\t)\r\n"
		"END:VEVENT\r\n"
		"BEGIN:VEVENT\r\nUID:2\r\nDTSTART;VALUE=DATE:20261101\r\nSUMMARY:Allerheiligen (S\xc3\r\n"
		" \xbc" "dwest)\r\nRRULE:FREQ=YEA\r\n RLY;CO\r\n\tUNT=2\r\nEND:VEVENT\r\n"
		"END:VCALENDAR\r\n",
		D(2026, 1, 1), D(2030, 12, 31), 400),
			 RC_OK);
	assert_int_equal(n, 3);
	assert_day(0, 2026, 10, 3,
		   "Tag der Deutschen Einheit (bundesweit, gesetzlicher Feiertag seit 1990)");
	assert_day(1, 2026, 11, 1, "Allerheiligen (S\xc3\xbc" "dwest)");
	assert_day(2, 2027, 11, 1, "Allerheiligen (S\xc3\xbc" "dwest)");
}

static void test_empty_calendars(void **state)
{
	UNUSED(state);
	assert_int_equal(run2026("BEGIN:VCALENDAR\nEND:VCALENDAR\n"), RC_OK);
	assert_int_equal(n, 0);
	assert_int_equal(skipped, 0);
	/* No VEVENT: a time zone and a to-do only. */
	assert_int_equal(run2026(CAL("BEGIN:VTIMEZONE\nTZID:UTC\nEND:VTIMEZONE\n"
				     "BEGIN:VTODO\nDTSTART;VALUE=DATE:20260101\nEND:VTODO\n")),
			 RC_OK);
	assert_int_equal(n, 0);
	/* Two calendars in one file: both read, events numbered across them. */
	assert_int_equal(run2026(CAL(ALLDAY("a", "20260101", "A")) CAL(ALLDAY("b", "20260102", "B"))),
			 RC_OK);
	assert_int_equal(n, 2);
	assert_day(1, 2026, 1, 2, "B");
	/* max 0 and out NULL are fine while nothing is found. */
	assert_int_equal(ics_holidays("BEGIN:VCALENDAR\nEND:VCALENDAR\n", 30, 0, 100000, NULL, 0,
				      &n, &skipped, &e), RC_OK);
	assert_int_equal(n, 0);
}

static void test_garbage(void **state)
{
	static char big[(1 << 20) + 64];
	const char *nul = "BEGIN:VCALENDAR\nEND:VCALENDAR\n";

	UNUSED(state);
	assert_invalid(run2026("hello world, this is not a calendar\n"), "BEGIN:VCALENDAR expected");
	assert_invalid(run2026("\x01\x02\xff\xfe:::;;;\n\n"), "BEGIN:VCALENDAR expected");
	assert_invalid(run2026(""), "empty");
	assert_invalid(run2026(NULL), "empty");
	assert_invalid(run2026("{\"holidays\": []}"), "BEGIN:VCALENDAR expected");
	/* A bare VEVENT, and a VEVENT next to the calendar. */
	assert_invalid(run2026(ALLDAY("a", "20260101", "x")), "not BEGIN:VEVENT");
	assert_invalid(run2026(CAL("") ALLDAY("a", "20260101", "x")), "not BEGIN:VEVENT");
	assert_invalid(run2026("BEGIN:\nEND:\n"), "not BEGIN:)");
	/* Cut off before END:VCALENDAR. */
	assert_invalid(run2026("BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART;VALUE=DATE:20260101\n"),
		       "not a complete");
	assert_invalid(run2026("BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART;VALUE=DATE:20260101\nEND:VCALENDAR\n"),
		       "not a complete");
	/* A NUL byte inside: the length counts, not the NUL. */
	memset(&e, 0, sizeof(e));
	assert_int_equal(ics_holidays(nul, strlen(nul) + 1, 0, 100000, out, 10, &n, &skipped, &e),
			 RC_INVALID);
	assert_string_equal(e.field, "ics");
	/* Not NUL-terminated: only len bytes are read. */
	{
		char buf[64];
		memcpy(buf, nul, strlen(nul));
		memset(buf + strlen(nul), 'Z', sizeof(buf) - strlen(nul));
		assert_int_equal(ics_holidays(buf, strlen(nul), 0, 100000, out, 10, &n, &skipped, &e),
				 RC_OK);
	}
	/* Larger than 1 MiB, although valid. */
	memset(big, ' ', sizeof(big));
	memcpy(big, "BEGIN:VCALENDAR\nX-PAD:", 22);
	memcpy(big + sizeof(big) - 15, "\nEND:VCALENDAR\n", 15);
	memset(&e, 0, sizeof(e));
	assert_int_equal(ics_holidays(big, sizeof(big), 0, 100000, out, 10, &n, &skipped, &e),
			 RC_INVALID);
	assert_string_equal(e.field, "ics");
	assert_non_null(strstr(e.msg, "1 MiB"));
	/* Exactly 1 MiB is read. */
	memcpy(big + (1 << 20) - 15, "\nEND:VCALENDAR\n", 15);
	assert_int_equal(ics_holidays(big, 1 << 20, 0, 100000, out, 10, &n, &skipped, &e), RC_OK);
	assert_int_equal(n, 0);
	/* Properties libical cannot read are named, not dropped. */
	assert_invalid(run2026(CAL("BEGIN:VEVENT\nSUMMARY:Neujahr\nDTSTART;VALUE=DATE:2026O101\nEND:VEVENT\n")),
		       "event 1 (\"Neujahr\") has an unreadable DTSTART \"2026O101\"");
	assert_invalid(run2026(CAL(ALLDAY("a", "20260101", "A")
				   "BEGIN:VEVENT\nDTSTART;VALUE=DATE:20260501\nRRULE:FREQ=SOMETIMES\nEND:VEVENT\n")),
		       "event 2 has an unreadable RRULE \"FREQ=SOMETIMES\"");
	assert_invalid(run2026(CAL("BEGIN:VEVENT\nDTSTART;VALUE=DATE:20260501\nRRULE:FREQ=YEARLY\n"
				   "EXDATE;VALUE=DATE:soon\nEND:VEVENT\n")),
		       "unreadable EXDATE \"soon\"");
	/* Values libical takes but that are no dates. */
	assert_invalid(run2026(CAL("BEGIN:VEVENT\nDTSTART;VALUE=DATE:20261340\nEND:VEVENT\n")),
		       "event 1 has an unreadable DTSTART \"20261340\"");
	assert_invalid(run2026(CAL("BEGIN:VEVENT\nDTSTART;VALUE=DATE:20260201\nDTEND;VALUE=DATE:20260230\nEND:VEVENT\n")),
		       "unreadable DTEND \"20260230\"");
	assert_invalid(run2026(CAL("BEGIN:VEVENT\nDTSTART;VALUE=DATE:20260201\nRDATE;VALUE=DATE:00000101\nEND:VEVENT\n")),
		       "unreadable RDATE \"00000101\"");
	assert_invalid(run2026(CAL("BEGIN:VEVENT\nSUMMARY:x\nEND:VEVENT\n")), "event 1 (\"x\") has no DTSTART");
}

static void test_too_many(void **state)
{
	const char *daily = CAL("BEGIN:VEVENT\nUID:d\nDTSTART;VALUE=DATE:20260101\nRRULE:FREQ=DAILY\nEND:VEVENT\n");

	UNUSED(state);
	assert_invalid(run(daily, D(2026, 1, 1), D(2030, 12, 31), 400), "more than 400 holidays");
	assert_non_null(strstr(e.msg, "narrow it"));
	/* Exactly max is fine. */
	assert_int_equal(run(daily, D(2026, 1, 1), D(2026, 1, 1) + 399, 400), RC_OK);
	assert_int_equal(n, 400);
	assert_day(399, 2027, 2, 4, "");
	assert_invalid(run(daily, D(2026, 1, 1), D(2026, 1, 1) + 400, 400), "more than 400 holidays");
	/* One long event counts its days too. */
	assert_invalid(run(CAL("BEGIN:VEVENT\nDTSTART;VALUE=DATE:20000101\nDTEND;VALUE=DATE:99991231\nEND:VEVENT\n"),
			   D(2026, 1, 1), D(2036, 1, 1), 100),
		       "more than 100 holidays");
}

static void test_absurd_rules(void **state)
{
	static char feed[64 * 1024];
	size_t len;

	UNUSED(state);
	/* Daily since 1700: more than 100,000 instances before 2026. */
	assert_invalid(run(CAL("BEGIN:VEVENT\nSUMMARY:Immer\nDTSTART;VALUE=DATE:17000101\n"
			       "RRULE:FREQ=DAILY\nEND:VEVENT\n"),
			   D(2026, 1, 1), D(2026, 1, 31), 400),
		       "event 1 (\"Immer\") repeats more than 100000 times");
	/* Every second of an all-day event: one day, 86,400 times a day. */
	assert_invalid(run(CAL("BEGIN:VEVENT\nDTSTART;VALUE=DATE:20260101\nRRULE:FREQ=SECONDLY\nEND:VEVENT\n"),
			   D(2026, 1, 1), D(2026, 12, 31), 400),
		       "repeats more than");
	/* An endless daily rule ends at the window. */
	assert_int_equal(run(CAL("BEGIN:VEVENT\nDTSTART;VALUE=DATE:20260101\nRRULE:FREQ=DAILY\nEND:VEVENT\n"),
			     D(2026, 1, 1), D(2026, 1, 10), 400),
			 RC_OK);
	assert_int_equal(n, 10);
	/* UNTIL is clamped to the window's end, so libical does not search to
	 * the year 2582 (~0.5 s each) for these daily rules that never match;
	 * without that, they would run out of the 2 s budget. */
	len = (size_t)snprintf(feed, sizeof(feed), "BEGIN:VCALENDAR\n");
	for (int i = 0; i < 20; i++)
		len += (size_t)snprintf(feed + len, sizeof(feed) - len,
					"BEGIN:VEVENT\nDTSTART;VALUE=DATE:20260101\n"
					"RRULE:FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30\nEND:VEVENT\n");
	snprintf(feed + len, sizeof(feed) - len, "END:VCALENDAR\n");
	assert_int_equal(run2026(feed), RC_OK);
	assert_int_equal(n, 1);
	/* Rules that never match make libical search to the year 2582 (about
	 * 0.3 s each); 60 of them stop at the 2 s budget. */
	len = (size_t)snprintf(feed, sizeof(feed), "BEGIN:VCALENDAR\n");
	for (int i = 0; i < 60; i++)
		len += (size_t)snprintf(feed + len, sizeof(feed) - len,
					"BEGIN:VEVENT\nDTSTART;VALUE=DATE:20260101\n"
					"RRULE:FREQ=MONTHLY;BYMONTH=2;BYMONTHDAY=30\nEND:VEVENT\n");
	snprintf(feed + len, sizeof(feed) - len, "END:VCALENDAR\n");
	/* That it stops is the budget's test; how soon is not asserted (tests
	 * never assert timings: a loaded 2-core CI machine under ASan is slow). */
	assert_invalid(run2026(feed), "takes too long");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_german_feed),
		cmocka_unit_test(test_spans),
		cmocka_unit_test(test_yearly_rrule),
		cmocka_unit_test(test_exdate_rdate),
		cmocka_unit_test(test_override),
		cmocka_unit_test(test_skipped),
		cmocka_unit_test(test_dedup_and_sort),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_crlf_folding),
		cmocka_unit_test(test_empty_calendars),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_too_many),
		cmocka_unit_test(test_absurd_rules),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
