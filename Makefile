# itsup: the two commands of the README, and a few more.
#   make run    installs what is missing, builds, creates a demo database,
#               serves http://127.0.0.1:8080 and prints how to log in
#   make check  installs what is missing, builds (normal and ASan+UBSan) and
#               runs every test
#   make bench  runs the benchmarks in bench/ and prints their figures

SHELL := /bin/bash
BUILD ?= build
ASAN_BUILD ?= build-asan
LISTEN ?= 127.0.0.1:8080
DEMO_DB ?= var/demo.db
DEMO_LOGINS ?= var/demo-logins.txt

export ASAN_OPTIONS ?= detect_leaks=1:abort_on_error=0:halt_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1
export UBSAN_OPTIONS ?= print_stacktrace=1:halt_on_error=1
export LSAN_OPTIONS ?= suppressions=$(CURDIR)/tests/lsan.supp:print_suppressions=0

.PHONY: all deps build asan run check unit api api-pg e2e bench fuzz fuzz-import clean

all: build

deps:
	@bash scripts/deps

$(BUILD)/build.ninja:
	@meson setup $(BUILD) --buildtype=debugoptimized >/dev/null

$(ASAN_BUILD)/build.ninja:
	@meson setup $(ASAN_BUILD) --buildtype=debug -Db_sanitize=address,undefined -Db_lundef=false >/dev/null

build: deps $(BUILD)/build.ninja
	@ninja -C $(BUILD) >/dev/null

asan: deps $(ASAN_BUILD)/build.ninja
	@ninja -C $(ASAN_BUILD) >/dev/null

run: build
	@mkdir -p var
	@if [ ! -f $(DEMO_DB) ]; then $(BUILD)/itsup demo --db $(DEMO_DB) --credentials $(DEMO_LOGINS); fi
	@echo
	@echo "itsup is starting on http://$(LISTEN)   (Ctrl-C stops it)"
	@echo "Open http://$(LISTEN)/ in a browser, or use the API; log in with any of these (all share one password):"
	@sed 's/^/    /' $(DEMO_LOGINS)
	@echo "  e.g. curl -si -X POST http://$(LISTEN)/api/v1/auth/login -H 'Content-Type: application/json' \\"
	@echo "         -d '{\"email\":\"admin@demo.itsup.test\",\"password\":\"'$$(sed -n 's/^password: //p' $(DEMO_LOGINS))'\"}'"
	@echo
	@exec $(BUILD)/itsup serve --db $(DEMO_DB) --listen $(LISTEN)

unit: build asan
	@echo "== unit tests (normal build; u-pg against a throw-away PostgreSQL)"
	@scripts/with-pg meson test -C $(BUILD) --print-errorlogs --no-rebuild
	@echo "== unit tests (ASan+UBSan build)"
	@scripts/with-pg meson test -C $(ASAN_BUILD) --print-errorlogs --no-rebuild

api: build asan
	@echo "== API tests against a real server (normal build)"
	@ITSUP_BIN=$(CURDIR)/$(BUILD)/itsup node --test --test-concurrency=2 tests/api/*.test.mjs
	@echo "== API tests against a real server (ASan+UBSan build)"
	@ITSUP_BIN=$(CURDIR)/$(ASAN_BUILD)/itsup ITSUP_SANITIZED=1 node --test --test-concurrency=2 tests/api/*.test.mjs

# The same API suite with every database in PostgreSQL (and the two-server
# scale-out and migration tests, which only run there), on the ASan+UBSan
# build. The reader pool (2) is smaller than the server's threads (4), so
# that waiting for a connection, and a fresh snapshot's connection past
# the pool, are exercised by every test.
api-pg: asan
	@echo "== API tests on PostgreSQL (ASan+UBSan build, a throw-away PostgreSQL 15)"
	@ITSUP_BIN=$(CURDIR)/$(ASAN_BUILD)/itsup ITSUP_SANITIZED=1 ITSUP_API_PG=1 ITSUP_PG_POOL=2 \
	  scripts/with-pg node --test --test-concurrency=2 tests/api/*.test.mjs

e2e: asan
	@echo "== browser tests (chromium, against the ASan+UBSan build)"
	@rm -rf $(BUILD)/e2e-screenshots
	@ITSUP_BIN=$(CURDIR)/$(ASAN_BUILD)/itsup ITSUP_SANITIZED=1 ITSUP_SHOTS=$(CURDIR)/$(BUILD)/e2e-screenshots/ \
	  node --test --test-concurrency=1 tests/e2e/*.test.mjs
	@echo "   screenshots of the main pages: $(CURDIR)/$(BUILD)/e2e-screenshots/"

check: unit api api-pg e2e
	@echo "make check: all tests passed"

bench: build
	@bash bench/run
	@bash bench/tickets
	@echo "== the browser UI: page weight and the console's first render"
	@node bench/ui.mjs
	@echo "== PostgreSQL: the group-committing writer (1 and 2 servers) against pgbench's insert rate"
	@bash bench/pg
	@echo "== PostgreSQL over HTTP: reads and creates, 1 and 2 servers, against SQLite and pgbench"
	@bash bench/pg-http
	@echo "== SLA arithmetic, replays, and a calendar edit recomputing 100,000 open tickets"
	@d=$$(mktemp -d) && $(BUILD)/sla-bench $$d/sla.db 100000; rc=$$?; rm -rf $$d; exit $$rc
	@echo "== Monitoring: 10,000 agents' check-ins (20 metrics each) against SQLite's insert rate, and the real agent's cost"
	@bash bench/monitor/run
	@echo "== E-mail: the intake's messages/s against ticket creates over the API, the outbox's deliveries/s against smtplib into one sink"
	@bash bench/mail/run
	@echo "== Reports: the SLA review over 1,000,000 imported tickets of 200 clients (and the import itself)"
	@bash bench/reports/run

# The mail parser under libFuzzer (clang, ASan+UBSan), FUZZ_SECONDS long,
# from the corpus in tests/fixtures/mail and the inputs that once crashed it
# (tests/fixtures/fuzz-mail); new inputs it finds go to var/fuzz-mail (not
# committed; a crash is written to ./crash-*: add it to tests/fixtures/fuzz-mail). Needs clang (not part of make check).
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 60
fuzz:
	@command -v clang >/dev/null || { echo "make fuzz needs clang (apt-get install clang)"; exit 2; }
	@[ -f $(FUZZ_BUILD)/build.ninja ] || CC=clang meson setup $(FUZZ_BUILD) --buildtype=debug \
	  -Dfuzz=true -Dwerror=false -Db_sanitize=address,undefined -Db_lundef=false >/dev/null
	@meson compile -C $(FUZZ_BUILD) fuzz-mail >/dev/null
	@mkdir -p var/fuzz-mail
	$(FUZZ_BUILD)/fuzz-mail -max_total_time=$(FUZZ_SECONDS) -max_len=65536 -rss_limit_mb=1024 \
	  var/fuzz-mail tests/fixtures/mail tests/fixtures/fuzz-mail

# The history import's reader and validator the same way (tests/fuzz/fuzz_import.c;
# its seeds and the inputs that once failed are in tests/fixtures/fuzz-import).
fuzz-import:
	@command -v clang >/dev/null || { echo "make fuzz-import needs clang (apt-get install clang)"; exit 2; }
	@[ -f $(FUZZ_BUILD)/build.ninja ] || CC=clang meson setup $(FUZZ_BUILD) --buildtype=debug \
	  -Dfuzz=true -Dwerror=false -Db_sanitize=address,undefined -Db_lundef=false >/dev/null
	@meson compile -C $(FUZZ_BUILD) fuzz-import >/dev/null
	@mkdir -p var/fuzz-import
	$(FUZZ_BUILD)/fuzz-import -max_total_time=$(FUZZ_SECONDS) -max_len=65536 -rss_limit_mb=1024 \
	  var/fuzz-import tests/fixtures/fuzz-import

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)
