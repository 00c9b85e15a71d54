/*
 * sla_track.h: the SLA engine's glue between the store and the pure clock
 * (sla/clock.h). Three jobs:
 *
 *  1. The world: every calendar (compiled, zones loaded once per process)
 *     and every policy, built from the store and cached by the store's
 *     SLA configuration generation (bumped by every calendar or policy
 *     write). Readers hold a reference, so an edit never pulls a world
 *     from under a request. A ticket write carries the generation its
 *     clocks were computed under; the store refuses it (RC_STALE, field
 *     "sla_generation") when an edit committed meanwhile, and the caller
 *     computes again: an edit's recompute is never overwritten by clocks
 *     computed under the old configuration.
 *  2. Tracking: sla_track() is called with every ticket write that may
 *     move a clock (create, status, priority, tier, reply, escalation,
 *     auto-close). It appends the clock events the change implies to the
 *     ticket's log, replays the log, and stores what the replay answers
 *     (due instants, breaches kept once seen, business time per clock and
 *     tier, the next timer). When due instants or the pause change, the
 *     timeline gets an "sla" event saying so.
 *  3. Timers: sla_run_timers() (the scheduler) announces the warnings and
 *     breaches that came due: timeline event, outbox row, and the policy's
 *     actions (notify the dispatcher, raise the tier, raise the priority).
 *     A recompute (sla_recompute_fn) refreshes open tickets after an edit,
 *     inside the edit's transaction.
 */
#ifndef ITSUP_SLA_TRACK_H
#define ITSUP_SLA_TRACK_H

#include <stdbool.h>
#include <stdint.h>

#include "sla/clock.h"
#include "store/store.h"

struct sla_world;

/* The current world (a reference: give it back with sla_world_put). With
 * override_cal / override_policy (may be NULL) it is a new, uncached world
 * as it will be once that row is written; that is also how an edit is
 * checked (RC_INVALID naming the field, e.g. a policy's calendars.P1). */
enum result sla_world_get(struct store *st, struct sla_world **out, struct err *e);
enum result sla_world_build(struct store *st, const struct calendar_row *override_cal,
			    const struct sla_policy_row *override_policy,
			    struct sla_world **out, struct err *e);
void sla_world_put(struct sla_world *w);
/* The store's SLA configuration generation w reflects (-1 for NULL). */
int64_t sla_world_generation(const struct sla_world *w);
/* Frees the cached world and zones (at exit, for leak checks). */
void sla_shutdown(void);

const struct sla_policy *sla_world_policy(const struct sla_world *w, int64_t id);
const struct calendar *sla_world_calendar(const struct sla_world *w, int64_t id);

/* The SLA of a ticket write: old is the ticket as read (NULL when
 * creating; then policy_id is the policy to apply, 0 none). Updates
 * tw->t.sla (and sets tw->sla_set), and adds the "sla" timeline event.
 * reason (may be NULL) is said in that event. w may be NULL (the world
 * could not be built): the clock events are still logged, the replay is
 * left to the next change, timer or recompute. */
void sla_track(const struct sla_world *w, const struct ticket *old, struct ticket_write *tw,
	       int64_t policy_id, int64_t now, const char *reason, struct arena *a);

/* Parses a ticket's stored log into an arena array. -1 when malformed. */
int sla_log_load(const char *log, struct arena *a, struct sla_ev **out);

/* For struct sla_recompute: arg is a struct sla_world *. */
bool sla_recompute_fn(void *arg, int64_t now, struct ticket_sla *x);

struct server;
/* Announces due timers (the scheduler). Returns the tickets changed. */
int sla_run_timers(struct server *s, struct arena *a, int64_t now);

#endif
