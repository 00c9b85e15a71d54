#include "common.h"
#include "buf.h"

void buf_init(struct buf *b, size_t max)
{
	b->data = NULL;
	b->len = b->cap = 0;
	b->max = max;
}

void buf_release(struct buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

void buf_reset(struct buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

char *buf_detach(struct buf *b, size_t *len)
{
	char *p = b->data;

	if (len)
		*len = b->len;
	if (!p)
		p = calloc(1, 1);
	b->data = NULL;
	b->len = b->cap = 0;
	return p;
}

static enum result grow(struct buf *b, size_t extra)
{
	size_t need, cap;
	char *p;

	if (extra > b->max || b->len + extra > b->max)
		return RC_NOMEM;
	need = b->len + extra + 1;
	if (need <= b->cap)
		return RC_OK;
	cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap *= 2;
	if (cap > b->max + 1)
		cap = b->max + 1;
	p = realloc(b->data, cap);
	if (!p)
		return RC_NOMEM;
	b->data = p;
	b->cap = cap;
	return RC_OK;
}

enum result buf_append(struct buf *b, const void *p, size_t n)
{
	if (grow(b, n) != RC_OK)
		return RC_NOMEM;
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return RC_OK;
}

enum result buf_appends(struct buf *b, const char *s)
{
	return buf_append(b, s, strlen(s));
}

enum result buf_append_xml(struct buf *b, const char *s)
{
	enum result r = RC_OK;

	for (; s && *s && r == RC_OK; s++) {
		switch (*s) {
		case '<': r = buf_appends(b, "&lt;"); break;
		case '>': r = buf_appends(b, "&gt;"); break;
		case '&': r = buf_appends(b, "&amp;"); break;
		case '"': r = buf_appends(b, "&quot;"); break;
		case '\'': r = buf_appends(b, "&#39;"); break;
		default: r = buf_append(b, s, 1);
		}
	}
	return r;
}

enum result buf_appendf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || grow(b, (size_t)n) != RC_OK)
		return RC_NOMEM;
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return RC_OK;
}

const char *buf_str(const struct buf *b)
{
	return b->data ? b->data : "";
}
