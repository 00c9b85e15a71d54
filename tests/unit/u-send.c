/* u-send.c: the outbox's senders (src/notify/send.h). The pure parts on
 * tables: the webhook address policy (default denials, IPv4 inside IPv6,
 * allow lists), the webhook URL check, the signature against vectors
 * computed independently (openssl dgst -hmac, Python's hmac). The senders
 * against stand-in servers on 127.0.0.1 run in threads here: an SMTP
 * server that records the envelope and the DATA and answers as each test
 * asks, and an HTTP server that records the request and answers with a
 * fixed response. */
#include "base/common.h"

#include <setjmp.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "notify/send.h"

/* ---- stand-in servers ------------------------------------------------- */

struct srv {
	int lfd, port;
	pthread_t th;
	/* SMTP: what to answer (NULL greeting: accept and say nothing) */
	const char *greeting, *rcpt_reply, *data_reply, *auth_reply;
	/* HTTP: the whole response */
	const char *http_reply;
	/* what came */
	char mail_from[256], rcpt_to[256];
	char data[16384];
	size_t dlen;
	char req[16384];
	size_t reqlen;
	bool authed;
};

static void srv_listen(struct srv *s)
{
	struct sockaddr_in a;
	socklen_t alen = sizeof(a);

	s->lfd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(s->lfd >= 0);
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(s->lfd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(s->lfd, 4), 0);
	assert_int_equal(getsockname(s->lfd, (struct sockaddr *)&a, &alen), 0);
	s->port = ntohs(a.sin_port);
}

static int srv_accept(struct srv *s)
{
	struct pollfd pfd = { .fd = s->lfd, .events = POLLIN };
	struct timeval tv = { .tv_sec = 5 };
	int fd;

	if (poll(&pfd, 1, 5000) != 1)
		return -1;
	fd = accept(s->lfd, NULL, NULL);
	if (fd >= 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return fd;
}

static void say(int fd, const char *s)
{
	size_t n = strlen(s), off = 0;

	while (off < n) {
		ssize_t w = send(fd, s + off, n - off, MSG_NOSIGNAL);
		if (w <= 0)
			return;
		off += (size_t)w;
	}
}

struct conn {
	int fd;
	char buf[4096];
	size_t len;
};

/* The next line with its line end (LF or CRLF, as sent). */
static bool conn_line(struct conn *c, char *out, size_t outsz)
{
	for (;;) {
		char *nl = memchr(c->buf, '\n', c->len);
		ssize_t r;

		if (nl || c->len == sizeof(c->buf)) {
			size_t n = nl ? (size_t)(nl - c->buf) + 1 : c->len;
			size_t k = n < outsz - 1 ? n : outsz - 1;
			memcpy(out, c->buf, k);
			out[k] = '\0';
			memmove(c->buf, c->buf + n, c->len - n);
			c->len -= n;
			return true;
		}
		r = read(c->fd, c->buf + c->len, sizeof(c->buf) - c->len);
		if (r <= 0)
			return false;
		c->len += (size_t)r;
	}
}

static void chomp_into(char *dst, size_t dstsz, const char *line)
{
	snprintf(dst, dstsz, "%.*s", (int)strcspn(line, "\r\n"), line);
}

static void *smtp_thread(void *arg)
{
	struct srv *s = arg;
	struct conn c = { .fd = srv_accept(s) };
	char line[1024];

	if (c.fd < 0)
		return NULL;
	if (!s->greeting) {
		while (read(c.fd, line, sizeof(line)) > 0)
			;
		close(c.fd);
		return NULL;
	}
	say(c.fd, s->greeting);
	while (conn_line(&c, line, sizeof(line))) {
		if (!strncasecmp(line, "EHLO", 4) || !strncasecmp(line, "HELO", 4)) {
			say(c.fd, s->auth_reply ? "250-test.example\r\n250 AUTH PLAIN\r\n"
						: "250 test.example\r\n");
		} else if (!strncasecmp(line, "AUTH PLAIN", 10)) {
			if (strlen(line) <= 12) {   /* no initial response: ask */
				say(c.fd, "334 \r\n");
				if (!conn_line(&c, line, sizeof(line)))
					break;
			}
			s->authed = true;
			say(c.fd, s->auth_reply);
		} else if (!strncasecmp(line, "MAIL FROM:", 10)) {
			chomp_into(s->mail_from, sizeof(s->mail_from), line);
			say(c.fd, "250 2.1.0 ok\r\n");
		} else if (!strncasecmp(line, "RCPT TO:", 8)) {
			chomp_into(s->rcpt_to, sizeof(s->rcpt_to), line);
			say(c.fd, s->rcpt_reply ? s->rcpt_reply : "250 2.1.5 ok\r\n");
		} else if (!strncasecmp(line, "DATA", 4)) {
			say(c.fd, "354 go on\r\n");
			while (conn_line(&c, line, sizeof(line)) && strcmp(line, ".\r\n")) {
				size_t n = strlen(line);
				if (s->dlen + n < sizeof(s->data)) {
					memcpy(s->data + s->dlen, line, n);
					s->dlen += n;
				}
			}
			s->data[s->dlen] = '\0';
			say(c.fd, s->data_reply ? s->data_reply : "250 2.0.0 queued\r\n");
		} else if (!strncasecmp(line, "QUIT", 4)) {
			say(c.fd, "221 bye\r\n");
			break;
		} else if (!strncasecmp(line, "RSET", 4)) {
			say(c.fd, "250 ok\r\n");
		} else {
			say(c.fd, "502 5.5.2 what?\r\n");
		}
	}
	close(c.fd);
	return NULL;
}

static void *http_thread(void *arg)
{
	struct srv *s = arg;
	int fd = srv_accept(s);
	size_t need = 0;

	if (fd < 0)
		return NULL;
	for (;;) {
		ssize_t r;
		char *end;

		s->req[s->reqlen] = '\0';
		end = strstr(s->req, "\r\n\r\n");
		if (end && !need) {
			const char *cl = strcasestr(s->req, "\r\nContent-Length:");
			need = (size_t)(end + 4 - s->req) + (cl ? strtoul(cl + 17, NULL, 10) : 0);
		}
		if (need && s->reqlen >= need)
			break;
		if (s->reqlen == sizeof(s->req) - 1)
			break;
		r = read(fd, s->req + s->reqlen, sizeof(s->req) - 1 - s->reqlen);
		if (r <= 0)
			break;
		s->reqlen += (size_t)r;
	}
	say(fd, s->http_reply);
	shutdown(fd, SHUT_WR);
	close(fd);
	return NULL;
}

static void srv_start(struct srv *s, void *(*fn)(void *))
{
	srv_listen(s);
	assert_int_equal(pthread_create(&s->th, NULL, fn, s), 0);
}

static void srv_stop(struct srv *s)
{
	pthread_join(s->th, NULL);
	close(s->lfd);
}

/* A port on 127.0.0.1 where nothing listens. */
static int closed_port(void)
{
	struct srv s;
	int port;

	memset(&s, 0, sizeof(s));
	srv_listen(&s);
	port = s.port;
	close(s.lfd);
	return port;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- the address policy ----------------------------------------------- */

static bool allowed(const struct net_policy *p, const char *ip)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *in = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, ip, &in->sin_addr) == 1) {
		in->sin_family = AF_INET;
	} else {
		assert_int_equal(inet_pton(AF_INET6, ip, &in6->sin6_addr), 1);
		in6->sin6_family = AF_INET6;
	}
	return net_addr_allowed(p, (struct sockaddr *)&ss);
}

struct addr_case {
	const char *ip;
	bool ok;
};

static void check_addrs(const struct net_policy *p, const struct addr_case *t, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		bool got = allowed(p, t[i].ip);
		if (got != t[i].ok)
			fail_msg("%s: expected %s", t[i].ip, t[i].ok ? "allowed" : "denied");
	}
}

static void test_policy_default_denies_internal_addresses(void **state)
{
	static const struct addr_case t[] = {
		{ "0.0.0.0", false }, { "0.1.2.3", false }, { "10.0.0.1", false },
		{ "10.255.255.255", false }, { "100.64.0.1", false }, { "100.127.255.254", false },
		{ "127.0.0.1", false }, { "127.255.255.254", false }, { "169.254.169.254", false },
		{ "172.16.0.1", false }, { "172.31.255.255", false }, { "192.0.0.8", false },
		{ "192.168.1.1", false }, { "198.18.0.1", false }, { "198.19.255.255", false },
		{ "224.0.0.1", false }, { "239.255.255.250", false }, { "240.0.0.1", false },
		{ "255.255.255.255", false },
		{ "1.1.1.1", true }, { "8.8.8.8", true }, { "9.255.255.255", true },
		{ "11.0.0.0", true }, { "100.63.255.255", true }, { "100.128.0.0", true },
		{ "126.255.255.255", true }, { "128.0.0.0", true }, { "169.253.255.255", true },
		{ "169.255.0.0", true }, { "172.15.255.255", true }, { "172.32.0.0", true },
		{ "192.0.1.1", true }, { "192.167.255.255", true }, { "192.169.0.0", true },
		{ "198.17.255.255", true }, { "198.20.0.0", true }, { "223.255.255.255", true },
		/* IPv6 */
		{ "::", false }, { "::1", false }, { "::127.0.0.1", false }, { "fc00::1", false },
		{ "fd12:3456::1", false }, { "fe80::1", false }, { "febf:ffff::1", false },
		{ "fec0::1", false }, { "ff02::1", false }, { "ff0e::fb", false },
		{ "64:ff9b:1::a", false },
		{ "2001:4860:4860::8888", true }, { "2606:4700::1111", true },
		{ "fbff:ffff::1", true }, { "fe7f::1", true }, { "2a00:1450::1", true },
		/* IPv4 inside IPv6: judged as the IPv4 address */
		{ "::ffff:127.0.0.1", false }, { "::ffff:10.0.0.5", false },
		{ "::ffff:169.254.169.254", false }, { "::ffff:255.255.255.255", false },
		{ "64:ff9b::10.0.0.5", false }, { "64:ff9b::7f00:1", false },
		{ "2002:a00:1::1", false }, { "2002:7f00:1::", false },
		{ "::ffff:8.8.8.8", true }, { "64:ff9b::8.8.8.8", true }, { "2002:808:808::1", true },
	};

	UNUSED(state);
	check_addrs(NULL, t, ARRAY_SIZE(t));
	{
		struct net_policy p;
		assert_int_equal(net_policy_parse("", &p, "webhook_allow", NULL), RC_OK);
		assert_int_equal(p.nallow, 0);
		check_addrs(&p, t, ARRAY_SIZE(t));
	}
}

static void test_policy_allow_list_overrides(void **state)
{
	static const struct addr_case t[] = {
		{ "127.0.0.1", true }, { "127.9.9.9", true }, { "::ffff:127.0.0.1", true },
		{ "64:ff9b::127.0.0.1", true }, { "10.1.2.3", true }, { "10.1.255.255", true },
		{ "10.2.0.1", false }, { "10.0.255.255", false }, { "::ffff:10.2.0.1", false },
		{ "fd00::5", true }, { "fdff:ffff::1", true }, { "fc00::1", false },
		{ "::1", true }, { "::2", false }, { "169.254.169.254", false }, { "8.8.8.8", true },
		{ "192.168.7.7", true }, { "192.168.7.8", false },
	};
	static const struct addr_case all4[] = {
		{ "127.0.0.1", true }, { "255.255.255.255", true }, { "::ffff:10.0.0.1", true },
		{ "::1", false }, { "fe80::1", false },
	};
	struct net_policy p;
	struct err e;

	UNUSED(state);
	assert_int_equal(net_policy_parse(" 127.0.0.0/8 ,10.1.0.0/16,\tfd00::/8, ::1/128,192.168.7.7",
					  &p, "webhook_allow", &e), RC_OK);
	assert_int_equal(p.nallow, 5);
	assert_int_equal(p.allow[0].family, AF_INET);
	assert_int_equal(p.allow[0].bits, 8);
	assert_int_equal(p.allow[2].family, AF_INET6);
	assert_int_equal(p.allow[2].bits, 8);
	assert_int_equal(p.allow[4].bits, 32);
	check_addrs(&p, t, ARRAY_SIZE(t));

	assert_int_equal(net_policy_parse("0.0.0.0/0", &p, "webhook_allow", &e), RC_OK);
	check_addrs(&p, all4, ARRAY_SIZE(all4));
	assert_int_equal(net_policy_parse("::/0", &p, "webhook_allow", &e), RC_OK);
	assert_true(allowed(&p, "::1"));
	assert_true(allowed(&p, "::ffff:10.0.0.1"));   /* matched as given */
	assert_false(allowed(&p, "10.0.0.1"));
}

static void test_policy_odd_inputs(void **state)
{
	struct sockaddr_un un;
	struct net_policy p;

	UNUSED(state);
	memset(&un, 0, sizeof(un));
	un.sun_family = AF_UNIX;
	assert_false(net_addr_allowed(NULL, (struct sockaddr *)&un));
	assert_false(net_addr_allowed(NULL, NULL));
	assert_int_equal(net_policy_parse(NULL, &p, "webhook_allow", NULL), RC_OK);
	assert_int_equal(p.nallow, 0);
	assert_int_equal(net_policy_parse("  ", &p, "webhook_allow", NULL), RC_OK);
	assert_int_equal(p.nallow, 0);
}

static void test_policy_parse_refuses_bad_lists(void **state)
{
	static const char *const bad[] = {
		"10.0.0.0/33", "::/129", "10.0.0.0/", "/8", "10.0.0.0/8x", "10.0.0.0/-1",
		"10.0.0.0/+8", "10.0.0", "foo", "localhost", "10.0.0.0/8,",
		",", "10.0.0.0/8,,::1", "10.1.0.0/8", "fd00::1/8", "1.2.3.4/ 8", "1.2.3.4 /8",
		"10.0.0.0/8 10.1.0.0/16", "[::1]", "::1/0128", "1.2.3.4/0x10",
		"0123456789012345678901234567890123456789012345678901234567890123456789",
	};
	struct net_policy p;
	struct err e;
	char many[1024];
	size_t used = 0;

	UNUSED(state);
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		memset(&e, 0, sizeof(e));
		if (net_policy_parse(bad[i], &p, "webhook_allow", &e) != RC_INVALID)
			fail_msg("'%s' was accepted", bad[i]);
		assert_string_equal(e.field, "webhook_allow");
		assert_non_null(strstr(e.msg, "webhook_allow"));
		assert_int_equal(p.nallow, 0);   /* nothing half-parsed stays */
	}
	for (int i = 1; i <= NET_POLICY_MAX + 1; i++)
		used += (size_t)snprintf(many + used, sizeof(many) - used, "%s1.0.0.%d", i > 1 ? "," : "", i);
	assert_int_equal(net_policy_parse(many, &p, "webhook_allow", &e), RC_INVALID);
	assert_non_null(strstr(e.msg, "more than"));
	many[strlen(many) - strlen(",1.0.0.33")] = '\0';
	assert_int_equal(net_policy_parse(many, &p, "webhook_allow", &e), RC_OK);
	assert_int_equal(p.nallow, NET_POLICY_MAX);
	/* "/08" with a leading zero is still a whole decimal number */
	assert_int_equal(net_policy_parse("10.0.0.0/08", &p, "webhook_allow", &e), RC_OK);
	assert_int_equal(p.allow[0].bits, 8);
}

/* ---- the webhook URL check -------------------------------------------- */

static void test_webhook_url_check(void **state)
{
	static const struct {
		const char *url;
		enum result rc;
	} t[] = {
		{ "https://hooks.example.com/x", RC_OK },
		{ "http://hooks.example.com:8080/x?y=1#z", RC_OK },
		{ "HTTPS://Example.COM./", RC_OK },
		{ "http://localhost/", RC_OK },            /* names are checked when sending */
		{ "http://8.8.8.8/hook", RC_OK },
		{ "http://[2001:db8::1]:8443/", RC_OK },
		{ "http://[::ffff:8.8.8.8]/", RC_OK },
		{ "ftp://example.com/", RC_INVALID },
		{ "smtp://example.com/", RC_INVALID },
		{ "javascript:alert(1)", RC_INVALID },
		{ "example.com/x", RC_INVALID },
		{ "//example.com/x", RC_INVALID },
		{ "https://user:pw@example.com/", RC_INVALID },
		{ "https://user@example.com/", RC_INVALID },
		{ "https://:pw@example.com/", RC_INVALID },
		{ "https:///path", RC_INVALID },
		{ "https://", RC_INVALID },
		{ "https:example.com", RC_INVALID },
		{ "https://exa mple.com/", RC_INVALID },
		{ "https://example.com/a b", RC_INVALID },
		{ "https://example.com/\x01", RC_INVALID },
		{ "https://example.com/\r\nX-Evil: 1", RC_INVALID },
		{ "https://example.com:0/", RC_INVALID },
		{ "https://example.com:99999/", RC_INVALID },
		{ "http://b\xc3\xbc" "cher.example/", RC_INVALID },
		{ "http://[fe80::1%25eth0]/", RC_INVALID },
		{ "", RC_INVALID },
		{ "http://127.0.0.1/", RC_DENIED },
		{ "http://127.0.0.1:9000/hook", RC_DENIED },
		{ "http://10.0.0.5:8080/", RC_DENIED },
		{ "http://169.254.169.254/latest/meta-data/", RC_DENIED },
		{ "http://[::1]/", RC_DENIED },
		{ "http://[::ffff:192.168.1.1]/", RC_DENIED },
		{ "http://[fd00::1]/", RC_DENIED },
		{ "http://2130706433/", RC_DENIED },       /* 127.0.0.1 spelt as a number */
		{ "http://0x7f.1/", RC_DENIED },
		{ "http://0177.0.0.1/", RC_DENIED },
		{ "http://%31%32%37.0.0.1/", RC_DENIED },
		{ "http://0.0.0.0:8080/", RC_DENIED },
	};
	struct net_policy p, lo;
	struct err e;
	char *long_url;

	UNUSED(state);
	assert_int_equal(net_policy_parse("", &p, "webhook_allow", NULL), RC_OK);
	for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
		enum result rc;

		memset(&e, 0, sizeof(e));
		rc = webhook_url_check(&p, t[i].url, "url", &e);
		if (rc != t[i].rc)
			fail_msg("%s: %s, expected %s (%s)", t[i].url, result_name(rc),
				 result_name(t[i].rc), e.msg);
		if (rc != RC_OK) {
			assert_string_equal(e.field, "url");
			assert_non_null(strstr(e.msg, "url"));
		}
	}
	assert_int_equal(webhook_url_check(&p, NULL, "url", &e), RC_INVALID);
	assert_int_equal(webhook_url_check(&p, "http://10.0.0.5/", "url", &e), RC_DENIED);
	assert_non_null(strstr(e.msg, "10.0.0.5"));

	/* the allow list lets a literal through */
	assert_int_equal(net_policy_parse("127.0.0.0/8, ::1/128", &lo, "webhook_allow", NULL), RC_OK);
	assert_int_equal(webhook_url_check(&lo, "http://127.0.0.1:9000/hook", "url", &e), RC_OK);
	assert_int_equal(webhook_url_check(&lo, "http://[::1]/", "url", &e), RC_OK);
	assert_int_equal(webhook_url_check(&lo, "http://10.0.0.5/", "url", &e), RC_DENIED);

	/* at most 2048 bytes */
	long_url = malloc(2050);
	assert_non_null(long_url);
	memcpy(long_url, "https://example.com/", 20);
	memset(long_url + 20, 'a', 2048 - 20);
	long_url[2048] = '\0';
	assert_int_equal(webhook_url_check(&p, long_url, "url", &e), RC_OK);
	long_url[2048] = 'a';
	long_url[2049] = '\0';
	assert_int_equal(webhook_url_check(&p, long_url, "url", &e), RC_INVALID);
	assert_non_null(strstr(e.msg, "2048"));
	/* a host name longer than DNS allows */
	memcpy(long_url, "http://", 7);
	memset(long_url + 7, 'a', 300);
	memcpy(long_url + 307, ".example/", 10);
	assert_int_equal(webhook_url_check(&p, long_url, "url", &e), RC_INVALID);
	free(long_url);
}

/* ---- the signature ---------------------------------------------------- */

static void test_webhook_signature_vectors(void **state)
{
	char sig[WEBHOOK_SIG_MAX], key[101];
	const char *body = "{\"a\":1}";

	UNUSED(state);
	/* printf '%s' '1700000000.{"a":1}' | openssl dgst -sha256 -hmac secret */
	webhook_signature("secret", 1700000000, body, strlen(body), sig);
	assert_string_equal(sig, "t=1700000000,v1="
			    "49f24e537407743fa4a0242bb63b94b9a47ee99cbbe071ccd8a22550ae411686");
	/* empty key, empty body: hmac.new(b'', b'0.', sha256) */
	webhook_signature("", 0, NULL, 0, sig);
	assert_string_equal(sig, "t=0,v1="
			    "b849d5a581847b281957065739df36df2463d1977ea8d6e1e4e6cf33fadc68c3");
	webhook_signature(NULL, 0, "", 0, sig);
	assert_string_equal(sig, "t=0,v1="
			    "b849d5a581847b281957065739df36df2463d1977ea8d6e1e4e6cf33fadc68c3");
	/* a key longer than the block (hashed first): hmac.new(b'k'*100, ...) */
	memset(key, 'k', 100);
	key[100] = '\0';
	webhook_signature(key, -5, "body with spaces", 16, sig);
	assert_string_equal(sig, "t=-5,v1="
			    "be4a0fe68a33924c7513a90958f560fe5ece9d03eed2e10c83f9e43f26376a15");
	/* the longest timestamp fits */
	webhook_signature("secret", INT64_MIN, body, strlen(body), sig);
	assert_int_equal(strlen(sig), strlen("t=-9223372036854775808,v1=") + 64);
}

/* ---- smtp_send -------------------------------------------------------- */

static void smtp_url(char *out, size_t outsz, int port)
{
	snprintf(out, outsz, "smtp://127.0.0.1:%d", port);
}

static void test_smtp_closed_port_is_io(void **state)
{
	char url[64];
	struct smtp_cfg cfg = { .url = url, .timeout_ms = 5000 };
	struct err e;
	int64_t t0 = now_ms();

	UNUSED(state);
	smtp_url(url, sizeof(url), closed_port());
	assert_int_equal(smtp_send(&cfg, "desk@example.org", "bob@example.org", "x\n", 2, &e), RC_IO);
	assert_true(e.msg[0]);
	assert_true(now_ms() - t0 < 3000);
}

static void test_smtp_silent_server_times_out(void **state)
{
	struct srv s;
	char url[64];
	struct smtp_cfg cfg = { .url = url, .timeout_ms = 300 };
	struct err e;
	int64_t t0 = now_ms();

	UNUSED(state);
	memset(&s, 0, sizeof(s));
	srv_start(&s, smtp_thread);
	smtp_url(url, sizeof(url), s.port);
	assert_int_equal(smtp_send(&cfg, "desk@example.org", "bob@example.org", "x\n", 2, &e), RC_IO);
	assert_true(now_ms() - t0 < 3000);
	smtp_close(); /* the kept connection ends with QUIT */
	srv_stop(&s);
}

static void test_smtp_delivers_with_crlf_and_dot_stuffing(void **state)
{
	/* LF, CRLF and a bare CR mixed; a line starting with a dot; no final
	 * line end */
	static const char msg[] =
		"From: Desk <desk@example.org>\n"
		"To: bob@example.org\r\n"
		"Subject: hi\n"
		"\n"
		".leading dot\n"
		"crlf line\r\n"
		"bare\rcr\n"
		".\n"
		"last";
	static const char want[] =
		"From: Desk <desk@example.org>\r\n"
		"To: bob@example.org\r\n"
		"Subject: hi\r\n"
		"\r\n"
		"..leading dot\r\n"
		"crlf line\r\n"
		"bare\r\ncr\r\n"
		"..\r\n"
		"last\r\n";
	struct srv s;
	char url[64];
	struct smtp_cfg cfg = { .url = url, .timeout_ms = 5000 };
	struct err e;

	UNUSED(state);
	memset(&s, 0, sizeof(s));
	s.greeting = "220 test.example ESMTP\r\n";
	srv_start(&s, smtp_thread);
	smtp_url(url, sizeof(url), s.port);
	memset(&e, 0, sizeof(e));
	assert_int_equal(smtp_send(&cfg, "desk@example.org", "bob@example.org", msg,
				   sizeof(msg) - 1, &e), RC_OK);
	smtp_close(); /* the kept connection ends with QUIT */
	srv_stop(&s);
	assert_string_equal(s.mail_from, "MAIL FROM:<desk@example.org>");
	assert_string_equal(s.rcpt_to, "RCPT TO:<bob@example.org>");
	assert_string_equal(s.data, want);
	for (size_t i = 0; i < s.dlen; i++)
		if (s.data[i] == '\n')
			assert_true(i > 0 && s.data[i - 1] == '\r');
	assert_null(strstr(s.data, "\r\r"));
}

static void test_smtp_null_sender_and_auth(void **state)
{
	static const char msg[] = "Subject: x\r\n\r\nbody\r\n";
	struct srv s;
	char url[64];
	struct smtp_cfg cfg = { .url = url, .user = "desk", .password = "pw", .timeout_ms = 5000 };
	struct err e;

	UNUSED(state);
	memset(&s, 0, sizeof(s));
	s.greeting = "220 test.example ESMTP\r\n";
	s.auth_reply = "235 2.7.0 ok\r\n";
	srv_start(&s, smtp_thread);
	smtp_url(url, sizeof(url), s.port);
	assert_int_equal(smtp_send(&cfg, "", "bob@example.org", msg, sizeof(msg) - 1, &e), RC_OK);
	smtp_close(); /* the kept connection ends with QUIT */
	srv_stop(&s);
	assert_true(s.authed);
	assert_true(!strncmp(s.mail_from, "MAIL FROM:<>", 12));
	assert_string_equal(s.data, "Subject: x\r\n\r\nbody\r\n");
}

/* The answer decides: 5xx for the recipient or the message is for good,
 * 4xx and a 5xx to AUTH (a setting an admin can fix) wait. */
static void test_smtp_refusals(void **state)
{
	static const struct {
		const char *rcpt, *data, *auth;
		enum result rc;
		const char *msg;
	} t[] = {
		{ "550 5.1.1 no such user\r\n", NULL, NULL, RC_INVALID, "550 5.1.1 no such user" },
		{ "451 4.3.0 try later\r\n", NULL, NULL, RC_IO, "451 4.3.0 try later" },
		{ "452 4.2.2 mailbox full\r\n", NULL, NULL, RC_IO, "452" },
		{ NULL, "554 5.6.0 message refused\r\n", NULL, RC_INVALID, "554 5.6.0 message refused" },
		{ NULL, "421 4.4.2 closing\r\n", NULL, RC_IO, "421" },
		{ NULL, NULL, "535 5.7.8 bad credentials\r\n", RC_IO, "535 5.7.8 bad credentials" },
	};

	UNUSED(state);
	for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
		struct srv s;
		char url[64];
		struct smtp_cfg cfg = { .url = url, .timeout_ms = 5000 };
		struct err e;
		enum result rc;

		memset(&s, 0, sizeof(s));
		s.greeting = "220 test.example ESMTP\r\n";
		s.rcpt_reply = t[i].rcpt;
		s.data_reply = t[i].data;
		s.auth_reply = t[i].auth;
		if (t[i].auth) {
			cfg.user = "desk";
			cfg.password = "wrong";
		}
		srv_start(&s, smtp_thread);
		smtp_url(url, sizeof(url), s.port);
		memset(&e, 0, sizeof(e));
		rc = smtp_send(&cfg, "desk@example.org", "bob@example.org", "x\r\n", 3, &e);
		srv_stop(&s);
		if (rc != t[i].rc || !strstr(e.msg, t[i].msg))
			fail_msg("case %zu: %s '%s', expected %s '%s'", i, result_name(rc), e.msg,
				 result_name(t[i].rc), t[i].msg);
	}
}

static void test_smtp_refuses_bad_arguments(void **state)
{
	struct smtp_cfg cfg = { .url = "smtp://127.0.0.1:1", .timeout_ms = 1000 };
	struct smtp_cfg none = { .url = "" };
	struct smtp_cfg ftp = { .url = "ftp://127.0.0.1:1/", .timeout_ms = 1000 };
	struct err e;

	UNUSED(state);
	assert_int_equal(smtp_send(&none, "a@b.c", "d@e.f", "x", 1, &e), RC_INVALID);
	assert_int_equal(smtp_send(NULL, "a@b.c", "d@e.f", "x", 1, &e), RC_INVALID);
	assert_int_equal(smtp_send(&cfg, "a@b.c", "d@e.f\r\nRCPT TO:<x@y.z>", "x", 1, &e),
			 RC_INVALID);
	assert_string_equal(e.field, "to");
	assert_int_equal(smtp_send(&cfg, "a@b.c", "", "x", 1, &e), RC_INVALID);
	assert_int_equal(smtp_send(&cfg, "a@b.c", "d@e.f>", "x", 1, &e), RC_INVALID);
	assert_int_equal(smtp_send(&cfg, "a b@c.d", "d@e.f", "x", 1, &e), RC_INVALID);
	assert_string_equal(e.field, "from");
	assert_int_equal(smtp_send(&cfg, "a@b.c", "d@e.f", "", 0, &e), RC_INVALID);
	assert_int_equal(smtp_send(&ftp, "a@b.c", "d@e.f", "x", 1, &e), RC_INVALID);
}

/* ---- webhook_post ----------------------------------------------------- */

static const char *header_value(const char *req, const char *name, char *out, size_t outsz)
{
	char key[64];
	const char *p;

	snprintf(key, sizeof(key), "\r\n%s: ", name);
	p = strcasestr(req, key);
	if (!p)
		return NULL;
	p += strlen(key);
	snprintf(out, outsz, "%.*s", (int)strcspn(p, "\r\n"), p);
	return out;
}

static void test_webhook_literal_denied_without_connecting(void **state)
{
	struct srv s;
	struct net_policy p;
	struct err e;
	char url[64];
	long status = -1;
	int fl;

	UNUSED(state);
	memset(&s, 0, sizeof(s));
	srv_listen(&s);
	assert_int_equal(net_policy_parse("", &p, "webhook_allow", NULL), RC_OK);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/hook", s.port);
	assert_int_equal(webhook_post(&p, url, "secret", "ticket.created", 1, "{}", 2, 1700000000,
				      2000, &status, &e), RC_DENIED);
	assert_int_equal(status, 0);
	assert_string_equal(e.msg, "address 127.0.0.1 is not allowed by the webhook policy");
	fl = fcntl(s.lfd, F_GETFL);
	fcntl(s.lfd, F_SETFL, fl | O_NONBLOCK);
	assert_int_equal(accept(s.lfd, NULL, NULL), -1);   /* nobody knocked */
	assert_true(errno == EAGAIN || errno == EWOULDBLOCK);

	/* a name that resolves to loopback is refused the same way */
	snprintf(url, sizeof(url), "http://localhost:%d/hook", s.port);
	assert_int_equal(webhook_post(&p, url, "secret", "ticket.created", 1, "{}", 2, 1700000000,
				      2000, &status, &e), RC_DENIED);
	assert_non_null(strstr(e.msg, "is not allowed by the webhook policy"));
	assert_int_equal(accept(s.lfd, NULL, NULL), -1);
	close(s.lfd);

	/* and so is a private address */
	assert_int_equal(webhook_post(&p, "http://10.0.0.5:8080/", "s", "x", 1, "{}", 2, 0, 2000,
				      &status, &e), RC_DENIED);
	assert_string_equal(e.msg, "address 10.0.0.5 is not allowed by the webhook policy");
	assert_int_equal(webhook_post(&p, "ftp://example.com/", "s", "x", 1, "{}", 2, 0, 2000,
				      &status, &e), RC_INVALID);
}

static void test_webhook_delivers_signed(void **state)
{
	static const char body[] = "{\"event\":\"ticket.created\",\"ticket\":{\"number\":\"T-000123\"}}";
	struct srv s;
	struct net_policy p;
	struct err e;
	char url[64], v[128], sig[WEBHOOK_SIG_MAX];
	const char *got_body;
	long status = 0;

	UNUSED(state);
	assert_int_equal(net_policy_parse("127.0.0.0/8", &p, "webhook_allow", NULL), RC_OK);
	memset(&s, 0, sizeof(s));
	s.http_reply = "HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n";
	srv_start(&s, http_thread);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/hook?x=1", s.port);
	memset(&e, 0, sizeof(e));
	assert_int_equal(webhook_post(&p, url, "s3cret", "ticket.created", 42, body,
				      sizeof(body) - 1, 1700000000, 5000, &status, &e), RC_OK);
	smtp_close(); /* the kept connection ends with QUIT */
	srv_stop(&s);
	assert_int_equal(status, 204);
	assert_true(!strncmp(s.req, "POST /hook?x=1 HTTP/1.1\r\n", 25));
	assert_string_equal(header_value(s.req, "Content-Type", v, sizeof(v)), "application/json");
	assert_string_equal(header_value(s.req, "User-Agent", v, sizeof(v)), "itsup-webhook/1");
	assert_string_equal(header_value(s.req, "X-Itsup-Event", v, sizeof(v)), "ticket.created");
	assert_string_equal(header_value(s.req, "X-Itsup-Delivery", v, sizeof(v)), "42");
	assert_null(header_value(s.req, "Expect", v, sizeof(v)));
	got_body = strstr(s.req, "\r\n\r\n");
	assert_non_null(got_body);
	got_body += 4;
	assert_string_equal(got_body, body);
	webhook_signature("s3cret", 1700000000, got_body, strlen(got_body), sig);
	assert_string_equal(header_value(s.req, "X-Itsup-Signature", v, sizeof(v)), sig);
	assert_true(!strncmp(sig, "t=1700000000,v1=", 16));
}

/* A name goes through the resolver, the check and the pin. */
static void test_webhook_by_name_with_allow_list(void **state)
{
	struct srv s;
	struct net_policy p;
	struct err e;
	char url[64];
	long status = 0;

	UNUSED(state);
	assert_int_equal(net_policy_parse("127.0.0.0/8, ::1/128", &p, "webhook_allow", NULL), RC_OK);
	memset(&s, 0, sizeof(s));
	s.http_reply = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok";
	srv_start(&s, http_thread);
	snprintf(url, sizeof(url), "http://localhost:%d/", s.port);
	memset(&e, 0, sizeof(e));
	if (webhook_post(&p, url, "k", "ping", 7, "{}", 2, 1, 5000, &status, &e) != RC_OK)
		fail_msg("%s", e.msg);
	smtp_close(); /* the kept connection ends with QUIT */
	srv_stop(&s);
	assert_int_equal(status, 200);
	assert_non_null(strstr(s.req, "\r\nHost: localhost:"));
}

static void test_webhook_answers(void **state)
{
	static const struct {
		const char *reply;
		enum result rc;
		long status;
		const char *msg;
	} t[] = {
		{ "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 5\r\nConnection: close\r\n\r\nbusy\n",
		  RC_IO, 503, "HTTP 503" },
		{ "HTTP/1.1 410 Gone\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
		  RC_INVALID, 410, "HTTP 410" },
		{ "HTTP/1.1 429 Too Many Requests\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
		  RC_IO, 429, "HTTP 429" },
		{ "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
		  RC_IO, 404, "HTTP 404" },
		{ "HTTP/1.1 302 Found\r\nLocation: http://10.0.0.5/\r\nContent-Length: 0\r\n"
		  "Connection: close\r\n\r\n", RC_IO, 302, "redirects are not followed" },
		{ "HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
		  RC_OK, 202, NULL },
		{ "garbage\r\n\r\n", RC_IO, 0, "" },
	};
	struct net_policy p;

	UNUSED(state);
	assert_int_equal(net_policy_parse("127.0.0.1", &p, "webhook_allow", NULL), RC_OK);
	for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
		struct srv s;
		struct err e;
		char url[64];
		long status = -1;
		enum result rc;

		memset(&s, 0, sizeof(s));
		s.http_reply = t[i].reply;
		srv_start(&s, http_thread);
		snprintf(url, sizeof(url), "http://127.0.0.1:%d/", s.port);
		memset(&e, 0, sizeof(e));
		rc = webhook_post(&p, url, "k", "ping", 1, "{}", 2, 1, 5000, &status, &e);
		srv_stop(&s);
		if (rc != t[i].rc || status != t[i].status || (t[i].msg && !strstr(e.msg, t[i].msg)))
			fail_msg("case %zu: %s %ld '%s'", i, result_name(rc), status, e.msg);
	}
}

/* A big answer is not read to its end, and the status still counts. */
static void test_webhook_big_answer(void **state)
{
	struct srv s;
	struct net_policy p;
	struct err e;
	char url[64];
	long status = 0;
	size_t n = 300000;
	char *reply = malloc(n + 128);
	int k;

	UNUSED(state);
	assert_non_null(reply);
	k = snprintf(reply, 128, "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n", n);
	memset(reply + k, 'x', n);
	reply[(size_t)k + n] = '\0';
	assert_int_equal(net_policy_parse("127.0.0.1", &p, "webhook_allow", NULL), RC_OK);
	memset(&s, 0, sizeof(s));
	s.http_reply = reply;
	srv_start(&s, http_thread);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/", s.port);
	assert_int_equal(webhook_post(&p, url, "k", "ping", 1, "{}", 2, 1, 5000, &status, &e), RC_OK);
	smtp_close(); /* the kept connection ends with QUIT */
	srv_stop(&s);
	assert_int_equal(status, 200);
	free(reply);
}

static void test_webhook_connection_refused_and_bad_event(void **state)
{
	struct net_policy p;
	struct err e;
	char url[64];
	long status = -1;

	UNUSED(state);
	assert_int_equal(net_policy_parse("127.0.0.0/8", &p, "webhook_allow", NULL), RC_OK);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/", closed_port());
	assert_int_equal(webhook_post(&p, url, "k", "ping", 1, "{}", 2, 1, 2000, &status, &e), RC_IO);
	assert_int_equal(status, 0);
	assert_true(e.msg[0]);
	assert_int_equal(webhook_post(&p, url, "k", "ping\r\nX-Evil: 1", 1, "{}", 2, 1, 2000, &status,
				      &e), RC_INVALID);
	assert_int_equal(webhook_post(&p, url, "k", "", 1, "{}", 2, 1, 2000, NULL, &e), RC_INVALID);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_policy_default_denies_internal_addresses),
		cmocka_unit_test(test_policy_allow_list_overrides),
		cmocka_unit_test(test_policy_odd_inputs),
		cmocka_unit_test(test_policy_parse_refuses_bad_lists),
		cmocka_unit_test(test_webhook_url_check),
		cmocka_unit_test(test_webhook_signature_vectors),
		cmocka_unit_test(test_smtp_closed_port_is_io),
		cmocka_unit_test(test_smtp_silent_server_times_out),
		cmocka_unit_test(test_smtp_delivers_with_crlf_and_dot_stuffing),
		cmocka_unit_test(test_smtp_null_sender_and_auth),
		cmocka_unit_test(test_smtp_refusals),
		cmocka_unit_test(test_smtp_refuses_bad_arguments),
		cmocka_unit_test(test_webhook_literal_denied_without_connecting),
		cmocka_unit_test(test_webhook_delivers_signed),
		cmocka_unit_test(test_webhook_by_name_with_allow_list),
		cmocka_unit_test(test_webhook_answers),
		cmocka_unit_test(test_webhook_big_answer),
		cmocka_unit_test(test_webhook_connection_refused_and_bad_event),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
