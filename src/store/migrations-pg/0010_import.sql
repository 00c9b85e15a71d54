-- 0010 (PostgreSQL): mirrors migrations/0010_import.sql; change the two
-- together.
-- History import (issue 9; docs/IMPORT.md). A ticket brought from another
-- system keeps that system's id in external_id: unique per client, so the
-- same file (or the same ticket in another file) is refused when imported
-- again. Equality of a deterministic collation is byte equality, as in
-- SQLite. Tickets made in itsup have none (NULL), and the index leaves them
-- out.
ALTER TABLE tickets ADD COLUMN external_id TEXT;
CREATE UNIQUE INDEX tickets_external ON tickets (tenant_id, external_id)
	WHERE external_id IS NOT NULL;
