-- 0006: failed-login counters and used TOTP steps in the database, so that every server on
-- one database counts the same failures (issue 6). One row per counter:
-- key is SHA-256 of the counter's kind and key (auth.c, throttle_key:
-- "account" + the e-mail as typed, "address" + the client address), in a
-- fixed window that starts at the first failure after the last window
-- ended. A successful login deletes its account's row.
CREATE TABLE auth_throttle (
	key BLOB PRIMARY KEY,
	window_start INTEGER NOT NULL,
	failures INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

-- The last TOTP time step a user's code was accepted for (RFC 6238 5.2:
-- each code once): a login or enrolment with a step not newer is refused
-- in the same transaction that records it (store_write.totp_step).
ALTER TABLE users ADD COLUMN totp_last_step INTEGER NOT NULL DEFAULT 0;
