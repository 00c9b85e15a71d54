/*
 * triage.c: triage rules as data. A rule is a list of conditions (all must
 * hold) and a set of actions; rules run in order, later ones override
 * earlier ones' fields, tags accumulate, and "stop" ends the run. Compiled
 * once from their JSON; evaluating 50 rules is a few microseconds.
 */
#include "base/common.h"

#include <ctype.h>
#include <jansson.h>

#include "ticket/ticket.h"

static const char *const field_names[RF_COUNT + 1] = { "channel", "client_id",
	"requester_contact_id", "type", "category", "text", "priority", "device", NULL };
static const char *const op_names[RO_COUNT + 1] = { "eq", "neq", "in", "word", "exists", NULL };

/* Which ops each field takes. */
static const unsigned field_ops[RF_COUNT] = {
	[RF_CHANNEL] = 1u << RO_EQ | 1u << RO_NEQ | 1u << RO_IN,
	[RF_CLIENT] = 1u << RO_EQ | 1u << RO_NEQ | 1u << RO_IN,
	[RF_REQUESTER] = 1u << RO_EQ | 1u << RO_NEQ | 1u << RO_IN,
	[RF_TYPE] = 1u << RO_EQ | 1u << RO_NEQ | 1u << RO_IN,
	[RF_CATEGORY] = 1u << RO_EQ | 1u << RO_NEQ | 1u << RO_IN | 1u << RO_EXISTS,
	[RF_TEXT] = 1u << RO_WORD,
	[RF_PRIORITY] = 1u << RO_EQ | 1u << RO_NEQ | 1u << RO_IN,
	[RF_DEVICE] = 1u << RO_EXISTS,
};

/* Names a field's values must come from (NULL: free text or ids). */
static const char *const *field_enum(enum rule_field f)
{
	switch (f) {
	case RF_CHANNEL: return channel_names;
	case RF_TYPE: return ttype_names;
	case RF_PRIORITY: return prio_names;
	default: return NULL;
	}
}

static bool field_is_id(enum rule_field f)
{
	return f == RF_CLIENT || f == RF_REQUESTER;
}

static enum result bad(struct err *e, const char *where, int i, const char *what,
		       const char *msg)
{
	char field[64];

	if (i >= 0)
		snprintf(field, sizeof(field), "%s[%d]%s%s", where, i, what ? "." : "", what ? what : "");
	else
		snprintf(field, sizeof(field), "%s%s%s", where, what ? "." : "", what ? what : "");
	return err_set(e, RC_INVALID, field, "%s", msg);
}

/* Compiles value v as the k-th value of condition c (number i). */
static enum result compile_value(struct rule_cond *c, size_t k, json_t *v, struct err *e, int i)
{
	const char *const *names = field_enum(c->field);

	if (field_is_id(c->field)) {
		if (!json_is_integer(v) || json_integer_value(v) <= 0)
			return bad(e, "conditions", i, "value", "must be an id (a positive integer)");
		c->ids[k] = json_integer_value(v);
		return RC_OK;
	}
	if (!json_is_string(v) || !json_string_length(v) || json_string_length(v) > 200)
		return bad(e, "conditions", i, "value", "must be a non-empty string of at most 200 bytes");
	if (names && name_index(names, json_string_value(v)) < 0)
		return bad(e, "conditions", i, "value", "is not one of the allowed values");
	c->values[k] = json_string_value(v);
	return RC_OK;
}

enum result rule_compile(json_t *conds, json_t *acts, struct rule *r, struct err *e)
{
	size_t i;
	json_t *c, *v;
	const char *key;

	r->nconds = 0;
	memset(&r->act, 0, sizeof(r->act));
	r->act.priority = -1;
	if (!json_is_array(conds))
		return bad(e, "conditions", -1, NULL, "must be an array");
	if (json_array_size(conds) > RULE_MAX_CONDS)
		return bad(e, "conditions", -1, NULL, "has too many conditions (at most 16)");
	json_array_foreach(conds, i, c) {
		struct rule_cond *rc = &r->conds[r->nconds];
		int f, op;
		json_t *value = json_object_get(c, "value"), *values = json_object_get(c, "values");

		memset(rc, 0, sizeof(*rc));
		if (!json_is_object(c))
			return bad(e, "conditions", (int)i, NULL, "must be an object");
		json_object_foreach(c, key, v)
			if (strcmp(key, "field") && strcmp(key, "op") && strcmp(key, "value") &&
			    strcmp(key, "values"))
				return bad(e, "conditions", (int)i, key, "unknown member");
		f = name_index(field_names, json_string_value(json_object_get(c, "field")));
		if (f < 0)
			return bad(e, "conditions", (int)i, "field",
				   "must be channel, client_id, requester_contact_id, type, category, text, priority or device");
		op = name_index(op_names, json_string_value(json_object_get(c, "op")));
		if (op < 0 || !(field_ops[f] & (1u << op)))
			return bad(e, "conditions", (int)i, "op", "is not an operator this field takes");
		rc->field = (enum rule_field)f;
		rc->op = (enum rule_op)op;
		if (op == RO_EXISTS) {
			if (!json_is_boolean(value))
				return bad(e, "conditions", (int)i, "value", "must be true or false");
			rc->want = json_is_true(value);
		} else if (op == RO_IN || (op == RO_WORD && values)) {
			size_t k;
			json_t *x;
			if (!json_is_array(values) || !json_array_size(values) ||
			    json_array_size(values) > RULE_MAX_VALUES)
				return bad(e, "conditions", (int)i, "values", "must be an array of 1 to 16 values");
			json_array_foreach(values, k, x) {
				enum result rr = compile_value(rc, k, x, e, (int)i);
				if (rr != RC_OK)
					return rr;
			}
			rc->nvalues = (int)json_array_size(values);
		} else {
			enum result rr;
			if (!value)
				return bad(e, "conditions", (int)i, "value", "is required");
			rr = compile_value(rc, 0, value, e, (int)i);
			if (rr != RC_OK)
				return rr;
			rc->nvalues = 1;
		}
		r->nconds++;
	}

	if (!json_is_object(acts) || !json_object_size(acts))
		return bad(e, "actions", -1, NULL, "must be an object with at least one action");
	json_object_foreach(acts, key, v) {
		if (!strcmp(key, "queue") || !strcmp(key, "category") || !strcmp(key, "note")) {
			size_t max = !strcmp(key, "note") ? 10000 : 100;
			if (!json_is_string(v) || !json_string_length(v) || json_string_length(v) > max)
				return bad(e, "actions", -1, key, "must be a non-empty string");
			if (!strcmp(key, "queue"))
				r->act.queue = json_string_value(v);
			else if (!strcmp(key, "category"))
				r->act.category = json_string_value(v);
			else
				r->act.note = json_string_value(v);
		} else if (!strcmp(key, "tier")) {
			if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > 3)
				return bad(e, "actions", -1, key, "must be 1, 2 or 3");
			r->act.tier = (int)json_integer_value(v);
		} else if (!strcmp(key, "priority")) {
			int p = name_index(prio_names, json_string_value(v));
			if (p < 0)
				return bad(e, "actions", -1, key, "must be P1, P2, P3 or P4");
			r->act.priority = p;
		} else if (!strcmp(key, "assignee_id")) {
			if (!json_is_integer(v) || json_integer_value(v) <= 0)
				return bad(e, "actions", -1, key, "must be a user id");
			r->act.assignee_id = json_integer_value(v);
		} else if (!strcmp(key, "tags")) {
			size_t k;
			json_t *x;
			if (!json_is_array(v) || !json_array_size(v) || json_array_size(v) > RULE_MAX_TAGS)
				return bad(e, "actions", -1, key, "must be an array of 1 to 8 tags");
			json_array_foreach(v, k, x) {
				if (!json_is_string(x) || !json_string_length(x) || json_string_length(x) > 50)
					return bad(e, "actions", -1, key, "must hold non-empty strings of at most 50 bytes");
				r->act.tags[k] = json_string_value(x);
			}
			r->act.ntags = (int)json_array_size(v);
		} else {
			return bad(e, "actions", -1, key, "unknown action");
		}
	}
	return RC_OK;
}

bool text_has_word(const char *text, const char *word)
{
	size_t wn = strlen(word);

	if (!text || !wn)
		return false;
	for (const char *p = text; *p; p++) {
		if (p != text && isalnum((unsigned char)p[-1]))
			continue;
		if (strncasecmp(p, word, wn) == 0 && !isalnum((unsigned char)p[wn]))
			return true;
	}
	return false;
}

/* The input's value of a string-valued field (NULL when it has none). */
static const char *field_text(enum rule_field f, const struct rule_input *in)
{
	switch (f) {
	case RF_CHANNEL: return (unsigned)in->channel < CH_COUNT ? channel_names[in->channel] : NULL;
	case RF_TYPE: return (unsigned)in->type < TT_COUNT ? ttype_names[in->type] : NULL;
	case RF_PRIORITY: return (unsigned)in->priority < PR_COUNT ? prio_names[in->priority] : NULL;
	case RF_CATEGORY: return in->category;
	default: return NULL;
	}
}

static int64_t field_id(enum rule_field f, const struct rule_input *in)
{
	return f == RF_CLIENT ? in->client_id : in->requester_contact_id;
}

/* Whether c holds for in; when not, why says what the ticket has. */
static bool cond_holds(const struct rule_cond *c, const struct rule_input *in,
		       char *why, size_t whysz)
{
	bool any = false;

	if (c->op == RO_EXISTS) {
		bool has = c->field == RF_DEVICE ? in->device_id != 0
			   : (in->category && *in->category);
		if (has != c->want)
			snprintf(why, whysz, "%s %s", field_names[c->field], has ? "is set" : "is not set");
		return has == c->want;
	}
	if (c->field == RF_TEXT) {
		for (int k = 0; k < c->nvalues && !any; k++)
			any = text_has_word(in->subject, c->values[k]) ||
			      text_has_word(in->description, c->values[k]);
		if (!any)
			snprintf(why, whysz, "subject and description do not contain the word%s \"%s\"%s",
				 c->nvalues > 1 ? "s" : "", c->values[0], c->nvalues > 1 ? "..." : "");
		return any;
	}
	if (field_is_id(c->field)) {
		int64_t v = field_id(c->field, in);
		for (int k = 0; k < c->nvalues && !any; k++)
			any = v == c->ids[k];
		if (c->op == RO_NEQ)
			any = !any;
		if (!any)
			snprintf(why, whysz, "%s is %" PRId64, field_names[c->field], v);
		return any;
	}
	{
		const char *v = field_text(c->field, in);
		for (int k = 0; k < c->nvalues && !any; k++)
			any = v && strcasecmp(v, c->values[k]) == 0;
		if (c->op == RO_NEQ)
			any = !any;
		if (!any)
			snprintf(why, whysz, "%s is %s", field_names[c->field], v ? v : "not set");
		return any;
	}
}

static void apply(const struct rule_actions *a, struct rule_actions *out)
{
	if (a->queue)
		out->queue = a->queue;
	if (a->category)
		out->category = a->category;
	if (a->note)
		out->note = a->note;
	if (a->tier)
		out->tier = a->tier;
	if (a->priority >= 0)
		out->priority = a->priority;
	if (a->assignee_id)
		out->assignee_id = a->assignee_id;
	for (int k = 0; k < a->ntags && out->ntags < RULE_MAX_TAGS; k++) {
		bool dup = false;
		for (int j = 0; j < out->ntags; j++)
			dup = dup || !strcmp(out->tags[j], a->tags[k]);
		if (!dup)
			out->tags[out->ntags++] = a->tags[k];
	}
}

int triage_eval(const struct rule *rules, size_t n, bool creating,
		const struct rule_input *in, struct rule_actions *out,
		struct rule_trace *trace, size_t *ntrace)
{
	int matched = 0;
	size_t nt = 0;

	memset(out, 0, sizeof(*out));
	out->priority = -1;
	for (size_t i = 0; i < n; i++) {
		const struct rule *r = &rules[i];
		struct rule_trace t = { r->id, true, -1, "" };

		if (creating ? !r->on_create : !r->on_update)
			continue;
		for (int k = 0; k < r->nconds; k++) {
			char why[160] = "";
			if (!cond_holds(&r->conds[k], in, why, sizeof(why))) {
				t.matched = false;
				t.failed_cond = k;
				snprintf(t.why, sizeof(t.why), "condition %d (%s %s) is false: %s", k + 1,
					 field_names[r->conds[k].field], op_names[r->conds[k].op], why);
				break;
			}
		}
		if (t.matched) {
			snprintf(t.why, sizeof(t.why), r->nconds ? "all %d conditions hold"
				 : "no conditions: always matches", r->nconds);
			apply(&r->act, out);
			matched++;
		}
		if (trace)
			trace[nt] = t;
		nt++;
		if (t.matched && r->stop)
			break;
	}
	if (ntrace)
		*ntrace = nt;
	return matched;
}
