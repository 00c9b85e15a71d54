/*
 * report.h: what itsup-agent sends (issue 7), as JSON built without a JSON
 * library (the agent is libc + libcurl only): a minimal writer that
 * escapes strings per RFC 8259 and writes numbers that JSON can hold.
 *
 *   POST /api/v1/agent/enroll   {"enroll_token": T, "hostname": H, "inventory": {...}}
 *   POST /api/v1/agent/checkin  {"batch_id": N, "at": MS, "metrics": [
 *                                  {"name": "cpu.percent", "value": 12.5},
 *                                  {"name": "disk.used_percent", "value": 71.2,
 *                                   "labels": {"mount": "/"}}, ...],
 *                                "inventory": {...}}   (inventory: at start and daily)
 *
 * Metric names (units in the name where there is one): cpu.percent,
 * load.1, load.5, load.15, mem.used_percent, mem.available_bytes,
 * swap.used_percent, uptime.seconds, net.rx_bytes, net.tx_bytes,
 * processes.count, disk.used_percent, disk.free_bytes,
 * disk.inodes_used_percent (labels: mount), process.running (labels:
 * name; 1 or 0).
 */
#ifndef ITSUP_AGENT_REPORT_H
#define ITSUP_AGENT_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "procfs.h"

/* ---- a JSON writer ---------------------------------------------------------- */

struct jw {
	char *buf;
	size_t len, cap;
	bool failed;       /* out of memory: the text is incomplete */
	bool comma;        /* a value was written at this level */
};

void jw_init(struct jw *w);
void jw_free(struct jw *w);
void jw_open(struct jw *w, char bracket);        /* '{' or '[' */
void jw_close(struct jw *w, char bracket);       /* '}' or ']' */
void jw_key(struct jw *w, const char *key);      /* in an object, before its value */
void jw_str(struct jw *w, const char *s);        /* NULL: null */
void jw_num(struct jw *w, double v);             /* not finite: null */
void jw_u64(struct jw *w, uint64_t v);

/* ---- what the agent reports ------------------------------------------------- */

struct fs_reading {
	char mount[MOUNT_PATH_MAX];
	double used_percent, inodes_used_percent;   /* inodes: -1 when the fs has none */
	uint64_t free_bytes;
};

#define READING_FS_MAX MOUNTS_MAX
#define READING_PROC_MAX 32

struct reading {
	double cpu_percent;          /* -1: not known yet (the first reading) */
	struct loadavg load;
	struct meminfo mem;
	double uptime;
	struct netbytes net;
	int nfs;
	struct fs_reading fs[READING_FS_MAX];
	int nproc;                   /* processes watched (--process NAME) */
	const char *proc_name[READING_PROC_MAX];
	bool proc_running[READING_PROC_MAX];
	int nsvc;                    /* systemd services watched (--service NAME) */
	const char *svc_name[READING_PROC_MAX];
	int svc_running[READING_PROC_MAX];   /* 1, 0, -1: not known (no cgroup v2) */
};

struct inventory {
	char hostname[256], os[256], kernel[256];
	struct cpuinfo cpu;
	uint64_t mem_total;
	const char *agent_version;
	int nfs;
	const struct fs_reading *fs;
	int naddr;
	char addr[16][64];           /* non-loopback addresses */
};

/* The check-in body. inv may be NULL (not this time). */
void report_checkin(struct jw *w, uint64_t batch_id, int64_t at_ms, const struct reading *r,
		    const struct inventory *inv);
/* The enrolment body. */
void report_enroll(struct jw *w, const char *enroll_token, const struct inventory *inv);

#endif
