/*
 * intake.h: what the mail intake does with one incoming message (issue 8),
 * decided by a pure function from facts the handler gathers
 * (src/http/api_mail.c reads them from the store; docs/MAIL.md is the
 * user's account of the same rules).
 *
 * In order, the first that applies:
 *   1. The same Message-ID was stored before: DUPLICATE (nothing more).
 *   2. The sender sent more than the hourly limit: RATE_LIMITED (logged,
 *      nothing filed, nothing sent: an auto-responder loop ends here).
 *   A ticket found by the [T-n] tag alone (which can be guessed) counts
 *   as "it threads" below only for that ticket's requester, and for staff
 *   only as an internal note (a From address is easily forged: a public
 *   reply from staff needs the Message-ID of mail the desk sent them).
 *   For anyone else the message threads nowhere.
 *   3. A delivery status notification: filed as an internal note on the
 *      ticket of the message it reports on (BOUNCE_NOTE), else only
 *      logged (BOUNCE_DROP). Never a ticket, never a notification.
 *   4. An automatic reply or bulk mail: an internal note on the ticket it
 *      threads to (AUTO_NOTE), else logged (AUTO_DROP).
 *   5. It threads to a ticket (its [T-n] tag, else In-Reply-To, else
 *      References, newest first):
 *        - from provider staff: STAFF_REPLY (a public reply, sent on to
 *          the requester like one typed in itsup); by the tag alone, NOTE;
 *        - from a contact or client user of the ticket's client: REPLY
 *          (the customer's reply: status moves as for the portal); by the
 *          tag alone, only from the ticket's requester;
 *        - from anyone else, found by Message-ID (ids are unguessable:
 *          a vendor or a colleague on Cc): NOTE (internal, changes nothing);
 *        - anything else found by the tag alone is not threaded; the
 *          rules below treat it as new mail.
 *   6. New mail. The client is the recipient route's, else the sender's
 *      (a contact or client user), else the one whose e-mail domain is the
 *      sender's. No client: HOLD. A known sender (contact or client user of
 *      that client) or staff: NEW. An unknown sender: HOLD when the policy
 *      says hold, else NEW_CONTACT (the contact is created with the ticket).
 */
#ifndef ITSUP_MAIL_INTAKE_H
#define ITSUP_MAIL_INTAKE_H

#include <stdbool.h>
#include <stdint.h>

enum intake_sender {
	IS_UNKNOWN,        /* no contact, no user */
	IS_CONTACT,        /* a contact of some client */
	IS_CLIENT_USER,    /* a login of a client organisation */
	IS_STAFF,          /* provider staff */
};

enum intake_action {
	IA_DUPLICATE, IA_RATE_LIMITED, IA_BOUNCE_NOTE, IA_BOUNCE_DROP, IA_AUTO_NOTE,
	IA_AUTO_DROP, IA_STAFF_REPLY, IA_REPLY, IA_NOTE, IA_NEW, IA_NEW_CONTACT, IA_HOLD,
	IA_COUNT
};

/* The intake log's action for each (mail_inbound.action). */
extern const char *const intake_log_action[IA_COUNT];

struct intake_facts {
	bool duplicate, over_rate, bounce, auto_reply;
	int64_t thread_ticket;        /* the ticket it threads to, 0: none */
	bool by_tag_only;             /* ... found by the [T-n] tag alone */
	enum intake_sender sender;
	bool sender_of_ticket_client; /* a contact or client user of thread_ticket's client */
	bool sender_is_requester;     /* ... and that ticket's requester */
	int64_t client_id;            /* the client for new mail, 0: none */
	bool sender_of_client;        /* a contact or client user of client_id */
	bool hold_unknown;            /* the policy for unknown senders is "hold" */
};

enum intake_action intake_decide(const struct intake_facts *f);

#endif
