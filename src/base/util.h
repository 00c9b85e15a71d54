/*
 * util.h: small pure helpers: number parsing, RFC 3339 instants, hex,
 * e-mail shape, IANA zone names, constant-time comparison.
 */
#ifndef ITSUP_UTIL_H
#define ITSUP_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Parses a whole decimal integer (no spaces, no trailing junk). */
bool parse_i64(const char *s, int64_t *out);

/* Formats UTC milliseconds as "2026-03-29T01:30:00Z" (".123" when the
 * milliseconds are not zero). out needs 32 bytes. */
void time_format(int64_t ms, char out[32]);

/* Parses an RFC 3339 instant with Z or an offset; false when malformed. */
bool time_parse(const char *s, int64_t *ms);

/* Days since 1970-01-01 of a proleptic Gregorian date, and back. */
int64_t days_from_civil(int64_t y, unsigned m, unsigned d);
void civil_from_days(int64_t days, int64_t *y, unsigned *m, unsigned *d);

/* Lower-case hex of n bytes into out (2n+1 bytes). */
void hex_encode(const unsigned char *in, size_t n, char *out);

/* A plausible e-mail address: one @, a dot in the domain, no spaces or
 * control characters, at most 254 bytes. Not a full RFC 5322 parser. */
bool email_valid(const char *s);

/* A name that exists under /usr/share/zoneinfo and has a safe shape
 * (letters, digits, '/', '_', '-', '+'; no "..", no leading '/'). */
bool tz_valid(const char *name);

/* Copies s into out lowercased (ASCII), at most outsz-1 bytes. */
void str_lower(const char *s, char *out, size_t outsz);

/* Valid UTF-8 without control characters other than \t \n \r. */
bool text_valid(const char *s, bool allow_newlines);

#endif
