# Contrail's build. `make test` is the one command CI runs (.ci/run).
GO ?= go
PKGS := ./...

.PHONY: all build test vet gen gen-check bench fuzz jaeger

all: build

build:
	$(GO) build ./...

# The default suite: regenerate-and-diff, vet, then every test.
test: gen-check vet jaeger
	$(GO) test -count=1 -timeout 20m $(PKGS)

vet:
	$(GO) vet $(PKGS)

gen:
	$(GO) run ./cmd/contrail gen

gen-check:
	$(GO) run ./cmd/contrail gen --check

bench:
	$(GO) test -run '^$$' -bench . -benchmem $(PKGS)

# Jaeger from the separate tools/ module (first build takes minutes; the
# tracing end-to-end tests use tools/bin/jaeger and rebuild it if stale).
# Built aside and renamed, so a running Jaeger never sees its file rewritten.
jaeger:
	$(GO) -C tools build -o bin/jaeger.new github.com/jaegertracing/jaeger/cmd/jaeger
	mv tools/bin/jaeger.new tools/bin/jaeger
