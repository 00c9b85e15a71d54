#include "common.h"
#include "err.h"

enum result err_set(struct err *e, enum result code, const char *field,
		    const char *fmt, ...)
{
	va_list ap;

	if (!e)
		return code;
	e->code = code;
	snprintf(e->field, sizeof(e->field), "%s", field ? field : "");
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return code;
}

void err_clear(struct err *e)
{
	if (!e)
		return;
	e->code = RC_OK;
	e->field[0] = '\0';
	e->msg[0] = '\0';
}

const char *result_name(enum result r)
{
	static const char *const names[] = {
		[RC_OK] = "ok",
		[RC_INVALID] = "invalid",
		[RC_NOTFOUND] = "not found",
		[RC_CONFLICT] = "conflict",
		[RC_DENIED] = "denied",
		[RC_STALE] = "stale",
		[RC_BUSY] = "busy",
		[RC_NOMEM] = "out of memory",
		[RC_IO] = "i/o error",
	};
	if ((size_t)r < ARRAY_SIZE(names) && names[r])
		return names[r];
	return "unknown";
}
