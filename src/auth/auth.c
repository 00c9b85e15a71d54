#include "base/common.h"
#include "auth/auth.h"

#include <liboath/oath.h>
#include <pthread.h>
#include <sodium.h>

static char dummy_hash[PWHASH_MAX];

enum result auth_init(struct err *e)
{
	if (sodium_init() < 0)
		return err_set(e, RC_IO, NULL, "libsodium failed to initialise");
	if (oath_init() != OATH_OK)
		return err_set(e, RC_IO, NULL, "liboath failed to initialise");
	if (!dummy_hash[0]) {
		char pw[TOKEN_MAX];
		token_new("", pw);
		if (password_hash(pw, dummy_hash, e) != RC_OK)
			return e ? e->code : RC_IO;
	}
	return RC_OK;
}

void auth_done(void)
{
	oath_done();
}

enum result password_hash(const char *password, char out[PWHASH_MAX], struct err *e)
{
	_Static_assert(PWHASH_MAX >= crypto_pwhash_STRBYTES, "hash buffer");
	if (crypto_pwhash_str_alg(out, password, strlen(password),
				  crypto_pwhash_OPSLIMIT_INTERACTIVE,
				  crypto_pwhash_MEMLIMIT_INTERACTIVE,
				  crypto_pwhash_ALG_ARGON2ID13) != 0)
		return err_set(e, RC_NOMEM, NULL, "password hashing ran out of memory");
	return RC_OK;
}

bool password_verify(const char *hash, const char *password)
{
	if (!hash || !*hash) {
		/* Same work as a real check; the answer is no either way. */
		int ignored = crypto_pwhash_str_verify(dummy_hash, password, strlen(password));
		UNUSED(ignored);
		return false;
	}
	return crypto_pwhash_str_verify(hash, password, strlen(password)) == 0;
}

const char *password_policy(const char *password)
{
	size_t n = strlen(password);

	if (n < PASSWORD_MIN)
		return "must be at least 10 characters long";
	if (n > PASSWORD_MAX)
		return "must be at most 1024 bytes long";
	return NULL;
}

void token_new(const char *prefix, char out[TOKEN_MAX])
{
	unsigned char raw[32];
	size_t p = strlen(prefix);

	randombytes_buf(raw, sizeof(raw));
	memcpy(out, prefix, p);
	sodium_bin2base64(out + p, TOKEN_MAX - p, raw, sizeof(raw),
			  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	sodium_memzero(raw, sizeof(raw));
}

void token_hash(const char *token, unsigned char out[32])
{
	crypto_hash_sha256(out, (const unsigned char *)token, strlen(token));
}

bool hash_equal(const unsigned char a[32], const unsigned char b[32])
{
	return sodium_memcmp(a, b, 32) == 0;
}

void totp_secret_new(char out[TOTP_SECRET_MAX])
{
	char raw[20];
	char *b32 = NULL;
	size_t len = 0;

	randombytes_buf(raw, sizeof(raw));
	if (oath_base32_encode(raw, sizeof(raw), &b32, &len) == OATH_OK && len < TOTP_SECRET_MAX) {
		memcpy(out, b32, len);
		out[len] = '\0';
	} else {
		out[0] = '\0';
	}
	free(b32);
	sodium_memzero(raw, sizeof(raw));
}

static bool secret_decode(const char *b32, char **raw, size_t *len)
{
	*raw = NULL;
	*len = 0;
	return b32 && *b32 && oath_base32_decode(b32, strlen(b32), raw, len) == OATH_OK;
}

bool totp_check(const char *secret_b32, const char *code, int64_t now_ms)
{
	char *raw;
	size_t len;
	int rc;

	if (!code || strlen(code) != 6 || strspn(code, "0123456789") != 6)
		return false;
	if (!secret_decode(secret_b32, &raw, &len))
		return false;
	rc = oath_totp_validate(raw, len, (time_t)(now_ms / 1000),
				OATH_TOTP_DEFAULT_TIME_STEP_SIZE, 0, 1, code);
	sodium_memzero(raw, len);
	free(raw);
	return rc >= 0;
}

int64_t totp_step_of(const char *secret_b32, const char *code, int64_t now_ms)
{
	char *raw;
	size_t len;
	int rc, pos = 0;

	if (!code || strlen(code) != 6 || strspn(code, "0123456789") != 6)
		return 0;
	if (!secret_decode(secret_b32, &raw, &len))
		return 0;
	rc = oath_totp_validate2(raw, len, (time_t)(now_ms / 1000), OATH_TOTP_DEFAULT_TIME_STEP_SIZE,
				 0, 1, &pos, code);
	sodium_memzero(raw, len);
	free(raw);
	if (rc < 0)
		return 0;
	return now_ms / 1000 / OATH_TOTP_DEFAULT_TIME_STEP_SIZE + pos;
}

bool totp_code(const char *secret_b32, int64_t now_ms, char out[8])
{
	char *raw;
	size_t len;
	int rc;

	if (!secret_decode(secret_b32, &raw, &len))
		return false;
	rc = oath_totp_generate(raw, len, (time_t)(now_ms / 1000),
				OATH_TOTP_DEFAULT_TIME_STEP_SIZE, 0, 6, out);
	sodium_memzero(raw, len);
	free(raw);
	return rc == OATH_OK;
}

static void url_escape(const char *s, char *out, size_t outsz)
{
	static const char hx[] = "0123456789ABCDEF";
	size_t o = 0;

	for (; *s && o + 4 < outsz; s++) {
		unsigned char c = (unsigned char)*s;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    strchr("-._~@", c)) {
			out[o++] = (char)c;
		} else {
			out[o++] = '%';
			out[o++] = hx[c >> 4];
			out[o++] = hx[c & 15];
		}
	}
	out[o] = '\0';
}

void totp_uri(const char *issuer, const char *account, const char *secret_b32,
	      char *out, size_t outsz)
{
	char iss[128], acc[512];

	url_escape(issuer, iss, sizeof(iss));
	url_escape(account, acc, sizeof(acc));
	snprintf(out, outsz,
		 "otpauth://totp/%s:%s?secret=%s&issuer=%s&algorithm=SHA1&digits=6&period=30",
		 iss, acc, secret_b32, iss);
}

/* ---- throttling ---------------------------------------------------------- */

int64_t throttle_wait(const struct throttle_slot *s, const struct throttle_policy *p,
		      int64_t now)
{
	int64_t end = s->window_start + p->window_ms;

	if (s->failures < p->limit || now >= end)
		return 0;
	return end - now;
}

static const struct {
	const char *kind;
	struct throttle_policy policy;
} throttle_kinds[] = {
	{ "account", { 5, 15 * 60 * 1000 } },
	{ "address", { 30, 15 * 60 * 1000 } },
};

const struct throttle_policy *throttle_policy_of(const char *kind)
{
	for (size_t i = 0; i < ARRAY_SIZE(throttle_kinds); i++)
		if (!strcmp(throttle_kinds[i].kind, kind))
			return &throttle_kinds[i].policy;
	return &throttle_kinds[0].policy;
}

void throttle_key(const char *kind, const char *key, unsigned char out[32])
{
	crypto_hash_sha256_state h;

	crypto_hash_sha256_init(&h);
	crypto_hash_sha256_update(&h, (const unsigned char *)"itsup-throttle", 15);
	crypto_hash_sha256_update(&h, (const unsigned char *)kind, strlen(kind) + 1);
	crypto_hash_sha256_update(&h, (const unsigned char *)key, strlen(key));
	crypto_hash_sha256_final(&h, out);
}

/* ---- permissions ---------------------------------------------------------- */

bool auth_may_manage_user(const struct scope *caller, enum role role,
			  int64_t client_id, struct err *e)
{
	if (caller->role == ROLE_ADMIN || caller->role == ROLE_SYSTEM)
		return true;
	if (caller->role == ROLE_CLIENT_ADMIN) {
		if (!role_is_client(role)) {
			err_set(e, RC_DENIED, "role", "client admins manage client roles only");
			return false;
		}
		if (client_id != caller->client_id) {
			err_set(e, RC_DENIED, "client_id",
				"client admins manage users of their own organisation only");
			return false;
		}
		return true;
	}
	err_set(e, RC_DENIED, NULL, "only admins and client admins manage users");
	return false;
}

bool auth_role_shape_ok(enum role role, int tier, int64_t client_id, struct err *e)
{
	if (role == ROLE_NONE || role == ROLE_SYSTEM) {
		err_set(e, RC_INVALID, "role", "unknown role");
		return false;
	}
	if (role == ROLE_TECHNICIAN && (tier < 1 || tier > 3)) {
		err_set(e, RC_INVALID, "tier", "technicians need a tier: 1, 2 or 3");
		return false;
	}
	if (role != ROLE_TECHNICIAN && tier != 0) {
		err_set(e, RC_INVALID, "tier", "only technicians have a tier");
		return false;
	}
	if (role_is_client(role) && client_id <= 0) {
		err_set(e, RC_INVALID, "client_id", "client roles need a client_id");
		return false;
	}
	if (role_is_staff(role) && client_id != 0) {
		err_set(e, RC_INVALID, "client_id", "provider staff belong to no client");
		return false;
	}
	return true;
}
