/*
 * charts.h: the review pack's SVG charts (issue 9; docs/REPORTS.md "The
 * printable pack"), drawn by the server so that the same chart is in the
 * browser, in print and in the e-mailed pack. Pure: values in, text out.
 *
 * One chart kind covers the pack's four: a category axis (weeks,
 * priorities, ratings) with one or more series drawn as grouped bars or
 * as lines, an optional target line (the FCR target), and a value axis
 * from 0 to a round number above the largest value (0..100 % for
 * ratios). A value that is NAN is "none": no bar, a gap in a line.
 */
#ifndef ITSUP_REPORT_CHARTS_H
#define ITSUP_REPORT_CHARTS_H

#include <stdbool.h>
#include <stddef.h>

#include "base/arena.h"

#define RCHART_W 640
#define RCHART_H 220
#define RCHART_MAX_SERIES 4

struct rchart_series {
	const char *name;      /* in the legend (escaped here) */
	const double *v;       /* n values; NAN: none */
};

struct rchart {
	const char *title;             /* escaped here */
	const char *const *labels;     /* n category labels (escaped here) */
	size_t n;
	const struct rchart_series *series;
	size_t nseries;                /* 1..RCHART_MAX_SERIES */
	bool lines;                    /* lines through the categories, else grouped bars */
	bool ratio;                    /* values are 0..1, shown as 0..100 % */
	double target;                 /* a dashed line at this value; < 0: none */
	const char *target_label;      /* its label (escaped here) */
};

/* The chart as an <svg> element; "no data" when every value is none.
 * NULL when out of memory or the chart is malformed (no series, too
 * many). */
const char *rchart_svg(struct arena *a, const struct rchart *c);

/* Pure: the smallest of 1, 2, 5 times a power of ten that is >= v (1
 * for v <= 1). */
double rchart_nice_max(double v);

#endif
