/*
 * audit.h: the tamper-evident audit log (DESIGN.md section 8; NIST SP
 * 800-53 AU-9/AU-10).
 *
 * Invariants
 *  1. Records are numbered seq = 1, 2, 3... without gaps, in commit order.
 *  2. Record n holds prev_hash = hash of record n-1 (32 zero bytes for
 *     record 1) and hash = SHA-256(prev_hash || canonical(record n)).
 *  3. canonical() encodes every field, each prefixed by its length, so no
 *     two different records encode alike.
 * Editing, inserting or deleting any record breaks invariant 1 or 2 at
 * that record or the next one; audit_verify_step() finds the first break.
 * An attacker who can rewrite the whole database can also rewrite the
 * whole chain: keep the head hash (printed by `itsup audit verify`)
 * somewhere else to anchor it.
 *
 * Records are appended by the store inside the transaction of the change
 * they describe (store.h, contract 4).
 */
#ifndef ITSUP_AUDIT_H
#define ITSUP_AUDIT_H

#include <stdbool.h>
#include "store/store.h"

/* SHA-256(prev || canonical(r)) into out; r->prev_hash is not read. */
void audit_hash(const unsigned char prev[32], const struct audit_rec *r,
		unsigned char out[32]);

struct audit_verify {
	int64_t checked;          /* records checked so far */
	unsigned char head[32];   /* hash of the last good record */
	int64_t broken_seq;       /* first broken record, 0 while none */
	char why[160];
};

void audit_verify_init(struct audit_verify *v);
/* Checks the next record; false (and broken_seq, why set) at a break. */
bool audit_verify_step(struct audit_verify *v, const struct audit_rec *r);

#endif
