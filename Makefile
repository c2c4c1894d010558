# make test   vet and race-enabled tests against freshly started emulators
# make serve  the receiver on :8080 (embedded mode unless configured)
GO ?= go

.PHONY: test check-tools vet fmt-check build serve

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

build:
	$(GO) build -o bin/geminihook ./cmd/geminihook

serve:
	$(GO) run ./cmd/geminihook serve
