/*
 * buf.h: a growable byte buffer with a ceiling set at creation (like
 * curl's curlx_dyn_init). The content is always NUL-terminated.
 *
 * Appends return RC_OK or RC_NOMEM; after RC_NOMEM the buffer keeps what it
 * had. buf_release frees the memory and leaves an empty buffer that can
 * be used again. buf_detach hands the memory to the caller.
 */
#ifndef ITSUP_BUF_H
#define ITSUP_BUF_H

#include <stddef.h>
#include "err.h"

struct buf {
	char *data;
	size_t len, cap, max;
};

#define BUF_INIT(maxbytes) { NULL, 0, 0, (maxbytes) }

void buf_init(struct buf *b, size_t max);
void buf_release(struct buf *b);
char *buf_detach(struct buf *b, size_t *len);
void buf_reset(struct buf *b);
enum result buf_append(struct buf *b, const void *p, size_t n);
enum result buf_appends(struct buf *b, const char *s);
enum result buf_appendf(struct buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Appends s (NULL: nothing) with & < > " ' escaped for XML and HTML
 * text and attribute values. */
enum result buf_append_xml(struct buf *b, const char *s);
/* The content, "" when empty (never NULL). */
const char *buf_str(const struct buf *b);

#endif
