/* intake.c: the mail intake's decision (intake.h has the rules). */
#include "base/common.h"

#include "mail/intake.h"

const char *const intake_log_action[IA_COUNT] = {
	[IA_DUPLICATE] = "duplicate", [IA_RATE_LIMITED] = "rate_limited",
	[IA_BOUNCE_NOTE] = "bounce", [IA_BOUNCE_DROP] = "bounce",
	[IA_AUTO_NOTE] = "auto_reply", [IA_AUTO_DROP] = "auto_reply",
	[IA_STAFF_REPLY] = "appended", [IA_REPLY] = "appended", [IA_NOTE] = "appended",
	[IA_NEW] = "created", [IA_NEW_CONTACT] = "created", [IA_HOLD] = "held",
};

static enum intake_action new_mail(const struct intake_facts *f)
{
	if (!f->client_id)
		return IA_HOLD;
	if (f->sender_of_client || f->sender == IS_STAFF)
		return IA_NEW;
	return f->hold_unknown ? IA_HOLD : IA_NEW_CONTACT;
}

enum intake_action intake_decide(const struct intake_facts *f)
{
	/* By a guessable tag alone, a ticket counts for its requester, and
	 * for staff as an internal note only (intake.h). */
	bool tag_ok = f->sender == IS_STAFF || f->sender_is_requester;
	bool threads = f->thread_ticket && (!f->by_tag_only || tag_ok);

	if (f->duplicate)
		return IA_DUPLICATE;
	if (f->over_rate)
		return IA_RATE_LIMITED;
	if (f->bounce)
		return threads ? IA_BOUNCE_NOTE : IA_BOUNCE_DROP;
	if (f->auto_reply)
		return threads ? IA_AUTO_NOTE : IA_AUTO_DROP;
	if (threads) {
		if (f->sender == IS_STAFF)
			return f->by_tag_only ? IA_NOTE : IA_STAFF_REPLY;
		if (f->sender_of_ticket_client)
			return IA_REPLY;
		return IA_NOTE;
	}
	return new_mail(f);
}
