# MoltZap-Go. `make run` starts the server on its embedded store; `make test` runs every test.
GO ?= go
DATA ?= ./moltzap-data
ADDR ?= 127.0.0.1:8080

.PHONY: browser-test fuzz all build run test test-short quickstart lang-test staticcheck tidy-check generate check-generated lint vet fmt-check bench

all: build

# -buildvcs=auto stamps the commit into --version, /health and moltzap_build_info even where
# GOFLAGS turns VCS stamping off.
build:
	$(GO) build -buildvcs=auto -o bin/ ./cmd/...

# A built binary, not `go run`, so that Ctrl-C reaches the server itself: it shuts down
# cleanly and make exits 0.
run:
	$(GO) build -buildvcs=auto -o bin/moltzap-server ./cmd/moltzap-server
	exec ./bin/moltzap-server --addr $(ADDR) --data $(DATA)

generate:
	$(GO) generate ./...

# Fails when generated/ or docs/ do not match schema/ (stale or hand-edited output).
check-generated: generate
	@git diff --exit-code --stat -- generated docs || { echo "generated/ or docs/ is stale: run 'make generate' and commit"; exit 1; }
	@test -z "$$(git status --porcelain -- generated docs)" || { git status --porcelain -- generated docs; echo "untracked generated files: run 'make generate' and commit"; exit 1; }

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go')); test -z "$$out" || { echo "gofmt needed:"; echo "$$out"; exit 1; }

vet:
	$(GO) vet ./...

lint:
	$(GO) run ./cmd/moltzapgen lint schema

# staticcheck comes from the Go module proxy; installed on first use.
STATICCHECK_VERSION ?= v0.8.2
STATICCHECK := $(shell $(GO) env GOPATH)/bin/staticcheck

staticcheck:
	@test -x $(STATICCHECK) || $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)
	$(STATICCHECK) ./...

# go.mod and go.sum must be tidy.
tidy-check:
	$(GO) mod tidy -diff

test: check-generated fmt-check vet lint tidy-check staticcheck
	$(GO) test -race -count=1 -timeout 12m ./...
	bash scripts/quickstart-test.sh
	bash scripts/lang-test.sh
	bash scripts/browser-test.sh
	bash scripts/fuzz.sh

# Every fuzz target for 5 minutes (make test runs them for 10 s each).
fuzz:
	FUZZTIME=5m bash scripts/fuzz.sh

# The TypeScript and Python packages: type checks, shared vectors, live tests.
lang-test:
	bash scripts/lang-test.sh

# The Observatory page in headless Chromium (Debian's chromium, driven by playwright-core).
browser-test:
	bash scripts/browser-test.sh

# The README quick start, run as written against `make run`.
quickstart:
	bash scripts/quickstart-test.sh

test-short:
	$(GO) test -count=1 ./...

bench:
	$(GO) test -run '^$$' -bench . -benchtime 200x -benchmem ./...
