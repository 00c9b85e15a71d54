/*
 * send.h: the two ways the outbox reaches the world (issue 8), over
 * libcurl: a message to an SMTP server, and a signed webhook POST.
 * Neither touches the store; the dispatcher (notify.c) records each
 * attempt's outcome and decides on retries (notify_backoff). Both may be
 * called from any thread (libcurl's global set-up is done once inside);
 * each call blocks for at most about its timeout (plus, for a webhook,
 * the system resolver's own time).
 *
 * Results say what to do next:
 *   RC_OK       delivered (SMTP accepted the message; the webhook answered 2xx);
 *   RC_IO       try again later (no connection, timeout, SMTP 4xx, an SMTP 5xx
 *               to the greeting, EHLO, STARTTLS, AUTH or MAIL FROM (a server or
 *               settings problem an admin can fix), HTTP 5xx, 408, 429, 3xx
 *               (redirects are not followed), other non-2xx);
 *   RC_INVALID  never going to work (an SMTP 5xx to RCPT TO, DATA or the
 *               message itself, or 552 to MAIL FROM; HTTP 410 Gone; a malformed
 *               URL or argument, the field named);
 *   RC_DENIED   the webhook target is refused by the address policy.
 * e->msg then says why in a line fit for the API: libcurl's error ("Failed
 * to connect to ..."), the SMTP server's own reply line ("550 5.1.1 no
 * such user"), "HTTP 503".
 *
 * The address policy (struct net_policy) stops webhooks from reaching
 * internal services (SSRF): by default every loopback, private (RFC 1918,
 * fc00::/7), link-local (169.254/16, fe80::/10), CGNAT (100.64/10),
 * unspecified, multicast, broadcast and reserved address is denied, and an
 * IPv6 address that carries an IPv4 one (IPv4-mapped ::ffff:0:0/96, NAT64
 * 64:ff9b::/96, 6to4 2002::/16) is judged as that IPv4 address; an "allow"
 * list of CIDRs (config webhook_allow) lets chosen ones through. The host
 * is resolved once, every address it resolves to must pass, and libcurl is
 * pinned to the checked addresses (CURLOPT_RESOLVE), so a DNS answer that
 * changes between check and connect (rebinding) gains nothing; libcurl's
 * socket callback checks the address again right before each connect.
 * Redirects are not followed and proxies from the environment are not used.
 */
#ifndef ITSUP_NOTIFY_SEND_H
#define ITSUP_NOTIFY_SEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "base/err.h"

struct smtp_cfg {
	const char *url;        /* "smtp://host:port" or "smtps://..."; NULL/"": no SMTP */
	const char *user;       /* NULL: no AUTH */
	const char *password;
	bool starttls;          /* require STARTTLS on smtp:// */
	long timeout_ms;        /* whole transaction */
};

/* Sends msg (a whole RFC 5322 message, CRLF or LF line ends; bare LF and
 * bare CR are sent as CRLF, leading dots are doubled by libcurl) from
 * `from` (envelope sender, an address; "" for the null sender, MAIL
 * FROM:<>) to one recipient. RC_INVALID naming the field when c has no
 * url ("smtp_url"), or to or from is not an address without spaces,
 * control characters or angle brackets. timeout_ms <= 0 means 60 s; the
 * connect timeout is the smaller of timeout_ms and 10 s. */
enum result smtp_send(const struct smtp_cfg *c, const char *from, const char *to,
		      const char *msg, size_t len, struct err *e);

/* Closes the SMTP connection smtp_send keeps open between messages (at
 * shutdown; the next smtp_send opens a new one). */
void smtp_close(void);

#define NET_POLICY_MAX 32

struct net_cidr {
	int family;                   /* AF_INET or AF_INET6 */
	unsigned char addr[16];
	int bits;
};

struct net_policy {
	struct net_cidr allow[NET_POLICY_MAX];
	int nallow;
};

/* Parses a comma-separated CIDR list ("127.0.0.0/8, ::1/128, 10.1.2.3";
 * a bare address is /32 or /128; bits after the prefix must be 0);
 * RC_INVALID naming field on a bad or empty entry or more than
 * NET_POLICY_MAX of them, and p is then the default policy. "" or NULL
 * gives the default policy. */
enum result net_policy_parse(const char *csv, struct net_policy *p, const char *field,
			     struct err *e);
/* Pure: whether a webhook may connect to sa (AF_INET or AF_INET6; any
 * other family is refused). p NULL is the default policy. */
bool net_addr_allowed(const struct net_policy *p, const struct sockaddr *sa);

/* Pure check of a webhook URL as an admin gives it: http or https, a host
 * (ASCII: an IDN in its xn-- form; no IPv6 zone), no user:password, a port
 * other than 0, at most 2048 bytes, no spaces or control characters; a
 * literal IP host (in any spelling libcurl accepts, 2130706433 included) is
 * also checked against the policy (RC_DENIED). The error names field.
 * Host names are only checked when sending. */
enum result webhook_url_check(const struct net_policy *p, const char *url, const char *field,
			      struct err *e);

/* The signature header's value for body sent at unix second ts:
 * "t=<ts>,v1=<hex HMAC-SHA256(secret, "<ts>." + body)>" into out. The
 * secret (NULL is "") is the HMAC key as its bytes, of any length. */
#define WEBHOOK_SIG_MAX 96
void webhook_signature(const char *secret, int64_t ts, const char *body, size_t len,
		       char out[WEBHOOK_SIG_MAX]);

/* POSTs body (JSON) to url with headers Content-Type: application/json,
 * User-Agent: itsup-webhook/1, X-Itsup-Event: event, X-Itsup-Delivery: id,
 * X-Itsup-Signature: webhook_signature(secret, now_s, body). url gets the
 * checks of webhook_url_check (field "url"); event must be 1 to 64 of
 * [A-Za-z0-9._-] (RC_INVALID, field "event"). The answer's body is read
 * (up to 64 KiB) and dropped. *status (status may be NULL) is the HTTP
 * status (0 when none came). timeout_ms <= 0 means 60 s. */
enum result webhook_post(const struct net_policy *p, const char *url, const char *secret,
			 const char *event, int64_t delivery_id, const char *body, size_t len,
			 int64_t now_s, long timeout_ms, long *status, struct err *e);

#endif
