/*
 * jschema.h: table-driven validation of JSON request bodies into C structs.
 *
 * A body is described by a table of struct jfield, each naming a member,
 * its type, whether it is required, its bounds, and where in the output
 * struct the value goes (offsetof). jschema_parse() checks every member,
 * collects every problem as {field, message} in errs (a JSON array), and
 * fills the struct only with members that passed. Members not in the
 * table are errors too ("unknown field"), so a typo never passes silently.
 *
 * Strings point into the JSON value: keep the value alive as long as the
 * struct is used (the request arena holds it).
 */
#ifndef ITSUP_JSCHEMA_H
#define ITSUP_JSCHEMA_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum jtype {
	JT_STRING,  /* one line of text: const char *, length min..max bytes */
	JT_TEXT,    /* text with newlines: const char * */
	JT_EMAIL,   /* an address (lowercased by the caller): const char * */
	JT_TZ,      /* an IANA zone name: const char * */
	JT_ENUM,    /* one of choices: const char * */
	JT_INT,     /* int64_t within min..max */
	JT_BOOL,    /* bool */
	JT_INSTANT, /* RFC 3339 string -> int64_t UTC ms */
	JT_NUMBER,  /* a finite number -> double (min..max unless both 0) */
	JT_OBJECT,  /* a JSON object -> json_t * (borrowed from the body) */
	JT_ARRAY,   /* a JSON array -> json_t * (borrowed from the body) */
};

#define JF_REQUIRED 1u
#define JF_NULLABLE 2u

struct jfield {
	const char *name;
	enum jtype type;
	unsigned flags;
	size_t offset;
	int64_t min, max;
	const char *const *choices;
};

/* Which members were present (bit i for fields[i]) and which were null. */
struct jseen {
	uint64_t present, nulls;
};

/* Validates body against fields (at most 64) into out. Appends problems to
 * errs (a JSON array of {field, message}). Returns true when there were
 * none. */
bool jschema_parse(json_t *body, const struct jfield *fields, size_t nfields,
		   void *out, struct jseen *seen, json_t *errs);

/* Appends {field, message} to errs. */
void jschema_error(json_t *errs, const char *field, const char *message);

/* True when fields[i] named name was present in the body. */
bool jschema_has(const struct jfield *fields, size_t nfields,
		 const struct jseen *seen, const char *name);

#endif
