/*
 * spool.c: itsup-agent's on-disk spool (see spool.h). The directory is the
 * index: batch files are listed and sorted by name (ids are zero-padded,
 * so names sort as numbers).
 */
#define _POSIX_C_SOURCE 200809L
#include "spool.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define ID_DIGITS 20

/* Whether name is a batch file "<20 digits>.json"; its id in *id. */
static bool batch_name(const char *name, uint64_t *id)
{
	uint64_t v = 0;

	for (int i = 0; i < ID_DIGITS; i++) {
		if (name[i] < '0' || name[i] > '9')
			return false;
		v = v * 10 + (uint64_t)(name[i] - '0');
	}
	if (strcmp(name + ID_DIGITS, ".json"))
		return false;
	*id = v;
	return true;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* The spooled ids, ascending (malloc()ed, *n of them). */
static bool list_ids(const struct spool *s, uint64_t **out, size_t *n)
{
	DIR *d = opendir(s->dir);
	struct dirent *de;
	size_t cap = 64;
	uint64_t *ids = malloc(cap * sizeof(*ids));

	*out = NULL;
	*n = 0;
	if (!d || !ids) {
		if (d)
			closedir(d);
		free(ids);
		return false;
	}
	while ((de = readdir(d))) {
		uint64_t id;
		if (!batch_name(de->d_name, &id))
			continue;
		if (*n == cap) {
			uint64_t *more = realloc(ids, 2 * cap * sizeof(*ids));
			if (!more) {
				closedir(d);
				free(ids);
				return false;
			}
			ids = more;
			cap *= 2;
		}
		ids[(*n)++] = id;
	}
	closedir(d);
	qsort(ids, *n, sizeof(*ids), cmp_u64);
	*out = ids;
	return true;
}

static void path_of(const struct spool *s, uint64_t id, char *out, size_t outsz)
{
	snprintf(out, outsz, "%s/%0*llu.json", s->dir, ID_DIGITS, (unsigned long long)id);
}

/* Writes data to path atomically: a temporary file, fsync, rename, and
 * an fsync of the directory (so the rename itself survives a crash). */
static bool write_atomic(const struct spool *s, const char *path, const char *data, size_t len)
{
	char tmp[600];
	int fd, dfd;
	size_t off = 0;

	snprintf(tmp, sizeof(tmp), "%s/.tmp-%ld", s->dir, (long)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return false;
	while (off < len) {
		ssize_t w = write(fd, data + off, len - off);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			close(fd);
			unlink(tmp);
			return false;
		}
		off += (size_t)w;
	}
	if (fsync(fd) != 0 || close(fd) != 0 || rename(tmp, path) != 0) {
		unlink(tmp);
		return false;
	}
	dfd = open(s->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		(void)fsync(dfd);
		close(dfd);
	}
	return true;
}

static bool save_next(const struct spool *s)
{
	char path[600], num[32];
	int n;

	snprintf(path, sizeof(path), "%s/next", s->dir);
	n = snprintf(num, sizeof(num), "%llu\n", (unsigned long long)s->next);
	return write_atomic(s, path, num, (size_t)n);
}

bool spool_open(struct spool *s, const char *dir, size_t max_files, uint64_t max_bytes)
{
	char path[600], buf[32] = "";
	uint64_t *ids;
	size_t n;
	FILE *f;

	memset(s, 0, sizeof(*s));
	if (strlen(dir) >= sizeof(s->dir)) {
		errno = ENAMETOOLONG;
		return false;
	}
	snprintf(s->dir, sizeof(s->dir), "%s", dir);
	s->max_files = max_files ? max_files : 1;
	s->max_bytes = max_bytes;
	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		return false;
	s->next = 1;
	snprintf(path, sizeof(path), "%s/next", dir);
	f = fopen(path, "r");
	if (f) {
		if (fgets(buf, sizeof(buf), f)) {
			char *end;
			unsigned long long v = strtoull(buf, &end, 10);
			if (end != buf && v > 0)
				s->next = v;
		}
		fclose(f);
	}
	if (!list_ids(s, &ids, &n))
		return false;
	/* Never below what is spooled (a lost or stale "next" file). */
	if (n && ids[n - 1] >= s->next)
		s->next = ids[n - 1] + 1;
	free(ids);
	return true;
}

void spool_size(const struct spool *s, size_t *files, uint64_t *bytes)
{
	uint64_t *ids;
	size_t n;

	*files = 0;
	*bytes = 0;
	if (!list_ids(s, &ids, &n))
		return;
	for (size_t i = 0; i < n; i++) {
		char path[600];
		struct stat st;
		path_of(s, ids[i], path, sizeof(path));
		if (stat(path, &st) == 0)
			*bytes += (uint64_t)st.st_size;
	}
	*files = n;
	free(ids);
}

/* Drops the oldest batches until one more of len bytes fits. */
static void make_room(struct spool *s, size_t len)
{
	uint64_t *ids, bytes = 0;
	size_t n, i = 0;
	uint64_t *sizes;

	if (!list_ids(s, &ids, &n))
		return;
	sizes = calloc(n ? n : 1, sizeof(*sizes));
	if (!sizes) {
		free(ids);
		return;
	}
	for (size_t k = 0; k < n; k++) {
		char path[600];
		struct stat st;
		path_of(s, ids[k], path, sizeof(path));
		if (stat(path, &st) == 0)
			sizes[k] = (uint64_t)st.st_size;
		bytes += sizes[k];
	}
	while (i < n && (n - i + 1 > s->max_files || (s->max_bytes && bytes + len > s->max_bytes))) {
		char path[600];
		path_of(s, ids[i], path, sizeof(path));
		if (unlink(path) == 0)
			s->dropped++;
		bytes -= sizes[i];
		i++;
	}
	free(sizes);
	free(ids);
}

bool spool_put(struct spool *s, const char *data, size_t len, uint64_t *id)
{
	char path[600];

	if (s->max_bytes && len > s->max_bytes) {
		errno = EFBIG;
		return false;
	}
	make_room(s, len);
	*id = s->next;
	s->next++;
	/* The next id first: if the batch is written and the counter not, the
	 * counter would go back; this way an id may be skipped, never reused. */
	if (!save_next(s))
		return false;
	path_of(s, *id, path, sizeof(path));
	return write_atomic(s, path, data, len);
}

bool spool_oldest(struct spool *s, uint64_t *id, char **data, size_t *len)
{
	uint64_t *ids;
	size_t n;
	char path[600];
	struct stat st;
	FILE *f;
	char *buf;

	*data = NULL;
	*len = 0;
	errno = 0;
	if (!list_ids(s, &ids, &n))
		return false;
	if (!n) {
		free(ids);
		errno = 0;
		return false;
	}
	*id = ids[0];
	free(ids);
	path_of(s, *id, path, sizeof(path));
	f = fopen(path, "r");
	if (!f || fstat(fileno(f), &st) != 0) {
		if (f)
			fclose(f);
		return false;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf || fread(buf, 1, (size_t)st.st_size, f) != (size_t)st.st_size) {
		fclose(f);
		free(buf);
		if (!errno)
			errno = EIO;
		return false;
	}
	fclose(f);
	buf[st.st_size] = '\0';
	*data = buf;
	*len = (size_t)st.st_size;
	return true;
}

bool spool_ack(struct spool *s, uint64_t id)
{
	char path[600];

	path_of(s, id, path, sizeof(path));
	return unlink(path) == 0 || errno == ENOENT;
}
