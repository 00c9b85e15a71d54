/*
 * policy.h: an SLA policy's JSON form (API.md "SLA and contracts") to
 * struct sla_policy. Pure. Every member is checked and a problem names it
 * (targets.P2.resolution, warn_at[1], actions[0].do).
 *
 *   targets:        {"P1": {"response": 900, "resolution": 14400}, ...}
 *                   business seconds; a priority left out has no targets
 *   calendars:      {"P1": 3}: a calendar for some priorities (the
 *                   policy's calendar_id serves the others)
 *   pause_statuses: default ["pending_customer", "pending_vendor"]
 *   warn_at:        default [0.75, 0.9]; ascending, each in (0, 1)
 *   tier_targets:   {"1": 7200, "2": 28800}: OLA per tier, business seconds
 *   actions:        [{"on": "resolution_breached", "do": "raise_priority"},
 *                    {"on": "response_warning", "at": 0.9, "do": "notify_dispatcher"}]
 *                   a warning action fires at its "at" (one of warn_at;
 *                   default the first)
 */
#ifndef ITSUP_SLA_POLICY_H
#define ITSUP_SLA_POLICY_H

#include <jansson.h>

#include "sla/clock.h"

#define SLA_MAX_TARGET_S (366LL * 86400)

struct sla_policy_def {
	struct sla_policy p;              /* cal[] left NULL: the caller's */
	int64_t cal_of[PR_COUNT];         /* calendar per priority, 0: the default */
};

/* Parses the members above (any may be NULL: the defaults). */
enum result sla_policy_parse(json_t *targets, json_t *calendars, json_t *pause,
			     json_t *warn_at, json_t *tier_targets, json_t *actions,
			     struct sla_policy_def *d, struct err *e);

/* The canonical JSON of each member (defaults filled in), for storing. */
json_t *sla_policy_targets_json(const struct sla_policy *p);
json_t *sla_policy_pause_json(const struct sla_policy *p);
json_t *sla_policy_warn_json(const struct sla_policy *p);
json_t *sla_policy_tiers_json(const struct sla_policy *p);
json_t *sla_policy_actions_json(const struct sla_policy *p);
json_t *sla_policy_calendars_json(const struct sla_policy_def *d);

#endif
