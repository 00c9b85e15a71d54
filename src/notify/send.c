/*
 * send.c: the outbox's two ways out (send.h): smtp_send and webhook_post
 * over libcurl, and the pure pieces under them: the address policy
 * (net_policy_parse, net_addr_allowed), the webhook URL check and the
 * webhook signature.
 *
 * Invariants:
 *  1. A webhook connects only to an address net_addr_allowed passed. The
 *     host is resolved here once (webhook_resolve), every answer is
 *     checked, the checked answers are pinned with CURLOPT_RESOLVE, and
 *     the opensocket callback (webhook_open) checks again whatever libcurl
 *     is about to connect to, so a pin that libcurl does not match (a
 *     spelling of the name it keys differently) cannot reach a denied
 *     address either. Proxies from the environment are switched off and
 *     redirects are not followed, so nothing else picks the address.
 *  2. An SMTP message leaves with CRLF line ends only: smtp_crlf rewrites
 *     bare LF and bare CR before libcurl sees the message. (CURLOPT_CRLF is
 *     not used: it turns every LF into CRLF, so a CRLF message would go
 *     out with CR CR LF.) libcurl dot-stuffs and ends the DATA itself.
 *  3. libcurl's global state is set up once, by curl_ready (pthread_once):
 *     nothing else in the server does it, and the dispatcher is a thread.
 *  4. Both senders keep nothing between calls: one easy handle per call,
 *     freed at the single out: label.
 */
#include "base/common.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sodium.h>
#include <sys/socket.h>

#include "base/buf.h"
#include "notify/send.h"

#define URL_MAX 2048
#define DEFAULT_TIMEOUT_MS 60000L
#define CONNECT_TIMEOUT_MAX_MS 10000L
#define REPLY_MAX 200            /* kept of the last SMTP reply line */
#define ANSWER_READ_MAX 65536    /* webhook answer bytes read (and dropped) */
#define PIN_MAX 8                /* addresses pinned per webhook */

/* ---- libcurl, once ---------------------------------------------------- */

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc = CURLE_FAILED_INIT;

static void curl_init_once(void)
{
	curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static bool curl_ready(void)
{
	pthread_once(&curl_once, curl_init_once);
	return curl_init_rc == CURLE_OK;
}

static long connect_timeout(long timeout_ms)
{
	return timeout_ms < CONNECT_TIMEOUT_MAX_MS ? timeout_ms : CONNECT_TIMEOUT_MAX_MS;
}

/* ---- the address policy ----------------------------------------------- */

/* Denied unless allowed. IPv6 forms that carry an IPv4 address (mapped,
 * NAT64, 6to4) are judged by that address instead (embedded_v4). */
static const struct net_cidr deny_v4[] = {
	{ AF_INET, { 0 }, 8 },                /* "this network", 0.0.0.0 */
	{ AF_INET, { 10 }, 8 },               /* RFC 1918 */
	{ AF_INET, { 100, 64 }, 10 },         /* CGNAT */
	{ AF_INET, { 127 }, 8 },              /* loopback */
	{ AF_INET, { 169, 254 }, 16 },        /* link-local, cloud metadata */
	{ AF_INET, { 172, 16 }, 12 },         /* RFC 1918 */
	{ AF_INET, { 192, 0, 0 }, 24 },       /* IETF protocol assignments */
	{ AF_INET, { 192, 168 }, 16 },        /* RFC 1918 */
	{ AF_INET, { 198, 18 }, 15 },         /* benchmarking */
	{ AF_INET, { 224 }, 4 },              /* multicast */
	{ AF_INET, { 240 }, 4 },              /* reserved, 255.255.255.255 */
};

static const struct net_cidr deny_v6[] = {
	{ AF_INET6, { 0 }, 96 },                          /* ::, ::1, IPv4-compatible */
	{ AF_INET6, { 0x00, 0x64, 0xff, 0x9b, 0x00, 0x01 }, 48 }, /* local NAT64 (RFC 8215) */
	{ AF_INET6, { 0xfc }, 7 },                        /* unique local */
	{ AF_INET6, { 0xfe, 0x80 }, 10 },                 /* link-local */
	{ AF_INET6, { 0xfe, 0xc0 }, 10 },                 /* site-local (deprecated) */
	{ AF_INET6, { 0xff }, 8 },                        /* multicast */
};

static bool cidr_contains(const struct net_cidr *c, int family, const unsigned char *a)
{
	int full = c->bits / 8, rest = c->bits % 8;
	unsigned char mask;

	if (c->family != family)
		return false;
	if (memcmp(c->addr, a, (size_t)full))
		return false;
	if (!rest)
		return true;
	mask = (unsigned char)(0xffu << (8 - rest));
	return (c->addr[full] & mask) == (a[full] & mask);
}

static bool cidr_any(const struct net_cidr *list, size_t n, int family, const unsigned char *a)
{
	for (size_t i = 0; i < n; i++)
		if (cidr_contains(&list[i], family, a))
			return true;
	return false;
}

/* The IPv4 address inside an IPv6 one that stands for it: IPv4-mapped
 * (::ffff:0:0/96), NAT64 (64:ff9b::/96) and 6to4 (2002::/16). */
static bool embedded_v4(const unsigned char *a6, unsigned char v4[4])
{
	static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	static const unsigned char nat64[12] = { 0x00, 0x64, 0xff, 0x9b };

	if (!memcmp(a6, mapped, 12) || !memcmp(a6, nat64, 12)) {
		memcpy(v4, a6 + 12, 4);
		return true;
	}
	if (a6[0] == 0x20 && a6[1] == 0x02) {
		memcpy(v4, a6 + 2, 4);
		return true;
	}
	return false;
}

bool net_addr_allowed(const struct net_policy *p, const struct sockaddr *sa)
{
	static const struct net_policy none;
	unsigned char a[16], v4[4];
	int family;
	bool has_v4 = false;

	if (!p)
		p = &none;
	if (!sa)
		return false;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;
		family = AF_INET;
		memcpy(a, &in->sin_addr, 4);
		memcpy(v4, a, 4);
		has_v4 = true;
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)sa;
		family = AF_INET6;
		memcpy(a, &in6->sin6_addr, 16);
		has_v4 = embedded_v4(a, v4);
	} else {
		return false;
	}
	if (cidr_any(p->allow, (size_t)p->nallow, family, a))
		return true;
	if (has_v4 && cidr_any(p->allow, (size_t)p->nallow, AF_INET, v4))
		return true;
	if (has_v4)
		return !cidr_any(deny_v4, ARRAY_SIZE(deny_v4), AF_INET, v4);
	return !cidr_any(deny_v6, ARRAY_SIZE(deny_v6), AF_INET6, a);
}

/* A whole decimal prefix length from 0 to max (digits only, no sign). */
static bool prefix_parse(const char *s, int max, int *bits)
{
	char *end;
	long v;

	if (!*s || strlen(s) > 3 || strspn(s, "0123456789") != strlen(s))
		return false;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v < 0 || v > max)
		return false;
	*bits = (int)v;
	return true;
}

static bool cidr_host_bits_clear(const struct net_cidr *c)
{
	int len = c->family == AF_INET ? 4 : 16;

	for (int i = 0; i < len; i++) {
		int keep = c->bits - 8 * i;
		unsigned int mask = keep >= 8 ? 0xffu : keep <= 0 ? 0u : (0xffu << (8 - keep)) & 0xffu;

		if (c->addr[i] & ~mask & 0xffu)
			return false;
	}
	return true;
}

/* One entry, "addr" or "addr/bits", n bytes at s (already trimmed). */
static enum result cidr_parse(const char *s, size_t n, struct net_cidr *c, const char *field,
			      struct err *e)
{
	char tmp[64];
	char *slash;

	if (!n)
		return err_set(e, RC_INVALID, field, "%s has an empty entry", field);
	if (n >= sizeof(tmp))
		return err_set(e, RC_INVALID, field, "%s: '%.*s...' is too long for an address", field,
			       20, s);
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	memset(c, 0, sizeof(*c));
	slash = strchr(tmp, '/');
	if (slash)
		*slash = '\0';
	if (inet_pton(AF_INET, tmp, c->addr) == 1) {
		c->family = AF_INET;
		c->bits = 32;
	} else if (inet_pton(AF_INET6, tmp, c->addr) == 1) {
		c->family = AF_INET6;
		c->bits = 128;
	} else {
		return err_set(e, RC_INVALID, field, "%s: '%.*s' is not an IP address or CIDR", field,
			       (int)n, s);
	}
	if (slash && !prefix_parse(slash + 1, c->bits, &c->bits))
		return err_set(e, RC_INVALID, field, "%s: '%.*s' has a bad prefix length (0 to %d)",
			       field, (int)n, s, c->family == AF_INET ? 32 : 128);
	if (!cidr_host_bits_clear(c))
		return err_set(e, RC_INVALID, field,
			       "%s: '%.*s' has bits set after the prefix length", field, (int)n, s);
	return RC_OK;
}

static bool is_space(char ch)
{
	return ch == ' ' || ch == '\t';
}

enum result net_policy_parse(const char *csv, struct net_policy *p, const char *field,
			     struct err *e)
{
	const char *s = csv ? csv : "";
	enum result rc = RC_OK;

	memset(p, 0, sizeof(*p));
	if (strspn(s, " \t") == strlen(s))
		return RC_OK;
	for (;;) {
		const char *comma = strchr(s, ',');
		size_t n = comma ? (size_t)(comma - s) : strlen(s);
		struct net_cidr c;

		while (n && is_space(*s)) {
			s++;
			n--;
		}
		while (n && is_space(s[n - 1]))
			n--;
		rc = cidr_parse(s, n, &c, field, e);
		if (rc != RC_OK)
			goto out;
		if (p->nallow == NET_POLICY_MAX) {
			rc = err_set(e, RC_INVALID, field, "%s has more than %d entries", field,
				     NET_POLICY_MAX);
			goto out;
		}
		p->allow[p->nallow++] = c;
		if (!comma)
			break;
		s = comma + 1;
	}
out:
	if (rc != RC_OK)
		memset(p, 0, sizeof(*p));
	return rc;
}

/* ---- webhook URLs ----------------------------------------------------- */

/* Where a webhook URL points. */
struct target {
	char host[256];     /* as libcurl keys its DNS cache: without [], a
			     * trailing dot kept (libcurl 7.88 keeps it too) */
	char port[8];
	bool literal;       /* host is an IP address, in addr */
	struct sockaddr_storage addr;
};

static bool url_chars_ok(const char *url)
{
	for (const unsigned char *p = (const unsigned char *)url; *p; p++)
		if (*p <= ' ' || *p == 0x7f)
			return false;
	return true;
}

static bool host_ascii(const char *h)
{
	for (const unsigned char *p = (const unsigned char *)h; *p; p++)
		if (*p >= 0x80)
			return false;
	return true;
}

/* Whether host is an IP address (libcurl has already normalised forms
 * such as 0x7f.1 to 127.0.0.1), into ss. */
static bool addr_literal(const char *host, struct sockaddr_storage *ss)
{
	struct sockaddr_in *in = (struct sockaddr_in *)(void *)ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)(void *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, host, &in->sin_addr) == 1) {
		in->sin_family = AF_INET;
		return true;
	}
	if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		return true;
	}
	return false;
}

/* The host and port of url, after the checks webhook_url_check promises
 * except the policy. */
static enum result url_target(const char *url, struct target *t, const char *field,
			      struct err *e)
{
	CURLU *h = NULL;
	CURLUcode uc;
	char *scheme = NULL, *user = NULL, *pass = NULL, *host = NULL, *port = NULL, *zone = NULL;
	const char *sep;
	enum result rc = RC_INVALID;
	size_t n;

	memset(t, 0, sizeof(*t));
	if (!url || !*url) {
		err_set(e, RC_INVALID, field, "%s is required", field);
		goto out;
	}
	if (strlen(url) > URL_MAX) {
		err_set(e, RC_INVALID, field, "%s is longer than %d bytes", field, URL_MAX);
		goto out;
	}
	if (!url_chars_ok(url)) {
		err_set(e, RC_INVALID, field, "%s must not contain spaces or control characters",
			field);
		goto out;
	}
	/* libcurl reads "http:///x" as the host x; an admin meant something else. */
	sep = strstr(url, "://");
	if (sep && sep[3] == '/') {
		err_set(e, RC_INVALID, field, "%s has no host", field);
		goto out;
	}
	h = curl_url();
	if (!h) {
		rc = err_set(e, RC_NOMEM, field, "out of memory");
		goto out;
	}
	uc = curl_url_set(h, CURLUPART_URL, url, 0);
	if (uc == CURLUE_UNSUPPORTED_SCHEME || uc == CURLUE_BAD_SCHEME) {
		err_set(e, RC_INVALID, field, "%s must be an http:// or https:// URL", field);
		goto out;
	}
	if (uc != CURLUE_OK) {
		err_set(e, RC_INVALID, field, "%s is not a valid URL (%s)", field, curl_url_strerror(uc));
		goto out;
	}
	if (curl_url_get(h, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    (strcmp(scheme, "http") && strcmp(scheme, "https"))) {
		err_set(e, RC_INVALID, field, "%s must be an http:// or https:// URL", field);
		goto out;
	}
	if (curl_url_get(h, CURLUPART_USER, &user, 0) == CURLUE_OK ||
	    curl_url_get(h, CURLUPART_PASSWORD, &pass, 0) == CURLUE_OK) {
		err_set(e, RC_INVALID, field, "%s must not contain a user name or password", field);
		goto out;
	}
	if (curl_url_get(h, CURLUPART_ZONEID, &zone, 0) == CURLUE_OK) {
		err_set(e, RC_INVALID, field, "%s must not name an IPv6 zone", field);
		goto out;
	}
	if (curl_url_get(h, CURLUPART_HOST, &host, 0) != CURLUE_OK || !*host) {
		err_set(e, RC_INVALID, field, "%s has no host", field);
		goto out;
	}
	if (!host_ascii(host)) {
		err_set(e, RC_INVALID, field,
			"%s: write a host name that is not ASCII in its xn-- form", field);
		goto out;
	}
	n = strlen(host);
	if (n >= sizeof(t->host)) {
		err_set(e, RC_INVALID, field, "%s has a host name that is too long", field);
		goto out;
	}
	if (host[0] == '[' && n > 2 && host[n - 1] == ']')
		snprintf(t->host, sizeof(t->host), "%.*s", (int)(n - 2), host + 1);
	else
		snprintf(t->host, sizeof(t->host), "%s", host);
	if (curl_url_get(h, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) != CURLUE_OK ||
	    !strcmp(port, "0") || strlen(port) >= sizeof(t->port)) {
		err_set(e, RC_INVALID, field, "%s has a bad port", field);
		goto out;
	}
	snprintf(t->port, sizeof(t->port), "%s", port);
	t->literal = addr_literal(t->host, &t->addr);
	rc = RC_OK;
out:
	curl_free(scheme);
	curl_free(user);
	curl_free(pass);
	curl_free(host);
	curl_free(port);
	curl_free(zone);
	curl_url_cleanup(h);
	return rc;
}

static void addr_text(const struct sockaddr *sa, char *out, size_t outsz)
{
	const void *a = sa->sa_family == AF_INET
				? (const void *)&((const struct sockaddr_in *)(const void *)sa)->sin_addr
				: (const void *)&((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;

	if (!inet_ntop(sa->sa_family, a, out, (socklen_t)outsz))
		snprintf(out, outsz, "?");
}

enum result webhook_url_check(const struct net_policy *p, const char *url, const char *field,
			      struct err *e)
{
	struct target t;
	enum result rc = url_target(url, &t, field, e);
	char text[INET6_ADDRSTRLEN];

	if (rc != RC_OK)
		return rc;
	if (t.literal && !net_addr_allowed(p, (const struct sockaddr *)&t.addr)) {
		addr_text((const struct sockaddr *)&t.addr, text, sizeof(text));
		return err_set(e, RC_DENIED, field,
			       "%s: address %s is not allowed by the webhook policy", field, text);
	}
	return RC_OK;
}

/* ---- the webhook signature -------------------------------------------- */

void webhook_signature(const char *secret, int64_t ts, const char *body, size_t len,
		       char out[WEBHOOK_SIG_MAX])
{
	crypto_auth_hmacsha256_state st;
	unsigned char mac[crypto_auth_hmacsha256_BYTES];
	char prefix[32], hex[2 * crypto_auth_hmacsha256_BYTES + 1];
	int n = snprintf(prefix, sizeof(prefix), "%" PRId64 ".", ts);

	if (!secret)
		secret = "";
	crypto_auth_hmacsha256_init(&st, (const unsigned char *)secret, strlen(secret));
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)prefix, (unsigned long long)n);
	if (len)
		crypto_auth_hmacsha256_update(&st, (const unsigned char *)body, len);
	crypto_auth_hmacsha256_final(&st, mac);
	sodium_bin2hex(hex, sizeof(hex), mac, sizeof(mac));
	snprintf(out, WEBHOOK_SIG_MAX, "t=%" PRId64 ",v1=%s", ts, hex);
	sodium_memzero(&st, sizeof(st));
}

/* ---- webhook_post ----------------------------------------------------- */

/* What the HTTP status means for the delivery. */
static enum result webhook_outcome(long status)
{
	if (status >= 200 && status < 300)
		return RC_OK;
	if (status == 410)
		return RC_INVALID;
	return RC_IO;
}

static bool event_ok(const char *ev)
{
	size_t n = ev ? strlen(ev) : 0;

	return n && n <= 64 &&
	       strspn(ev, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == n;
}

/* Resolves t's host, checks every answer and writes the CURLOPT_RESOLVE
 * entry "host:port:addr,addr..." pinning them. */
static enum result webhook_resolve(const struct net_policy *p, const struct target *t,
				   char *pin, size_t pinsz, struct err *e)
{
	struct addrinfo hints, *res = NULL;
	enum result rc = RC_IO;
	size_t used;
	int gai, npinned = 0;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	gai = getaddrinfo(t->host, t->port, &hints, &res);
	if (gai) {
		err_set(e, RC_IO, "url", "cannot resolve %s: %s", t->host, gai_strerror(gai));
		goto out;
	}
	snprintf(pin, pinsz, "%s:%s:", t->host, t->port);
	used = strlen(pin);
	for (const struct addrinfo *ai = res; ai; ai = ai->ai_next) {
		char text[INET6_ADDRSTRLEN];
		int n;

		if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6)
			continue;
		addr_text(ai->ai_addr, text, sizeof(text));
		if (!net_addr_allowed(p, ai->ai_addr)) {
			rc = err_set(e, RC_DENIED, "url",
				     "address %s is not allowed by the webhook policy", text);
			goto out;
		}
		if (npinned == PIN_MAX)
			continue;
		n = snprintf(pin + used, pinsz - used, ai->ai_family == AF_INET6 ? "%s[%s]" : "%s%s",
			     npinned ? "," : "", text);
		if (n < 0 || (size_t)n >= pinsz - used)
			continue;
		used += (size_t)n;
		npinned++;
	}
	if (!npinned) {
		err_set(e, RC_IO, "url", "%s has no IPv4 or IPv6 address", t->host);
		goto out;
	}
	rc = RC_OK;
out:
	if (res)
		freeaddrinfo(res);
	return rc;
}

struct webhook_ctx {
	const struct net_policy *p;
	char denied[INET6_ADDRSTRLEN];   /* an address webhook_open refused */
	size_t read;                     /* answer bytes seen */
};

/* Invariant 1's last guard: libcurl connects only where the policy allows. */
static curl_socket_t webhook_open(void *clientp, curlsocktype purpose,
				  struct curl_sockaddr *address)
{
	struct webhook_ctx *x = clientp;
	struct sockaddr_storage ss;

	memset(&ss, 0, sizeof(ss));
	if (purpose != CURLSOCKTYPE_IPCXN || address->addrlen > sizeof(ss))
		return CURL_SOCKET_BAD;
	memcpy(&ss, &address->addr, address->addrlen);
	if (!net_addr_allowed(x->p, (const struct sockaddr *)&ss)) {
		if (ss.ss_family == AF_INET || ss.ss_family == AF_INET6)
			addr_text((const struct sockaddr *)&ss, x->denied, sizeof(x->denied));
		else
			snprintf(x->denied, sizeof(x->denied), "?");
		return CURL_SOCKET_BAD;
	}
	return socket(address->family, address->socktype, address->protocol);
}

/* The answer's body is not wanted: read up to ANSWER_READ_MAX and drop it;
 * past that, stop (CURLE_WRITE_ERROR, the status is known by then). */
static size_t webhook_drop(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct webhook_ctx *x = userdata;
	size_t n = size * nmemb;

	UNUSED(ptr);
	x->read += n;
	return x->read > ANSWER_READ_MAX ? 0 : n;
}

static bool header_add(struct curl_slist **list, const char *line)
{
	struct curl_slist *l = curl_slist_append(*list, line);

	if (!l)
		return false;
	*list = l;
	return true;
}

/* The request's headers; "Expect:" keeps libcurl from waiting for a
 * 100 Continue on larger bodies. */
static bool webhook_headers(struct curl_slist **hdrs, const char *event, int64_t delivery_id,
			    const char *sig)
{
	char line[160];

	if (!header_add(hdrs, "Content-Type: application/json") ||
	    !header_add(hdrs, "User-Agent: itsup-webhook/1") || !header_add(hdrs, "Expect:"))
		return false;
	snprintf(line, sizeof(line), "X-Itsup-Event: %s", event);
	if (!header_add(hdrs, line))
		return false;
	snprintf(line, sizeof(line), "X-Itsup-Delivery: %" PRId64, delivery_id);
	if (!header_add(hdrs, line))
		return false;
	snprintf(line, sizeof(line), "X-Itsup-Signature: %s", sig);
	return header_add(hdrs, line);
}

enum result webhook_post(const struct net_policy *p, const char *url, const char *secret,
			 const char *event, int64_t delivery_id, const char *body, size_t len,
			 int64_t now_s, long timeout_ms, long *status, struct err *e)
{
	struct target t;
	struct webhook_ctx x;
	struct curl_slist *hdrs = NULL, *pins = NULL;
	CURL *c = NULL;
	CURLcode cc;
	char pin[300 + PIN_MAX * (INET6_ADDRSTRLEN + 3)], errbuf[CURL_ERROR_SIZE];
	char sig[WEBHOOK_SIG_MAX], text[INET6_ADDRSTRLEN];
	long got = 0;
	enum result rc;

	if (status)
		*status = 0;
	if (!body)
		len = 0;
	if (timeout_ms <= 0)
		timeout_ms = DEFAULT_TIMEOUT_MS;
	rc = url_target(url, &t, "url", e);
	if (rc != RC_OK)
		goto out;
	if (!event_ok(event)) {
		rc = err_set(e, RC_INVALID, "event",
			     "the event name must be 1 to 64 letters, digits, '.', '_' or '-'");
		goto out;
	}
	memset(&x, 0, sizeof(x));
	x.p = p;
	if (t.literal) {
		if (!net_addr_allowed(p, (const struct sockaddr *)&t.addr)) {
			addr_text((const struct sockaddr *)&t.addr, text, sizeof(text));
			rc = err_set(e, RC_DENIED, "url",
				     "address %s is not allowed by the webhook policy", text);
			goto out;
		}
	} else {
		rc = webhook_resolve(p, &t, pin, sizeof(pin), e);
		if (rc != RC_OK)
			goto out;
	}
	rc = RC_IO;
	if (!curl_ready()) {
		err_set(e, RC_IO, NULL, "cannot initialise libcurl");
		goto out;
	}
	webhook_signature(secret, now_s, body, len, sig);
	if (!webhook_headers(&hdrs, event, delivery_id, sig))
		goto nomem;
	if (!t.literal && !header_add(&pins, pin))
		goto nomem;
	c = curl_easy_init();
	if (!c)
		goto nomem;
	errbuf[0] = '\0';
	/* The options invariant 1 rests on are checked; the rest cannot fail
	 * on a libcurl that has these. */
	if (curl_easy_setopt(c, CURLOPT_URL, url) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_PROXY, "") != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_OPENSOCKETFUNCTION, webhook_open) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_OPENSOCKETDATA, &x) != CURLE_OK ||
	    (pins && curl_easy_setopt(c, CURLOPT_RESOLVE, pins) != CURLE_OK)) {
		err_set(e, RC_IO, NULL, "libcurl refused a webhook safety option");
		goto out;
	}
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, connect_timeout(timeout_ms));
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(c, CURLOPT_POST, 1L);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, body ? body : "");
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, webhook_drop);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &x);
	cc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &got);
	if (status)
		*status = got;
	if (!got && x.denied[0]) {
		rc = err_set(e, RC_DENIED, "url", "address %s is not allowed by the webhook policy",
			     x.denied);
		goto out;
	}
	if (!got) {
		err_set(e, RC_IO, NULL, "%s", errbuf[0] ? errbuf : curl_easy_strerror(cc));
		goto out;
	}
	/* The status decides even when reading the answer failed after it: the
	 * endpoint has said what it did with the delivery. */
	rc = webhook_outcome(got);
	if (rc == RC_INVALID)
		err_set(e, rc, NULL, "HTTP %ld: the endpoint is gone", got);
	else if (rc != RC_OK)
		err_set(e, rc, NULL, "HTTP %ld%s", got,
			got >= 300 && got < 400 ? " (redirects are not followed)" : "");
	goto out;
nomem:
	rc = err_set(e, RC_NOMEM, NULL, "out of memory");
out:
	if (c)
		curl_easy_cleanup(c);
	curl_slist_free_all(hdrs);
	curl_slist_free_all(pins);
	return rc;
}

/* ---- smtp_send -------------------------------------------------------- */

/* The command the last SMTP reply answered, from what libcurl sent. */
enum smtp_stage { SMTP_OTHER, SMTP_MAIL, SMTP_RCPT, SMTP_DATA };

/* What an SMTP failure means for the message: a 5xx refusing the
 * recipient or the message (RCPT, DATA, the end of the data; 552 "too
 * big" at MAIL) will not change by trying again. A 5xx to the greeting,
 * EHLO, STARTTLS, AUTH or MAIL is about the server or our settings, which
 * an admin can fix, so the message waits (RC_IO) like for a 4xx. */
static enum result smtp_outcome(long code, enum smtp_stage stage)
{
	if (code < 500 || code > 599)
		return RC_IO;
	if (stage == SMTP_RCPT || stage == SMTP_DATA || (stage == SMTP_MAIL && code == 552))
		return RC_INVALID;
	return RC_IO;
}

struct smtp_ctx {
	const char *data;
	size_t len, off;
	enum smtp_stage stage;
	bool quitting;           /* QUIT went out: its 221 is not the answer */
	char reply[REPLY_MAX];   /* the last reply line, printable ASCII */
};

static size_t smtp_read(char *buffer, size_t size, size_t nitems, void *userdata)
{
	struct smtp_ctx *x = userdata;
	size_t n = size * nitems;

	if (n > x->len - x->off)
		n = x->len - x->off;
	memcpy(buffer, x->data + x->off, n);
	x->off += n;
	return n;
}

/* Sees the SMTP dialogue (CURLOPT_DEBUGFUNCTION): remembers the stage from
 * each command's verb (never more of it: AUTH lines carry credentials) and
 * the text of the last reply before QUIT (libcurl says QUIT after a
 * failure too). */
static int smtp_watch(CURL *handle, curl_infotype type, char *data, size_t size, void *userptr)
{
	struct smtp_ctx *x = userptr;
	size_t n = 0;

	UNUSED(handle);
	if (x->quitting)
		return 0;
	if (type == CURLINFO_HEADER_OUT) {
		if (size >= 4 && !strncasecmp(data, "QUIT", 4))
			x->quitting = true;
		else if (size >= 5 && !strncasecmp(data, "RCPT ", 5))
			x->stage = SMTP_RCPT;
		else if (size >= 5 && !strncasecmp(data, "MAIL ", 5))
			x->stage = SMTP_MAIL;
		else if (size >= 4 && !strncasecmp(data, "DATA", 4))
			x->stage = SMTP_DATA;
		else
			x->stage = SMTP_OTHER;
	} else if (type == CURLINFO_HEADER_IN && size >= 3 && data[0] >= '1' && data[0] <= '5' &&
		   data[1] >= '0' && data[1] <= '9' && data[2] >= '0' && data[2] <= '9') {
		while (n < size && n < sizeof(x->reply) - 1 && data[n] != '\r' && data[n] != '\n') {
			unsigned char ch = (unsigned char)data[n];
			x->reply[n] = ch >= ' ' && ch < 0x7f ? (char)ch : '?';
			n++;
		}
		x->reply[n] = '\0';
	}
	return 0;
}

/* msg with every line end CRLF (bare LF and bare CR become CRLF) into b. */
static enum result smtp_crlf(const char *msg, size_t len, struct buf *b)
{
	size_t start = 0;

	for (size_t i = 0; i < len; i++) {
		if (msg[i] == '\r' && i + 1 < len && msg[i + 1] == '\n') {
			i++;
			continue;
		}
		if (msg[i] != '\r' && msg[i] != '\n')
			continue;
		if (buf_append(b, msg + start, i - start) != RC_OK || buf_append(b, "\r\n", 2) != RC_OK)
			return RC_NOMEM;
		start = i + 1;
	}
	return buf_append(b, msg + start, len - start);
}

/* An envelope address: no spaces, control characters or angle brackets
 * (they would end the SMTP command), an '@', at most 254 bytes. */
static bool envelope_ok(const char *a)
{
	size_t n = strlen(a);

	if (!n || n > 254 || !strchr(a, '@'))
		return false;
	for (const unsigned char *p = (const unsigned char *)a; *p; p++)
		if (*p <= ' ' || *p == 0x7f || *p == '<' || *p == '>')
			return false;
	return true;
}

/* One SMTP handle kept between messages: libcurl keeps its connection
 * open, so a batch of messages to one server costs one connection, not
 * one each. Used under smtp_mu; dropped after any failure (the connection
 * may be in any state) and by smtp_close. */
static pthread_mutex_t smtp_mu = PTHREAD_MUTEX_INITIALIZER;
static CURL *smtp_keep;
static char smtp_keep_url[512];

void smtp_close(void)
{
	pthread_mutex_lock(&smtp_mu);
	if (smtp_keep)
		curl_easy_cleanup(smtp_keep);
	smtp_keep = NULL;
	pthread_mutex_unlock(&smtp_mu);
}

/* The kept handle for url (reset), or a new one. Under smtp_mu. */
static CURL *smtp_handle(const char *url)
{
	if (smtp_keep && !strcmp(smtp_keep_url, url)) {
		CURL *c = smtp_keep;
		smtp_keep = NULL;
		curl_easy_reset(c);
		return c;
	}
	if (smtp_keep)
		curl_easy_cleanup(smtp_keep);
	smtp_keep = NULL;
	return curl_easy_init();
}

enum result smtp_send(const struct smtp_cfg *cfg, const char *from, const char *to,
		      const char *msg, size_t len, struct err *e)
{
	struct smtp_ctx x;
	struct buf data;
	struct curl_slist *rcpt = NULL;
	CURL *c = NULL;
	CURLcode cc;
	char errbuf[CURL_ERROR_SIZE];
	long code = 0, timeout_ms;
	enum result rc = RC_INVALID;
	bool locked = false;

	memset(&x, 0, sizeof(x));
	buf_init(&data, 2 * len + 3);
	if (!cfg || !cfg->url || !*cfg->url) {
		err_set(e, RC_INVALID, "smtp_url", "no SMTP server is configured");
		goto out;
	}
	if (!from || (*from && !envelope_ok(from))) {
		err_set(e, RC_INVALID, "from", "the sender is not an e-mail address");
		goto out;
	}
	if (!to || !envelope_ok(to)) {
		err_set(e, RC_INVALID, "to", "the recipient is not an e-mail address");
		goto out;
	}
	if (!msg || !len) {
		err_set(e, RC_INVALID, "message", "the message is empty");
		goto out;
	}
	if (smtp_crlf(msg, len, &data) != RC_OK) {
		rc = err_set(e, RC_NOMEM, NULL, "out of memory");
		goto out;
	}
	x.data = data.data;
	x.len = data.len;
	rc = RC_IO;
	if (!curl_ready()) {
		err_set(e, RC_IO, NULL, "cannot initialise libcurl");
		goto out;
	}
	rcpt = curl_slist_append(NULL, to);
	pthread_mutex_lock(&smtp_mu);
	locked = true;
	c = smtp_handle(cfg->url);
	if (!rcpt || !c) {
		rc = err_set(e, RC_NOMEM, NULL, "out of memory");
		goto out;
	}
	timeout_ms = cfg->timeout_ms > 0 ? cfg->timeout_ms : DEFAULT_TIMEOUT_MS;
	errbuf[0] = '\0';
	if (curl_easy_setopt(c, CURLOPT_URL, cfg->url) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps") != CURLE_OK ||
	    (cfg->starttls && curl_easy_setopt(c, CURLOPT_USE_SSL, (long)CURLUSESSL_ALL) != CURLE_OK)) {
		err_set(e, RC_IO, NULL, "libcurl refused an SMTP option");
		goto out;
	}
	/* "" is the null sender: libcurl sends MAIL FROM:<>. */
	curl_easy_setopt(c, CURLOPT_MAIL_FROM, *from ? from : "<>");
	curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt);
	if (cfg->user && *cfg->user) {
		curl_easy_setopt(c, CURLOPT_USERNAME, cfg->user);
		curl_easy_setopt(c, CURLOPT_PASSWORD, cfg->password ? cfg->password : "");
	}
	curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(c, CURLOPT_READFUNCTION, smtp_read);
	curl_easy_setopt(c, CURLOPT_READDATA, &x);
	curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)x.len);
	curl_easy_setopt(c, CURLOPT_DEBUGFUNCTION, smtp_watch);
	curl_easy_setopt(c, CURLOPT_DEBUGDATA, &x);
	curl_easy_setopt(c, CURLOPT_VERBOSE, 1L);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, connect_timeout(timeout_ms));
	cc = curl_easy_perform(c);
	if (cc == CURLE_OK) {
		rc = RC_OK;
		goto out;
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	if (code >= 400 && code <= 599 && x.reply[0] == '0' + code / 100 &&
	    x.reply[1] == '0' + code / 10 % 10 && x.reply[2] == '0' + code % 10) {
		rc = err_set(e, smtp_outcome(code, x.stage), NULL, "%s", x.reply);
		goto out;
	}
	if (cc == CURLE_UNSUPPORTED_PROTOCOL || cc == CURLE_URL_MALFORMAT) {
		rc = err_set(e, RC_INVALID, "smtp_url", "%s",
			     errbuf[0] ? errbuf : curl_easy_strerror(cc));
		goto out;
	}
	rc = err_set(e, smtp_outcome(code, x.stage), NULL, "%s",
		     errbuf[0] ? errbuf : curl_easy_strerror(cc));
out:
	if (c && rc == RC_OK && strlen(cfg->url) < sizeof(smtp_keep_url)) {
		/* Kept with its open connection for the next message. */
		curl_easy_setopt(c, CURLOPT_MAIL_RCPT, NULL);
		curl_easy_setopt(c, CURLOPT_ERRORBUFFER, NULL);
		curl_easy_setopt(c, CURLOPT_DEBUGDATA, NULL);
		curl_easy_setopt(c, CURLOPT_READDATA, NULL);
		snprintf(smtp_keep_url, sizeof(smtp_keep_url), "%s", cfg->url);
		smtp_keep = c;
	} else if (c) {
		curl_easy_cleanup(c);
	}
	if (locked)
		pthread_mutex_unlock(&smtp_mu);
	curl_slist_free_all(rcpt);
	buf_release(&data);
	return rc;
}
