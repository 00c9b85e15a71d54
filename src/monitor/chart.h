/*
 * chart.h: a small SVG line chart of one series (issue 7), drawn by the
 * server so the same chart appears in the UI, in e-mail and in print
 * (DESIGN.md section 2). Pure: points in, text out.
 */
#ifndef ITSUP_MONITOR_CHART_H
#define ITSUP_MONITOR_CHART_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/arena.h"
#include "store/store.h"

#define CHART_W 640
#define CHART_H 180

/* The chart of points (ascending at) over from..to, titled title (escaped
 * here): the mean as a line, min..max as a band, the value axis' ends and
 * the time axis' ends as labels (UTC). percent: the value axis is 0..100
 * (wider only if the data is). "No data" when n is 0. NULL: no memory. */
const char *chart_svg(struct arena *a, const struct series_point *p, size_t n, int64_t from,
		      int64_t to, const char *title, bool percent);

#endif
