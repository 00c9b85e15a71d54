#include "base/common.h"
#include "audit/audit.h"

#include <sodium.h>

static void put_bytes(crypto_hash_sha256_state *st, const void *p, size_t n)
{
	unsigned char len[4] = { (unsigned char)(n >> 24), (unsigned char)(n >> 16),
				 (unsigned char)(n >> 8), (unsigned char)n };
	crypto_hash_sha256_update(st, len, 4);
	if (n)
		crypto_hash_sha256_update(st, p, n);
}

static void put_str(crypto_hash_sha256_state *st, const char *s)
{
	if (!s) {
		/* NULL and "" differ: NULL is encoded as length 0xffffffff. */
		unsigned char len[4] = { 0xff, 0xff, 0xff, 0xff };
		crypto_hash_sha256_update(st, len, 4);
		return;
	}
	put_bytes(st, s, strlen(s));
}

static void put_i64(crypto_hash_sha256_state *st, int64_t v)
{
	unsigned char b[8];
	uint64_t u = (uint64_t)v;

	for (int i = 7; i >= 0; i--) {
		b[i] = (unsigned char)u;
		u >>= 8;
	}
	put_bytes(st, b, 8);
}

void audit_hash(const unsigned char prev[32], const struct audit_rec *r,
		unsigned char out[32])
{
	crypto_hash_sha256_state st;

	crypto_hash_sha256_init(&st);
	crypto_hash_sha256_update(&st, prev, 32);
	put_i64(&st, r->seq);
	put_i64(&st, r->at);
	put_i64(&st, r->actor_id);
	put_i64(&st, r->tenant_id);
	put_str(&st, r->action);
	put_str(&st, r->object_type);
	put_i64(&st, r->object_id);
	put_str(&st, r->outcome);
	put_str(&st, r->addr);
	put_str(&st, r->detail);
	crypto_hash_sha256_final(&st, out);
}

void audit_verify_init(struct audit_verify *v)
{
	memset(v, 0, sizeof(*v));
}

bool audit_verify_step(struct audit_verify *v, const struct audit_rec *r)
{
	unsigned char h[32];

	if (r->seq != v->checked + 1) {
		v->broken_seq = v->checked + 1;
		snprintf(v->why, sizeof(v->why),
			 "record %" PRId64 " is missing (next record is %" PRId64 ")",
			 v->checked + 1, r->seq);
		return false;
	}
	if (sodium_memcmp(r->prev_hash, v->head, 32) != 0) {
		v->broken_seq = r->seq;
		snprintf(v->why, sizeof(v->why),
			 "record %" PRId64 " does not follow the record before it", r->seq);
		return false;
	}
	audit_hash(v->head, r, h);
	if (sodium_memcmp(h, r->hash, 32) != 0) {
		v->broken_seq = r->seq;
		snprintf(v->why, sizeof(v->why),
			 "record %" PRId64 " was changed after it was written", r->seq);
		return false;
	}
	memcpy(v->head, h, 32);
	v->checked++;
	return true;
}
