/*
 * report.c: the agent's JSON (see report.h).
 */
#include "report.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void jw_init(struct jw *w)
{
	memset(w, 0, sizeof(*w));
}

void jw_free(struct jw *w)
{
	free(w->buf);
	jw_init(w);
}

static void put(struct jw *w, const char *s, size_t n)
{
	if (w->failed)
		return;
	if (w->len + n + 1 > w->cap) {
		size_t cap = w->cap ? w->cap : 1024;
		char *b;
		while (w->len + n + 1 > cap)
			cap *= 2;
		b = realloc(w->buf, cap);
		if (!b) {
			w->failed = true;
			return;
		}
		w->buf = b;
		w->cap = cap;
	}
	memcpy(w->buf + w->len, s, n);
	w->len += n;
	w->buf[w->len] = '\0';
}

static void puts_(struct jw *w, const char *s)
{
	put(w, s, strlen(s));
}

/* A comma before every value but the first of a level. */
static void sep(struct jw *w)
{
	if (w->comma)
		put(w, ",", 1);
	w->comma = true;
}

void jw_open(struct jw *w, char bracket)
{
	sep(w);
	put(w, &bracket, 1);
	w->comma = false;
}

void jw_close(struct jw *w, char bracket)
{
	put(w, &bracket, 1);
	w->comma = true;
}

/* The length of the valid UTF-8 sequence at s (1..4), or 0 when the
 * bytes there are not one (RFC 3629: no overlongs, no surrogates, at most
 * U+10FFFF). */
static int utf8_len(const unsigned char *s)
{
	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		return (s[1] & 0xc0) == 0x80 ? 2 : 0;
	if (s[0] >= 0xe0 && s[0] <= 0xef) {
		if ((s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80)
			return 0;
		if ((s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] > 0x9f))
			return 0;
		return 3;
	}
	if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		if ((s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80 || (s[3] & 0xc0) != 0x80)
			return 0;
		if ((s[0] == 0xf0 && s[1] < 0x90) || (s[0] == 0xf4 && s[1] > 0x8f))
			return 0;
		return 4;
	}
	return 0;
}

static void str_raw(struct jw *w, const char *s)
{
	put(w, "\"", 1);
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		char esc[8];
		int n = utf8_len((const unsigned char *)s);
		if (n == 0) {
			/* Not UTF-8 (a Latin-1 mount point, say): U+FFFD, so that
			 * the server can read the rest. */
			put(w, "\xef\xbf\xbd", 3);
			continue;
		}
		if (n > 1) {
			put(w, s, (size_t)n);
			s += n - 1;
			continue;
		}
		if (ch == '"' || ch == '\\') {
			esc[0] = '\\';
			esc[1] = (char)ch;
			put(w, esc, 2);
		} else if (ch < 0x20) {
			snprintf(esc, sizeof(esc), "\\u%04x", ch);
			put(w, esc, 6);
		} else {
			put(w, (const char *)&ch, 1);
		}
	}
	put(w, "\"", 1);
}

void jw_key(struct jw *w, const char *key)
{
	sep(w);
	str_raw(w, key);
	put(w, ":", 1);
	w->comma = false;
}

void jw_str(struct jw *w, const char *s)
{
	sep(w);
	if (s)
		str_raw(w, s);
	else
		puts_(w, "null");
}

void jw_num(struct jw *w, double v)
{
	char num[40];

	sep(w);
	if (!isfinite(v)) {
		puts_(w, "null");
		return;
	}
	/* The shortest of 15 or 17 significant digits that reads back as v
	 * (17 always do; 15 are enough for most readings: 0.89, not
	 * 0.89000000000000001). */
	snprintf(num, sizeof(num), "%.15g", v);
	if (strtod(num, NULL) != v)
		snprintf(num, sizeof(num), "%.17g", v);
	puts_(w, num);
}

void jw_u64(struct jw *w, uint64_t v)
{
	char num[24];

	sep(w);
	snprintf(num, sizeof(num), "%llu", (unsigned long long)v);
	puts_(w, num);
}

/* ---- the bodies --------------------------------------------------------------- */

static void metric(struct jw *w, const char *name, double value, const char *label,
		   const char *label_value)
{
	jw_open(w, '{');
	jw_key(w, "name");
	jw_str(w, name);
	jw_key(w, "value");
	jw_num(w, value);
	if (label) {
		jw_key(w, "labels");
		jw_open(w, '{');
		jw_key(w, label);
		jw_str(w, label_value);
		jw_close(w, '}');
	}
	jw_close(w, '}');
}

static void inventory(struct jw *w, const struct inventory *inv)
{
	jw_open(w, '{');
	jw_key(w, "hostname");
	jw_str(w, inv->hostname);
	jw_key(w, "os");
	jw_str(w, inv->os);
	jw_key(w, "kernel");
	jw_str(w, inv->kernel);
	jw_key(w, "cpu_model");
	jw_str(w, inv->cpu.model);
	jw_key(w, "cpu_count");
	jw_u64(w, (uint64_t)inv->cpu.count);
	jw_key(w, "memory_bytes");
	jw_u64(w, inv->mem_total);
	jw_key(w, "agent_version");
	jw_str(w, inv->agent_version);
	jw_key(w, "disks");
	jw_open(w, '[');
	for (int i = 0; i < inv->nfs; i++) {
		jw_open(w, '{');
		jw_key(w, "mount");
		jw_str(w, inv->fs[i].mount);
		jw_key(w, "free_bytes");
		jw_u64(w, inv->fs[i].free_bytes);
		jw_close(w, '}');
	}
	jw_close(w, ']');
	jw_key(w, "addresses");
	jw_open(w, '[');
	for (int i = 0; i < inv->naddr; i++)
		jw_str(w, inv->addr[i]);
	jw_close(w, ']');
	jw_close(w, '}');
}

void report_checkin(struct jw *w, uint64_t batch_id, int64_t at_ms, const struct reading *r,
		    const struct inventory *inv)
{
	jw_open(w, '{');
	jw_key(w, "batch_id");
	jw_u64(w, batch_id);
	jw_key(w, "at");
	jw_u64(w, (uint64_t)at_ms);
	jw_key(w, "metrics");
	jw_open(w, '[');
	if (r->cpu_percent >= 0)
		metric(w, "cpu.percent", r->cpu_percent, NULL, NULL);
	metric(w, "load.1", r->load.load1, NULL, NULL);
	metric(w, "load.5", r->load.load5, NULL, NULL);
	metric(w, "load.15", r->load.load15, NULL, NULL);
	metric(w, "processes.count", r->load.processes, NULL, NULL);
	metric(w, "mem.used_percent", used_percent(r->mem.total, r->mem.available), NULL, NULL);
	metric(w, "mem.available_bytes", (double)r->mem.available, NULL, NULL);
	metric(w, "swap.used_percent", used_percent(r->mem.swap_total, r->mem.swap_free), NULL, NULL);
	metric(w, "uptime.seconds", r->uptime, NULL, NULL);
	metric(w, "net.rx_bytes", (double)r->net.rx, NULL, NULL);
	metric(w, "net.tx_bytes", (double)r->net.tx, NULL, NULL);
	for (int i = 0; i < r->nfs; i++) {
		metric(w, "disk.used_percent", r->fs[i].used_percent, "mount", r->fs[i].mount);
		metric(w, "disk.free_bytes", (double)r->fs[i].free_bytes, "mount", r->fs[i].mount);
		if (r->fs[i].inodes_used_percent >= 0)
			metric(w, "disk.inodes_used_percent", r->fs[i].inodes_used_percent, "mount",
			       r->fs[i].mount);
	}
	for (int i = 0; i < r->nproc; i++)
		metric(w, "process.running", r->proc_running[i] ? 1 : 0, "name", r->proc_name[i]);
	for (int i = 0; i < r->nsvc; i++)
		if (r->svc_running[i] >= 0)
			metric(w, "service.running", r->svc_running[i], "name", r->svc_name[i]);
	jw_close(w, ']');
	if (inv) {
		jw_key(w, "inventory");
		inventory(w, inv);
	}
	jw_close(w, '}');
}

void report_enroll(struct jw *w, const char *enroll_token, const struct inventory *inv)
{
	jw_open(w, '{');
	jw_key(w, "enroll_token");
	jw_str(w, enroll_token);
	jw_key(w, "hostname");
	jw_str(w, inv->hostname);
	jw_key(w, "os");
	jw_str(w, inv->os);
	jw_key(w, "inventory");
	inventory(w, inv);
	jw_close(w, '}');
}
