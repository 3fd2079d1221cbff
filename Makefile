# Yinling — the two commands a newcomer needs are `make dev` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help

FUNCTIONS := $(notdir $(wildcard functions/*))
# How every function is built for Lambda (arm64, provided.al2023). `sam build` reads GOFLAGS too;
# since Go 1.22 -s implies -w, so one -ldflags value strips both symbol table and DWARF.
LAMBDA_GOFLAGS := -tags=lambda.norpc -trimpath -ldflags=-s
LAMBDA_ENV := GOOS=linux GOARCH=arm64 CGO_ENABLED=0 GOFLAGS="$(LAMBDA_GOFLAGS)"

LOCAL := go run ./cmd/local
FRESH ?= 0
PORT ?= 3000
TICK ?=

.PHONY: help
help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

.PHONY: deps
deps: ## install what the local stack needs (JDK 17, Node, zip, espeak-ng, chromium + CJK fonts; npm packages)
	@missing=""; \
	command -v javac >/dev/null || missing="$$missing openjdk-17-jdk-headless"; \
	command -v node >/dev/null || missing="$$missing nodejs npm"; \
	command -v zip  >/dev/null || missing="$$missing zip"; \
	command -v espeak-ng >/dev/null || missing="$$missing espeak-ng"; \
	[ -x /usr/bin/chromium ] || missing="$$missing chromium"; \
	[ -e /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc ] || missing="$$missing fonts-noto-cjk"; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  if [ "$$(id -u)" = 0 ]; then sudo=; else sudo=sudo; fi; \
	  $$sudo apt-get update -qq && \
	  $$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi
	@$(LOCAL) install
	@# The browser tests' driver (web/e2e), installed like the emulators: npm ci when
	@# node_modules is missing or older than the lock file (npm rewrites its marker last).
	@cd web/e2e && if [ ! -e node_modules/.package-lock.json ] || [ node_modules/.package-lock.json -ot package-lock.json ]; then \
	  echo "e2e: npm ci in web/e2e"; \
	  npm ci --no-audit --no-fund || { echo "e2e: npm ci in web/e2e failed (is the npm registry reachable?)"; exit 1; }; \
	fi

.PHONY: dev
dev: deps ## run the whole stack on 127.0.0.1:$(PORT) (FRESH=1: empty table; TICK=10s: dispatcher period)
	$(LOCAL) serve -port $(PORT) $(if $(filter 1,$(FRESH)),-fresh) $(if $(TICK),-tick $(TICK))

.PHONY: test
# Every logger of the suite also appends its lines under .local/logs (shared/logging.CaptureVar),
# which local logscan then searches for phone numbers, one-time codes and tokens.
test: export YINLING_LOG_CAPTURE = $(CURDIR)/.local/logs
test: deps lint ## everything CI runs: lint, unit + integration tests against the emulators, the page audit, the long soak (3 seeds), a short fuzz
	@rm -rf .local/logs
	@# cmd/local's browser flows take about 7 minutes under -race on 2 cores, near go test's
	@# default 10-minute limit per package.
	$(LOCAL) test -- go test -race -count=1 -timeout 40m -skip '^$(AUDIT_TEST)$$' ./...
	@$(MAKE) --no-print-directory audit
	$(LOCAL) logscan .local/logs
	@$(MAKE) --no-print-directory soak SOAK_SEEDS="$(CI_SOAK_SEEDS)"
	@$(MAKE) --no-print-directory fuzz

# The page audit runs alone, after the package tests: Lighthouse simulates a phone by scaling the
# CPU time it observes, so a neighbouring package's work counts as the page's (a page scoring 100
# with 16 ms of blocking time on a quiet machine scored 92 with 350 ms beside go test ./...). It
# runs without -race, as the web function runs in Lambda; every route it calls also runs under
# -race in the package tests. AUDIT_PAGES=me,family narrows it while one page is being fixed.
AUDIT_TEST := TestAuditPagesInBrowser

.PHONY: audit
audit: deps ## the H5 pages' audit alone: axe-core, Lighthouse (mobile), weight; both languages (→ artifacts/audit)
	@mkdir -p .local
	@set -o pipefail; $(if $(AUDIT_PAGES),YINLING_AUDIT_PAGES=$(AUDIT_PAGES)) \
	  $(LOCAL) test -- go test -v -count=1 -timeout 30m -run '^$(AUDIT_TEST)$$' ./cmd/local 2>&1 | tee .local/audit.log
	@# A renamed test would leave -run matching nothing, and go test would call that a pass.
	@grep -q '^--- PASS: $(AUDIT_TEST) ' .local/audit.log || { echo "audit: $(AUDIT_TEST) did not run and pass"; exit 1; }

# FUZZTIME is how much each fuzz target runs under make test (after its seed corpus, which
# every go test runs): a count of inputs, not a duration — Go 1.26's fuzzer can fail a run with
# "context deadline exceeded" when a duration ends mid-input (go.dev/issue/75804, fixed in
# 1.27), which would make CI flaky. For a longer hunt: make fuzz FUZZTIME=10m.
FUZZTIME ?= 20000x

.PHONY: fuzz
fuzz: ## run every fuzz target (func Fuzz… in a _test.go file) for FUZZTIME each
	@for file in $$(git ls-files '*_test.go' | xargs grep -l '^func Fuzz'); do \
	  dir=./$$(dirname $$file); \
	  for target in $$(grep -oE '^func Fuzz[A-Za-z0-9_]+' $$file | cut -d' ' -f2); do \
	    echo "fuzz $$dir $$target ($(FUZZTIME))"; \
	    go test -run '^$$' -fuzz "^$$target\$$" -fuzztime $(FUZZTIME) $$dir >/tmp/yinling-fuzz.log 2>&1 || \
	      { cat /tmp/yinling-fuzz.log; echo "fuzz: $$target failed; the input is saved under $$dir/testdata/fuzz/$$target"; exit 1; }; \
	  done; \
	done

# The soak (tests/soak) under `go test ./...` is a short one; this target runs the long one: a few
# thousand members through reminders, bookings and two campaigns with ~10% injected faults, once
# per seed of SOAK_SEEDS (a seed picks the faults: the same seed, the same faults per operation
# and message). make test runs it with the seeds below; SOAK_SEEDS="1 2 3 4 5 6 7 8 9" hunts
# longer, SOAK_TRACE=1 writes each run's function logs and message handling under .local/soak.
SOAK_SEED ?= 1
SOAK_SEEDS ?= $(SOAK_SEED)
CI_SOAK_SEEDS := 1 5 7

.PHONY: soak
soak: ## the long fault-injection soak against the emulators (SOAK_SEEDS="1 5 7" for other faults)
	@mkdir -p .local/soak
	@for seed in $(SOAK_SEEDS); do \
	  echo "soak: seed $$seed"; \
	  YINLING_SOAK=1 YINLING_SOAK_SEED=$$seed $(if $(filter 1,$(SOAK_TRACE)),YINLING_SOAK_TRACE=$(CURDIR)/.local/soak/trace-$$seed.json) \
	    $(LOCAL) test -- go test -count=1 -timeout 15m -run TestSoak -v ./tests/soak/ > .local/soak/seed-$$seed.log 2>&1; rc=$$?; \
	  grep -h "SOAK ops" .local/soak/seed-$$seed.log; \
	  if [ $$rc != 0 ]; then cat .local/soak/seed-$$seed.log; echo "soak: seed $$seed failed"; exit 1; fi; \
	done

.PHONY: lint
lint: ## gofmt, go vet, staticcheck, govulncheck (when vuln.go.dev is reachable), cfn-lint
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './.local/*')); \
	  if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	go vet ./...
	go tool staticcheck ./...
	@# govulncheck needs vuln.go.dev; where it is unreachable (an offline CI) it is skipped, loudly.
	@if curl -sS -o /dev/null --max-time 5 https://vuln.go.dev/index/db.json 2>/dev/null; then \
	  go tool govulncheck ./...; \
	else echo "lint: govulncheck SKIPPED: vuln.go.dev is unreachable from this machine"; fi
	cfn-lint template.yaml

.PHONY: build
build: ## build every function to .build/<fn>/bootstrap and .build/<fn>.zip (linux/arm64)
	@rm -rf .build && mkdir -p .build
	@for fn in $(FUNCTIONS); do \
	  $(LAMBDA_ENV) go build -o .build/$$fn/bootstrap ./functions/$$fn/cmd || exit 1; \
	  (cd .build/$$fn && zip -q -9 ../$$fn.zip bootstrap) || exit 1; \
	  awk -v fn=$$fn -v b=$$(stat -c %s .build/$$fn/bootstrap) -v z=$$(stat -c %s .build/$$fn.zip) \
	    'BEGIN { printf "%-12s bootstrap %6.2f MB   zip %5.2f MB\n", fn, b/1048576, z/1048576 }'; \
	done

# Results of make bench: bench.txt is raw `go test -bench` output (benchstat reads it; compare two
# runs with `benchstat old/bench.txt new/bench.txt`), cost.md the cost model's table, machine.txt
# what it ran on. Cold starts run 20 times per function (-benchtime=20x), everything else once.
BENCH_OUT ?= artifacts/bench

.PHONY: bench
bench: deps ## every benchmark against the emulators: sizes, cold starts, latency, AWS calls, cost (→ artifacts/bench)
	@mkdir -p $(BENCH_OUT)
	@{ echo "nproc $$(nproc)"; grep -m1 'model name' /proc/cpuinfo; go version; date -u; } > $(BENCH_OUT)/machine.txt
	@begin=$$(date +%s); set -o pipefail; \
	{ $(LOCAL) test -- go test -run '^$$' -bench . -benchmem -count=1 -timeout 30m $$(go list ./... | grep -v '/tests/coldstart$$'); s1=$$?; \
	  $(LOCAL) test -- go test -run '^$$' -bench . -benchtime=20x -count=1 -timeout 30m ./tests/coldstart; s2=$$?; \
	  exit $$(( s1 | s2 )); } 2>&1 | tee $(BENCH_OUT)/bench.txt; \
	status=$$?; \
	go test -count=1 -run TestStoreWithinBudget -v ./tests/cost | sed -n 's/^        //p' > $(BENCH_OUT)/cost.md; \
	echo "make bench: $$(( $$(date +%s) - begin )) s; results in $(BENCH_OUT)/ (bench.txt for benchstat, cost.md, machine.txt)"; \
	exit $$status

.PHONY: token
token: ## print a staff JWT for the local stack's demo store
	@$(LOCAL) token

.PHONY: deploy
deploy: ## build with SAM and deploy (first time: answers the guided questions)
	$(LAMBDA_ENV) sam build
	sam deploy --guided

.PHONY: clean
clean: ## remove build output and local data (emulator packages are kept)
	rm -rf .build .aws-sam .local/data
