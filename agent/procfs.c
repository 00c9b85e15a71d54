/*
 * procfs.c: the agent's parsers of /proc texts (see procfs.h). Each walks
 * the text line by line; none allocates.
 */
#include "procfs.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The line starting at *p (without its newline) into buf; advances *p
 * past it. false at the end of the text. */
static bool next_line(const char **p, char *buf, size_t bufsz)
{
	const char *s = *p, *nl;
	size_t n;

	if (!*s)
		return false;
	nl = strchr(s, '\n');
	n = nl ? (size_t)(nl - s) : strlen(s);
	if (n >= bufsz)
		n = bufsz - 1;   /* a longer line is cut: no field we read is that far */
	memcpy(buf, s, n);
	buf[n] = '\0';
	*p = nl ? nl + 1 : s + strlen(s);
	return true;
}

bool parse_stat(const char *text, struct cpu_times *out)
{
	char line[512];
	bool found = false;

	memset(out, 0, sizeof(*out));
	while (next_line(&text, line, sizeof(line))) {
		unsigned long long v[8] = { 0 };
		if (!strncmp(line, "cpu ", 4)) {
			int n = sscanf(line + 4, "%llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1],
				       &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]);
			if (n < 4)
				return false;
			out->user = v[0];
			out->nice = v[1];
			out->system = v[2];
			out->idle = v[3];
			out->iowait = v[4];
			out->irq = v[5];
			out->softirq = v[6];
			out->steal = v[7];
			found = true;
		} else if (!strncmp(line, "cpu", 3) && isdigit((unsigned char)line[3])) {
			out->ncpu++;
		}
	}
	return found;
}

static uint64_t busy_of(const struct cpu_times *t)
{
	return t->user + t->nice + t->system + t->irq + t->softirq + t->steal;
}

double cpu_percent(const struct cpu_times *a, const struct cpu_times *b)
{
	uint64_t ia = a->idle + a->iowait, ib = b->idle + b->iowait;
	uint64_t ba = busy_of(a), bb = busy_of(b);
	uint64_t total;

	if (ib < ia || bb < ba)
		return -1;
	total = (ib - ia) + (bb - ba);
	if (!total)
		return -1;
	return 100.0 * (double)(bb - ba) / (double)total;
}

bool parse_loadavg(const char *text, struct loadavg *out)
{
	memset(out, 0, sizeof(*out));
	return sscanf(text, "%lf %lf %lf %d/%d", &out->load1, &out->load5, &out->load15,
		      &out->running, &out->processes) == 5;
}

bool parse_meminfo(const char *text, struct meminfo *out)
{
	char line[256];
	bool total = false, avail = false;

	memset(out, 0, sizeof(*out));
	while (next_line(&text, line, sizeof(line))) {
		char key[64];
		unsigned long long kb;
		if (sscanf(line, "%63[^:]: %llu", key, &kb) != 2)
			continue;
		if (!strcmp(key, "MemTotal")) {
			out->total = kb * 1024;
			total = true;
		} else if (!strcmp(key, "MemAvailable")) {
			out->available = kb * 1024;
			avail = true;
		} else if (!strcmp(key, "SwapTotal")) {
			out->swap_total = kb * 1024;
		} else if (!strcmp(key, "SwapFree")) {
			out->swap_free = kb * 1024;
		}
	}
	return total && avail;
}

double used_percent(uint64_t total, uint64_t free_or_available)
{
	if (!total || free_or_available > total)
		return 0;
	return 100.0 * (double)(total - free_or_available) / (double)total;
}

bool parse_uptime(const char *text, double *seconds)
{
	return sscanf(text, "%lf", seconds) == 1 && *seconds >= 0;
}

bool parse_net_dev(const char *text, struct netbytes *out)
{
	char line[512];
	int lines = 0;

	memset(out, 0, sizeof(*out));
	while (next_line(&text, line, sizeof(line))) {
		char *colon = strchr(line, ':'), *name = line;
		unsigned long long rx, tx, skip[7];
		lines++;
		if (lines <= 2 || !colon)
			continue;   /* the two header lines */
		*colon = '\0';
		while (*name == ' ')
			name++;
		/* rx: bytes packets errs drop fifo frame compressed multicast; then tx bytes */
		if (sscanf(colon + 1, "%llu %llu %llu %llu %llu %llu %llu %llu %llu", &rx, &skip[0],
			   &skip[1], &skip[2], &skip[3], &skip[4], &skip[5], &skip[6], &tx) != 9)
			return false;
		if (!strcmp(name, "lo"))
			continue;
		out->rx += rx;
		out->tx += tx;
		out->interfaces++;
	}
	return lines >= 2;
}

bool fstype_watched(const char *t)
{
	static const char *const watched[] = {
		"ext2", "ext3", "ext4", "xfs", "btrfs", "zfs", "f2fs", "jfs", "reiserfs", "vfat",
		"exfat", "ntfs", "ntfs3", "fuseblk", "nfs", "nfs4", "cifs", "smb3", "ceph", NULL,
	};
	for (size_t i = 0; watched[i]; i++)
		if (!strcmp(t, watched[i]))
			return true;
	return false;
}

/* Undoes the octal escapes of /proc/self/mounts (\040 is a space). */
static void unescape_octal(char *s)
{
	char *w = s;

	for (char *r = s; *r; r++) {
		if (r[0] == '\\' && r[1] >= '0' && r[1] <= '7' && r[2] >= '0' && r[2] <= '7' &&
		    r[3] >= '0' && r[3] <= '7') {
			*w++ = (char)((r[1] - '0') * 64 + (r[2] - '0') * 8 + (r[3] - '0'));
			r += 3;
		} else {
			*w++ = *r;
		}
	}
	*w = '\0';
}

/* Splits line at spaces, in place, into at most max fields. */
static int split_fields(char *line, char **f, int max)
{
	int n = 0;

	while (*line && n < max) {
		while (*line == ' ')
			*line++ = '\0';
		if (!*line)
			break;
		f[n++] = line;
		while (*line && *line != ' ')
			line++;
	}
	if (*line)
		*line = '\0';
	return n;
}

bool parse_mounts(const char *text, struct mounts *out)
{
	char line[2048];

	memset(out, 0, sizeof(*out));
	while (next_line(&text, line, sizeof(line))) {
		char *f[3], *dev, *path, *type;
		bool seen = false;
		if (split_fields(line, f, 3) != 3)
			continue;   /* a line cut short (a file longer than was read) */
		dev = f[0];
		path = f[1];
		type = f[2];
		if (!fstype_watched(type))
			continue;
		unescape_octal(dev);
		unescape_octal(path);
		/* A name too long to keep whole is left out, not cut. */
		if (strlen(path) >= MOUNT_PATH_MAX || strlen(dev) >= sizeof(out->device[0]))
			continue;
		for (int i = 0; i < out->n; i++)
			seen |= !strcmp(out->path[i], path);
		if (seen || out->n == MOUNTS_MAX)
			continue;
		snprintf(out->path[out->n], MOUNT_PATH_MAX, "%s", path);
		snprintf(out->fstype[out->n], sizeof(out->fstype[0]), "%s", type);
		snprintf(out->device[out->n], sizeof(out->device[0]), "%s", dev);
		out->n++;
	}
	return true;
}

/* The value of KEY=VALUE in buf (quotes and backslash escapes undone). */
static bool os_value(const char *line, const char *key, char *out, size_t outsz)
{
	size_t k = strlen(key), n = 0;
	const char *v;
	char quote = 0;

	if (strncmp(line, key, k) || line[k] != '=')
		return false;
	v = line + k + 1;
	if (*v == '"' || *v == '\'')
		quote = *v++;
	for (; *v && *v != quote && n + 1 < outsz; v++) {
		if (*v == '\\' && v[1] && quote != '\'')
			v++;
		out[n++] = *v;
	}
	out[n] = '\0';
	return true;
}

void parse_os_release(const char *text, char *out, size_t outsz)
{
	char line[512], name[128] = "", version[128] = "";

	out[0] = '\0';
	while (next_line(&text, line, sizeof(line))) {
		if (os_value(line, "PRETTY_NAME", out, outsz) && *out)
			return;
		os_value(line, "NAME", name, sizeof(name));
		os_value(line, "VERSION_ID", version, sizeof(version));
	}
	if (*name)
		snprintf(out, outsz, "%s%s%s", name, *version ? " " : "", version);
}

bool parse_cpuinfo(const char *text, struct cpuinfo *out)
{
	char line[512];

	memset(out, 0, sizeof(*out));
	while (next_line(&text, line, sizeof(line))) {
		char *colon = strchr(line, ':'), *v;
		size_t k;
		if (!colon)
			continue;
		v = colon + 1;
		while (*v == ' ' || *v == '\t')
			v++;
		k = (size_t)(colon - line);
		while (k && (line[k - 1] == ' ' || line[k - 1] == '\t'))
			k--;
		if (k == 9 && !strncmp(line, "processor", 9)) {
			out->count++;
		} else if (k == 5 && !strncmp(line, "Model", 5)) {
			/* ARM boards: the board's name beats the SoC's. */
			snprintf(out->model, sizeof(out->model), "%s", v);
		} else if (!out->model[0] && ((k == 10 && !strncmp(line, "model name", 10)) ||
					      (k == 8 && !strncmp(line, "Hardware", 8)))) {
			snprintf(out->model, sizeof(out->model), "%s", v);
		}
	}
	return out->count > 0;
}

int parse_cgroup_events(const char *text)
{
	const char *p = text;

	while (p && *p) {
		if (!strncmp(p, "populated ", 10))
			return p[10] == '1' ? 1 : p[10] == '0' ? 0 : -1;
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return -1;
}
