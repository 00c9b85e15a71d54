/*
 * auth.h: passwords, tokens, TOTP and login throttling.
 *
 * Passwords are argon2id (libsodium crypto_pwhash, interactive limits).
 * Session ids, CSRF tokens and API tokens are 256 random bits, shown to
 * their owner once and stored only as SHA-256: a stolen database holds no
 * usable token, and checking one costs a hash, never a slow KDF.
 * TOTP is RFC 6238 (liboath): SHA-1, 6 digits, 30 s, one step of drift.
 */
#ifndef ITSUP_AUTH_H
#define ITSUP_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth/scope.h"
#include "base/err.h"

/* Once per process, before threads: libsodium, liboath, the dummy hash. */
enum result auth_init(struct err *e);
void auth_done(void);

#define PASSWORD_MIN 10
#define PASSWORD_MAX 1024
#define PWHASH_MAX 128

/* argon2id of password into out (a NUL-terminated string). */
enum result password_hash(const char *password, char out[PWHASH_MAX], struct err *e);
/* True when password matches hash. hash NULL: runs a verification against
 * a dummy hash anyway (same cost, so unknown accounts look the same) and
 * returns false. */
bool password_verify(const char *hash, const char *password);
/* NULL when acceptable, else why not. */
const char *password_policy(const char *password);

/* 256 random bits as 43 base64url characters (+ prefix), NUL-terminated. */
#define TOKEN_MAX 64
void token_new(const char *prefix, char out[TOKEN_MAX]);
void token_hash(const char *token, unsigned char out[32]);
/* Constant-time comparison of two 32-byte hashes. */
bool hash_equal(const unsigned char a[32], const unsigned char b[32]);

/* A new TOTP secret: base32 (32 characters for 160 bits). */
#define TOTP_SECRET_MAX 64
void totp_secret_new(char out[TOTP_SECRET_MAX]);
/* True when code is valid for secret at now_ms, within one 30 s step. */
bool totp_check(const char *secret_b32, const char *code, int64_t now_ms);
/* The time step (30-second units since the epoch) whose code is code for
 * secret at now_ms, within one step either way; 0 when none. Each step is
 * accepted once per user (RFC 6238 section 5.2): the store keeps the last
 * one used (users.totp_last_step) and refuses a login or enrolment whose
 * step is not newer (store_write.totp_step), so a code seen on the wire
 * cannot be replayed, on any server of the database. */
int64_t totp_step_of(const char *secret_b32, const char *code, int64_t now_ms);
/* The code for secret at now_ms (tests and the demo). */
bool totp_code(const char *secret_b32, int64_t now_ms, char out[8]);
/* otpauth://totp/ URI for authenticator apps. */
void totp_uri(const char *issuer, const char *account, const char *secret_b32,
	      char *out, size_t outsz);

/* ---- throttling ----------------------------------------------------------
 * Failed logins are counted per account (the e-mail as typed, lowercased,
 * whether or not it exists, so that throttling reveals nothing) and per
 * client address, in fixed windows. Past the limit, logins from that key
 * are refused until the window ends, even with the right password. The
 * counters live in the store (W_THROTTLE, store_throttle_get), so that
 * every server on one database counts the same failures. */

struct throttle_policy {
	int limit;            /* failures allowed per window */
	int64_t window_ms;
};

/* A counter as stored: its window's start and the failures in it. */
struct throttle_slot {
	int64_t window_start;
	int failures;
};

/* Pure decision: 0 when allowed now, else ms until it is. */
int64_t throttle_wait(const struct throttle_slot *s, const struct throttle_policy *p,
		      int64_t now);
/* The policy of a kind ("account", "address"). */
const struct throttle_policy *throttle_policy_of(const char *kind);
/* The counter's key in the store: SHA-256 of the kind and the key (the
 * same on every server; no e-mail address stored as such). */
void throttle_key(const char *kind, const char *key, unsigned char out[32]);

/* ---- permissions: pure decisions ---------------------------------------- */

/* Whether the caller may create or change a user with this role and
 * organisation (admins: anyone; client admins: client roles of their own
 * organisation). Fills e with the reason when not. */
bool auth_may_manage_user(const struct scope *caller, enum role role,
			  int64_t client_id, struct err *e);
/* Whether role/tier/client_id fit together (technicians have a tier 1..3,
 * client roles an organisation, staff none). */
bool auth_role_shape_ok(enum role role, int tier, int64_t client_id, struct err *e);

#endif
