# make test   vet and race-enabled tests against freshly started emulators
#             (with the short fault test of test/chaos)
# make chaos  the long fault test, CHAOS_EVENTS events (default 5000), with its figures
# make fuzz   every fuzz target of the module for FUZZTIME each (default 30s)
# make serve  the receiver on :8080 (embedded mode unless configured)
# make bench  regenerate BENCHMARKS.md (about five minutes, on a quiet machine)
GO ?= go
CHAOS_EVENTS ?= 5000
FUZZTIME ?= 30s

.PHONY: test check-tools vet fmt-check build serve chaos fuzz

test: check-tools fmt-check
	terraform fmt -check -recursive terraform
	scripts/with-emulators sh -c '$(GO) vet ./... && $(GO) test -race -count=1 ./...'

# Everything `make test` needs on a fresh machine, with the command that
# installs what is missing.
check-tools:
	@command -v $(GO) >/dev/null || { echo "Go is not installed: see https://go.dev/doc/install" >&2; exit 1; }
	@command -v gcc >/dev/null || { echo "gcc is needed by go test -race: apt-get install -y gcc" >&2; exit 1; }
	@command -v curl >/dev/null || { echo "curl is needed to wait for the emulators: apt-get install -y curl" >&2; exit 1; }
	@command -v terraform >/dev/null || { echo "terraform (1.11 or newer) is needed for terraform fmt: see https://developer.hashicorp.com/terraform/install" >&2; exit 1; }

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:" $$out >&2; exit 1; fi

vet:
	$(GO) vet ./...

# CHAOS_SEED replays a run; CHAOS_REPORT=file.json keeps its figures.
chaos:
	scripts/with-emulators sh -c 'CHAOS_EVENTS=$(CHAOS_EVENTS) $(GO) test -count=1 -timeout 60m -v -run TestChaos ./test/chaos/'

fuzz:
	FUZZTIME=$(FUZZTIME) GO=$(GO) scripts/fuzz

build:
	$(GO) build -o bin/geminihook ./cmd/geminihook

serve:
	$(GO) run ./cmd/geminihook serve

# The receiver measured side by side with its references and floors, under
# freshly started emulators; see BENCHMARKS.md.
.PHONY: bench
bench:
	GO=$(GO) scripts/bench
