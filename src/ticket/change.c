/*
 * change.c: the effects of status moves, replies and escalations on a
 * ticket (see ticket.h, invariants 1-4). Pure.
 */
#include "base/common.h"

#include "ticket/ticket.h"

#define DAY_MS (INT64_C(86400000))

static void decide_fcr(struct ticket_state *s)
{
	struct fcr_facts f = { s->resolved_tier, s->resolved_by, s->first_handler_id,
			       s->escalations, s->tier_changes, s->early_reopens };
	const char *why;

	s->fcr = fcr_decide(&f, &why) ? 1 : 0;
	s->fcr_reason = why;
}

enum result ticket_set_status(struct ticket_state *s, enum tstatus to, int64_t actor,
			      int64_t now, struct status_effects *fx, struct err *e)
{
	const char *why;

	memset(fx, 0, sizeof(*fx));
	if (!ticket_transition_ok(s->status, to, &why))
		return err_set(e, RC_CONFLICT, "status", "%s -> %s: %s", tstatus_names[s->status],
			       tstatus_names[to], why);
	if (to == TS_RESOLVED) {
		s->resolved_at = now;
		s->resolved_by = actor;
		s->resolved_tier = s->tier;
		decide_fcr(s);
		fx->resolved = fx->fcr_decided = true;
	} else if (to == TS_CLOSED) {
		s->closed_at = now;
		fx->closed = true;
	} else if (s->status == TS_RESOLVED) {
		/* Reopen: within FCR_REOPEN_DAYS it undoes first-contact resolution. */
		s->reopens++;
		if (now - s->resolved_at < FCR_REOPEN_DAYS * DAY_MS) {
			s->early_reopens++;
			s->fcr = 0;
			s->fcr_reason = "reopened within 7 days of resolution";
			fx->fcr_decided = true;
		}
		s->resolved_at = 0;
		s->resolved_by = 0;
		s->resolved_tier = 0;
		fx->reopened = true;
	}
	s->status = to;
	return RC_OK;
}

void ticket_handled_by(struct ticket_state *s, int64_t staff_id)
{
	if (!s->first_handler_id && staff_id)
		s->first_handler_id = staff_id;
}

enum reply_outcome ticket_on_reply(struct ticket_state *s, bool staff, int64_t actor,
				   int64_t now, struct status_effects *fx)
{
	memset(fx, 0, sizeof(*fx));
	if (s->status == TS_CLOSED)
		return REPLY_NEW_TICKET;
	if (staff) {
		if (!s->first_response_at)
			s->first_response_at = now;
		ticket_handled_by(s, actor);
		if (s->status == TS_NEW)
			ticket_set_status(s, TS_OPEN, actor, now, fx, NULL);
		return REPLY_ADDED;
	}
	if (s->status == TS_PENDING_CUSTOMER || s->status == TS_RESOLVED)
		ticket_set_status(s, TS_OPEN, actor, now, fx, NULL);
	return REPLY_ADDED;
}

enum result ticket_escalate(struct ticket_state *s, int to_tier, const char *vendor,
			    int64_t now, bool *deescalation, struct err *e)
{
	struct status_effects fx;

	*deescalation = false;
	if (!tstatus_is_open(s->status))
		return err_set(e, RC_CONFLICT, "status", "a %s ticket cannot be escalated",
			       tstatus_names[s->status]);
	if (vendor) {
		if (s->status != TS_PENDING_VENDOR &&
		    ticket_set_status(s, TS_PENDING_VENDOR, 0, now, &fx, e) != RC_OK)
			return RC_CONFLICT;
		s->status = TS_PENDING_VENDOR;
		s->vendor = vendor;
		s->escalations++;
		return RC_OK;
	}
	if (to_tier < 1 || to_tier > 3)
		return err_set(e, RC_INVALID, "to_tier", "must be 1, 2 or 3");
	if (to_tier == s->tier)
		return err_set(e, RC_CONFLICT, "to_tier", "the ticket is already at tier %d", to_tier);
	if (to_tier > s->tier)
		s->escalations++;
	else
		*deescalation = true;
	s->tier_changes++;
	s->tier = to_tier;
	s->assignee_id = 0;
	return RC_OK;
}
