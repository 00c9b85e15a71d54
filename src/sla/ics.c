/*
 * ics.c: holidays from an iCalendar feed (contract in ics.h). libical does
 * the reading (icalparser) and the recurrence arithmetic (icalrecur).
 *
 * Design
 *  - The text is copied (NUL-terminated, a UTF-8 BOM dropped) and parsed
 *    once; every top-level component must be a VCALENDAR. libical is
 *    lenient: a line it cannot read becomes an X-LIC-ERROR property. Such an
 *    error on a property used here (DTSTART, DTEND, DURATION, RRULE, RDATE,
 *    EXDATE, RECURRENCE-ID) makes the file invalid, since dropping an RRULE
 *    or an EXDATE silently would give wrong holidays; other errors are left.
 *  - Timed and cancelled VEVENTs count in skipped, once each. An all-day
 *    VEVENT gives instances: DTSTART, its RRULEs (UNTIL clamped to to_day)
 *    and its RDATEs, minus its EXDATEs and the RECURRENCE-IDs of
 *    the VEVENTs that override one of its instances (same UID; those stand
 *    on their own). Every instance lasts the event's length in days.
 *  - Days go straight into out, kept sorted and unique, so the first event
 *    in file order names a day; a day beyond max is an error.
 *  - Bounds: 1 MiB of text, 100,000 instances per event, and 2 s of work
 *    in all: libical can search up to the year 2582 for a rule that never
 *    matches (FREQ=MONTHLY;BYMONTH=2;BYMONTHDAY=30 costs ~0.3 s each), time
 *    that no count seen from here can bound.
 */
#include "base/common.h"

#include <libical/ical.h>

#include "base/clock.h"
#include "base/util.h"
#include "sla/ics.h"

#define ICS_MAX_BYTES (1024 * 1024)
#define ICS_MAX_INSTANCES 100000
#define ICS_BUDGET_NS INT64_C(2000000000)

struct override {
	const char *uid;        /* owned by the parsed tree */
	int64_t day;            /* RECURRENCE-ID */
};

struct ctx {
	int64_t from, to;
	struct ics_day *out;
	size_t max, n, skipped, events;
	struct override *ovr;   /* of the calendar being read */
	size_t novr, ovr_cap;
	int64_t deadline;
	unsigned work;
};

struct event {
	icalcomponent *c;
	char name[sizeof(((struct ics_day *)0)->name)];
	char label[96];         /* event 3 ("Neujahr"), for messages */
	int64_t len;            /* days each instance covers, >= 1 */
	int64_t *excl;          /* EXDATEs and overridden instances, sorted */
	size_t nexcl, excl_cap;
	size_t instances;
};

/* ---- text -------------------------------------------------------------------------------- */

/* Length of the well-formed UTF-8 sequence at p (NUL-terminated), 0 if none. */
static size_t utf8_len(const unsigned char *p)
{
	size_t n;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		n = 3;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		n = 4;
	else
		return 0;
	for (size_t i = 1; i < n; i++)
		if ((p[i] & 0xc0) != 0x80)
			return 0;
	if ((p[0] == 0xe0 && p[1] < 0xa0) || (p[0] == 0xed && p[1] > 0x9f) ||
	    (p[0] == 0xf0 && p[1] < 0x90) || (p[0] == 0xf4 && p[1] > 0x8f))
		return 0;
	return n;
}

/* s into out (cap bytes with the NUL), cut between characters; control
 * characters become spaces and bytes that are not UTF-8 become U+FFFD. */
static void text_copy(char *out, size_t cap, const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	size_t o = 0;

	while (*p) {
		size_t n = utf8_len(p);
		const char *put = (const char *)p, *fffd = "\xef\xbf\xbd";
		size_t k = n;
		if (n == 0) {
			put = fffd;
			k = 3;
			n = 1;
		} else if (*p < 0x20 || *p == 0x7f) {
			put = " ";
		}
		if (o + k >= cap)
			break;
		memcpy(out + o, put, k);
		o += k;
		p += n;
	}
	out[o] = '\0';
}

/* ---- dates ------------------------------------------------------------------------------- */

/* The date part of t as days since 1970-01-01; false when it is no date. */
static bool date_day(struct icaltimetype t, int64_t *day)
{
	if (t.year < 1 || t.year > 9999 || t.month < 1 || t.month > 12 || t.day < 1 ||
	    t.day > icaltime_days_in_month(t.month, t.year))
		return false;
	*day = days_from_civil(t.year, (unsigned)t.month, (unsigned)t.day);
	return true;
}

/* ---- output and budget ------------------------------------------------------------------- */

static enum result over_budget(struct err *e)
{
	return err_set(e, RC_INVALID, "ics",
		       "takes too long to expand (over 2 s); simplify its recurrence rules");
}

/* One unit of work; looks at the clock every 1024. */
static enum result tick(struct ctx *c, struct err *e)
{
	if ((++c->work & 1023) == 0 && clock_mono_ns() > c->deadline)
		return over_budget(e);
	return RC_OK;
}

/* day into out (sorted, unique); a day already there keeps its name. */
static enum result add_day(struct ctx *c, int64_t day, const char *name, struct err *e)
{
	size_t lo = 0, hi = c->n;

	if (c->n && c->out[c->n - 1].day < day)
		lo = c->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (c->out[mid].day < day)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < c->n && c->out[lo].day == day)
		return RC_OK;
	if (c->n >= c->max)
		return err_set(e, RC_INVALID, "ics",
			       "gives more than %zu holidays in the window; narrow it", c->max);
	memmove(&c->out[lo + 1], &c->out[lo], (c->n - lo) * sizeof(*c->out));
	c->out[lo].day = day;
	memcpy(c->out[lo].name, name, sizeof(c->out[lo].name));
	c->n++;
	return RC_OK;
}

/* The error for a property whose value libical read but is no date here
 * (20261340, year 0). */
static enum result unreadable(const struct event *ev, icalproperty *p, const char *name,
			      struct err *e)
{
	char *v = icalproperty_get_value_as_string_r(p), shown[48];

	text_copy(shown, sizeof(shown), v);
	icalmemory_free_buffer(v);
	return err_set(e, RC_INVALID, "ics", "%s has an unreadable %s \"%s\"", ev->label, name, shown);
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

/* The instance starting on start, unless excluded, clipped to the window. */
static enum result add_instance(struct ctx *c, const struct event *ev, int64_t start,
				struct err *e)
{
	int64_t lo = start > c->from ? start : c->from;
	int64_t last = start + ev->len - 1, hi = last < c->to ? last : c->to;
	enum result rc = RC_OK;

	if (ev->nexcl && bsearch(&start, ev->excl, ev->nexcl, sizeof(*ev->excl), cmp_i64))
		return RC_OK;
	for (int64_t d = lo; d <= hi && rc == RC_OK; d++) {
		rc = tick(c, e);
		if (rc == RC_OK)
			rc = add_day(c, d, ev->name, e);
	}
	return rc;
}

/* ---- one event --------------------------------------------------------------------------- */

/* Days an instance covers: DTSTART up to DTEND (exclusive; a DTEND with a
 * time of day closes that day too), else DURATION rounded up to days,
 * else (or when empty or negative) one. */
static enum result event_len(struct event *ev, int64_t start, struct err *e)
{
	icalproperty *p = icalcomponent_get_first_property(ev->c, ICAL_DTEND_PROPERTY);
	int64_t end;

	ev->len = 1;
	if (p) {
		struct icaltimetype t = icalproperty_get_dtend(p);
		if (!date_day(t, &end))
			return unreadable(ev, p, "DTEND", e);
		ev->len = end - start + (!t.is_date && (t.hour || t.minute || t.second));
	} else if ((p = icalcomponent_get_first_property(ev->c, ICAL_DURATION_PROPERTY))) {
		struct icaldurationtype d = icalproperty_get_duration(p);
		int64_t secs = (int64_t)d.hours * 3600 + (int64_t)d.minutes * 60 + (int64_t)d.seconds;
		ev->len = d.is_neg ? 0 : (int64_t)d.weeks * 7 + (int64_t)d.days + (secs + 86399) / 86400;
	}
	if (ev->len < 1)
		ev->len = 1;
	return RC_OK;
}

static enum result excl_add(struct event *ev, int64_t day, struct err *e)
{
	if (ev->nexcl == ev->excl_cap) {
		size_t cap = ev->excl_cap ? ev->excl_cap * 2 : 16;
		int64_t *v = realloc(ev->excl, cap * sizeof(*v));
		if (!v)
			return err_set(e, RC_NOMEM, NULL, "out of memory reading the iCalendar file");
		ev->excl = v;
		ev->excl_cap = cap;
	}
	ev->excl[ev->nexcl++] = day;
	return RC_OK;
}

/* EXDATEs, and for an event that is no override itself, the instances
 * that other VEVENTs of its UID override. */
static enum result collect_excluded(struct ctx *c, struct event *ev, struct err *e)
{
	const char *uid = icalcomponent_get_uid(ev->c);
	enum result rc = RC_OK;
	icalproperty *p;
	int64_t day;

	for (p = icalcomponent_get_first_property(ev->c, ICAL_EXDATE_PROPERTY); p && rc == RC_OK;
	     p = icalcomponent_get_next_property(ev->c, ICAL_EXDATE_PROPERTY))
		rc = date_day(icalproperty_get_exdate(p), &day) ? excl_add(ev, day, e)
							       : unreadable(ev, p, "EXDATE", e);
	if (uid && !icalcomponent_get_first_property(ev->c, ICAL_RECURRENCEID_PROPERTY))
		for (size_t i = 0; i < c->novr && rc == RC_OK; i++)
			if (!strcmp(c->ovr[i].uid, uid))
				rc = excl_add(ev, c->ovr[i].day, e);
	if (rc == RC_OK && ev->nexcl)
		qsort(ev->excl, ev->nexcl, sizeof(*ev->excl), cmp_i64);
	return rc;
}

/* The properties read here: none replaced by an X-LIC-ERROR (libical's
 * mark of a value it could not parse), and a RECURRENCE-ID that is a date. */
static enum result check_props(const struct event *ev, struct err *e)
{
	static const char *const names[] = { "DTSTART", "DTEND", "DURATION", "RRULE",
					     "RDATE", "EXDATE", "RECURRENCE-ID" };
	icalproperty *p;
	int64_t day;

	for (p = icalcomponent_get_first_property(ev->c, ICAL_XLICERROR_PROPERTY); p;
	     p = icalcomponent_get_next_property(ev->c, ICAL_XLICERROR_PROPERTY)) {
		const char *msg = icalproperty_get_xlicerror(p), *val;
		char needle[32], shown[48];
		if (!msg)
			continue;
		for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
			snprintf(needle, sizeof(needle), " %s property", names[i]);
			if (!strstr(msg, needle))
				continue;
			val = strstr(msg, "property: ");
			text_copy(shown, sizeof(shown), val ? val + 10 : "");
			return err_set(e, RC_INVALID, "ics", "%s has an unreadable %s \"%s\"",
				       ev->label, names[i], shown);
		}
	}
	p = icalcomponent_get_first_property(ev->c, ICAL_RECURRENCEID_PROPERTY);
	if (p && !date_day(icalproperty_get_recurrenceid(p), &day))
		return unreadable(ev, p, "RECURRENCE-ID", e);
	return RC_OK;
}

/* One RRULE: instances from DTSTART on, stopping past to_day. */
static enum result expand_rule(struct ctx *c, struct event *ev, icalproperty *p,
			       struct icaltimetype dtstart, struct err *e)
{
	struct icalrecurrencetype rule = icalproperty_get_rrule(p);
	icalrecur_iterator *it;
	struct icaltimetype t;
	enum result rc = RC_OK;
	int64_t day, y;
	unsigned m, d;

	/* UNTIL at most to_day: libical then stops by itself (for most rules). */
	if (c->to >= days_from_civil(1, 1, 1) && c->to <= days_from_civil(9999, 12, 31) &&
	    (!date_day(rule.until, &day) || day > c->to)) {
		civil_from_days(c->to, &y, &m, &d);
		rule.until = icaltime_null_date();
		rule.until.year = (int)y;
		rule.until.month = (int)m;
		rule.until.day = (int)d;
	}
	if (clock_mono_ns() > c->deadline)
		return over_budget(e);
	it = icalrecur_iterator_new(rule, dtstart);
	if (!it)
		return RC_OK; /* libical refuses rules that never match (Feb 30) */
	while (rc == RC_OK && !icaltime_is_null_time(t = icalrecur_iterator_next(it))) {
		if (++ev->instances > ICS_MAX_INSTANCES) {
			rc = err_set(e, RC_INVALID, "ics",
				     "%s repeats more than %d times before the window ends",
				     ev->label, ICS_MAX_INSTANCES);
			break;
		}
		if (!date_day(t, &day) || day > c->to)
			break;
		rc = tick(c, e);
		if (rc == RC_OK)
			rc = add_instance(c, ev, day, e);
	}
	icalrecur_iterator_free(it);
	return rc;
}

/* An all-day event's instances: DTSTART, RRULEs, RDATEs. */
static enum result expand(struct ctx *c, struct event *ev, struct icaltimetype dtstart,
			  int64_t start, struct err *e)
{
	enum result rc;
	icalproperty *p;
	int64_t day;

	rc = add_instance(c, ev, start, e);
	for (p = icalcomponent_get_first_property(ev->c, ICAL_RRULE_PROPERTY); p && rc == RC_OK;
	     p = icalcomponent_get_next_property(ev->c, ICAL_RRULE_PROPERTY))
		rc = expand_rule(c, ev, p, dtstart, e);
	for (p = icalcomponent_get_first_property(ev->c, ICAL_RDATE_PROPERTY); p && rc == RC_OK;
	     p = icalcomponent_get_next_property(ev->c, ICAL_RDATE_PROPERTY)) {
		struct icaldatetimeperiodtype r = icalproperty_get_rdate(p);
		if (!date_day(icaltime_is_null_time(r.time) ? r.period.start : r.time, &day))
			rc = unreadable(ev, p, "RDATE", e);
		else if ((rc = tick(c, e)) == RC_OK)
			rc = add_instance(c, ev, day, e);
	}
	return rc;
}

/* DTSTART as a day (and as libical has it, for the RRULE iterator). */
static enum result read_start(const struct event *ev, struct icaltimetype *dtstart,
			      int64_t *day, struct err *e)
{
	icalproperty *p = icalcomponent_get_first_property(ev->c, ICAL_DTSTART_PROPERTY);
	enum result rc;

	if (!p) {
		rc = check_props(ev, e); /* names an unreadable DTSTART, if that is why */
		return rc != RC_OK ? rc : err_set(e, RC_INVALID, "ics", "%s has no DTSTART", ev->label);
	}
	*dtstart = icalproperty_get_dtstart(p);
	return date_day(*dtstart, day) ? RC_OK : unreadable(ev, p, "DTSTART", e);
}

static void event_init(struct event *ev, icalcomponent *comp, size_t no)
{
	char shortname[48];

	ev->c = comp;
	text_copy(ev->name, sizeof(ev->name), icalcomponent_get_summary(comp));
	text_copy(shortname, sizeof(shortname), ev->name);
	if (shortname[0])
		snprintf(ev->label, sizeof(ev->label), "event %zu (\"%s\")", no, shortname);
	else
		snprintf(ev->label, sizeof(ev->label), "event %zu", no);
}

static enum result do_event(struct ctx *c, icalcomponent *comp, struct err *e)
{
	struct event ev = { 0 };
	struct icaltimetype dtstart;
	enum result rc;
	int64_t start;

	event_init(&ev, comp, ++c->events);
	if (icalcomponent_get_status(comp) == ICAL_STATUS_CANCELLED) {
		c->skipped++;
		return RC_OK;
	}
	if ((rc = read_start(&ev, &dtstart, &start, e)) != RC_OK)
		return rc;
	if (!dtstart.is_date) {
		c->skipped++;
		return RC_OK;
	}
	rc = check_props(&ev, e);
	if (rc == RC_OK)
		rc = event_len(&ev, start, e);
	if (rc == RC_OK)
		rc = collect_excluded(c, &ev, e);
	if (rc == RC_OK)
		rc = expand(c, &ev, dtstart, start, e);
	free(ev.excl);
	return rc;
}

/* ---- calendars --------------------------------------------------------------------------- */

/* The calendar's overrides (VEVENTs with a RECURRENCE-ID and a UID). */
static enum result collect_overrides(struct ctx *c, icalcomponent *cal, struct err *e)
{
	icalcompiter it = icalcomponent_begin_component(cal, ICAL_VEVENT_COMPONENT);
	icalcomponent *ev;

	c->novr = 0;
	for (ev = icalcompiter_deref(&it); ev; ev = icalcompiter_next(&it)) {
		icalproperty *p = icalcomponent_get_first_property(ev, ICAL_RECURRENCEID_PROPERTY);
		const char *uid = icalcomponent_get_uid(ev);
		int64_t day;
		if (!p || !uid || !date_day(icalproperty_get_recurrenceid(p), &day))
			continue;
		if (c->novr == c->ovr_cap) {
			size_t cap = c->ovr_cap ? c->ovr_cap * 2 : 16;
			struct override *v = realloc(c->ovr, cap * sizeof(*v));
			if (!v)
				return err_set(e, RC_NOMEM, NULL, "out of memory reading the iCalendar file");
			c->ovr = v;
			c->ovr_cap = cap;
		}
		c->ovr[c->novr].uid = uid;
		c->ovr[c->novr++].day = day;
	}
	return RC_OK;
}

static enum result do_calendar(struct ctx *c, icalcomponent *cal, struct err *e)
{
	enum result rc = collect_overrides(c, cal, e);
	icalcompiter it = icalcomponent_begin_component(cal, ICAL_VEVENT_COMPONENT);
	icalcomponent *ev;

	for (ev = icalcompiter_deref(&it); ev && rc == RC_OK; ev = icalcompiter_next(&it))
		rc = do_event(c, ev, e);
	return rc;
}

/* libical's tree of the text; every top-level component a VCALENDAR. */
static enum result parse(const char *text, size_t len, icalcomponent **root, struct err *e)
{
	icalcomponent *r, *k;
	icalcompiter it;
	const char *kind;
	char *buf;

	*root = NULL;
	if (!text || len == 0)
		return err_set(e, RC_INVALID, "ics", "is empty");
	if (len > ICS_MAX_BYTES)
		return err_set(e, RC_INVALID, "ics", "is larger than 1 MiB");
	if (len >= 3 && !memcmp(text, "\xef\xbb\xbf", 3)) {
		text += 3;
		len -= 3;
	}
	if (memchr(text, '\0', len))
		return err_set(e, RC_INVALID, "ics", "contains a NUL byte; it is not an iCalendar file");
	buf = malloc(len + 1);
	if (!buf)
		return err_set(e, RC_NOMEM, NULL, "out of memory reading the iCalendar file");
	memcpy(buf, text, len);
	buf[len] = '\0';
	r = icalparser_parse_string(buf);
	if (!r) {
		bool begun = strcasestr(buf, "BEGIN:VCALENDAR") != NULL;
		free(buf);
		if (begun)
			return err_set(e, RC_INVALID, "ics",
				       "is not a complete iCalendar file (a BEGIN has no matching END)");
		return err_set(e, RC_INVALID, "ics",
			       "is not an iCalendar file (BEGIN:VCALENDAR expected)");
	}
	free(buf);
	*root = r;
	if (icalcomponent_isa(r) == ICAL_VCALENDAR_COMPONENT)
		return RC_OK;
	if (icalcomponent_isa(r) == ICAL_XROOT_COMPONENT) {
		it = icalcomponent_begin_component(r, ICAL_ANY_COMPONENT);
		for (k = icalcompiter_deref(&it); k; k = icalcompiter_next(&it))
			if (icalcomponent_isa(k) != ICAL_VCALENDAR_COMPONENT)
				break;
		if (!k)
			return RC_OK;
		r = k;
	}
	kind = icalcomponent_kind_to_string(icalcomponent_isa(r)); /* NULL for "BEGIN:" */
	return err_set(e, RC_INVALID, "ics",
		       "is not an iCalendar file (BEGIN:VCALENDAR expected, not BEGIN:%s)",
		       kind ? kind : "");
}

enum result ics_holidays(const char *text, size_t len, int64_t from_day, int64_t to_day,
			 struct ics_day *out, size_t max, size_t *n, size_t *skipped,
			 struct err *e)
{
	struct ctx c = { .from = from_day, .to = to_day, .out = out, .max = out ? max : 0 };
	icalcomponent *root, *cal;
	icalcompiter it;
	enum result rc;

	c.deadline = clock_mono_ns() + ICS_BUDGET_NS;
	rc = parse(text, len, &root, e);
	if (rc == RC_OK && icalcomponent_isa(root) == ICAL_VCALENDAR_COMPONENT) {
		rc = do_calendar(&c, root, e);
	} else if (rc == RC_OK) {
		it = icalcomponent_begin_component(root, ICAL_VCALENDAR_COMPONENT);
		for (cal = icalcompiter_deref(&it); cal && rc == RC_OK; cal = icalcompiter_next(&it))
			rc = do_calendar(&c, cal, e);
	}
	if (root)
		icalcomponent_free(root);
	free(c.ovr);
	if (n)
		*n = rc == RC_OK ? c.n : 0;
	if (skipped)
		*skipped = rc == RC_OK ? c.skipped : 0;
	return rc;
}
