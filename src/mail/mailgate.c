/*
 * mailgate.c: `itsup mailgate` (mailgate.h): stdin to POST
 * /api/v1/mail/inbound over libcurl, answered with a sysexits(3) status.
 */
#include "base/common.h"

#include <curl/curl.h>
#include <stdlib.h>

#include "base/buf.h"
#include "mail/mailgate.h"

#define TOKEN_FILE_MAX 512
#define ANSWER_MAX 4096

int mailgate_exit_status(long http_status)
{
	if (http_status >= 200 && http_status < 300)
		return MAILGATE_OK;
	if (http_status == 400 || http_status == 413 || http_status == 415 || http_status == 422)
		return MAILGATE_DATAERR;
	/* Nothing, 401/403 (the token), 404 (a wrong URL), 408, 429, 5xx and
	 * anything unexpected: the MTA keeps the message and tries again. */
	return MAILGATE_TEMPFAIL;
}

static bool read_token(const char *path, char *out, size_t outsz)
{
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return false;
	n = fread(out, 1, outsz - 1, f);
	fclose(f);
	out[n] = '\0';
	while (n && (out[n - 1] == '\n' || out[n - 1] == '\r' || out[n - 1] == ' '))
		out[--n] = '\0';
	return n > 0 && !strpbrk(out, "\r\n");
}

static size_t keep_answer(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct buf *b = userdata;
	size_t n = size * nmemb;

	if (b->len < ANSWER_MAX)
		(void)buf_append(b, ptr, n < ANSWER_MAX - b->len ? n : ANSWER_MAX - b->len);
	return n;
}

int mailgate_run(const char *base_url, const char *token_file, FILE *in, size_t max, FILE *err)
{
	char token[TOKEN_FILE_MAX], auth[TOKEN_FILE_MAX + 32], url[2048];
	struct buf msg, answer;
	struct curl_slist *hdrs = NULL;
	CURL *c = NULL;
	CURLcode cc;
	long status = 0;
	int rc = MAILGATE_TEMPFAIL;
	size_t n = strlen(base_url);

	if (strncmp(base_url, "http://", 7) && strncmp(base_url, "https://", 8)) {
		fprintf(err, "itsup mailgate: --url must be an http:// or https:// URL\n");
		return MAILGATE_USAGE;
	}
	if (!read_token(token_file, token, sizeof(token))) {
		fprintf(err, "itsup mailgate: cannot read a token from %s\n", token_file);
		return MAILGATE_TEMPFAIL;
	}
	snprintf(url, sizeof(url), "%.*s/api/v1/mail/inbound", (int)(n && base_url[n - 1] == '/' ? n - 1 : n),
		 base_url);
	buf_init(&msg, max + 1);
	buf_init(&answer, ANSWER_MAX + 1);
	for (;;) {
		char chunk[65536];
		size_t got = fread(chunk, 1, sizeof(chunk), in);
		if (got && buf_append(&msg, chunk, got) != RC_OK) {
			fprintf(err, "itsup mailgate: the message is larger than %zu bytes\n", max);
			rc = MAILGATE_DATAERR;
			goto out;
		}
		if (got < sizeof(chunk))
			break;
	}
	if (ferror(in)) {
		fprintf(err, "itsup mailgate: cannot read the message from stdin\n");
		rc = MAILGATE_IOERR;
		goto out;
	}
	if (!msg.len) {
		fprintf(err, "itsup mailgate: no message on stdin\n");
		rc = MAILGATE_NOINPUT;
		goto out;
	}
	c = curl_easy_init();
	if (!c)
		goto out;
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
	hdrs = curl_slist_append(hdrs, auth);
	hdrs = curl_slist_append(hdrs, "Content-Type: message/rfc822");
	hdrs = curl_slist_append(hdrs, "Expect:");
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, buf_str(&msg));
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)msg.len);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, keep_answer);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &answer);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 20L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 120L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "itsup-mailgate");
	cc = curl_easy_perform(c);
	if (cc != CURLE_OK) {
		fprintf(err, "itsup mailgate: %s: %s (the MTA will try again)\n", url, curl_easy_strerror(cc));
		rc = MAILGATE_TEMPFAIL;
		goto out;
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	rc = mailgate_exit_status(status);
	if (rc != MAILGATE_OK)
		fprintf(err, "itsup mailgate: the server answered %ld%s: %.300s\n", status,
			rc == MAILGATE_TEMPFAIL ? " (the MTA will try again)" : " (the message is refused)",
			buf_str(&answer));
out:
	curl_slist_free_all(hdrs);
	if (c)
		curl_easy_cleanup(c);
	buf_release(&msg);
	buf_release(&answer);
	return rc;
}
