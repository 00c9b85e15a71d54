/*
 * fuzz_mail.c: the mail intake's parser as a libFuzzer target (issue 8).
 * Every input is a message as `itsup mailgate` would post it: mail_parse
 * must parse it or refuse it (RC_INVALID) within its limits, never crash,
 * leak or read out of bounds; then the pure helpers the intake runs on
 * what it parsed (the ticket tag of the subject, where the quoted text
 * starts) and the HTML reduction on the raw bytes.
 *
 *   make fuzz                     clang + libFuzzer, ASan, UBSan (FUZZ_SECONDS)
 *   build/fuzz-mail-replay FILE...  the same target on given inputs (gcc;
 *                                 make check runs it on tests/fixtures/mail)
 */
#include "base/common.h"

#include <stdint.h>
#include <stdlib.h>

#include "base/arena.h"
#include "mail/mail.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct arena *a = arena_new(64u << 20);
	struct mail_msg m;
	struct err e;
	char *html;

	if (!a)
		return 0;
	if (mail_parse((const char *)data, size, &mail_limits_default, a, &m, &e) == RC_OK) {
		size_t q = mail_quote_start(m.text);
		if (q > strlen(m.text))
			abort();  /* the contract: an offset inside the text */
		(void)mail_ticket_number(m.subject);
		for (size_t i = 0; i < m.nparts; i++)
			if (!m.parts[i].too_big && m.parts[i].len && !m.parts[i].data)
				abort();
	}
	html = mail_html_text((const char *)data, size);
	free(html);
	arena_free(a);
	return 0;
}
