/* u-agent.c: itsup-agent's parsers of /proc and /etc/os-release, on the
 * fixture files in tests/fixtures/proc (real formats, with the cases that
 * matter: the loopback, escaped mount points, pseudo filesystems, a
 * mount listed twice, ARM boards, os-release without PRETTY_NAME); and
 * its spool (order, acknowledgement, ids never reused across restarts,
 * bounds that drop the oldest). */
#define _DEFAULT_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "procfs.h"
#include "report.h"
#include "spool.h"

static char *fixture(const char *name)
{
	char path[512];
	static char buf[1 << 16];
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "%s/proc/%s", FIXTURES, name);
	f = fopen(path, "r");
	assert_non_null(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	return buf;
}

static void test_cpu(void **state)
{
	struct cpu_times a, b;

	(void)state;
	assert_true(parse_stat(fixture("stat.1"), &a));
	assert_int_equal(a.user, 1000);
	assert_int_equal(a.steal, 100);
	assert_int_equal(a.ncpu, 2);
	assert_true(parse_stat(fixture("stat.2"), &b));
	/* busy +400 (user 300, system 100), idle +500 (idle 500... iowait 100):
	 * idle 8000+200 -> 8500+300 = +600; busy 1700 -> 2100 = +400. */
	assert_float_equal(cpu_percent(&a, &b), 40.0, 1e-9);
	assert_float_equal(cpu_percent(&b, &a), -1, 0);   /* counters went back */
	assert_float_equal(cpu_percent(&a, &a), -1, 0);   /* no time passed */
	assert_false(parse_stat("intr 1 2 3\n", &a));
}

static void test_load_memory_uptime(void **state)
{
	struct loadavg l;
	struct meminfo m;
	double up;

	(void)state;
	assert_true(parse_loadavg(fixture("loadavg"), &l));
	assert_float_equal(l.load1, 0.52, 1e-9);
	assert_float_equal(l.load15, 0.59, 1e-9);
	assert_int_equal(l.running, 3);
	assert_int_equal(l.processes, 117);
	assert_true(parse_meminfo(fixture("meminfo"), &m));
	assert_int_equal(m.total, 8000000ULL * 1024);
	assert_int_equal(m.available, 2000000ULL * 1024);
	assert_float_equal(used_percent(m.total, m.available), 75.0, 1e-9);
	assert_float_equal(used_percent(m.swap_total, m.swap_free), 25.0, 1e-9);
	assert_float_equal(used_percent(0, 0), 0, 0);   /* no swap */
	assert_false(parse_meminfo("MemTotal: 10 kB\n", &m));   /* no MemAvailable */
	assert_true(parse_uptime(fixture("uptime"), &up));
	assert_float_equal(up, 37446.54, 1e-9);
}

static void test_network(void **state)
{
	struct netbytes n;

	(void)state;
	assert_true(parse_net_dev(fixture("net_dev"), &n));
	assert_int_equal(n.interfaces, 2);          /* lo left out */
	assert_int_equal(n.rx, 1000000 + 25000);
	assert_int_equal(n.tx, 400000 + 12000);
}

static void test_mounts(void **state)
{
	static struct mounts m;

	(void)state;
	assert_true(parse_mounts(fixture("mounts"), &m));
	assert_int_equal(m.n, 4);
	assert_string_equal(m.path[0], "/");
	assert_string_equal(m.fstype[0], "ext4");
	assert_string_equal(m.path[1], "/boot/efi");
	assert_string_equal(m.path[2], "/srv/Shared Files");   /* \040 undone */
	assert_string_equal(m.device[2], "/dev/sdb1");
	assert_string_equal(m.path[3], "/mnt/nas");
	/* A device name too long to keep is left out (not cut, not shifted
	 * into the next field). */
	for (int i = 0; i < m.n; i++)
		assert_string_not_equal(m.path[i], "/mnt/long");
	assert_true(fstype_watched("xfs"));
	assert_false(fstype_watched("tmpfs"));
	assert_false(fstype_watched("squashfs"));
	assert_false(fstype_watched("overlay"));
}

static void test_os_and_cpu_model(void **state)
{
	char os[128];
	struct cpuinfo c;

	(void)state;
	parse_os_release(fixture("os-release"), os, sizeof(os));
	assert_string_equal(os, "Debian GNU/Linux 12 (bookworm)");
	parse_os_release(fixture("os-release.noname"), os, sizeof(os));
	assert_string_equal(os, "Alpine Linux 3.19.1");
	parse_os_release("ID=x\n", os, sizeof(os));
	assert_string_equal(os, "");
	assert_true(parse_cpuinfo(fixture("cpuinfo.x86"), &c));
	assert_int_equal(c.count, 2);
	assert_string_equal(c.model, "Intel(R) Core(TM) i5-8250U CPU @ 1.60GHz");
	assert_true(parse_cpuinfo(fixture("cpuinfo.arm"), &c));
	assert_int_equal(c.count, 4);
	assert_string_equal(c.model, "Raspberry Pi 4 Model B Rev 1.4");
}

/* The parsers on this machine's own files: whatever they hold, they
 * parse (the formats are the kernel's, not the fixtures'). */
static void test_this_machine(void **state)
{
	static struct mounts m;
	char buf[1 << 16];
	struct cpu_times t;
	struct meminfo mi;
	FILE *f;
	size_t n;

	(void)state;
	f = fopen("/proc/stat", "r");
	assert_non_null(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	assert_true(parse_stat(buf, &t));
	assert_true(t.ncpu >= 1);
	f = fopen("/proc/meminfo", "r");
	assert_non_null(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	assert_true(parse_meminfo(buf, &mi));
	assert_true(mi.total > 0);
	f = fopen("/proc/self/mounts", "r");
	assert_non_null(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	assert_true(parse_mounts(buf, &m));
}

/* ---- the spool ------------------------------------------------------------ */

static char spool_dir[64];

static void fresh_spool_dir(void)
{
	char cmd[128];

	snprintf(spool_dir, sizeof(spool_dir), "/tmp/u-agent-XXXXXX");
	assert_non_null(mkdtemp(spool_dir));
	snprintf(cmd, sizeof(cmd), "rm -rf %s", spool_dir);
	assert_int_equal(system(cmd), 0);   /* spool_open makes it (0700) */
}

static void rm_spool_dir(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", spool_dir);
	assert_int_equal(system(cmd), 0);
}

static void put(struct spool *s, const char *text, uint64_t want)
{
	uint64_t id = 0;

	assert_true(spool_put(s, text, strlen(text), &id));
	assert_int_equal(id, want);
}

static void expect_oldest(struct spool *s, uint64_t want, const char *text)
{
	uint64_t id;
	char *data;
	size_t len;

	assert_true(spool_oldest(s, &id, &data, &len));
	assert_int_equal(id, want);
	assert_int_equal(len, strlen(text));
	assert_memory_equal(data, text, len);
	free(data);
}

static void test_spool_order_ack_and_restart(void **state)
{
	struct spool s;
	struct stat st;
	char path[160];
	uint64_t id;
	char *data;
	size_t len, files;
	uint64_t bytes;

	(void)state;
	fresh_spool_dir();
	assert_true(spool_open(&s, spool_dir, 100, 0));
	assert_int_equal(stat(spool_dir, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	assert_false(spool_oldest(&s, &id, &data, &len));   /* empty */
	put(&s, "{\"a\":1}", 1);
	put(&s, "{\"a\":2}", 2);
	put(&s, "{\"a\":3}", 3);
	expect_oldest(&s, 1, "{\"a\":1}");
	assert_true(spool_ack(&s, 1));
	expect_oldest(&s, 2, "{\"a\":2}");
	spool_size(&s, &files, &bytes);
	assert_int_equal(files, 2);
	assert_int_equal(bytes, 14);
	/* A restart goes on with the ids. */
	assert_true(spool_open(&s, spool_dir, 100, 0));
	put(&s, "x", 4);
	/* Even without the counter file, an id is never reused. */
	snprintf(path, sizeof(path), "%s/next", spool_dir);
	assert_int_equal(unlink(path), 0);
	assert_true(spool_open(&s, spool_dir, 100, 0));
	put(&s, "y", 5);
	/* A temporary file a crash left behind is not a batch. */
	snprintf(path, sizeof(path), "%s/.tmp-99999", spool_dir);
	fclose(fopen(path, "w"));
	spool_size(&s, &files, &bytes);
	assert_int_equal(files, 4);
	rm_spool_dir();
}

static void test_spool_bounds_drop_the_oldest(void **state)
{
	struct spool s;
	size_t files;
	uint64_t bytes;

	(void)state;
	fresh_spool_dir();
	assert_true(spool_open(&s, spool_dir, 3, 0));
	for (uint64_t i = 1; i <= 5; i++)
		put(&s, "12345", i);
	spool_size(&s, &files, &bytes);
	assert_int_equal(files, 3);
	assert_int_equal(s.dropped, 2);
	expect_oldest(&s, 3, "12345");
	/* A byte bound: 12 bytes hold two 5-byte batches. */
	assert_true(spool_open(&s, spool_dir, 100, 12));
	put(&s, "abcde", 6);
	spool_size(&s, &files, &bytes);
	assert_true(bytes <= 12);
	assert_int_equal(files, 2);
	expect_oldest(&s, 5, "12345");
	/* A batch bigger than the whole spool is refused. */
	{
		uint64_t id;
		assert_false(spool_put(&s, "0123456789abc", 13, &id));
	}
	rm_spool_dir();
}

/* ---- the JSON the agent sends --------------------------------------------- */

/* A systemd unit's cgroup.events (cgroup v2). */
static void test_cgroup_events(void **state)
{
	(void)state;
	assert_int_equal(parse_cgroup_events("populated 1\nfrozen 0\n"), 1);
	assert_int_equal(parse_cgroup_events("frozen 0\npopulated 0\n"), 0);
	assert_int_equal(parse_cgroup_events("frozen 0\n"), -1);
	assert_int_equal(parse_cgroup_events(""), -1);
	assert_int_equal(parse_cgroup_events("populated x\n"), -1);
}

static void test_checkin_json(void **state)
{
	static struct reading r;
	struct inventory inv = { .agent_version = "0.1.0" };
	struct jw w;
	json_t *doc, *m, *labels;
	json_error_t je;
	size_t i, n;

	(void)state;
	r.cpu_percent = 12.5;
	r.load = (struct loadavg){ 0.5, 0.25, 0.125, 1, 99 };
	r.mem = (struct meminfo){ 1000, 250, 0, 0 };
	r.uptime = 3600.5;
	r.net = (struct netbytes){ 1ULL << 40, 7, 1 };
	r.nfs = 1;
	snprintf(r.fs[0].mount, sizeof(r.fs[0].mount), "/srv/\"odd\" \\ name\t\xc3\xa9");
	r.fs[0].used_percent = 71.25;
	r.fs[0].free_bytes = 123456789012ULL;
	r.fs[0].inodes_used_percent = -1;    /* no inodes (e.g. btrfs): left out */
	r.nproc = 1;
	r.proc_name[0] = "postgres";
	r.proc_running[0] = true;
	r.nsvc = 2;
	r.svc_name[0] = "nginx";
	r.svc_running[0] = 0;
	r.svc_name[1] = "cron";
	r.svc_running[1] = -1;             /* not known: left out */
	snprintf(inv.hostname, sizeof(inv.hostname), "host-1");
	jw_init(&w);
	report_checkin(&w, 42, 1700000000123, &r, &inv);
	assert_false(w.failed);
	doc = json_loads(w.buf, 0, &je);
	assert_non_null(doc);
	assert_int_equal(json_integer_value(json_object_get(doc, "batch_id")), 42);
	assert_int_equal(json_integer_value(json_object_get(doc, "at")), 1700000000123);
	assert_string_equal(json_string_value(json_object_get(json_object_get(doc, "inventory"), "hostname")),
			    "host-1");
	m = json_object_get(doc, "metrics");
	n = json_array_size(m);
	assert_true(n >= 12);
	for (i = 0; i < n; i++) {
		json_t *e = json_array_get(m, i);
		const char *name = json_string_value(json_object_get(e, "name"));
		double v = json_number_value(json_object_get(e, "value"));
		labels = json_object_get(e, "labels");
		if (!strcmp(name, "cpu.percent"))
			assert_float_equal(v, 12.5, 0);
		else if (!strcmp(name, "mem.used_percent"))
			assert_float_equal(v, 75, 1e-9);
		else if (!strcmp(name, "net.rx_bytes"))
			assert_float_equal(v, (double)(1ULL << 40), 0);
		else if (!strcmp(name, "disk.used_percent"))
			assert_string_equal(json_string_value(json_object_get(labels, "mount")),
					    "/srv/\"odd\" \\ name\t\xc3\xa9");
		else if (!strcmp(name, "disk.free_bytes"))
			assert_float_equal(v, 123456789012.0, 0);
		else if (!strcmp(name, "process.running"))
			assert_string_equal(json_string_value(json_object_get(labels, "name")), "postgres");
		else if (!strcmp(name, "service.running")) {
			assert_string_equal(json_string_value(json_object_get(labels, "name")), "nginx");
			assert_float_equal(v, 0, 0);
		}
		assert_true(strcmp(name, "disk.inodes_used_percent") != 0);
	}
	json_decref(doc);
	jw_free(&w);
	/* The first reading has no CPU figure yet; a NaN is null, never "nan". */
	r.cpu_percent = -1;
	r.uptime = 0.0 / 0.0;
	jw_init(&w);
	report_checkin(&w, 1, 1, &r, NULL);
	doc = json_loads(w.buf, 0, &je);
	assert_non_null(doc);
	assert_null(json_object_get(doc, "inventory"));
	assert_null(strstr(w.buf, "cpu.percent"));
	assert_null(strstr(w.buf, "nan"));
	json_decref(doc);
	jw_free(&w);
	/* A mount point that is not UTF-8 (Latin-1 "Daten\xe4") still makes
	 * JSON a server can read: U+FFFD in its place. */
	r.nfs = 1;
	snprintf(r.fs[0].mount, sizeof(r.fs[0].mount), "/media/Daten\xe4 \xc3\xa9 \xed\xa0\x80");
	jw_init(&w);
	report_checkin(&w, 2, 2, &r, NULL);
	doc = json_loads(w.buf, 0, &je);
	assert_non_null(doc);
	assert_non_null(strstr(w.buf, "/media/Daten\xef\xbf\xbd \xc3\xa9 \xef\xbf\xbd"));
	json_decref(doc);
	jw_free(&w);
}

static void test_enroll_json(void **state)
{
	struct inventory inv = { .agent_version = "0.1.0", .naddr = 2 };
	struct jw w;
	json_t *doc;
	json_error_t je;

	(void)state;
	snprintf(inv.hostname, sizeof(inv.hostname), "pc-07");
	snprintf(inv.os, sizeof(inv.os), "Debian GNU/Linux 12 (bookworm)");
	snprintf(inv.addr[0], sizeof(inv.addr[0]), "192.0.2.7");
	snprintf(inv.addr[1], sizeof(inv.addr[1]), "2001:db8::7");
	jw_init(&w);
	report_enroll(&w, "enr_abc", &inv);
	doc = json_loads(w.buf, 0, &je);
	assert_non_null(doc);
	assert_string_equal(json_string_value(json_object_get(doc, "enroll_token")), "enr_abc");
	assert_string_equal(json_string_value(json_object_get(doc, "hostname")), "pc-07");
	assert_int_equal(json_array_size(json_object_get(json_object_get(doc, "inventory"), "addresses")), 2);
	json_decref(doc);
	jw_free(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cpu),
		cmocka_unit_test(test_load_memory_uptime),
		cmocka_unit_test(test_network),
		cmocka_unit_test(test_mounts),
		cmocka_unit_test(test_os_and_cpu_model),
		cmocka_unit_test(test_this_machine),
		cmocka_unit_test(test_spool_order_ack_and_restart),
		cmocka_unit_test(test_spool_bounds_drop_the_oldest),
		cmocka_unit_test(test_cgroup_events),
		cmocka_unit_test(test_checkin_json),
		cmocka_unit_test(test_enroll_json),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
