#include "common.h"
#include "jschema.h"
#include "util.h"

#include <inttypes.h>
#include <math.h>

void jschema_error(json_t *errs, const char *field, const char *message)
{
	json_array_append_new(errs, json_pack("{s:s,s:s}", "field", field,
					      "message", message));
}

static bool check_string(const struct jfield *f, json_t *v, json_t *errs,
			 const char **out)
{
	const char *s;
	size_t n;
	char msg[128];

	if (!json_is_string(v)) {
		jschema_error(errs, f->name, "must be a string");
		return false;
	}
	s = json_string_value(v);
	n = json_string_length(v);
	if (strlen(s) != n) {
		jschema_error(errs, f->name, "must not contain NUL characters");
		return false;
	}
	if (!text_valid(s, f->type == JT_TEXT)) {
		jschema_error(errs, f->name, f->type == JT_TEXT
			      ? "must be text without control characters"
			      : "must be one line of text without control characters");
		return false;
	}
	if (f->min && (int64_t)n < f->min) {
		snprintf(msg, sizeof(msg), n == 0 ? "must not be empty"
			 : "must be at least %" PRId64 " characters long", f->min);
		jschema_error(errs, f->name, msg);
		return false;
	}
	if (f->max && (int64_t)n > f->max) {
		snprintf(msg, sizeof(msg), "must be at most %" PRId64 " bytes long", f->max);
		jschema_error(errs, f->name, msg);
		return false;
	}
	*out = s;
	return true;
}

static bool check_one(const struct jfield *f, json_t *v, json_t *errs, char *base)
{
	const char *s = NULL;
	char msg[160];

	switch (f->type) {
	case JT_STRING:
	case JT_TEXT:
		if (!check_string(f, v, errs, &s))
			return false;
		break;
	case JT_EMAIL:
		if (!check_string(f, v, errs, &s))
			return false;
		if (!email_valid(s)) {
			jschema_error(errs, f->name, "must be an e-mail address");
			return false;
		}
		break;
	case JT_TZ:
		if (!check_string(f, v, errs, &s))
			return false;
		if (!tz_valid(s)) {
			jschema_error(errs, f->name, "must be an IANA time zone name such as Europe/Berlin");
			return false;
		}
		break;
	case JT_ENUM:
		if (!json_is_string(v)) {
			jschema_error(errs, f->name, "must be a string");
			return false;
		}
		s = json_string_value(v);
		for (const char *const *c = f->choices; *c; c++)
			if (strcmp(*c, s) == 0)
				goto store_string;
		{
			size_t o = (size_t)snprintf(msg, sizeof(msg), "must be one of:");
			for (const char *const *c = f->choices; *c && o < sizeof(msg); c++)
				o += (size_t)snprintf(msg + o, sizeof(msg) - o, "%s %s",
						      c == f->choices ? "" : ",", *c);
		}
		jschema_error(errs, f->name, msg);
		return false;
	case JT_INT: {
		int64_t n;
		if (!json_is_integer(v)) {
			jschema_error(errs, f->name, "must be an integer");
			return false;
		}
		n = json_integer_value(v);
		if (n < f->min || n > f->max) {
			snprintf(msg, sizeof(msg), "must be between %" PRId64 " and %" PRId64,
				 f->min, f->max);
			jschema_error(errs, f->name, msg);
			return false;
		}
		memcpy(base + f->offset, &n, sizeof(n));
		return true;
	}
	case JT_BOOL: {
		bool b;
		if (!json_is_boolean(v)) {
			jschema_error(errs, f->name, "must be true or false");
			return false;
		}
		b = json_is_true(v);
		memcpy(base + f->offset, &b, sizeof(b));
		return true;
	}
	case JT_NUMBER: {
		double d;
		if (!json_is_number(v) || !isfinite(json_number_value(v))) {
			jschema_error(errs, f->name, "must be a number");
			return false;
		}
		d = json_number_value(v);
		if ((f->min || f->max) && (d < (double)f->min || d > (double)f->max)) {
			char m[128];
			snprintf(m, sizeof(m), "must be between %" PRId64 " and %" PRId64, f->min, f->max);
			jschema_error(errs, f->name, m);
			return false;
		}
		memcpy(base + f->offset, &d, sizeof(d));
		return true;
	}
	case JT_OBJECT:
		if (!json_is_object(v)) {
			jschema_error(errs, f->name, "must be an object");
			return false;
		}
		memcpy(base + f->offset, &v, sizeof(v));
		return true;
	case JT_ARRAY:
		if (!json_is_array(v)) {
			jschema_error(errs, f->name, "must be an array");
			return false;
		}
		memcpy(base + f->offset, &v, sizeof(v));
		return true;
	case JT_INSTANT: {
		int64_t ms;
		if (!json_is_string(v) || !time_parse(json_string_value(v), &ms)) {
			jschema_error(errs, f->name,
				      "must be an RFC 3339 instant such as 2026-03-29T01:30:00Z");
			return false;
		}
		memcpy(base + f->offset, &ms, sizeof(ms));
		return true;
	}
	}
store_string:
	memcpy(base + f->offset, &s, sizeof(s));
	return true;
}

bool jschema_parse(json_t *body, const struct jfield *fields, size_t nfields,
		   void *out, struct jseen *seen, json_t *errs)
{
	size_t before = json_array_size(errs);
	const char *key;
	json_t *v;

	seen->present = seen->nulls = 0;
	if (!json_is_object(body)) {
		jschema_error(errs, "", "the body must be a JSON object");
		return false;
	}
	json_object_foreach(body, key, v) {
		size_t i;
		for (i = 0; i < nfields; i++)
			if (strcmp(fields[i].name, key) == 0)
				break;
		if (i == nfields) {
			char field[80];
			snprintf(field, sizeof(field), "%.79s", key);
			jschema_error(errs, field, "unknown field");
			continue;
		}
		seen->present |= 1ull << i;
		if (json_is_null(v)) {
			if (fields[i].flags & JF_NULLABLE)
				seen->nulls |= 1ull << i;
			else
				jschema_error(errs, fields[i].name, "must not be null");
			continue;
		}
		check_one(&fields[i], v, errs, out);
	}
	for (size_t i = 0; i < nfields; i++)
		if ((fields[i].flags & JF_REQUIRED) && !(seen->present & (1ull << i)))
			jschema_error(errs, fields[i].name, "is required");
	return json_array_size(errs) == before;
}

bool jschema_has(const struct jfield *fields, size_t nfields,
		 const struct jseen *seen, const char *name)
{
	for (size_t i = 0; i < nfields; i++)
		if (strcmp(fields[i].name, name) == 0)
			return (seen->present & (1ull << i)) && !(seen->nulls & (1ull << i));
	return false;
}
