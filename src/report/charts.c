/*
 * charts.c: the review pack's SVG charts (charts.h).
 *
 * Layout: a title line, the legend at the top right, the plot area with
 * four grid lines labelled on the left, the category labels below (every
 * k-th when there are more than LABELS_MAX, so that they never overlap).
 * Colours come from one palette in series order, dark enough to print in
 * grey scale; bars also differ by order, lines by dash pattern, so a
 * black-and-white print keeps the series apart. Every text from outside
 * (title, labels, series names) is XML-escaped.
 */
#include "base/common.h"

#include <math.h>

#include "base/buf.h"
#include "report/charts.h"

#define PAD_L 44
#define PAD_R 12
#define PAD_T 34
#define PAD_B 30
#define LABELS_MAX 14
#define CHART_BYTES_MAX (1u << 20)

static const char *const palette[RCHART_MAX_SERIES] = { "#1f5fa8", "#d9822b", "#3a8a3a", "#7d4fa0" };
static const char *const dashes[RCHART_MAX_SERIES] = { "", "6 3", "2 2", "8 2 2 2" };

double rchart_nice_max(double v)
{
	double p = 1;

	if (!(v > 1))
		return 1;
	while (p * 10 < v)
		p *= 10;
	if (p >= v)
		return p;
	if (2 * p >= v)
		return 2 * p;
	if (5 * p >= v)
		return 5 * p;
	return 10 * p;
}

static double plot_w(void)
{
	return RCHART_W - PAD_L - PAD_R;
}

static double plot_h(void)
{
	return RCHART_H - PAD_T - PAD_B;
}

static double yof(double v, double top)
{
	return PAD_T + plot_h() - v / top * plot_h();
}

/* The centre of category i of n. */
static double xmid(size_t i, size_t n)
{
	return PAD_L + plot_w() * ((double)i + 0.5) / (double)n;
}

static void axis(struct buf *b, double top, bool ratio)
{
	for (int k = 0; k <= 4; k++) {
		double v = top * k / 4, y = yof(v, top);
		buf_appendf(b, "<line x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"%s\"/>", PAD_L,
			    RCHART_W - PAD_R, y, y, k ? "#e2e2e2" : "#888");
		if (ratio)
			buf_appendf(b, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\" fill=\"#444\">%.0f %%</text>",
				    PAD_L - 4, y + 4, v * 100);
		else
			buf_appendf(b, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\" fill=\"#444\">%g</text>",
				    PAD_L - 4, y + 4, v);
	}
}

static void labels(struct buf *b, const struct rchart *c)
{
	size_t every = (c->n + LABELS_MAX - 1) / LABELS_MAX;

	for (size_t i = 0; i < c->n; i += every ? every : 1) {
		buf_appendf(b, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\" fill=\"#444\">",
			    xmid(i, c->n), RCHART_H - PAD_B + 14);
		buf_append_xml(b, c->labels[i]);
		buf_appends(b, "</text>");
	}
}

static void legend(struct buf *b, const struct rchart *c)
{
	double x = RCHART_W - PAD_R;

	for (size_t s = c->nseries; s-- > 0;) {
		const char *name = c->series[s].name ? c->series[s].name : "";
		x -= 14 + 6.5 * (double)strlen(name);
		buf_appendf(b, "<rect x=\"%.1f\" y=\"8\" width=\"10\" height=\"10\" fill=\"%s\"/>", x,
			    palette[s]);
		buf_appendf(b, "<text x=\"%.1f\" y=\"17\" fill=\"#222\">", x + 13);
		buf_append_xml(b, name);
		buf_appends(b, "</text>");
		x -= 10;
	}
}

static void bars(struct buf *b, const struct rchart *c, double top)
{
	double group = plot_w() / (double)c->n * 0.8, w = group / (double)c->nseries;

	for (size_t i = 0; i < c->n; i++)
		for (size_t s = 0; s < c->nseries; s++) {
			double v = c->series[s].v[i], x, y;
			if (isnan(v))
				continue;
			x = xmid(i, c->n) - group / 2 + w * (double)s;
			y = yof(v, top);
			buf_appendf(b, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\">"
				    "<title>", x, y, w > 1.5 ? w - 1 : w, PAD_T + plot_h() - y, palette[s]);
			buf_append_xml(b, c->labels[i]);
			buf_appends(b, ": ");
			if (c->ratio)
				buf_appendf(b, "%.1f %%", v * 100);
			else
				buf_appendf(b, "%g", v);
			buf_appends(b, "</title></rect>");
		}
}

static void lines(struct buf *b, const struct rchart *c, double top)
{
	for (size_t s = 0; s < c->nseries; s++) {
		bool open = false;
		for (size_t i = 0; i < c->n; i++) {
			double v = c->series[s].v[i];
			if (isnan(v)) {
				if (open)
					buf_appends(b, "\"/>");
				open = false;
				continue;
			}
			if (!open)
				buf_appendf(b, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\""
					    " stroke-dasharray=\"%s\" points=\"", palette[s], dashes[s]);
			buf_appendf(b, "%.1f,%.1f ", xmid(i, c->n), yof(v, top));
			open = true;
		}
		if (open)
			buf_appends(b, "\"/>");
		for (size_t i = 0; i < c->n; i++)
			if (!isnan(c->series[s].v[i]))
				buf_appendf(b, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2.5\" fill=\"%s\"/>",
					    xmid(i, c->n), yof(c->series[s].v[i], top), palette[s]);
	}
}

const char *rchart_svg(struct arena *a, const struct rchart *c)
{
	struct buf b;
	double max = 0, top;
	bool any = false;
	const char *out;

	if (!c->nseries || c->nseries > RCHART_MAX_SERIES || !c->series)
		return NULL;
	for (size_t s = 0; s < c->nseries; s++)
		for (size_t i = 0; i < c->n; i++)
			if (!isnan(c->series[s].v[i])) {
				any = true;
				max = fmax(max, c->series[s].v[i]);
			}
	top = c->ratio ? 1 : rchart_nice_max(fmax(max, c->target));
	buf_init(&b, CHART_BYTES_MAX);
	buf_appendf(&b, "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" role=\"img\""
		    " font-family=\"sans-serif\" font-size=\"11\" class=\"chart\">", RCHART_W, RCHART_H);
	buf_appends(&b, "<title>");
	buf_append_xml(&b, c->title);
	buf_appendf(&b, "</title><text x=\"%d\" y=\"17\" font-weight=\"bold\" fill=\"#222\">", PAD_L);
	buf_append_xml(&b, c->title);
	buf_appends(&b, "</text>");
	legend(&b, c);
	axis(&b, top, c->ratio);
	if (!any || !c->n) {
		buf_appendf(&b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" fill=\"#888\">no data</text>",
			    PAD_L + plot_w() / 2, PAD_T + plot_h() / 2);
	} else {
		if (c->lines)
			lines(&b, c, top);
		else
			bars(&b, c, top);
		labels(&b, c);
	}
	if (c->target >= 0 && c->target <= top) {
		double y = yof(c->target, top);
		buf_appendf(&b, "<line x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#b22\""
			    " stroke-dasharray=\"4 3\"/><text x=\"%d\" y=\"%.1f\" text-anchor=\"end\""
			    " fill=\"#b22\">", PAD_L, RCHART_W - PAD_R, y, y, RCHART_W - PAD_R, y - 3);
		buf_append_xml(&b, c->target_label);
		buf_appends(&b, "</text>");
	}
	buf_appends(&b, "</svg>");
	out = buf_appends(&b, "") == RC_OK && b.len < CHART_BYTES_MAX - 16 ? arena_strdup(a, buf_str(&b))
									    : NULL;
	buf_release(&b);
	return out;
}
