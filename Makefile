# Contrail's build. `make test` is the one command CI runs (.ci/run).
GO ?= go
PKGS := ./...

.PHONY: all build test vet gen gen-check bench fuzz

all: build

build:
	$(GO) build ./...

# The default suite: regenerate-and-diff, vet, then every test.
test: gen-check vet
	$(GO) test -count=1 -timeout 20m $(PKGS)

vet:
	$(GO) vet $(PKGS)

gen:
	$(GO) run ./cmd/contrail gen

gen-check:
	$(GO) run ./cmd/contrail gen --check

bench:
	$(GO) test -run '^$$' -bench . -benchmem $(PKGS)
