/*
 * lifecycle.c: names, the transition table, the priority matrix, the FCR
 * rule and escalation timing. Pure functions (see ticket.h).
 */
#include "base/common.h"

#include <jansson.h>

#include "ticket/ticket.h"

const char *const tstatus_names[TS_COUNT + 1] = { "new", "open", "pending_customer",
	"pending_vendor", "on_hold", "resolved", "closed", NULL };
const char *const ttype_names[TT_COUNT + 1] = { "incident", "service_request", "problem",
	"change", NULL };
const char *const level_names[LV_COUNT + 1] = { "low", "medium", "high", NULL };
const char *const prio_names[PR_COUNT + 1] = { "P1", "P2", "P3", "P4", NULL };
const char *const channel_names[CH_COUNT + 1] = { "portal", "api", "email", "phone",
	"monitoring", NULL };
const char *const esc_kind_names[EK_COUNT + 1] = { "no_update", "unassigned", NULL };

int name_index(const char *const *names, const char *s)
{
	if (!s)
		return -1;
	for (int i = 0; names[i]; i++)
		if (!strcmp(names[i], s))
			return i;
	return -1;
}

/* ---- lifecycle ---------------------------------------------------------------------- */

#define T(x) (1u << (x))
#define WORKING (T(TS_OPEN) | T(TS_PENDING_CUSTOMER) | T(TS_PENDING_VENDOR) | T(TS_ON_HOLD))

/* allowed[from] = the set of statuses it may move to. */
static const unsigned allowed[TS_COUNT] = {
	[TS_NEW] = WORKING | T(TS_RESOLVED),
	[TS_OPEN] = (WORKING & ~T(TS_OPEN)) | T(TS_RESOLVED),
	[TS_PENDING_CUSTOMER] = (WORKING & ~T(TS_PENDING_CUSTOMER)) | T(TS_RESOLVED),
	[TS_PENDING_VENDOR] = (WORKING & ~T(TS_PENDING_VENDOR)) | T(TS_RESOLVED),
	[TS_ON_HOLD] = (WORKING & ~T(TS_ON_HOLD)) | T(TS_RESOLVED),
	[TS_RESOLVED] = T(TS_OPEN) | T(TS_CLOSED),
	[TS_CLOSED] = 0,
};

bool ticket_transition_ok(enum tstatus from, enum tstatus to, const char **why)
{
	const char *dummy;

	if (!why)
		why = &dummy;
	if ((unsigned)from >= TS_COUNT || (unsigned)to >= TS_COUNT) {
		*why = "unknown status";
		return false;
	}
	if (from == to) {
		*why = "the ticket already has this status";
		return false;
	}
	if (allowed[from] & T(to)) {
		*why = NULL;
		return true;
	}
	if (from == TS_CLOSED)
		*why = "a closed ticket is final; a reply to it opens a new ticket";
	else if (to == TS_NEW)
		*why = "a ticket cannot go back to new";
	else if (to == TS_CLOSED)
		*why = "only a resolved ticket can be closed";
	else if (from == TS_RESOLVED)
		*why = "a resolved ticket can only be reopened (open) or closed";
	else
		*why = "this status change is not allowed";
	return false;
}

bool tstatus_is_open(enum tstatus s)
{
	return s != TS_RESOLVED && s != TS_CLOSED;
}

/* ---- priority ---------------------------------------------------------------------------- */

/* ITIL-style impact x urgency. */
const struct prio_matrix prio_matrix_default = { {
	[LV_HIGH] = { [LV_HIGH] = PR_P1, [LV_MEDIUM] = PR_P2, [LV_LOW] = PR_P3 },
	[LV_MEDIUM] = { [LV_HIGH] = PR_P2, [LV_MEDIUM] = PR_P3, [LV_LOW] = PR_P4 },
	[LV_LOW] = { [LV_HIGH] = PR_P3, [LV_MEDIUM] = PR_P4, [LV_LOW] = PR_P4 },
} };

enum prio priority_of(const struct prio_matrix *m, enum level impact, enum level urgency)
{
	if (!m)
		m = &prio_matrix_default;
	if ((unsigned)impact >= LV_COUNT || (unsigned)urgency >= LV_COUNT)
		return PR_P4;
	return m->m[impact][urgency];
}

bool prio_matrix_parse(const char *text, struct prio_matrix *out, char *field, size_t fieldsz)
{
	json_t *root = json_loads(text, 0, NULL);
	bool ok = json_is_object(root);

	snprintf(field, fieldsz, "priority_matrix");
	for (int i = 0; ok && i < LV_COUNT; i++) {
		json_t *row = json_object_get(root, level_names[i]);
		if (!json_is_object(row) || json_object_size(row) != LV_COUNT) {
			snprintf(field, fieldsz, "priority_matrix.%s", level_names[i]);
			ok = false;
			break;
		}
		for (int k = 0; k < LV_COUNT; k++) {
			int p = name_index(prio_names, json_string_value(json_object_get(row, level_names[k])));
			if (p < 0) {
				snprintf(field, fieldsz, "priority_matrix.%s.%s", level_names[i], level_names[k]);
				ok = false;
				break;
			}
			out->m[i][k] = (enum prio)p;
		}
	}
	if (ok && json_object_size(root) != LV_COUNT)
		ok = false;
	json_decref(root);
	return ok;
}

void prio_matrix_format(const struct prio_matrix *m, char *out, size_t outsz)
{
	size_t o = 0;

	o += (size_t)snprintf(out + o, outsz - o, "{");
	for (int i = LV_COUNT - 1; i >= 0 && o < outsz; i--) {
		o += (size_t)snprintf(out + o, outsz - o, "%s\"%s\":{", i == LV_COUNT - 1 ? "" : ",",
				      level_names[i]);
		for (int k = LV_COUNT - 1; k >= 0 && o < outsz; k--)
			o += (size_t)snprintf(out + o, outsz - o, "%s\"%s\":\"%s\"",
					      k == LV_COUNT - 1 ? "" : ",", level_names[k],
					      prio_names[m->m[i][k]]);
		if (o < outsz)
			o += (size_t)snprintf(out + o, outsz - o, "}");
	}
	if (o < outsz)
		snprintf(out + o, outsz - o, "}");
}

/* ---- FCR ------------------------------------------------------------------------------------ */

bool fcr_decide(const struct fcr_facts *f, const char **reason)
{
	if (f->reopens > 0) {
		*reason = "reopened after resolution";
		return false;
	}
	if (f->escalations > 0) {
		*reason = "escalated (to a higher tier or a vendor)";
		return false;
	}
	if (f->tier_changes > 0) {
		*reason = "moved between tiers";
		return false;
	}
	if (f->resolved_tier != 1) {
		*reason = "not resolved at tier 1";
		return false;
	}
	if (!f->first_handler || f->resolved_by != f->first_handler) {
		*reason = "not resolved by the first staff member who handled it";
		return false;
	}
	*reason = "resolved at tier 1 by the first handler, without escalation";
	return true;
}

/* ---- escalation timing -------------------------------------------------------------------------- */

bool esc_due(const struct esc_rule *r, const struct esc_facts *t, int64_t now)
{
	int64_t since;

	if (!tstatus_is_open(t->status) || t->status == TS_PENDING_CUSTOMER ||
	    t->status == TS_PENDING_VENDOR || t->status == TS_ON_HOLD)
		return false;
	if (r->priority >= 0 && (int)t->priority != r->priority)
		return false;
	if (r->raise_to_tier && !r->notify && t->tier >= r->raise_to_tier)
		return false;
	switch (r->kind) {
	case EK_NO_UPDATE:
		since = t->last_activity_at;
		break;
	case EK_UNASSIGNED:
		if (t->assignee_id)
			return false;
		since = t->last_activity_at > t->created_at ? t->last_activity_at : t->created_at;
		break;
	default:
		return false;
	}
	/* Fires once per quiet spell: not again until the ticket changes. */
	if (t->fired_at && t->fired_at >= since)
		return false;
	return now - since >= r->minutes * 60 * 1000;
}
