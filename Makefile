# Absender — the two commands a newcomer needs are `make run` and `make test`.

GO      ?= go
BIN     := bin/absender
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)
# Extra flags for `go test`, e.g. TESTFLAGS=-run=TestR10 or TESTFLAGS=-count=1.
TESTFLAGS ?=
# Benchmarks: BENCH selects, BENCHTIME sets the duration of each.
BENCH     ?= .
BENCHTIME ?= 2s

.PHONY: all build console console-deps console-screenshots test-console test-console-run run test bench bench-write-path generate lint lint-schema fmt tidy clean

all: lint test

## build: the console (web/, into web/dist/app) and the binary with it embedded
build: console
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/absender

## console: the admin console (needs Node.js 20 or later and npm); go build embeds it
console: console-deps
	cd web && npm run build --silent

console-deps:
	@command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || { \
		echo "the console needs Node.js 20 or later and npm (e.g. apt-get install nodejs npm)" >&2; exit 1; }
	@[ web/node_modules/.package-lock.json -nt web/package-lock.json ] || \
		(cd web && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error)

## console-screenshots: the whole console suite, saving the pages the walk visits as PNGs
## in docs/console/ (the README shows them)
console-screenshots: console
	SCREENSHOTS=$(CURDIR)/docs/console $(GO) test -tags console_e2e -count=1 -timeout 15m ./web/e2e/

## run: build and serve on the embedded SQLite database ./absender.db
run: build
	./$(BIN) serve

## test: every test; the PostgreSQL suites run when ABSENDER_TEST_POSTGRES_URL is set
test: console
	@if [ -z "$$ABSENDER_TEST_POSTGRES_URL" ]; then \
		echo "NOTE: ABSENDER_TEST_POSTGRES_URL is not set: the PostgreSQL suites are SKIPPED; only SQLite runs."; \
		echo "      e.g. ABSENDER_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/postgres make test  (or run .ci/run)"; \
	else \
		echo "PostgreSQL suites: ON (each test creates its own database on $$ABSENDER_TEST_POSTGRES_URL)"; \
	fi
	$(GO) test -race -timeout 30m $(TESTFLAGS) ./...
	@echo "Paging 10,000 users while users are added (SPEC §4), without the race detector (under it the test pages 2,000):"
	$(GO) test -timeout 10m $(TESTFLAGS) -run '^TestConnectionsR19_PagingStableUnderConcurrentWrites$$' ./e2e/
	@$(MAKE) --no-print-directory test-console-run

## test-console: the console's type check and Vitest tests, then its end-to-end tests in
## headless Chromium against a real `absender serve` (web/e2e; skipped, saying why, when
## /usr/bin/chromium is missing — a failure under CI=true)
test-console: console test-console-run

test-console-run:
	cd web && npx --no-install tsc -b && npx --no-install vitest run
	$(GO) test -tags console_e2e -timeout 15m $(TESTFLAGS) ./web/e2e/

## bench: every benchmark of docs/BENCHMARKS.md, each with its same-run baseline, at sizes
## that fit a working session (BENCH=regexp runs just those, over every package)
bench:
ifeq ($(BENCH),.)
	$(MAKE) bench-write-path
	$(GO) test -run '^$$' -bench 'SenderOptions$$|TracingOverhead' -benchtime $(BENCHTIME) ./server
	$(GO) test -run '^$$' -bench . -benchtime $(BENCHTIME) ./envelope
else
	$(GO) test -run '^$$' -bench '$(BENCH)' -benchtime $(BENCHTIME) -benchmem ./...
endif

## bench-write-path: the rows of issue 13's table (the write path), each next to its
## baseline measured in the same run; PostgreSQL rows need ABSENDER_TEST_POSTGRES_URL
bench-write-path:
	$(GO) test -run '^$$' -bench 'Append' -benchtime 3s ./eventstore
	$(GO) test -run '^$$' -bench 'Mutations|SenderOptionsLarge' -benchtime 3s ./server
	$(GO) test -run '^$$' -bench 'SendToSent' -benchtime 2000x ./saga
	$(GO) test -run '^$$' -bench 'CatchUp' -benchtime 1x ./projections
	BENCH_EVENTS=$${BENCH_EVENTS:-200000} $(GO) test -timeout 60m -run '^$$' -bench 'Log/.*/(raw-read|export)$$|ColdStart' -benchtime 3x ./server
	BENCH_SMALL=1 $(GO) test -timeout 60m -run '^$$' -bench 'ServeCatchUp' -benchtime 1x ./server

## generate: regenerate generated code (gqlgen)
generate:
	$(GO) generate ./...

## lint: formatting, vet and the dependency rules
lint:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	@$(MAKE) --no-print-directory lint-schema

## lint-schema: graphql-schema-linter on graph/schema/*.graphqls (descriptions and Relay
## rules, every rule but the ordering ones; config in tools/schema-lint/package.json)
SCHEMA_LINT := tools/schema-lint
lint-schema:
	@command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || { \
		echo "lint-schema needs Node.js 18 or later and npm (e.g. apt-get install nodejs npm)" >&2; exit 1; }
	@[ -d $(SCHEMA_LINT)/node_modules ] || (cd $(SCHEMA_LINT) && npm ci --no-audit --no-fund --loglevel=error)
	cd $(SCHEMA_LINT) && npx --no-install graphql-schema-linter --format compact

fmt:
	gofmt -w $$(git ls-files '*.go')

tidy:
	$(GO) mod tidy

clean:
	rm -rf bin
