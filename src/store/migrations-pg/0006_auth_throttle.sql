-- 0006 (PostgreSQL): mirrors migrations/0006_auth_throttle.sql; change the
-- two together. Failed-login counters and used TOTP steps,
-- shared by every server.
CREATE TABLE auth_throttle (
	key BYTEA PRIMARY KEY,
	window_start BIGINT NOT NULL,
	failures INTEGER NOT NULL
);

ALTER TABLE users ADD COLUMN totp_last_step BIGINT NOT NULL DEFAULT 0;
