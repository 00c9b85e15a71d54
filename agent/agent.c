/*
 * agent.c: itsup-agent (issue 7). Runs on each monitored endpoint:
 *
 *   itsup-agent --server URL --enroll-token T [--interval 60]
 *               [--state-dir /var/lib/itsup-agent] [--process NAME]... [--service UNIT]...
 *               [--once] [--print]
 *
 * Design
 *  1. Enrolment, once: POST /api/v1/agent/enroll with the client's
 *     enrolment token and the inventory; the device token it answers is
 *     kept in STATE/device-token (mode 0600) and used from then on. The
 *     enrolment token is not stored.
 *  2. Every interval: read /proc and statvfs() (procfs.h), build a
 *     check-in (report.h) with the next batch id, put it in the spool
 *     (spool.h) first, then send the spool oldest first, each batch
 *     removed only when the server answered 2xx. A server that cannot be
 *     reached (or answers 5xx / 429) leaves the rest for the next round;
 *     nothing is lost within the spool's bounds, and the server stores a
 *     batch id once, so a batch sent twice is stored once.
 *  3. The inventory goes with the first check-in after start and then
 *     daily.
 *  4. One thread, a blocking sleep between rounds; memory is a few
 *     fixed structs and the batch being sent (target: under 4 MB RSS).
 *  5. --print builds one check-in and prints it without sending or
 *     spooling; --once does one round and exits (non-zero when the
 *     spool could not be emptied).
 *  6. One agent per state directory (a lock file): two would hand out
 *     the same batch ids.
 *
 * Only libc and libcurl: this runs on every endpoint, with nothing else
 * installed.
 */
#define _DEFAULT_SOURCE
#include <curl/curl.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <ifaddrs.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "procfs.h"
#include "report.h"
#include "spool.h"

#define AGENT_VERSION "0.1.0"
#define INVENTORY_EVERY_MS (24LL * 3600 * 1000)
#define TOKEN_MAX 256

struct agent {
	const char *server, *enroll_token, *state_dir;
	long interval;
	bool once, print;
	int nproc, nsvc;
	const char *proc_names[READING_PROC_MAX];
	const char *svc_names[READING_PROC_MAX];
	char device_token[TOKEN_MAX];
	struct spool spool;
	struct cpu_times last_cpu;
	bool have_cpu;
	int64_t inventory_at;
};

static volatile sig_atomic_t stopping;

static void on_signal(int sig)
{
	(void)sig;
	stopping = 1;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The whole of a small file into buf; false when it cannot be read. */
static bool slurp(const char *path, char *buf, size_t bufsz)
{
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return false;
	n = fread(buf, 1, bufsz - 1, f);
	fclose(f);
	buf[n] = '\0';
	return true;
}

/* ---- readings ------------------------------------------------------------- */

static bool process_running(const char *name)
{
	char path[64], comm[64];
	bool found = false;
	DIR *d;
	struct dirent *de;

	d = opendir("/proc");
	if (!d)
		return false;
	while (!found && (de = readdir(d))) {
		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%.20s/comm", de->d_name);
		if (slurp(path, comm, sizeof(comm))) {
			/* The kernel keeps the first 15 bytes of a name. */
			comm[strcspn(comm, "\n")] = '\0';
			found = !strncmp(comm, name, 15) && (strlen(name) >= 15 || !strcmp(comm, name));
		}
	}
	closedir(d);
	return found;
}

/* A systemd service (cgroup v2): its unit's cgroup exists while the unit
 * is active and says whether any process of it lives. 1, 0, or -1 when
 * this machine has no systemd cgroup tree to ask. */
static int service_running(const char *name)
{
	char path[512], text[256];
	size_t n = strlen(name);
	bool suffix = n > 8 && !strcmp(name + n - 8, ".service");

	if (!n || strchr(name, '/') || n > 200)
		return -1;
	snprintf(path, sizeof(path), "/sys/fs/cgroup/system.slice/%s%s/cgroup.events", name,
		 suffix ? "" : ".service");
	if (slurp(path, text, sizeof(text)))
		return parse_cgroup_events(text) == 1 ? 1 : 0;
	/* No cgroup for the unit: stopped, if systemd's tree is there. */
	return access("/sys/fs/cgroup/system.slice", F_OK) == 0 ? 0 : -1;
}

static void read_filesystems(struct fs_reading *fs, int *n)
{
	static char text[1 << 20];
	static struct mounts m;

	*n = 0;
	if (!slurp("/proc/self/mounts", text, sizeof(text)) || !parse_mounts(text, &m))
		return;
	for (int i = 0; i < m.n && *n < READING_FS_MAX; i++) {
		struct statvfs sv;
		struct fs_reading *f = &fs[*n];
		if (statvfs(m.path[i], &sv) != 0 || !sv.f_blocks)
			continue;
		double used = (double)sv.f_blocks - (double)sv.f_bfree;
		double whole = used + (double)sv.f_bavail;
		/* Used as df counts it: of the blocks a user may have. Some
		 * network filesystems report more free than total: skip them. */
		if (used < 0 || whole <= 0)
			continue;
		snprintf(f->mount, sizeof(f->mount), "%s", m.path[i]);
		f->free_bytes = (uint64_t)sv.f_bavail * sv.f_frsize;
		f->used_percent = 100.0 * used / whole;
		f->inodes_used_percent = sv.f_files
			? 100.0 * (double)(sv.f_files - sv.f_ffree) / (double)sv.f_files : -1;
		(*n)++;
	}
}

static void take_reading(struct agent *ag, struct reading *r)
{
	static char text[1 << 20];
	struct cpu_times cpu;

	memset(r, 0, sizeof(*r));
	r->cpu_percent = -1;
	if (slurp("/proc/stat", text, sizeof(text)) && parse_stat(text, &cpu)) {
		if (ag->have_cpu)
			r->cpu_percent = cpu_percent(&ag->last_cpu, &cpu);
		ag->last_cpu = cpu;
		ag->have_cpu = true;
	}
	if (slurp("/proc/loadavg", text, sizeof(text)))
		(void)parse_loadavg(text, &r->load);
	if (slurp("/proc/meminfo", text, sizeof(text)))
		(void)parse_meminfo(text, &r->mem);
	if (slurp("/proc/uptime", text, sizeof(text)))
		(void)parse_uptime(text, &r->uptime);
	if (slurp("/proc/net/dev", text, sizeof(text)))
		(void)parse_net_dev(text, &r->net);
	read_filesystems(r->fs, &r->nfs);
	r->nproc = ag->nproc;
	for (int i = 0; i < ag->nproc; i++) {
		r->proc_name[i] = ag->proc_names[i];
		r->proc_running[i] = process_running(ag->proc_names[i]);
	}
	r->nsvc = ag->nsvc;
	for (int i = 0; i < ag->nsvc; i++) {
		r->svc_name[i] = ag->svc_names[i];
		r->svc_running[i] = service_running(ag->svc_names[i]);
	}
}

static void take_inventory(struct inventory *inv, const struct reading *r)
{
	static char text[1 << 20];
	struct utsname u;
	struct ifaddrs *ifs = NULL;

	memset(inv, 0, sizeof(*inv));
	inv->agent_version = AGENT_VERSION;
	if (gethostname(inv->hostname, sizeof(inv->hostname) - 1) != 0)
		inv->hostname[0] = '\0';
	if (slurp("/etc/os-release", text, sizeof(text)))
		parse_os_release(text, inv->os, sizeof(inv->os));
	if (uname(&u) == 0)
		snprintf(inv->kernel, sizeof(inv->kernel), "%s %s", u.sysname, u.release);
	if (slurp("/proc/cpuinfo", text, sizeof(text)))
		(void)parse_cpuinfo(text, &inv->cpu);
	inv->mem_total = r->mem.total;
	inv->nfs = r->nfs;
	inv->fs = r->fs;
	if (getifaddrs(&ifs) == 0) {
		for (struct ifaddrs *i = ifs; i && inv->naddr < 16; i = i->ifa_next) {
			int fam = i->ifa_addr ? i->ifa_addr->sa_family : 0;
			socklen_t len = fam == AF_INET ? sizeof(struct sockaddr_in)
						       : sizeof(struct sockaddr_in6);
			if ((fam != AF_INET && fam != AF_INET6) || !strcmp(i->ifa_name, "lo"))
				continue;
			if (getnameinfo(i->ifa_addr, len, inv->addr[inv->naddr], sizeof(inv->addr[0]),
					NULL, 0, NI_NUMERICHOST) == 0)
				inv->naddr++;
		}
		freeifaddrs(ifs);
	}
}

/* ---- HTTP ------------------------------------------------------------------- */

struct body { char buf[4096]; size_t len; };

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
	struct body *b = arg;
	size_t len = size * n, room = sizeof(b->buf) - 1 - b->len;

	if (len > room)
		len = room;
	memcpy(b->buf + b->len, p, len);
	b->len += len;
	b->buf[b->len] = '\0';
	return size * n;
}

/* POSTs json to path; the HTTP status (0: not reached) and the answer's
 * first 4 KB in *b. */
static long post(const struct agent *ag, const char *path, const char *bearer, const char *json,
		 size_t len, struct body *b)
{
	char url[1024], auth[TOKEN_MAX + 32];
	struct curl_slist *h = NULL;
	long status = 0;
	CURL *c = curl_easy_init();

	b->len = 0;
	b->buf[0] = '\0';
	if (!c)
		return 0;
	snprintf(url, sizeof(url), "%s%s", ag->server, path);
	h = curl_slist_append(h, "Content-Type: application/json");
	if (bearer) {
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s", bearer);
		h = curl_slist_append(h, auth);
	}
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, json);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)len);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, b);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "itsup-agent/" AGENT_VERSION);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	if (curl_easy_perform(c) == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	return status;
}

/* The value of "key":"..." in a small JSON answer (the server's own,
 * with no escapes in a token). */
static bool json_string_field(const char *json, const char *key, char *out, size_t outsz)
{
	char pat[64];
	const char *p, *end;

	snprintf(pat, sizeof(pat), "\"%s\"", key);
	p = strstr(json, pat);
	if (!p)
		return false;
	p += strlen(pat);
	while (*p == ' ' || *p == ':')
		p++;
	if (*p != '"')
		return false;
	end = strchr(++p, '"');
	if (!end || (size_t)(end - p) >= outsz)
		return false;
	memcpy(out, p, (size_t)(end - p));
	out[end - p] = '\0';
	return true;
}

/* ---- enrolment and rounds ------------------------------------------------------ */

static bool load_token(struct agent *ag)
{
	char path[600];

	snprintf(path, sizeof(path), "%s/device-token", ag->state_dir);
	if (!slurp(path, ag->device_token, sizeof(ag->device_token)))
		return false;
	ag->device_token[strcspn(ag->device_token, "\r\n")] = '\0';
	return ag->device_token[0] != '\0';
}

static bool save_token(const struct agent *ag)
{
	char path[600], tmp[620];
	int fd;
	size_t n = strlen(ag->device_token);
	bool ok;

	snprintf(path, sizeof(path), "%s/device-token", ag->state_dir);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return false;
	ok = write(fd, ag->device_token, n) == (ssize_t)n && write(fd, "\n", 1) == 1 &&
	     fsync(fd) == 0;
	ok = close(fd) == 0 && ok;
	return ok && rename(tmp, path) == 0;
}

static bool enroll(struct agent *ag)
{
	static struct reading r;
	static struct inventory inv;
	struct body b;
	struct jw w;
	long status;

	if (!ag->enroll_token) {
		fprintf(stderr, "itsup-agent: not enrolled yet: give --enroll-token (from the client's page)\n");
		return false;
	}
	take_reading(ag, &r);
	take_inventory(&inv, &r);
	jw_init(&w);
	report_enroll(&w, ag->enroll_token, &inv);
	if (w.failed) {
		jw_free(&w);
		return false;
	}
	status = post(ag, "/api/v1/agent/enroll", NULL, w.buf, w.len, &b);
	jw_free(&w);
	if (status < 200 || status > 299 ||
	    !json_string_field(b.buf, "device_token", ag->device_token, sizeof(ag->device_token))) {
		fprintf(stderr, "itsup-agent: enrolment refused (HTTP %ld): %.300s\n", status, b.buf);
		return false;
	}
	if (!save_token(ag)) {
		fprintf(stderr, "itsup-agent: cannot keep the device token in %s: %s\n", ag->state_dir,
			strerror(errno));
		return false;
	}
	fprintf(stderr, "itsup-agent: enrolled\n");
	return true;
}

/* Sends the spool oldest first; true when it is empty afterwards. */
static bool flush(struct agent *ag)
{
	uint64_t id;
	char *data;
	size_t len;

	for (;;) {
		if (stopping)
			return false;
		if (!spool_oldest(&ag->spool, &id, &data, &len))
			return errno == 0;   /* empty (0), or unreadable */
		struct body b;
		long status = post(ag, "/api/v1/agent/checkin", ag->device_token, data, len, &b);
		free(data);
		if (status >= 200 && status <= 299) {
			if (!spool_ack(&ag->spool, id))
				return false;   /* would send it again and again */
			continue;
		}
		if (status == 400 || status == 422) {
			/* This batch is refused for good (malformed): keeping it
			 * would block every later one. Other 4xx (a wrong URL, a
			 * revoked token, a proxy) keep the readings. */
			fprintf(stderr, "itsup-agent: batch %llu refused (HTTP %ld): %.300s\n",
				(unsigned long long)id, status, b.buf);
			spool_ack(&ag->spool, id);
			continue;
		}
		fprintf(stderr, "itsup-agent: check-in not taken (HTTP %ld: %.200s); the readings are"
			" kept for later\n", status, b.buf);
		return false;
	}
}

/* One round: read, spool, send. */
static bool round_once(struct agent *ag)
{
	static struct reading r;
	static struct inventory inv;
	int64_t now = now_ms();
	bool with_inv = !ag->inventory_at || now - ag->inventory_at >= INVENTORY_EVERY_MS;
	struct jw w;
	uint64_t id = ag->spool.next;

	take_reading(ag, &r);
	if (with_inv)
		take_inventory(&inv, &r);
	jw_init(&w);
	report_checkin(&w, ag->print ? 0 : id, now, &r, with_inv ? &inv : NULL);
	if (w.failed) {
		jw_free(&w);
		return false;
	}
	if (ag->print) {
		printf("%s\n", w.buf);
		jw_free(&w);
		return true;
	}
	if (!spool_put(&ag->spool, w.buf, w.len, &id)) {
		/* A full or read-only disk is exactly what must be reported:
		 * send this reading straight away, then what is spooled. */
		struct body b;
		long status;
		fprintf(stderr, "itsup-agent: cannot spool (%s): sending without it\n", strerror(errno));
		status = post(ag, "/api/v1/agent/checkin", ag->device_token, w.buf, w.len, &b);
		jw_free(&w);
		(void)flush(ag);
		return status >= 200 && status <= 299;
	}
	jw_free(&w);
	if (with_inv)
		ag->inventory_at = now;
	return flush(ag);
}

static void usage(FILE *f)
{
	fprintf(f, "usage: itsup-agent --server URL [--enroll-token T] [--interval SECONDS]\n"
		   "                   [--state-dir DIR] [--process NAME]... [--service UNIT]...\n"
		   "                   [--once] [--print]\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "server", required_argument, NULL, 's' },
		{ "enroll-token", required_argument, NULL, 'e' },
		{ "interval", required_argument, NULL, 'i' },
		{ "state-dir", required_argument, NULL, 'd' },
		{ "process", required_argument, NULL, 'p' },
		{ "service", required_argument, NULL, 'u' },
		{ "once", no_argument, NULL, '1' },
		{ "print", no_argument, NULL, 'P' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static struct agent ag;
	int c, rc = 0;

	ag.interval = 60;
	ag.state_dir = "/var/lib/itsup-agent";
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 's': ag.server = optarg; break;
		case 'e': ag.enroll_token = optarg; break;
		case 'i': ag.interval = strtol(optarg, NULL, 10); break;
		case 'd': ag.state_dir = optarg; break;
		case 'p':
			if (ag.nproc == READING_PROC_MAX) {
				fprintf(stderr, "itsup-agent: at most %d --process\n", READING_PROC_MAX);
				return 2;
			}
			ag.proc_names[ag.nproc++] = optarg;
			break;
		case 'u':
			if (ag.nsvc == READING_PROC_MAX) {
				fprintf(stderr, "itsup-agent: at most %d --service\n", READING_PROC_MAX);
				return 2;
			}
			ag.svc_names[ag.nsvc++] = optarg;
			break;
		case '1': ag.once = true; break;
		case 'P': ag.print = true; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (ag.print) {
		/* Two readings a second apart, so that CPU use is known. */
		static struct reading r;
		take_reading(&ag, &r);
		sleep(1);
		return round_once(&ag) ? 0 : 1;
	}
	if (!ag.server || ag.interval < 1 || optind < argc ||
	    (strncmp(ag.server, "http://", 7) && strncmp(ag.server, "https://", 8))) {
		usage(stderr);
		return 2;
	}
	{
		/* https://x/ and https://x are the same server. */
		static char server[1024];
		size_t n = strlen(ag.server);
		if (n >= sizeof(server))
			return 2;
		memcpy(server, ag.server, n + 1);
		while (n > 8 && server[n - 1] == '/')
			server[--n] = '\0';
		ag.server = server;
	}
	if (mkdir(ag.state_dir, 0700) != 0 && errno != EEXIST) {
		fprintf(stderr, "itsup-agent: cannot make %s: %s\n", ag.state_dir, strerror(errno));
		return 1;
	}
	{
		/* One agent per state directory: two would hand out the same
		 * batch ids (the service, and a manual --once beside it). */
		char lock[600];
		int fd;
		snprintf(lock, sizeof(lock), "%s/lock", ag.state_dir);
		fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
		if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) != 0) {
			fprintf(stderr, "itsup-agent: another itsup-agent is running on %s\n", ag.state_dir);
			return 1;
		}
		/* fd stays open (and locked) for the life of the process. */
	}
	{
		char dir[600];
		snprintf(dir, sizeof(dir), "%s/spool", ag.state_dir);
		/* A day of readings at one a minute, within 16 MB. */
		if (!spool_open(&ag.spool, dir, 1440, 16u << 20)) {
			fprintf(stderr, "itsup-agent: cannot open the spool %s: %s\n", dir, strerror(errno));
			return 1;
		}
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGPIPE, SIG_IGN);   /* CURLOPT_NOSIGNAL: a closed socket is an error, not a death */
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (!load_token(&ag) && !enroll(&ag)) {
		curl_global_cleanup();
		return 1;
	}
	for (;;) {
		bool ok = round_once(&ag);
		if (ag.once) {
			rc = ok ? 0 : 1;
			break;
		}
		for (long s = 0; s < ag.interval && !stopping; s++)
			sleep(1);
		if (stopping)
			break;
	}
	curl_global_cleanup();
	return rc;
}
