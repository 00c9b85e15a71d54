/*
 * bench/monitor/load.c: monitor-load, the load generator of monitoring's
 * benchmark (issue 7; bench/monitor/README.md). It plays many itsup-agents
 * at once against one itsup server:
 *
 *   monitor-load --url http://127.0.0.1:PORT --enroll-token T
 *                [--devices 10000] [--seconds 10] [--connections 32]
 *                [--threads 1] [--metrics 20] [--hot-percent 5]
 *                [--warmup-rounds 1]
 *
 * 1. Enrolment: POST /api/v1/agent/enroll {enroll_token, hostname, os}
 *    for every device (hostnames monload-000001, ...), over the same
 *    connections; each answer's device_token is kept.
 * 2. Warm-up: every device checks in --warmup-rounds times (its series
 *    are created by the first one), not measured.
 * 3. Measured: for --seconds, check-ins POST /api/v1/agent/checkin with
 *    the device's bearer token and {batch_id, at, metrics:[...]}, the
 *    names and labels itsup-agent sends (agent/report.c). Each device's
 *    batch_id grows by one and its at (ms) is the wall clock, strictly
 *    growing per device. --hot-percent of the devices report /var at
 *    95 % used, past the default "Disk full" check (> 90), so alerts are
 *    raised and evaluated on every check-in.
 *
 * Design (the generator must cost little beside the server it measures):
 *  - Closed loop: each of --connections keep-alive HTTP/1.1 connections
 *    has one request in flight; connection k serves devices k, k + C,
 *    k + 2C, ... in turn, so a device is never in flight twice and its
 *    batches arrive in order.
 *  - Connections are split over --threads threads, each with its own
 *    epoll set; no locks while running.
 *  - Every request is formatted once at start (headers and body); before
 *    each send only batch_id and at are written in place, into
 *    fixed-width fields padded with spaces (JSON whitespace), so the
 *    Content-Length never changes.
 *  - Answers: only the status line, Content-Length and Connection: close
 *    are read from the headers; the body is kept (it is small) for the
 *    enrolment's device_token (jansson) and the check-in's "stored".
 *  - Latency: per request, from the first byte sent to the last byte of
 *    the answer read (CLOCK_MONOTONIC).
 *  - A connection closed with a request in flight counts as a socket
 *    error ("unanswered": the server may or may not have stored it), is
 *    reopened, and its next device goes on; nothing is sent again.
 *
 * Output: a summary, then one line for scripts:
 *   RESULT devices=... checkins=... ok=... non2xx=... errors=...
 *          samples=... stored=... seconds=... checkins_per_s=...
 *          samples_per_s=... p50_ms=... p99_ms=... max_ms=...
 * (ok, samples, stored: measured phase; acked_samples_total and
 * stored_total include the warm-up, for the database check.)
 * Exit status: 0 when every answer was 2xx and nothing went unanswered,
 * 1 otherwise, 2 on bad usage or a failed enrolment.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#define RBUF_CAP 16384          /* headers and the part of a body that is kept */
#define BATCH_W 12              /* width of the batch_id field */
#define AT_W 15                 /* width of the at field (ms) */
#define MAX_METRICS 1000        /* the server's limit per check-in */
#define DRAIN_SECONDS 30        /* how long answers are awaited after the end */
#define TOKEN_MAX 256

/* ---- options ------------------------------------------------------------- */

static struct {
	const char *url;
	const char *enroll_token;
	long devices;
	double seconds;
	long connections;
	long threads;
	long metrics;
	long hot_percent;
	long warmup_rounds;
	char host[256];           /* Host: header value */
	char node[256];
	char service[16];
	struct sockaddr_storage addr;
	socklen_t addrlen;
	int family;
} opt = {
	.devices = 10000, .seconds = 10, .connections = 32, .threads = 1, .metrics = 20,
	.hot_percent = 5, .warmup_rounds = 1,
};

/* ---- devices ------------------------------------------------------------- */

struct device {
	char *req;                /* the pre-formatted request (enrolment, then check-in) */
	uint32_t req_len;
	uint32_t off_batch;       /* where batch_id's field starts in req */
	uint32_t off_at;
	uint64_t batch;           /* last batch_id sent */
	int64_t last_at;          /* last at sent (ms) */
	int64_t device_id;
	char *token;              /* device token */
};

static struct device *devs;

/* ---- time ---------------------------------------------------------------- */

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int64_t wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- small helpers ------------------------------------------------------- */

__attribute__((format(printf, 1, 2), noreturn))
static void die(const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "monitor-load: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

/* A growable text buffer for building requests at start. */
struct sb {
	char *s;
	size_t len, cap;
};

static void sb_put(struct sb *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 512;
		while (b->len + n + 1 > cap)
			cap *= 2;
		b->s = realloc(b->s, cap);
		if (!b->s)
			die("%s", "out of memory");
		b->cap = cap;
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

static void sb_puts(struct sb *b, const char *s)
{
	sb_put(b, s, strlen(s));
}

__attribute__((format(printf, 2, 3)))
static void sb_printf(struct sb *b, const char *fmt, ...)
{
	char tmp[1024];
	va_list ap;
	int n;
	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(tmp))
		die("%s", "formatting overflow");
	sb_put(b, tmp, (size_t)n);
}

/* Writes v right-aligned into field[0..w), spaces before. */
static void put_field(char *field, int w, uint64_t v)
{
	int i = w;
	do {
		field[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v && i > 0);
	while (i > 0)
		field[--i] = ' ';
}

static long parse_long(const char *s, const char *name, long min, long max)
{
	char *end;
	long v;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max)
		die("bad value for --%s", name);
	return v;
}

/* ---- the URL ------------------------------------------------------------- */

static void parse_url(const char *url)
{
	const char *p, *slash, *colon;
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res = NULL;
	size_t n;
	int rc;

	if (strncmp(url, "http://", 7))
		die("--url must start with http:// (got %s)", url);
	p = url + 7;
	slash = strchr(p, '/');
	if (slash && strcmp(slash, "/"))
		die("--url takes no path (got %s)", url);
	n = slash ? (size_t)(slash - p) : strlen(p);
	if (!n || n >= sizeof(opt.host))
		die("bad --url %s", url);
	memcpy(opt.host, p, n);
	opt.host[n] = '\0';
	if (opt.host[0] == '[') {
		const char *close = strchr(opt.host, ']');
		if (!close)
			die("bad --url %s", url);
		n = (size_t)(close - opt.host - 1);
		memcpy(opt.node, opt.host + 1, n);
		opt.node[n] = '\0';
		colon = close[1] == ':' ? close + 1 : NULL;
	} else {
		colon = strrchr(opt.host, ':');
		n = colon ? (size_t)(colon - opt.host) : strlen(opt.host);
		memcpy(opt.node, opt.host, n);
		opt.node[n] = '\0';
	}
	snprintf(opt.service, sizeof(opt.service), "%s", colon ? colon + 1 : "80");
	rc = getaddrinfo(opt.node, opt.service, &hints, &res);
	if (rc || !res)
		die("cannot resolve %s", url);
	memcpy(&opt.addr, res->ai_addr, res->ai_addrlen);
	opt.addrlen = res->ai_addrlen;
	opt.family = res->ai_family;
	freeaddrinfo(res);
}

/* ---- requests ------------------------------------------------------------ */

struct metric_def {
	const char *name;
	const char *label, *label_value;
};

/* itsup-agent's metrics (agent/report.c): 11 plain, 3 per mount for two
 * mounts, process.running for three processes: 20. More than 20 adds
 * process.running of made-up services. */
static const struct metric_def metric_defs[] = {
	{ "cpu.percent", NULL, NULL },
	{ "load.1", NULL, NULL },
	{ "load.5", NULL, NULL },
	{ "load.15", NULL, NULL },
	{ "processes.count", NULL, NULL },
	{ "mem.used_percent", NULL, NULL },
	{ "mem.available_bytes", NULL, NULL },
	{ "swap.used_percent", NULL, NULL },
	{ "uptime.seconds", NULL, NULL },
	{ "net.rx_bytes", NULL, NULL },
	{ "net.tx_bytes", NULL, NULL },
	{ "disk.used_percent", "mount", "/" },
	{ "disk.free_bytes", "mount", "/" },
	{ "disk.inodes_used_percent", "mount", "/" },
	{ "disk.used_percent", "mount", "/var" },
	{ "disk.free_bytes", "mount", "/var" },
	{ "disk.inodes_used_percent", "mount", "/var" },
	{ "process.running", "name", "sshd" },
	{ "process.running", "name", "cron" },
	{ "process.running", "name", "rsyslogd" },
};
#define NDEFS (sizeof(metric_defs) / sizeof(metric_defs[0]))

static bool device_hot(long d)
{
	return d % 100 < opt.hot_percent;
}

/* A plausible reading for device d, metric i (fixed per device). */
static double metric_value(long d, long i)
{
	uint64_t h = (uint64_t)d * 2654435761u + (uint64_t)i * 40503u;
	double r = (double)(h % 1000) / 1000.0;   /* 0 .. 0.999 */
	if (i >= (long)NDEFS)
		return 1;
	switch (i) {
	case 0: return 2 + 40 * r;                 /* cpu.percent */
	case 1: return 0.1 + 2 * r;
	case 2: return 0.1 + 1.5 * r;
	case 3: return 0.1 + r;
	case 4: return 80 + (double)(h % 300);
	case 5: return 20 + 60 * r;                /* mem.used_percent: under 95 */
	case 6: return 1e9 + (double)(h % 8000) * 1e6;
	case 7: return 5 * r;
	case 8: return 3600 + (double)(h % 5000000);
	case 9: return 1e8 + (double)(h % 100000) * 1e5;
	case 10: return 5e7 + (double)(h % 100000) * 1e4;
	case 11: return 20 + 50 * r;               /* disk.used_percent / */
	case 12: return 1e10 + (double)(h % 1000) * 1e8;
	case 13: return 1 + 20 * r;
	case 14: return device_hot(d) ? 95.5 : 10 + 60 * r;   /* disk.used_percent /var */
	case 15: return device_hot(d) ? 4.5e8 : 5e9 + (double)(h % 1000) * 1e7;
	case 16: return 1 + 10 * r;
	default: return 1;                         /* process.running */
	}
}

static void put_request_head(struct sb *b, const char *path, const char *token, size_t body_len)
{
	sb_printf(b, "POST %s HTTP/1.1\r\nHost: %s\r\n", path, opt.host);
	if (token)
		sb_printf(b, "Authorization: Bearer %s\r\n", token);
	sb_printf(b, "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n", body_len);
}

static void build_enroll(long d)
{
	struct sb body = { 0 }, req = { 0 };
	sb_puts(&body, "{\"enroll_token\":\"");
	sb_puts(&body, opt.enroll_token);
	sb_printf(&body, "\",\"hostname\":\"monload-%06ld\",\"os\":\"Debian GNU/Linux 12 (bookworm)\"}",
		  d + 1);
	put_request_head(&req, "/api/v1/agent/enroll", NULL, body.len);
	sb_put(&req, body.s, body.len);
	free(body.s);
	free(devs[d].req);
	devs[d].req = req.s;
	devs[d].req_len = (uint32_t)req.len;
}

static void build_checkin(long d)
{
	struct sb body = { 0 }, req = { 0 };
	size_t off_batch, off_at, head;
	char pad[32];

	memset(pad, ' ', sizeof(pad));
	sb_puts(&body, "{\"batch_id\":");
	off_batch = body.len;
	sb_put(&body, pad, BATCH_W);
	sb_puts(&body, ",\"at\":");
	off_at = body.len;
	sb_put(&body, pad, AT_W);
	sb_puts(&body, ",\"metrics\":[");
	for (long i = 0; i < opt.metrics; i++) {
		const struct metric_def *m = &metric_defs[i < (long)NDEFS ? i : (long)NDEFS - 1];
		if (i)
			sb_puts(&body, ",");
		sb_printf(&body, "{\"name\":\"%s\",\"value\":%.17g", m->name, metric_value(d, i));
		if (i >= (long)NDEFS)
			sb_printf(&body, ",\"labels\":{\"name\":\"svc-%ld\"}", i - (long)NDEFS + 1);
		else if (m->label)
			sb_printf(&body, ",\"labels\":{\"%s\":\"%s\"}", m->label, m->label_value);
		sb_puts(&body, "}");
	}
	sb_puts(&body, "]}");
	put_request_head(&req, "/api/v1/agent/checkin", devs[d].token, body.len);
	head = req.len;
	sb_put(&req, body.s, body.len);
	free(body.s);
	free(devs[d].req);
	devs[d].req = req.s;
	devs[d].req_len = (uint32_t)req.len;
	devs[d].off_batch = (uint32_t)(head + off_batch);
	devs[d].off_at = (uint32_t)(head + off_at);
}

/* The next batch of device d: batch_id + 1, at = now (strictly growing). */
static void stamp_checkin(struct device *v)
{
	int64_t at = wall_ms();
	if (at <= v->last_at)
		at = v->last_at + 1;
	v->last_at = at;
	v->batch++;
	put_field(v->req + v->off_batch, BATCH_W, v->batch);
	put_field(v->req + v->off_at, AT_W, (uint64_t)at);
}

/* ---- connections and phases --------------------------------------------- */

enum phase { PH_ENROLL, PH_CHECKIN };

struct conn {
	int fd;
	bool busy;                /* a request is in flight */
	bool done;                /* no more requests on this connection */
	bool want_out;            /* EPOLLOUT is registered */
	bool close_after;         /* the answer said Connection: close */
	long next;                /* next device index */
	long cur;                 /* device of the request in flight */
	uint32_t sent;
	uint64_t t0;
	size_t rlen;              /* bytes in rbuf */
	size_t head_len;          /* 0 until the headers are complete */
	long content_length;
	size_t discarded;         /* body bytes read past rbuf (not kept) */
	long rounds_left;
	int status;
	char rbuf[RBUF_CAP];
};

struct stats {
	uint64_t requests;        /* answered */
	uint64_t ok;              /* 2xx */
	uint64_t non2xx;
	uint64_t errors;          /* socket errors / unanswered */
	uint64_t stored;          /* sum of "stored" in check-in answers */
	uint64_t duplicates;
	uint64_t status[600];
	uint32_t *lat_us;         /* one per answered request */
	size_t nlat, caplat;
	uint64_t t_end;           /* monotonic time of the last answer */
	char first_bad[400];      /* status and body of the first non-2xx */
};

struct worker {
	pthread_t tid;
	int ep;
	enum phase phase;
	long rounds;              /* 0: timed */
	uint64_t deadline;        /* monotonic ns; timed phases */
	struct conn *conns;
	long nconns;
	long conn_base;           /* global index of conns[0] */
	struct stats st;
};

static atomic_bool interrupted;

static void on_sigint(int sig)
{
	(void)sig;
	atomic_store(&interrupted, true);
}

static void stats_lat(struct stats *st, uint64_t ns)
{
	uint64_t us = ns / 1000;
	if (st->nlat == st->caplat) {
		size_t cap = st->caplat ? st->caplat * 2 : 65536;
		uint32_t *p = realloc(st->lat_us, cap * sizeof(*p));
		if (!p)
			die("out of memory");
		st->lat_us = p;
		st->caplat = cap;
	}
	st->lat_us[st->nlat++] = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
}

static void note_bad(struct stats *st, const char *what, const char *body, size_t len)
{
	if (st->first_bad[0])
		return;
	if (len > 300)
		len = 300;
	snprintf(st->first_bad, sizeof(st->first_bad), "%s %.*s", what, (int)len, body ? body : "");
	for (char *p = st->first_bad; *p; p++)
		if (*p == '\r' || *p == '\n')
			*p = ' ';
}

static int set_events(struct worker *w, struct conn *c, bool out)
{
	struct epoll_event ev = { .events = EPOLLIN | (out ? (uint32_t)EPOLLOUT : 0u), .data.ptr = c };
	c->want_out = out;
	return epoll_ctl(w->ep, EPOLL_CTL_MOD, c->fd, &ev);
}

static int open_conn(struct worker *w, struct conn *c)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = c };
	int one = 1;
	int fd = socket(opt.family, SOCK_STREAM | SOCK_CLOEXEC, 0);

	c->fd = -1;
	if (fd < 0)
		return -1;
	if (connect(fd, (const struct sockaddr *)&opt.addr, opt.addrlen) != 0 ||
	    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) != 0 ||
	    epoll_ctl(w->ep, EPOLL_CTL_ADD, fd, &ev) != 0) {
		close(fd);
		return -1;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->fd = fd;
	c->want_out = false;
	return 0;
}

static void close_conn(struct conn *c)
{
	if (c->fd >= 0)
		close(c->fd);   /* leaves the epoll set with its last descriptor */
	c->fd = -1;
}

static void start_next(struct worker *w, struct conn *c);

static void do_send(struct worker *w, struct conn *c);

/* The connection broke (or answered nonsense) with a request in flight. */
static void conn_error(struct worker *w, struct conn *c, const char *what)
{
	if (c->busy) {
		char tmp[64];
		w->st.errors++;
		snprintf(tmp, sizeof(tmp), "socket error (%s):", what);
		note_bad(&w->st, tmp, NULL, 0);
	}
	c->busy = false;
	close_conn(c);
	start_next(w, c);
}

/* Is there another request for this connection? Moves c->next on. */
static bool take_next(struct worker *w, struct conn *c, long *d)
{
	long stride = opt.connections;
	if (c->done)
		return false;
	if (atomic_load(&interrupted) || (!w->rounds && mono_ns() >= w->deadline)) {
		c->done = true;
		return false;
	}
	if (c->next >= opt.devices) {
		/* One round over this connection's devices is over. */
		long first = w->conn_base + (c - w->conns);
		if (w->rounds && --c->rounds_left <= 0) {
			c->done = true;
			return false;
		}
		c->next = first;
		if (c->next >= opt.devices) {
			c->done = true;
			return false;
		}
	}
	*d = c->next;
	c->next += stride;
	return true;
}

static void start_next(struct worker *w, struct conn *c)
{
	long d;
	if (!take_next(w, c, &d)) {
		close_conn(c);
		return;
	}
	if (c->fd < 0 && open_conn(w, c) != 0) {
		w->st.errors++;
		note_bad(&w->st, "cannot connect:", strerror(errno), strlen(strerror(errno)));
		c->done = true;
		return;
	}
	if (w->phase == PH_CHECKIN)
		stamp_checkin(&devs[d]);
	c->cur = d;
	c->busy = true;
	c->sent = 0;
	c->rlen = 0;
	c->head_len = 0;
	c->content_length = -1;
	c->discarded = 0;
	c->status = 0;
	c->close_after = false;
	c->t0 = mono_ns();
	do_send(w, c);
}

static void do_send(struct worker *w, struct conn *c)
{
	const struct device *v = &devs[c->cur];
	while (c->sent < v->req_len) {
		ssize_t n = send(c->fd, v->req + c->sent, v->req_len - c->sent, MSG_NOSIGNAL);
		if (n > 0) {
			c->sent += (uint32_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (!c->want_out && set_events(w, c, true) != 0)
				conn_error(w, c, "epoll");
			return;
		}
		conn_error(w, c, "send");
		return;
	}
	if (c->want_out && set_events(w, c, false) != 0)
		conn_error(w, c, "epoll");
}

/* Headers complete in rbuf[0..head_len): the status and what matters. */
static bool parse_head(struct conn *c)
{
	const char *p = c->rbuf, *end = c->rbuf + c->head_len;
	if (c->head_len < 16 || strncmp(p, "HTTP/1.", 7) || p[8] != ' ' ||
	    p[9] < '1' || p[9] > '5' || p[10] < '0' || p[10] > '9' || p[11] < '0' || p[11] > '9')
		return false;
	c->status = (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
	p = memchr(p, '\n', (size_t)(end - p));
	while (p && ++p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		size_t n = eol ? (size_t)(eol - p) : (size_t)(end - p);
		if (n > 15 && !strncasecmp(p, "content-length:", 15)) {
			char num[24];
			size_t k = n - 15 < sizeof(num) - 1 ? n - 15 : sizeof(num) - 1;
			memcpy(num, p + 15, k);
			num[k] = '\0';
			c->content_length = strtol(num, NULL, 10);
		} else if (n > 11 && !strncasecmp(p, "connection:", 11)) {
			if (memmem(p, n, "close", 5) || memmem(p, n, "Close", 5))
				c->close_after = true;
		} else if (n > 18 && !strncasecmp(p, "transfer-encoding:", 18)) {
			return false;   /* chunked: not expected from itsup */
		}
		p = eol;
	}
	if (c->content_length < 0 && (c->status == 204 || c->status == 304))
		c->content_length = 0;
	return c->content_length >= 0;
}

static void on_answer(struct worker *w, struct conn *c)
{
	struct stats *st = &w->st;
	uint64_t now = mono_ns();
	const char *body = c->rbuf + c->head_len;
	size_t kept = c->rlen - c->head_len;
	struct device *v = &devs[c->cur];

	stats_lat(st, now - c->t0);
	st->t_end = now;
	st->requests++;
	st->status[c->status]++;
	c->busy = false;
	if (c->status >= 200 && c->status < 300) {
		st->ok++;
		if (w->phase == PH_ENROLL) {
			json_error_t jerr;
			json_t *j = json_loadb(body, kept, 0, &jerr);
			const char *tok = json_string_value(json_object_get(j, "device_token"));
			if (tok && strlen(tok) < TOKEN_MAX) {
				v->token = strdup(tok);
				v->device_id = (int64_t)json_integer_value(json_object_get(j, "device_id"));
			} else {
				st->ok--;
				st->non2xx++;
				note_bad(st, "enrolment answer without device_token:", body, kept);
			}
			json_decref(j);
		} else {
			const char *s = memmem(body, kept, "\"stored\":", 9);
			if (s)
				st->stored += strtoull(s + 9, NULL, 10);
			if (memmem(body, kept, "\"duplicate\":true", 16))
				st->duplicates++;
		}
	} else {
		char tmp[32];
		st->non2xx++;
		snprintf(tmp, sizeof(tmp), "HTTP %d:", c->status);
		note_bad(st, tmp, body, kept);
	}
	if (c->close_after)
		close_conn(c);
	start_next(w, c);
}

static void do_read(struct worker *w, struct conn *c)
{
	static __thread char scratch[65536];
	char *dst;
	size_t room;
	ssize_t n;

	if (c->rlen < RBUF_CAP) {
		dst = c->rbuf + c->rlen;
		room = RBUF_CAP - c->rlen;
	} else if (c->head_len) {
		dst = scratch;
		room = sizeof(scratch);
	} else {
		conn_error(w, c, "headers too long");
		return;
	}
	n = recv(c->fd, dst, room, 0);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return;
	if (n <= 0) {
		conn_error(w, c, n == 0 ? "closed by the server" : "recv");
		return;
	}
	if (!c->busy) {
		conn_error(w, c, "bytes without a request");
		return;
	}
	if (dst == scratch)
		c->discarded += (size_t)n;
	else
		c->rlen += (size_t)n;
	if (!c->head_len) {
		char *e = memmem(c->rbuf, c->rlen, "\r\n\r\n", 4);
		if (!e)
			return;
		c->head_len = (size_t)(e - c->rbuf) + 4;
		if (!parse_head(c)) {
			note_bad(&w->st, "unreadable answer:", c->rbuf, c->rlen);
			conn_error(w, c, "unreadable answer");
			return;
		}
	}
	{
		size_t body = c->rlen - c->head_len + c->discarded;
		if (body > (size_t)c->content_length)
			conn_error(w, c, "more bytes than Content-Length");
		else if (body == (size_t)c->content_length)
			on_answer(w, c);
	}
}

/* Requests waiting longer than this are given up (a stuck server). */
#define REQUEST_TIMEOUT_NS (60ull * 1000000000u)

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct epoll_event evs[128];
	uint64_t last_scan = mono_ns(), t_stop = 0;   /* t_stop: when interrupted */

	for (long i = 0; i < w->nconns; i++) {
		struct conn *c = &w->conns[i];
		c->fd = -1;
		c->next = w->conn_base + i;
		c->rounds_left = w->rounds;
		start_next(w, c);
	}
	for (;;) {
		long open = 0;
		uint64_t now;
		int n = epoll_wait(w->ep, evs, 128, 100);
		if (n < 0 && errno != EINTR)
			die("epoll_wait: %s", strerror(errno));
		for (int i = 0; i < n; i++) {
			struct conn *c = evs[i].data.ptr;
			if (c->fd < 0)
				continue;
			if ((evs[i].events & EPOLLOUT) && c->busy)
				do_send(w, c);
			if (c->fd >= 0 && (evs[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP)))
				do_read(w, c);
		}
		now = mono_ns();
		if (now - last_scan < 100000000u && n > 0)
			continue;
		last_scan = now;
		if (atomic_load(&interrupted) && !t_stop)
			t_stop = now;
		for (long i = 0; i < w->nconns; i++) {
			struct conn *c = &w->conns[i];
			bool drained = (!w->rounds && now > w->deadline + DRAIN_SECONDS * 1000000000ull) ||
				       (t_stop && now > t_stop + 5000000000ull);
			if (c->busy && (now - c->t0 > REQUEST_TIMEOUT_NS || drained)) {
				c->done = c->done || drained;
				conn_error(w, c, "no answer in time");
			} else if (!c->busy && !c->done && c->fd >= 0) {
				/* idle after a timeout reached in take_next (interrupt) */
				start_next(w, c);
			}
			if (c->busy)
				open++;
		}
		if (!open)
			break;
	}
	for (long i = 0; i < w->nconns; i++)
		close_conn(&w->conns[i]);
	return NULL;
}

struct phase_result {
	struct stats st;
	double seconds;           /* first send to last answer */
	double cpu_seconds;       /* this process's user + system time */
};

static double cpu_now(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static void run_phase(enum phase ph, long rounds, double seconds, struct phase_result *out)
{
	long nt = opt.threads < opt.connections ? opt.threads : opt.connections;
	struct worker *ws = calloc((size_t)nt, sizeof(*ws));
	struct conn *conns = calloc((size_t)opt.connections, sizeof(*conns));
	uint64_t t0 = mono_ns(), t_end = t0;
	double cpu0 = cpu_now();

	if (!ws || !conns)
		die("out of memory");
	memset(out, 0, sizeof(*out));
	for (long t = 0; t < nt; t++) {
		struct worker *w = &ws[t];
		long a = t * opt.connections / nt, b = (t + 1) * opt.connections / nt;
		w->ep = epoll_create1(EPOLL_CLOEXEC);
		if (w->ep < 0)
			die("epoll_create1: %s", strerror(errno));
		w->phase = ph;
		w->rounds = rounds;
		w->deadline = t0 + (uint64_t)(seconds * 1e9);
		w->conns = conns + a;
		w->nconns = b - a;
		w->conn_base = a;
		if (pthread_create(&w->tid, NULL, worker_main, w) != 0)
			die("pthread_create failed");
	}
	for (long t = 0; t < nt; t++) {
		struct worker *w = &ws[t];
		struct stats *s = &w->st, *d = &out->st;
		pthread_join(w->tid, NULL);
		close(w->ep);
		d->requests += s->requests;
		d->ok += s->ok;
		d->non2xx += s->non2xx;
		d->errors += s->errors;
		d->stored += s->stored;
		d->duplicates += s->duplicates;
		for (int k = 0; k < 600; k++)
			d->status[k] += s->status[k];
		if (!d->first_bad[0] && s->first_bad[0])
			memcpy(d->first_bad, s->first_bad, sizeof(d->first_bad));
		if (s->nlat) {
			uint32_t *p = realloc(d->lat_us, (d->nlat + s->nlat) * sizeof(*p));
			if (!p)
				die("out of memory");
			memcpy(p + d->nlat, s->lat_us, s->nlat * sizeof(*p));
			d->lat_us = p;
			d->nlat += s->nlat;
		}
		free(s->lat_us);
		if (s->t_end > t_end)
			t_end = s->t_end;
	}
	out->seconds = (double)(t_end - t0) / 1e9;
	out->cpu_seconds = cpu_now() - cpu0;
	free(ws);
	free(conns);
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return (x > y) - (x < y);
}

/* Nearest-rank percentile in ms of sorted latencies. */
static double pct_ms(const struct stats *st, double p)
{
	size_t i;
	if (!st->nlat)
		return 0;
	i = (size_t)(p / 100.0 * (double)st->nlat + 0.999999);
	if (i < 1)
		i = 1;
	if (i > st->nlat)
		i = st->nlat;
	return (double)st->lat_us[i - 1] / 1000.0;
}

static void print_statuses(const char *phase, const struct phase_result *r)
{
	for (int k = 0; k < 600; k++)
		if (r->st.status[k] && (k < 200 || k >= 300))
			printf("monitor-load: %s: HTTP %d x %" PRIu64 "\n", phase, k, r->st.status[k]);
	if (r->st.first_bad[0])
		printf("monitor-load: %s: first problem: %s\n", phase, r->st.first_bad);
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: monitor-load --url http://HOST:PORT --enroll-token TOKEN\n"
		"                    [--devices 10000] [--seconds 10] [--connections 32]\n"
		"                    [--threads 1] [--metrics 20] [--hot-percent 5]\n"
		"                    [--warmup-rounds 1]\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "url", required_argument, NULL, 'u' },
		{ "enroll-token", required_argument, NULL, 'e' },
		{ "devices", required_argument, NULL, 'd' },
		{ "seconds", required_argument, NULL, 's' },
		{ "connections", required_argument, NULL, 'c' },
		{ "threads", required_argument, NULL, 't' },
		{ "metrics", required_argument, NULL, 'm' },
		{ "hot-percent", required_argument, NULL, 'H' },
		{ "warmup-rounds", required_argument, NULL, 'w' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct phase_result enr, warm, run;
	struct sigaction sa = { .sa_handler = on_sigint };
	int c, rc = 0;
	long enrolled = 0;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'u': opt.url = optarg; break;
		case 'e': opt.enroll_token = optarg; break;
		case 'd': opt.devices = parse_long(optarg, "devices", 1, 10000000); break;
		case 's': opt.seconds = (double)parse_long(optarg, "seconds", 1, 86400); break;
		case 'c': opt.connections = parse_long(optarg, "connections", 1, 10000); break;
		case 't': opt.threads = parse_long(optarg, "threads", 1, 256); break;
		case 'm': opt.metrics = parse_long(optarg, "metrics", 1, MAX_METRICS); break;
		case 'H': opt.hot_percent = parse_long(optarg, "hot-percent", 0, 100); break;
		case 'w': opt.warmup_rounds = parse_long(optarg, "warmup-rounds", 0, 1000); break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (!opt.url || !opt.enroll_token || optind < argc) {
		usage(stderr);
		return 2;
	}
	if (strlen(opt.enroll_token) > TOKEN_MAX || strpbrk(opt.enroll_token, "\"\\\r\n"))
		die("bad --enroll-token");
	parse_url(opt.url);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	devs = calloc((size_t)opt.devices, sizeof(*devs));
	if (!devs)
		die("out of memory");
	printf("monitor-load: %s, %ld devices, %ld metrics a check-in, %ld%% hot (/var at 95%%), "
	       "%ld connections on %ld thread(s)\n", opt.url, opt.devices, opt.metrics,
	       opt.hot_percent, opt.connections, opt.threads);
	fflush(stdout);

	/* 1. Enrolment. */
	for (long d = 0; d < opt.devices; d++)
		build_enroll(d);
	run_phase(PH_ENROLL, 1, 0, &enr);
	for (long d = 0; d < opt.devices; d++)
		enrolled += devs[d].token != NULL;
	printf("monitor-load: enrolled %ld of %ld devices in %.2f s (%.0f/s)\n", enrolled, opt.devices,
	       enr.seconds, enr.seconds > 0 ? (double)enrolled / enr.seconds : 0.0);
	if (enrolled != opt.devices) {
		print_statuses("enrolment", &enr);
		fprintf(stderr, "monitor-load: enrolment failed; stopping\n");
		return 2;
	}
	for (long d = 0; d < opt.devices; d++)
		build_checkin(d);
	{
		const struct device *v = &devs[0];
		printf("monitor-load: a check-in is %u bytes (body %u)\n", v->req_len,
		       v->req_len - (uint32_t)(strstr(v->req, "\r\n\r\n") + 4 - v->req));
	}
	fflush(stdout);

	/* 2. Warm-up: every device's series exist before measuring. */
	memset(&warm, 0, sizeof(warm));
	if (opt.warmup_rounds > 0 && !atomic_load(&interrupted)) {
		run_phase(PH_CHECKIN, opt.warmup_rounds, 0, &warm);
		printf("monitor-load: warm-up: %" PRIu64 " check-ins in %.2f s (%.0f/s), %" PRIu64
		       " non-2xx, %" PRIu64 " socket errors\n", warm.st.requests, warm.seconds,
		       warm.seconds > 0 ? (double)warm.st.ok / warm.seconds : 0.0, warm.st.non2xx,
		       warm.st.errors);
		print_statuses("warm-up", &warm);
		fflush(stdout);
	}

	/* 3. Measured. */
	run_phase(PH_CHECKIN, 0, opt.seconds, &run);
	qsort(run.st.lat_us, run.st.nlat, sizeof(uint32_t), cmp_u32);
	{
		const struct stats *s = &run.st;
		double secs = run.seconds > 0 ? run.seconds : 1;
		double cps = (double)s->ok / secs;
		uint64_t samples = s->ok * (uint64_t)opt.metrics;
		uint64_t acked_total = (s->ok + warm.st.ok) * (uint64_t)opt.metrics;
		double p50 = pct_ms(s, 50), p99 = pct_ms(s, 99), mx = pct_ms(s, 100);
		double cpu_pct = 100.0 * run.cpu_seconds / secs;

		printf("monitor-load: measured %.2f s: %" PRIu64 " check-ins answered, %" PRIu64 " 2xx, %"
		       PRIu64 " non-2xx, %" PRIu64 " socket errors; %" PRIu64 " duplicates\n",
		       secs, s->requests, s->ok, s->non2xx, s->errors, s->duplicates);
		printf("monitor-load: %.0f check-ins/s, %.0f samples/s accepted (%" PRIu64
		       " stored by the server's count)\n", cps, (double)samples / secs, s->stored);
		printf("monitor-load: latency per request: p50 %.2f ms, p99 %.2f ms, max %.2f ms\n",
		       p50, p99, mx);
		printf("monitor-load: own CPU %.2f s (%.0f%% of one core)\n", run.cpu_seconds, cpu_pct);
		print_statuses("measured", &run);
		printf("RESULT devices=%ld metrics=%ld connections=%ld threads=%ld enrolled=%ld "
		       "enroll_per_s=%.0f warmup_ok=%" PRIu64 " checkins=%" PRIu64 " ok=%" PRIu64
		       " non2xx=%" PRIu64 " errors=%" PRIu64 " samples=%" PRIu64 " stored=%" PRIu64
		       " seconds=%.3f checkins_per_s=%.1f samples_per_s=%.0f p50_ms=%.3f p99_ms=%.3f"
		       " max_ms=%.3f load_cpu_pct=%.0f acked_samples_total=%" PRIu64
		       " stored_total=%" PRIu64 " non2xx_total=%" PRIu64 " errors_total=%" PRIu64 "\n",
		       opt.devices, opt.metrics, opt.connections, opt.threads, enrolled,
		       enr.seconds > 0 ? (double)enrolled / enr.seconds : 0.0, warm.st.ok, s->requests,
		       s->ok, s->non2xx, s->errors, samples, s->stored, secs, cps,
		       (double)samples / secs, p50, p99, mx, cpu_pct, acked_total,
		       s->stored + warm.st.stored, s->non2xx + warm.st.non2xx + enr.st.non2xx,
		       s->errors + warm.st.errors + enr.st.errors);
		if (s->non2xx + warm.st.non2xx + s->errors + warm.st.errors + enr.st.errors)
			rc = 1;
	}
	for (long d = 0; d < opt.devices; d++) {
		free(devs[d].req);
		free(devs[d].token);
	}
	free(devs);
	free(enr.st.lat_us);
	free(warm.st.lat_us);
	free(run.st.lat_us);
	return rc;
}
