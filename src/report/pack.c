/*
 * pack.c: the printable review pack (report.h; docs/REPORTS.md "The
 * printable pack"): one HTML page with the review's figures beside the
 * previous period's and four SVG charts (charts.h), for the browser, for
 * print to PDF (A4 and Letter) and for the e-mailed pack.
 *
 * The pack is rendered from the review document (the JSON the API
 * gives), so that it can never say anything the JSON does not: every
 * number here is read from the document, nothing is computed but deltas
 * and display forms. Every text that came from users (client, category,
 * check and host names, CSAT comments) is HTML-escaped; the markup is
 * well-formed XML as well as HTML, so the tests parse it strictly.
 *
 * Print: the page width fits both A4 (210 mm) and Letter (216 mm) within
 * 14 mm margins (the content is 180 mm wide at most); sections and table
 * rows do not break across pages; charts scale to the width.
 */
#include "base/common.h"

#include <inttypes.h>
#include <math.h>
#include <sodium.h>

#include "base/buf.h"
#include "base/util.h"
#include "report/charts.h"
#include "report/report.h"

static const char style[] =
	"@page{margin:14mm}"
	"body{font:10.5pt/1.4 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:#1b1b1b;"
	"margin:0 auto;max-width:180mm;padding:8mm 0}"
	"h1{font-size:17pt;margin:0 0 2pt}h2{font-size:12.5pt;margin:14pt 0 4pt;"
	"border-bottom:1.5pt solid #1f5fa8;padding-bottom:2pt}"
	".sub{color:#555;margin:0 0 8pt}"
	"section{break-inside:avoid;page-break-inside:avoid}"
	"table{border-collapse:collapse;width:100%;margin:4pt 0}"
	"th,td{text-align:left;padding:2pt 5pt;border-bottom:0.5pt solid #ddd;vertical-align:top}"
	"td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}"
	"tr{break-inside:avoid;page-break-inside:avoid}"
	"thead th{border-bottom:1pt solid #888;font-weight:600}"
	".kpis{display:grid;grid-template-columns:repeat(3,1fr);gap:6pt;margin:6pt 0}"
	".kpi{border:0.75pt solid #ccc;border-radius:4pt;padding:5pt 7pt}"
	".kpi b{display:block;font-size:15pt}.kpi span{color:#555;font-size:9pt}"
	".up{color:#2e6b2e}.down{color:#a12020}.same{color:#666}"
	"svg.chart{width:100%;height:auto;display:block;margin:4pt 0}"
	".comment{margin:3pt 0;padding-left:6pt;border-left:2pt solid #ccc}"
	".foot{color:#666;font-size:8.5pt;margin-top:14pt}"
	"@media print{a{color:inherit;text-decoration:none}}";

static const char *const prios[4] = { "P1", "P2", "P3", "P4" };

/* ---- reading the document ---- */

/* The member at a dotted path ("volume.opened"), NULL when absent. */
static json_t *jat(json_t *o, const char *path)
{
	char key[64];

	while (o && *path) {
		size_t n = strcspn(path, ".");
		if (n >= sizeof(key))
			return NULL;
		memcpy(key, path, n);
		key[n] = 0;
		o = json_object_get(o, key);
		path += n + (path[n] == '.');
	}
	return o;
}

/* A number at path; NAN when absent or null. */
static double jnum(json_t *o, const char *path)
{
	json_t *v = jat(o, path);

	return json_is_number(v) ? json_number_value(v) : (double)NAN;
}

static const char *jstr(json_t *o, const char *path)
{
	const char *s = json_string_value(jat(o, path));

	return s ? s : "";
}

/* ---- display forms ---- */

static void num(struct buf *b, double v)
{
	if (isnan(v))
		buf_appends(b, "&#8212;");
	else
		buf_appendf(b, "%.0f", v);
}

static void pct(struct buf *b, double ratio)
{
	if (isnan(ratio))
		buf_appends(b, "&#8212;");
	else
		buf_appendf(b, "%.1f&#160;%%", ratio * 100);
}

/* Seconds as "3 d 4 h", "2 h 05 m", "12 m", "40 s". */
static void dur(struct buf *b, double s)
{
	int64_t v;

	if (isnan(s) || s < 0) {
		buf_appends(b, "&#8212;");
		return;
	}
	v = (int64_t)s;
	if (v >= 86400)
		buf_appendf(b, "%" PRId64 "&#160;d %" PRId64 "&#160;h", v / 86400, v % 86400 / 3600);
	else if (v >= 3600)
		buf_appendf(b, "%" PRId64 "&#160;h %02" PRId64 "&#160;m", v / 3600, v % 3600 / 60);
	else if (v >= 60)
		buf_appendf(b, "%" PRId64 "&#160;m", v / 60);
	else
		buf_appendf(b, "%" PRId64 "&#160;s", v);
}

/* Pure: the change from prev to cur as a class and an arrow; better_up
 * says which way is good (the colour), -1: neither. */
static const char *trend_class(double cur, double prev, int better_up)
{
	if (isnan(cur) || isnan(prev) || fabs(cur - prev) < 1e-9 || better_up < 0)
		return "same";
	return (cur > prev) == (better_up == 1) ? "up" : "down";
}

static void trend(struct buf *b, double cur, double prev, int better_up, bool ratio)
{
	if (isnan(cur) || isnan(prev)) {
		buf_appends(b, "<span class=\"same\">&#8212;</span>");
		return;
	}
	buf_appendf(b, "<span class=\"%s\">", trend_class(cur, prev, better_up));
	if (fabs(cur - prev) < 1e-9)
		buf_appends(b, "=");
	else if (ratio)
		buf_appendf(b, "%s%+.1f&#160;pt", cur > prev ? "&#9650; " : "&#9660; ", (cur - prev) * 100);
	else
		buf_appendf(b, "%s%+.0f", cur > prev ? "&#9650; " : "&#9660; ", cur - prev);
	buf_appends(b, "</span>");
}

/* A table row: label, this period, previous, change. kind: 'n' number,
 * 'r' ratio, 'd' duration. */
static void row(struct buf *b, const char *label, json_t *cur, json_t *prev, const char *path,
		char kind, int better_up)
{
	double c = jnum(cur, path), p = jnum(prev, path);

	buf_appends(b, "<tr><td>");
	buf_append_xml(b, label);
	buf_appends(b, "</td><td class=\"n\">");
	if (kind == 'r')
		pct(b, c);
	else if (kind == 'd')
		dur(b, c);
	else
		num(b, c);
	buf_appends(b, "</td><td class=\"n\">");
	if (kind == 'r')
		pct(b, p);
	else if (kind == 'd')
		dur(b, p);
	else
		num(b, p);
	buf_appends(b, "</td><td class=\"n\">");
	if (kind != 'd')
		trend(b, c, p, better_up, kind == 'r');
	else if (isnan(c) || isnan(p))
		buf_appends(b, "<span class=\"same\">&#8212;</span>");
	else    /* a duration's change is an arrow only: its size is in the two columns */
		buf_appendf(b, "<span class=\"%s\">%s</span>", trend_class(c, p, better_up),
			    fabs(c - p) < 1e-9 ? "=" : c > p ? "&#9650;" : "&#9660;");
	buf_appends(b, "</td></tr>");
}

static void thead(struct buf *b, const char *first)
{
	buf_appends(b, "<table><thead><tr><th>");
	buf_appends(b, first);
	buf_appends(b, "</th><th class=\"n\">This period</th><th class=\"n\">Previous</th>"
		       "<th class=\"n\">Change</th></tr></thead><tbody>");
}

/* A value as kind says: 'n' whole number, 'r' ratio as %, 'a' average
 * with two decimals. */
static void value(struct buf *b, double v, char kind)
{
	if (kind == 'r')
		pct(b, v);
	else if (kind == 'a' && !isnan(v))
		buf_appendf(b, "%.2f", v);
	else
		num(b, v);
}

static void kpi(struct buf *b, const char *label, json_t *cur, json_t *prev, const char *path,
		char kind, int better_up)
{
	double c = jnum(cur, path), p = jnum(prev, path);

	buf_appends(b, "<div class=\"kpi\"><span>");
	buf_append_xml(b, label);
	buf_appends(b, "</span><b>");
	value(b, c, kind);
	buf_appends(b, "</b><span>previous ");
	value(b, p, kind);
	buf_appends(b, " ");
	if (kind == 'a' && !isnan(c) && !isnan(p))
		buf_appendf(b, "<span class=\"%s\">%s%+.2f</span>", trend_class(c, p, better_up),
			    c > p ? "&#9650; " : c < p ? "&#9660; " : "", c - p);
	else
		trend(b, c, p, better_up, kind == 'r');
	buf_appends(b, "</span></div>");
}

/* ---- sections ---- */

static enum result chart(struct buf *b, struct arena *a, const struct rchart *c)
{
	const char *svg = rchart_svg(a, c);

	return svg ? buf_appends(b, svg) : RC_NOMEM;
}

static enum result volume(struct buf *b, struct arena *a, json_t *cur, json_t *prev)
{
	json_t *weeks = json_object_get(cur, "weekly");
	size_t n = json_array_size(weeks);
	const char **labels = arena_alloc(a, (n + 1) * sizeof(*labels));
	double *opened = arena_alloc(a, (n + 1) * sizeof(double));
	double *resolved = arena_alloc(a, (n + 1) * sizeof(double));
	struct rchart_series s[2] = { { "opened", opened }, { "resolved", resolved } };
	struct rchart c = { "Tickets per week", labels, n, s, 2, false, false, -1, NULL };
	static const char *const names[][2] = {
		{ "opened", "Opened" }, { "resolved", "Resolved" }, { "closed", "Closed" },
		{ "reopened", "Reopened" }, { "backlog_start", "Backlog at start" },
		{ "backlog_end", "Backlog at end" },
	};
	const char *key;
	json_t *v;

	if (!labels || !opened || !resolved)
		return RC_NOMEM;
	for (size_t i = 0; i < n; i++) {
		json_t *w = json_array_get(weeks, i);
		labels[i] = arena_printf(a, "%.5s", jstr(w, "from") + 5);   /* MM-DD */
		opened[i] = jnum(w, "opened");
		resolved[i] = jnum(w, "resolved");
	}
	buf_appends(b, "<section><h2>Volume</h2>");
	if (chart(b, a, &c) != RC_OK)
		return RC_NOMEM;
	thead(b, "Tickets");
	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		row(b, names[i][1], cur, prev, arena_printf(a, "volume.%s", names[i][0]), 'n', -1);
	for (int i = 0; i < 4; i++)
		row(b, arena_printf(a, "Opened %s", prios[i]), cur, prev,
		    arena_printf(a, "volume.by_priority.%s", prios[i]), 'n', -1);
	json_object_foreach(jat(cur, "volume.by_type"), key, v)
		row(b, arena_printf(a, "Opened: %s", key), cur, prev,
		    arena_printf(a, "volume.by_type.%s", key), 'n', -1);
	json_object_foreach(jat(cur, "volume.by_channel"), key, v)
		row(b, arena_printf(a, "Opened by %s", key), cur, prev,
		    arena_printf(a, "volume.by_channel.%s", key), 'n', -1);
	buf_appends(b, "</tbody></table>");
	if (json_object_size(jat(cur, "volume.by_category"))) {
		buf_appends(b, "<table><thead><tr><th>Category (opened)</th><th class=\"n\">Tickets</th>"
			       "</tr></thead><tbody>");
		json_object_foreach(jat(cur, "volume.by_category"), key, v) {
			buf_appends(b, "<tr><td>");
			buf_append_xml(b, *key ? key : "(none)");
			buf_appendf(b, "</td><td class=\"n\">%" JSON_INTEGER_FORMAT "</td></tr>",
				    json_integer_value(v));
		}
		buf_appends(b, "</tbody></table>");
	}
	return buf_appends(b, "</section>");
}

/* The business-time statistics at path, or an empty object when they
 * have no sample (a median of nothing is none, not 0 s). */
static json_t *times_of(json_t *period, const char *path)
{
	json_t *t = jat(period, path);

	return jnum(t, "count") > 0 ? t : NULL;
}

static enum result sla(struct buf *b, struct arena *a, json_t *cur, json_t *prev)
{
	static const char *const labels[5] = { "P1", "P2", "P3", "P4", "all" };
	double resp[5], reso[5];
	struct rchart_series s[2] = { { "response", resp }, { "resolution", reso } };
	struct rchart c = { "SLA attainment per priority", (const char *const *)labels, 5, s, 2,
			    false, true, -1, NULL };
	json_t *br = json_object_get(cur, "breached_tickets");
	size_t i;
	json_t *t;

	for (int k = 0; k < 5; k++) {
		resp[k] = jnum(cur, arena_printf(a, "sla.%s.response.attainment", labels[k]));
		reso[k] = jnum(cur, arena_printf(a, "sla.%s.resolution.attainment", labels[k]));
	}
	buf_appends(b, "<section><h2>SLA attainment</h2>");
	if (chart(b, a, &c) != RC_OK)
		return RC_NOMEM;
	buf_appends(b, "<table><thead><tr><th>Priority</th><th>Clock</th><th class=\"n\">Met</th>"
		       "<th class=\"n\">Breached</th><th class=\"n\">Pending</th>"
		       "<th class=\"n\">Attainment</th><th class=\"n\">Previous</th></tr></thead><tbody>");
	for (int k = 0; k < 5; k++)
		for (int clock = 0; clock < 2; clock++) {
			const char *p = arena_printf(a, "sla.%s.%s", labels[k],
						     clock ? "resolution" : "response");
			buf_appendf(b, "<tr><td>%s</td><td>%s</td><td class=\"n\">", clock ? "" : labels[k],
				    clock ? "resolution" : "response");
			num(b, jnum(cur, arena_printf(a, "%s.met", p)));
			buf_appends(b, "</td><td class=\"n\">");
			num(b, jnum(cur, arena_printf(a, "%s.breached", p)));
			buf_appends(b, "</td><td class=\"n\">");
			num(b, jnum(cur, arena_printf(a, "%s.pending", p)));
			buf_appends(b, "</td><td class=\"n\">");
			pct(b, jnum(cur, arena_printf(a, "%s.attainment", p)));
			buf_appends(b, "</td><td class=\"n\">");
			pct(b, jnum(prev, arena_printf(a, "%s.attainment", p)));
			buf_appends(b, "</td></tr>");
		}
	buf_appends(b, "</tbody></table>");
	thead(b, "Business time");
	for (int clock = 0; clock < 2; clock++)
		for (int k = 0; k < 3; k++) {
			static const char *const stat[3][2] = { { "median", "median" },
								{ "p90", "90th percentile" },
								{ "mean", "mean" } };
			const char *base = clock ? "business_time.resolution" : "business_time.response";
			row(b, arena_printf(a, "%s, %s", clock ? "Resolution" : "Response", stat[k][1]),
			    times_of(cur, base), times_of(prev, base),
			    arena_printf(a, "%s_seconds", stat[k][0]), 'd', 0);
		}
	buf_appends(b, "</tbody></table></section>");
	buf_appendf(b, "<section><h2>Breached tickets (%zu)</h2>", json_array_size(br));
	if (!json_array_size(br))
		return buf_appends(b, "<p>None.</p></section>");
	buf_appends(b, "<table><thead><tr><th>Ticket</th><th>Priority</th><th>Breached</th>"
		       "<th>Held by</th><th class=\"n\">Paused</th></tr></thead><tbody>");
	json_array_foreach(br, i, t) {
		bool resp_b = json_is_true(json_object_get(t, "response"));
		bool reso_b = json_is_true(json_object_get(t, "resolution"));
		buf_appends(b, "<tr><td>");
		buf_append_xml(b, jstr(t, "number"));
		buf_appends(b, "</td><td>");
		buf_append_xml(b, jstr(t, "priority"));
		buf_appendf(b, "</td><td>%s</td><td>tier %.0f%s</td><td class=\"n\">",
			    resp_b && reso_b ? "response, resolution" : resp_b ? "response" : "resolution",
			    jnum(t, "held_by_tier"),
			    json_is_true(json_object_get(t, "vendor")) ? ", vendor" : "");
		dur(b, jnum(t, "paused_seconds"));
		buf_appends(b, "</td></tr>");
	}
	return buf_appends(b, "</tbody></table></section>");
}

static enum result fcr(struct buf *b, struct arena *a, json_t *cur, json_t *prev)
{
	json_t *weeks = json_object_get(cur, "weekly");
	size_t n = json_array_size(weeks);
	const char **labels = arena_alloc(a, (n + 1) * sizeof(*labels));
	double *rate = arena_alloc(a, (n + 1) * sizeof(double));
	struct rchart_series s[1] = { { "first-contact resolution", rate } };
	struct rchart c = { "First-contact resolution per week", labels, n, s, 1, true, true,
			    jnum(cur, "fcr.target"), "target 70 %" };

	if (!labels || !rate)
		return RC_NOMEM;
	for (size_t i = 0; i < n; i++) {
		json_t *w = json_array_get(weeks, i);
		labels[i] = arena_printf(a, "%.5s", jstr(w, "from") + 5);
		rate[i] = jnum(w, "fcr_rate");
	}
	if (isnan(c.target))
		c.target = -1;
	else
		c.target_label = arena_printf(a, "target %.0f %%", c.target * 100);
	buf_appends(b, "<section><h2>First-contact resolution and escalation</h2>");
	if (chart(b, a, &c) != RC_OK)
		return RC_NOMEM;
	thead(b, "Of tickets");
	row(b, "First-contact resolution rate", cur, prev, "fcr.rate", 'r', 1);
	row(b, "Resolved with a verdict", cur, prev, "fcr.decided", 'n', -1);
	row(b, "Escalated to tier 2", cur, prev, "escalation.rate_tier2", 'r', 0);
	row(b, "Escalated to tier 3", cur, prev, "escalation.rate_tier3", 'r', 0);
	row(b, "Escalated to a vendor", cur, prev, "escalation.rate_vendor", 'r', 0);
	row(b, "Tier changes", cur, prev, "escalation.tier_changes", 'n', 0);
	row(b, "Reassignments", cur, prev, "escalation.reassignments", 'n', 0);
	row(b, "Reassigned at least once", cur, prev, "escalation.rate_reassigned", 'r', 0);
	return buf_appends(b, "</tbody></table></section>");
}

static enum result csat(struct buf *b, struct arena *a, json_t *cur, json_t *prev)
{
	static const char *const labels[5] = { "1", "2", "3", "4", "5" };
	double now[5], before[5];
	struct rchart_series s[2] = { { "this period", now }, { "previous", before } };
	struct rchart c = { "Satisfaction ratings", (const char *const *)labels, 5, s, 2, false,
			    false, -1, NULL };
	json_t *comments = jat(cur, "csat.comments"), *t;
	size_t i;

	for (int k = 0; k < 5; k++) {
		now[k] = jnum(cur, arena_printf(a, "csat.distribution.%s", labels[k]));
		before[k] = jnum(prev, arena_printf(a, "csat.distribution.%s", labels[k]));
	}
	buf_appends(b, "<section><h2>Customer satisfaction</h2>");
	if (chart(b, a, &c) != RC_OK)
		return RC_NOMEM;
	thead(b, "Answers");
	row(b, "Responses", cur, prev, "csat.responses", 'n', -1);
	buf_appends(b, "<tr><td>Average (1-5)</td><td class=\"n\">");
	value(b, jnum(cur, "csat.average"), 'a');
	buf_appends(b, "</td><td class=\"n\">");
	value(b, jnum(prev, "csat.average"), 'a');
	buf_appends(b, "</td><td class=\"n\"></td></tr></tbody></table>");
	json_array_foreach(comments, i, t) {
		buf_appendf(b, "<p class=\"comment\">%.0f/5, ", jnum(t, "rating"));
		buf_append_xml(b, jstr(t, "number"));
		buf_appends(b, ": ");
		buf_append_xml(b, jstr(t, "comment"));
		buf_appends(b, "</p>");
	}
	return buf_appends(b, "</section>");
}

static enum result monitoring(struct buf *b, struct arena *a, json_t *cur, json_t *prev)
{
	json_t *groups = jat(cur, "monitoring.alerts.by_check"), *g;
	json_t *devices = jat(cur, "monitoring.devices.items");
	size_t i;

	buf_appends(b, "<section><h2>Monitoring</h2>");
	thead(b, "Alerts");
	row(b, "Fired", cur, prev, "monitoring.alerts.fired", 'n', -1);
	row(b, "Acknowledged", cur, prev, "monitoring.alerts.acknowledged", 'n', -1);
	row(b, "Mean time to acknowledge", cur, prev, "monitoring.alerts.mtta_seconds", 'd', 0);
	row(b, "Mean time to resolve", cur, prev, "monitoring.alerts.mttr_seconds", 'd', 0);
	row(b, "Device uptime", cur, prev, "monitoring.devices.uptime", 'r', 1);
	buf_appends(b, "</tbody></table>");
	if (json_array_size(groups)) {
		buf_appends(b, "<table><thead><tr><th>Check</th><th>Severity</th><th class=\"n\">Fired</th>"
			       "<th class=\"n\">MTTA</th><th class=\"n\">MTTR</th></tr></thead><tbody>");
		json_array_foreach(groups, i, g) {
			buf_appends(b, "<tr><td>");
			buf_append_xml(b, jstr(g, "check"));
			buf_appends(b, "</td><td>");
			buf_append_xml(b, jstr(g, "severity"));
			buf_appends(b, "</td><td class=\"n\">");
			num(b, jnum(g, "fired"));
			buf_appends(b, "</td><td class=\"n\">");
			dur(b, jnum(g, "mtta_seconds"));
			buf_appends(b, "</td><td class=\"n\">");
			dur(b, jnum(g, "mttr_seconds"));
			buf_appends(b, "</td></tr>");
		}
		buf_appends(b, "</tbody></table>");
	}
	if (json_array_size(devices)) {
		buf_appends(b, "<table><thead><tr><th>Device</th><th class=\"n\">Uptime</th>"
			       "<th class=\"n\">Minutes checked in</th></tr></thead><tbody>");
		json_array_foreach(devices, i, g) {
			buf_appends(b, "<tr><td>");
			buf_append_xml(b, jstr(g, "hostname"));
			buf_appends(b, "</td><td class=\"n\">");
			pct(b, jnum(g, "uptime"));
			buf_appends(b, "</td><td class=\"n\">");
			num(b, jnum(g, "up_minutes"));
			buf_appends(b, " / ");
			num(b, jnum(g, "minutes"));
			buf_appends(b, "</td></tr>");
		}
		buf_appends(b, "</tbody></table>");
	}
	(void)a;
	return buf_appends(b, "</section>");
}

static enum result hours(struct buf *b, struct arena *a, json_t *cur, json_t *prev)
{
	static const char *const tiers[][2] = { { "tier1", "Tier 1" }, { "tier2", "Tier 2" },
						{ "tier3", "Tier 3" }, { "other", "Others" } };

	buf_appends(b, "<section><h2>Hours logged</h2>");
	thead(b, "Hours");
	for (size_t i = 0; i < ARRAY_SIZE(tiers); i++) {
		row(b, arena_printf(a, "%s, billable (minutes)", tiers[i][1]), cur, prev,
		    arena_printf(a, "hours.by_tier.%s.billable_minutes", tiers[i][0]), 'n', -1);
		row(b, arena_printf(a, "%s, not billable (minutes)", tiers[i][1]), cur, prev,
		    arena_printf(a, "hours.by_tier.%s.non_billable_minutes", tiers[i][0]), 'n', -1);
	}
	row(b, "All, billable (minutes)", cur, prev, "hours.billable_minutes", 'n', -1);
	row(b, "All, not billable (minutes)", cur, prev, "hours.non_billable_minutes", 'n', -1);
	return buf_appends(b, "</tbody></table></section>");
}

/* ---- the page ---- */

/* "1 Mar 2027 to 31 Mar 2027" for the days [from, to) ("YYYY-MM-DD"). */
static void span(struct buf *b, const char *from, const char *to)
{
	static const char *const mon[12] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
					     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	int64_t d[2], y;
	unsigned m, day;
	int yy, mm, dd;

	for (int k = 0; k < 2; k++) {
		if (sscanf(k ? to : from, "%4d-%2d-%2d", &yy, &mm, &dd) != 3 || mm < 1 || mm > 12 ||
		    dd < 1) {
			buf_append_xml(b, from);
			buf_appends(b, " to ");
			buf_append_xml(b, to);
			return;
		}
		d[k] = days_from_civil(yy, (unsigned)mm, (unsigned)dd);
	}
	for (int k = 0; k < 2; k++) {
		civil_from_days(d[k] - k, &y, &m, &day);   /* the last day is the one before `to` */
		buf_appendf(b, "%s%u %s %" PRId64, k ? " to " : "", day, mon[m - 1], y);
	}
}

static const char *style_hash(struct arena *a)
{
	unsigned char h[crypto_hash_sha256_BYTES];
	char b64[sodium_base64_ENCODED_LEN(crypto_hash_sha256_BYTES, sodium_base64_VARIANT_ORIGINAL)];

	crypto_hash_sha256(h, (const unsigned char *)style, sizeof(style) - 1);
	sodium_bin2base64(b64, sizeof(b64), h, sizeof(h), sodium_base64_VARIANT_ORIGINAL);
	return arena_printf(a, "sha256-%s", b64);
}

const char *report_pack_csp(struct arena *a)
{
	const char *h = style_hash(a);

	return h ? arena_printf(a, "default-src 'none'; style-src '%s'; img-src data:; base-uri 'none';"
				" form-action 'none'; frame-ancestors 'self'", h)
		 : NULL;
}

enum result report_pack_html(json_t *doc, int64_t now, struct arena *a, struct buf *out,
			     struct err *e)
{
	json_t *cur = json_object_get(doc, "period"), *prev = json_object_get(doc, "previous");
	const char *client = json_string_value(json_object_get(doc, "client_name"));
	char at[32];
	enum result (*const sections[])(struct buf *, struct arena *, json_t *, json_t *) = {
		volume, sla, fcr, csat, monitoring, hours,
	};

	time_format(now, at);
	buf_appends(out, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"/>"
			 "<meta name=\"viewport\" content=\"width=device-width\"/><title>Service review: ");
	buf_append_xml(out, client ? client : "all clients");
	buf_appendf(out, ", %s to %s</title><style>%s</style></head><body><header><h1>Service review: ",
		    jstr(cur, "from"), jstr(cur, "to"), style);
	buf_append_xml(out, client ? client : "all clients");
	buf_appends(out, "</h1><p class=\"sub\">");
	span(out, jstr(cur, "from"), jstr(cur, "to"));
	buf_appends(out, " (days in ");
	buf_append_xml(out, jstr(doc, "timezone"));
	buf_appends(out, "), compared with ");
	span(out, jstr(prev, "from"), jstr(prev, "to"));
	buf_appends(out, ".</p></header><section><div class=\"kpis\">");
	kpi(out, "Tickets opened", cur, prev, "volume.opened", 'n', -1);
	kpi(out, "Tickets resolved", cur, prev, "volume.resolved", 'n', -1);
	kpi(out, "Backlog at end", cur, prev, "volume.backlog_end", 'n', 0);
	kpi(out, "Resolution SLA met", cur, prev, "sla.all.resolution.attainment", 'r', 1);
	kpi(out, "First-contact resolution (target 70 %)", cur, prev, "fcr.rate", 'r', 1);
	kpi(out, "Satisfaction average (1-5)", cur, prev, "csat.average", 'a', 1);
	buf_appends(out, "</div></section>");
	for (size_t i = 0; i < ARRAY_SIZE(sections); i++)
		if (sections[i](out, a, cur, prev) != RC_OK)
			return err_set(e, RC_NOMEM, NULL, "out of memory");
	buf_appends(out, "<p class=\"foot\">Generated by itsup at ");
	buf_appends(out, at);
	buf_appends(out, ". Every figure is defined in docs/REPORTS.md; the same figures are in the"
			 " JSON form of this review and the tickets behind them in its CSV form.</p>"
			 "</body></html>\n");
	if (buf_appends(out, "") != RC_OK)
		return err_set(e, RC_NOMEM, NULL, "out of memory");
	return RC_OK;
}
