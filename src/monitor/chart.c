/*
 * chart.c: the SVG line chart (chart.h). The value axis spans the data's
 * min..max (0..100 at least for a percentage; a flat series gets a span
 * of 1 around it); x is linear in time.
 * Every text that comes from outside (the title) is XML-escaped.
 */
#include "base/common.h"

#include <inttypes.h>
#include <math.h>

#include "base/buf.h"
#include "base/util.h"
#include "monitor/chart.h"

#define PAD_L 56
#define PAD_R 12
#define PAD_T 24
#define PAD_B 22
#define CHART_MAX (1u << 20)

static double xof(int64_t at, int64_t from, int64_t to)
{
	double span = to > from ? (double)(to - from) : 1;

	return PAD_L + (double)(at - from) / span * (CHART_W - PAD_L - PAD_R);
}

static double yof(double v, double lo, double hi)
{
	return PAD_T + (hi - v) / (hi - lo) * (CHART_H - PAD_T - PAD_B);
}

/* A value with a short form: 12.3, 45k, 1.2M, 3.4G. */
static void short_num(double v, char out[32])
{
	double a = fabs(v);

	if (a >= 1e9)
		snprintf(out, 32, "%.1fG", v / 1e9);
	else if (a >= 1e6)
		snprintf(out, 32, "%.1fM", v / 1e6);
	else if (a >= 1e4)
		snprintf(out, 32, "%.0fk", v / 1e3);
	else
		snprintf(out, 32, "%.3g", v);
}

const char *chart_svg(struct arena *a, const struct series_point *p, size_t n, int64_t from,
		      int64_t to, const char *title, bool percent)
{
	struct buf b;
	enum result ok = RC_OK;
	double lo = INFINITY, hi = -INFINITY;
	char t1[32], t2[32], v1[32], v2[32];
	const char *out;

	buf_init(&b, CHART_MAX);
	buf_appendf(&b, "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" width=\"%d\""
		   " height=\"%d\" role=\"img\" font-family=\"sans-serif\" font-size=\"11\">", CHART_W,
		   CHART_H, CHART_W, CHART_H);
	buf_appends(&b, "<title>");
	buf_append_xml(&b, title);
	buf_appends(&b, "</title><rect width=\"100%\" height=\"100%\" fill=\"#fff\"/>");
	buf_appendf(&b, "<text x=\"%d\" y=\"15\" fill=\"#222\">", PAD_L);
	buf_append_xml(&b, title);
	buf_appends(&b, "</text>");
	buf_appendf(&b, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" stroke=\"#ccc\"/>",
		   PAD_L, PAD_T, CHART_W - PAD_L - PAD_R, CHART_H - PAD_T - PAD_B);
	time_format(from, t1);
	time_format(to, t2);
	buf_appendf(&b, "<text x=\"%d\" y=\"%d\" fill=\"#555\">%.16s</text>", PAD_L, CHART_H - 6, t1);
	buf_appendf(&b, "<text x=\"%d\" y=\"%d\" fill=\"#555\" text-anchor=\"end\">%.16s UTC</text>",
		   CHART_W - PAD_R, CHART_H - 6, t2);
	for (size_t i = 0; i < n; i++) {
		lo = fmin(lo, p[i].min);
		hi = fmax(hi, p[i].max);
	}
	if (percent && n) {
		lo = fmin(lo, 0);
		hi = fmax(hi, 100);
	}
	if (!n || !isfinite(lo) || !isfinite(hi)) {
		buf_appendf(&b, "<text x=\"%d\" y=\"%d\" fill=\"#888\" text-anchor=\"middle\">no data</text>",
			   (CHART_W + PAD_L) / 2, CHART_H / 2);
	} else {
		if (hi - lo < 1e-9) {
			lo -= 0.5;
			hi += 0.5;
		}
		short_num(hi, v1);
		short_num(lo, v2);
		buf_appendf(&b, "<text x=\"%d\" y=\"%d\" fill=\"#555\" text-anchor=\"end\">%s</text>",
			   PAD_L - 4, PAD_T + 10, v1);
		buf_appendf(&b, "<text x=\"%d\" y=\"%d\" fill=\"#555\" text-anchor=\"end\">%s</text>",
			   PAD_L - 4, CHART_H - PAD_B, v2);
		/* min..max band: max left to right, then min back. */
		buf_appends(&b, "<polygon fill=\"#cfe0f5\" stroke=\"none\" points=\"");
		for (size_t i = 0; i < n; i++)
			buf_appendf(&b, "%.1f,%.1f ", xof(p[i].at, from, to), yof(p[i].max, lo, hi));
		for (size_t i = n; i-- > 0;)
			buf_appendf(&b, "%.1f,%.1f ", xof(p[i].at, from, to), yof(p[i].min, lo, hi));
		buf_appends(&b, "\"/><polyline fill=\"none\" stroke=\"#1f5fa8\" stroke-width=\"1.5\" points=\"");
		for (size_t i = 0; i < n; i++)
			buf_appendf(&b, "%.1f,%.1f ", xof(p[i].at, from, to), yof(p[i].avg, lo, hi));
		buf_appends(&b, "\"/>");
	}
	buf_appends(&b, "</svg>\n");
	ok = buf_appends(&b, "");
	out = ok == RC_OK && b.len < CHART_MAX - 16 ? arena_strdup(a, buf_str(&b)) : NULL;
	buf_release(&b);
	return out;
}
