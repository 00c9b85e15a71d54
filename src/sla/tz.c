/*
 * tz.c: TZif (RFC 8536) versions 1-4 and the POSIX TZ rule of the footer
 * (the "M" forms used by tzdata: Mm.w.d[/time]).
 */
#include "base/common.h"

#include <ctype.h>
#include <sys/stat.h>

#include "base/util.h"
#include "sla/tz.h"

struct rule_date {
	int month, week, wday;  /* Mm.w.d */
	int32_t secs;           /* local time of the change (may be < 0 or > 24 h) */
};

struct tz {
	size_t n;
	int64_t *at;            /* transition instants, ascending */
	int32_t *off;           /* offset from at[i] on */
	int32_t off0;           /* before the first transition */
	bool has_rule, rule_dst;
	int32_t std_off, dst_off;
	struct rule_date start, end;
};

void tz_free(struct tz *z)
{
	if (!z)
		return;
	free(z->at);
	free(z->off);
	free(z);
}

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t be64(const unsigned char *p)
{
	return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

/* ---- POSIX TZ strings ----------------------------------------------------------------- */

static const char *skip_name(const char *p)
{
	if (*p == '<') {
		while (*p && *p != '>')
			p++;
		return *p ? p + 1 : NULL;
	}
	if (!isalpha((unsigned char)*p))
		return NULL;
	while (isalpha((unsigned char)*p))
		p++;
	return p;
}

/* [+-]hh[:mm[:ss]] into seconds. */
static const char *parse_hms(const char *p, int32_t *out)
{
	int sign = 1, parts[3] = { 0, 0, 0 };

	if (*p == '+' || *p == '-')
		sign = *p++ == '-' ? -1 : 1;
	for (int i = 0; i < 3; i++) {
		if (!isdigit((unsigned char)*p))
			return i == 0 ? NULL : p;
		while (isdigit((unsigned char)*p))
			parts[i] = parts[i] * 10 + (*p++ - '0');
		if (*p != ':' || i == 2)
			break;
		p++;
	}
	*out = sign * (parts[0] * 3600 + parts[1] * 60 + parts[2]);
	return p;
}

static const char *parse_date(const char *p, struct rule_date *d)
{
	if (*p != 'M')
		return NULL; /* Jn and n forms are not used by tzdata */
	if (sscanf(p, "M%d.%d.%d", &d->month, &d->week, &d->wday) != 3 || d->month < 1 ||
	    d->month > 12 || d->week < 1 || d->week > 5 || d->wday < 0 || d->wday > 6)
		return NULL;
	p++;
	while (isdigit((unsigned char)*p) || *p == '.')
		p++;
	d->secs = 7200;
	if (*p == '/') {
		p = parse_hms(p + 1, &d->secs);
		if (!p)
			return NULL;
	}
	return p;
}

static bool parse_rule(struct tz *z, const char *s)
{
	int32_t std;
	const char *p = skip_name(s);

	if (!p || !(p = parse_hms(p, &std)))
		return false;
	z->std_off = -std; /* POSIX: hours west of UTC */
	z->has_rule = true;
	if (!*p)
		return true;
	if (!(p = skip_name(p)))
		return false;
	z->dst_off = z->std_off + 3600;
	if (*p && *p != ',') {
		int32_t dst;
		if (!(p = parse_hms(p, &dst)))
			return false;
		z->dst_off = -dst;
	}
	if (*p++ != ',' || !(p = parse_date(p, &z->start)) || *p++ != ',' ||
	    !(p = parse_date(p, &z->end)) || *p)
		return false;
	z->rule_dst = true;
	return true;
}

/* The UTC instant of a rule date in year y, given the offset in force
 * before it. */
static int64_t rule_instant(const struct rule_date *d, int64_t y, int32_t off_before)
{
	int64_t first = days_from_civil(y, (unsigned)d->month, 1), day;
	int wd = (int)(((first % 7) + 7 + 4) % 7); /* 1970-01-01 was a Thursday */
	int64_t next_y = d->month == 12 ? y + 1 : y;
	unsigned next_m = d->month == 12 ? 1 : (unsigned)d->month + 1;
	int64_t month_days = days_from_civil(next_y, next_m, 1) - first;

	day = first + (d->wday - wd + 7) % 7 + (int64_t)(d->week - 1) * 7;
	while (day - first >= month_days)
		day -= 7; /* week 5: the last such weekday */
	return day * 86400 + d->secs - off_before;
}

static void year_changes(const struct tz *z, int64_t y, int64_t *start, int64_t *end)
{
	*start = rule_instant(&z->start, y, z->std_off);
	*end = rule_instant(&z->end, y, z->dst_off);
}

static int32_t rule_offset(const struct tz *z, int64_t t)
{
	int64_t y, s, e;
	unsigned m, d;

	if (!z->rule_dst)
		return z->std_off;
	civil_from_days((t + z->std_off) / 86400 - ((t + z->std_off) % 86400 < 0), &y, &m, &d);
	year_changes(z, y, &s, &e);
	if (s < e)
		return t >= s && t < e ? z->dst_off : z->std_off;
	return t >= e && t < s ? z->std_off : z->dst_off; /* southern hemisphere */
}

/* ---- TZif ------------------------------------------------------------------------------- */

enum result tz_parse(const unsigned char *data, size_t len, struct tz **out, struct err *e)
{
	const unsigned char *p = data, *end = data + len;
	uint32_t isut, isstd, leap, timecnt, typecnt, charcnt;
	int tsize = 4;
	struct tz *z;

	*out = NULL;
	if (len < 44 || memcmp(p, "TZif", 4) != 0)
		return err_set(e, RC_INVALID, "timezone", "not a TZif file");
	for (int pass = 0; pass < 2; pass++) {
		isut = be32(p + 20);
		isstd = be32(p + 24);
		leap = be32(p + 28);
		timecnt = be32(p + 32);
		typecnt = be32(p + 36);
		charcnt = be32(p + 40);
		if (timecnt > 100000 || typecnt == 0 || typecnt > 256 || charcnt > 100000 ||
		    leap > 100000 || isut > 256 || isstd > 256)
			return err_set(e, RC_INVALID, "timezone", "TZif counts out of range");
		if (pass == 0 && p[4] >= '2') {
			size_t skip = 44 + (size_t)timecnt * 5 + (size_t)typecnt * 6 + charcnt +
				      (size_t)leap * 8 + isstd + isut;
			if (skip + 44 > len || memcmp(p + skip, "TZif", 4) != 0)
				return err_set(e, RC_INVALID, "timezone", "truncated TZif file");
			p += skip;
			tsize = 8;
			continue;
		}
		break;
	}
	{
		size_t need = 44 + (size_t)timecnt * ((size_t)tsize + 1) + (size_t)typecnt * 6 + charcnt +
			      (size_t)leap * ((size_t)tsize + 4) + isstd + isut;
		if ((size_t)(end - p) < need)
			return err_set(e, RC_INVALID, "timezone", "truncated TZif data");
	}
	z = calloc(1, sizeof(*z));
	if (!z)
		return err_set(e, RC_NOMEM, NULL, "out of memory");
	z->n = timecnt;
	z->at = calloc(timecnt ? timecnt : 1, sizeof(*z->at));
	z->off = calloc(timecnt ? timecnt : 1, sizeof(*z->off));
	if (!z->at || !z->off) {
		tz_free(z);
		return err_set(e, RC_NOMEM, NULL, "out of memory");
	}
	{
		const unsigned char *times = p + 44, *idx = times + (size_t)timecnt * (size_t)tsize;
		const unsigned char *types = idx + timecnt;
		for (uint32_t i = 0; i < timecnt; i++) {
			unsigned ti = idx[i];
			z->at[i] = tsize == 8 ? be64(times + (size_t)i * 8) : (int32_t)be32(times + (size_t)i * 4);
			if (ti >= typecnt || (i && z->at[i] <= z->at[i - 1])) {
				tz_free(z);
				return err_set(e, RC_INVALID, "timezone", "bad TZif transition");
			}
			z->off[i] = (int32_t)be32(types + ti * 6);
		}
		z->off0 = (int32_t)be32(types);
		p = types + (size_t)typecnt * 6 + charcnt + (size_t)leap * ((size_t)tsize + 4) + isstd + isut;
	}
	if (tsize == 8 && p < end && *p == '\n') {
		const unsigned char *nl = memchr(p + 1, '\n', (size_t)(end - p - 1));
		if (nl && nl - p - 1 < 128) {
			char footer[128];
			memcpy(footer, p + 1, (size_t)(nl - p - 1));
			footer[nl - p - 1] = '\0';
			if (footer[0] && !parse_rule(z, footer))
				z->has_rule = false;
		}
	}
	*out = z;
	return RC_OK;
}

enum result tz_load(const char *name, struct tz **out, struct err *e)
{
	char path[256];
	unsigned char *buf;
	FILE *f;
	size_t n;
	enum result r;

	*out = NULL;
	if (!tz_valid(name))
		return err_set(e, RC_INVALID, "timezone", "unknown time zone %s", name);
	snprintf(path, sizeof(path), "/usr/share/zoneinfo/%s", name);
	f = fopen(path, "rb");
	if (!f)
		return err_set(e, RC_INVALID, "timezone", "cannot read time zone %s", name);
	buf = malloc(1 << 20);
	n = buf ? fread(buf, 1, 1 << 20, f) : 0;
	fclose(f);
	if (!buf)
		return err_set(e, RC_NOMEM, NULL, "out of memory");
	r = tz_parse(buf, n, out, e);
	free(buf);
	return r;
}

/* Index of the last transition <= t, or -1. */
static ptrdiff_t find(const struct tz *z, int64_t t)
{
	size_t lo = 0, hi = z->n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (z->at[mid] <= t)
			lo = mid + 1;
		else
			hi = mid;
	}
	return (ptrdiff_t)lo - 1;
}

int32_t tz_offset(const struct tz *z, int64_t t)
{
	ptrdiff_t i = find(z, t);

	if (i < 0)
		return z->n ? z->off0 : (z->has_rule ? rule_offset(z, t) : z->off0);
	if ((size_t)i == z->n - 1 && z->has_rule)
		return rule_offset(z, t);
	return z->off[i];
}

int64_t tz_next_change(const struct tz *z, int64_t t)
{
	ptrdiff_t i = find(z, t);
	int64_t best = INT64_MAX, y;
	unsigned m, d;

	if ((size_t)(i + 1) < z->n)
		return z->at[i + 1];
	if (!z->has_rule || !z->rule_dst)
		return INT64_MAX;
	civil_from_days(t / 86400 - (t % 86400 < 0), &y, &m, &d);
	for (int64_t yy = y - 1; yy <= y + 1; yy++) {
		int64_t s, e;
		year_changes(z, yy, &s, &e);
		if (s > t && s < best)
			best = s;
		if (e > t && e < best)
			best = e;
	}
	return best;
}
