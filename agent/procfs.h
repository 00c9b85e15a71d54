/*
 * procfs.h: what itsup-agent reads about its machine (issue 7), as pure
 * parsers of the texts of /proc files and /etc/os-release. The agent is
 * libc + libcurl only (it runs on every endpoint), so this uses nothing
 * of the server's code.
 *
 * Each parser takes a file's whole text (NUL-terminated) and fills a
 * struct; false when the text is not the expected format (a field the
 * agent needs is missing). Reading the files, statvfs() of the mounted
 * filesystems, and the time between two readings are the caller's
 * (agent.c); these functions are what the fixture tests pin down.
 */
#ifndef ITSUP_AGENT_PROCFS_H
#define ITSUP_AGENT_PROCFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* /proc/stat, the aggregate "cpu" line: jiffies by kind. */
struct cpu_times {
	uint64_t user, nice, system, idle, iowait, irq, softirq, steal;
	int ncpu;                 /* the "cpuN" lines */
};
bool parse_stat(const char *text, struct cpu_times *out);
/* CPU use in percent between two readings (0..100); -1 when the second is
 * not later than the first (a counter reset, or the same reading). Idle
 * and iowait count as idle; steal as busy (time the VM did not get). */
double cpu_percent(const struct cpu_times *a, const struct cpu_times *b);

/* /proc/loadavg */
struct loadavg {
	double load1, load5, load15;
	int running, processes;
};
bool parse_loadavg(const char *text, struct loadavg *out);

/* /proc/meminfo (kB values turned into bytes). MemAvailable is what a
 * program can still get; used = total - available. */
struct meminfo {
	uint64_t total, available, swap_total, swap_free;
};
bool parse_meminfo(const char *text, struct meminfo *out);
/* Used percent of total (0 when total is 0). */
double used_percent(uint64_t total, uint64_t free_or_available);

/* A systemd unit's cgroup.events (cgroup v2): 1 when "populated 1" (a
 * process of the unit, or of its sub-cgroups, is alive), 0 when
 * "populated 0", -1 when the text says neither. */
int parse_cgroup_events(const char *text);

/* /proc/uptime: seconds since boot. */
bool parse_uptime(const char *text, double *seconds);

/* /proc/net/dev: bytes received and sent by every interface except the
 * loopback, summed. */
struct netbytes {
	uint64_t rx, tx;
	int interfaces;
};
bool parse_net_dev(const char *text, struct netbytes *out);

/* /proc/self/mounts: the filesystems worth watching (block devices and
 * network filesystems; not proc, sysfs, tmpfs, cgroup, overlay layers,
 * squashfs snaps and such), each mount point once. */
#define MOUNTS_MAX 64
#define MOUNT_PATH_MAX 256
struct mounts {
	int n;
	char path[MOUNTS_MAX][MOUNT_PATH_MAX];
	char fstype[MOUNTS_MAX][32];
	char device[MOUNTS_MAX][128];
};
bool parse_mounts(const char *text, struct mounts *out);
/* Whether a filesystem type is one the agent watches. */
bool fstype_watched(const char *fstype);

/* /etc/os-release: PRETTY_NAME (unquoted, shell escapes undone), else
 * NAME VERSION_ID; "" when neither. */
void parse_os_release(const char *text, char *out, size_t outsz);

/* /proc/cpuinfo: the first "model name" (x86), or on ARM the board's
 * "Model" (else the SoC's "Hardware"), and the number of "processor"
 * entries. */
struct cpuinfo {
	char model[128];
	int count;
};
bool parse_cpuinfo(const char *text, struct cpuinfo *out);

#endif
