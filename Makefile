# Contrail's build. `make test` is the one command CI runs (.ci/run).
GO ?= go
PKGS := ./...

.PHONY: all build test test-short deps postgres vet gen gen-check schema-lint bench jaeger

all: build

build:
	$(GO) build ./...

# The default suite: regenerate-and-diff, vet, lint the schemas, then every test.
test: deps postgres gen-check vet schema-lint jaeger
	$(GO) test -count=1 -timeout 20m $(PKGS)

# The inner loop: unit tests only, under a minute. Slow tests (integration
# tests with a broker, crash tests, end-to-end and Jaeger tests) skip under
# -short; they run in `make test`. No gen-check, vet or Jaeger build.
test-short:
	$(GO) test -short -timeout 5m $(PKGS)

vet:
	$(GO) vet $(PKGS)

gen:
	$(GO) run ./cmd/contrail gen

gen-check:
	$(GO) run ./cmd/contrail gen --check

# The repository's schemas pass `contrail lint` at the manifest's tier
# (STANDARD); lint's TestLintRepoSchemas checks the same from `go test`.
schema-lint:
	$(GO) run ./cmd/contrail lint

bench:
	$(GO) test -run '^$$' -bench . -benchmem $(PKGS)

# Jaeger from the separate tools/ module (first build takes minutes; the
# tracing end-to-end tests use tools/bin/jaeger and rebuild it if stale).
# Built aside and renamed, so a running Jaeger never sees its file rewritten.
jaeger:
	$(GO) -C tools build -o bin/jaeger.new github.com/jaegertracing/jaeger/cmd/jaeger
	mv tools/bin/jaeger.new tools/bin/jaeger

# System packages the tests use, installed when missing and we are root (as
# in CI; one apt-get update for all): kcat (librdkafka's CLI) proves a
# non-Go Kafka client works against the embedded broker; chromium drives the
# console's browser tests. Without them those tests skip and say why (with
# CI=true the browser tests fail instead).
APT_PKGS := kcat chromium
deps:
	@missing=""; for p in $(APT_PKGS); do command -v $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
			apt-get update -qq >/dev/null && apt-get install -y -qq $$missing >/dev/null || \
				echo "make: could not install$$missing; their tests will skip"; \
		else echo "make: missing$$missing (not root); their tests will skip"; fi; \
	fi

# PostgreSQL on 127.0.0.1:5432 for the PostgreSQL tests (the store
# conformance suite, the services on PostgreSQL, the replica crash test):
# started when installed but stopped, installed with apt-get when missing and
# we are root (then user postgres gets the password postgres, which the tests'
# default URL carries). Without a server those tests skip and say why; with
# CI=true they fail. CONTRAIL_TEST_POSTGRES_URL points the tests at another
# server, and then nothing is started here.
postgres:
	@if [ -n "$$CONTRAIL_TEST_POSTGRES_URL" ]; then exit 0; fi; \
	if command -v pg_isready >/dev/null 2>&1 && pg_isready -q -h 127.0.0.1 -p 5432; then exit 0; fi; \
	installed=""; \
	if ! ls -d /etc/postgresql/*/main >/dev/null 2>&1; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
			echo "make: installing PostgreSQL for its tests"; \
			if apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; then installed=1; \
			else echo "make: could not install postgresql; its tests will skip"; exit 0; fi; \
		else echo "make: no PostgreSQL (and not root to install it); its tests will skip"; exit 0; fi; \
	fi; \
	for v in $$(ls /etc/postgresql); do pg_ctlcluster --skip-systemctl-redirect $$v main start 2>/dev/null || true; done; \
	if ! pg_isready -q -h 127.0.0.1 -p 5432 -t 30; then echo "make: PostgreSQL did not come up; its tests will skip"; exit 0; fi; \
	if [ -n "$$installed" ]; then su postgres -c "psql -qc \"ALTER USER postgres PASSWORD 'postgres'\"" >/dev/null; fi
