#include "common.h"
#include "arena.h"

#define CHUNK_MIN 4096
#define ALIGN 16

struct chunk {
	struct chunk *next;
	size_t size, used;
	max_align_t data[];
};

struct cleanup {
	struct cleanup *next;
	void (*fn)(void *);
	void *ptr;
};

struct arena {
	struct chunk *head;
	struct cleanup *cleanups;
	size_t ceiling, used;
};

struct arena *arena_new(size_t ceiling)
{
	struct arena *a = calloc(1, sizeof(*a));

	if (!a)
		return NULL;
	a->ceiling = ceiling;
	return a;
}

void arena_free(struct arena *a)
{
	struct cleanup *c;
	struct chunk *k;

	if (!a)
		return;
	c = a->cleanups;
	while (c) {
		struct cleanup *next = c->next;
		c->fn(c->ptr);
		free(c);
		c = next;
	}
	k = a->head;
	while (k) {
		struct chunk *next = k->next;
		free(k);
		k = next;
	}
	free(a);
}

void *arena_alloc(struct arena *a, size_t n)
{
	struct chunk *k;
	size_t need = (n + ALIGN - 1) & ~(size_t)(ALIGN - 1);
	void *p;

	if (!a || need < n || a->used + need > a->ceiling || a->used + need < a->used)
		return NULL;
	if (need == 0)
		need = ALIGN;
	k = a->head;
	if (!k || k->size - k->used < need) {
		size_t size = need > CHUNK_MIN ? need : CHUNK_MIN;
		if (a->head && size < a->head->size * 2 && a->head->size * 2 <= 1u << 20)
			size = a->head->size * 2;
		k = malloc(sizeof(*k) + size);
		if (!k)
			return NULL;
		k->size = size;
		k->used = 0;
		k->next = a->head;
		a->head = k;
	}
	p = (char *)k->data + k->used;
	k->used += need;
	a->used += need;
	memset(p, 0, n);
	return p;
}

char *arena_strndup(struct arena *a, const char *s, size_t n)
{
	char *p;

	if (!s)
		return NULL;
	p = arena_alloc(a, n + 1);
	if (!p)
		return NULL;
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *arena_strdup(struct arena *a, const char *s)
{
	return s ? arena_strndup(a, s, strlen(s)) : NULL;
}

char *arena_printf(struct arena *a, const char *fmt, ...)
{
	va_list ap;
	int n;
	char *p;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return NULL;
	p = arena_alloc(a, (size_t)n + 1);
	if (!p)
		return NULL;
	va_start(ap, fmt);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return p;
}

int arena_defer(struct arena *a, void (*fn)(void *), void *ptr)
{
	struct cleanup *c = malloc(sizeof(*c));

	if (!c) {
		fn(ptr);
		return -1;
	}
	c->fn = fn;
	c->ptr = ptr;
	c->next = a->cleanups;
	a->cleanups = c;
	return 0;
}

size_t arena_used(const struct arena *a)
{
	return a ? a->used : 0;
}
