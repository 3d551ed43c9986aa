# upgrade-governor. The two commands a newcomer needs:
#   make demo   - the whole system on embedded defaults, driving a real upgrade end to end
#   make test   - every test: the Rust program in the Solana runtime, Go units and integration
#
# Build outputs live outside the clone so that reruns (and CI) are incremental.
CACHE        ?= $(HOME)/.cache/upgrade-governor
CARGO_TARGET ?= $(CACHE)/target
TOOLS_BIN    ?= $(CACHE)/bin
export CARGO_TARGET_DIR := $(CARGO_TARGET)
# program/localnet builds in a target dir of its own: sharing the program workspace's, its test
# build linked two builds of solana-address 2.6.1 and failed ("multiple different versions").
LOCALNET_TARGET ?= $(CACHE)/localnet-target
export LOCALNET_BIN     ?= $(LOCALNET_TARGET)/release/localnet
export TEMPORAL_BIN     ?= $(TOOLS_BIN)/temporal
SBPF         ?= $(CACHE)/tools/bin/sbpf
GO_TEST_FLAGS ?= -count=1 -timeout 30m

.PHONY: all test test-rust test-go lint localnet localnet-patch elfs elfs-check idl idl-check tools temporal sbpf demo build clean-cache

all: build

## build: the Go binaries and the local chain
build: localnet
	go build -o bin/ ./worker ./apiserver ./cmd/...

## demo: the whole system on embedded defaults, driving a real upgrade (DEMO_EXIT=1 to stop at the end)
demo: build temporal
	bin/demo

## localnet: the JSON-RPC test chain (surfpool-core + the natively compiled governance program)
localnet: localnet-patch
	cd program/localnet && CARGO_TARGET_DIR=$(LOCALNET_TARGET) cargo build --release

# program/localnet is a cargo workspace of its own, built against surfpool-core with our patch
# (program/localnet/patches): the script checks, extracts and patches the crate under $(CACHE).
# Every cargo command in program/localnet needs it to have run once.
localnet-patch:
	CACHE=$(CACHE) program/localnet/patch-surfpool.sh

## test: everything; what CI runs. It brings what it needs: the pinned tools (the CLI-tools
## tests run the real solana and solana-verify) and Debian's chromium (the web page's test).
test: tools chromium lint test-rust idl-check elfs-check web-check test-go

.PHONY: chromium
chromium:
	@command -v chromium >/dev/null 2>&1 || { echo "installing Debian's chromium (the web page's browser test)"; \
	  apt-get install -y -qq chromium >/dev/null || { apt-get update -qq && apt-get install -y -qq chromium >/dev/null; } || \
	  { echo "chromium is missing and could not be installed: run 'apt-get install chromium' as root"; exit 1; }; }

test-rust: localnet-patch
	cd program && cargo test --release --workspace
	cd program/localnet && CARGO_TARGET_DIR=$(LOCALNET_TARGET) cargo test --release

test-go: localnet temporal web-deps
	go test $(GO_TEST_FLAGS) ./...

lint: localnet-patch
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	go vet ./...
	cd program && cargo fmt --all --check
	cd program && cargo clippy --release --workspace --all-targets -- -D warnings
	cd program/localnet && cargo fmt --check
	cd program/localnet && CARGO_TARGET_DIR=$(LOCALNET_TARGET) cargo clippy --release --all-targets -- -D warnings

## idl: regenerate program/idl/upgrade_governor.json from the program's code
idl:
	cd program && cargo run --release -q -p idl-gen

idl-check:
	cd program && cargo run --release -q -p idl-gen -- --check

## elfs: assemble the example governed program (v1, v2) and the tests' hostile one with sbpf; print their hashes
elfs: sbpf
	SBPF=$(SBPF) program/examples/governed-counter/build.sh

elfs-check: sbpf
	SBPF=$(SBPF) program/examples/governed-counter/build.sh --check

## tools: the pinned external tools, built from the registries into $(CACHE)
tools: temporal sbpf solana solana-verify

temporal: $(TEMPORAL_BIN)
$(TEMPORAL_BIN):
	GOBIN=$(TOOLS_BIN) go install github.com/temporalio/cli/cmd/temporal@v1.5.1

sbpf: $(SBPF)
$(SBPF):
	cargo install sbpf --version 0.3.3 --locked --root $(CACHE)/tools

# The Solana CLI and solana-verify, for internal/clitools (about 9 and 5 min cold on 2 cores).
# Their own target dir keeps the build cached and off the workspace's target lock.
export SOLANA_BIN        ?= $(CACHE)/tools/bin/solana
export SOLANA_VERIFY_BIN ?= $(CACHE)/tools/bin/solana-verify
TOOLS_TARGET ?= $(CACHE)/tools-target
.PHONY: solana solana-verify
solana: $(SOLANA_BIN)
$(SOLANA_BIN):
	@pkg-config --exists libudev || { echo "installing libudev-dev (solana-cli links libudev)"; \
	  apt-get install -y -qq libudev-dev || { apt-get update -qq && apt-get install -y -qq libudev-dev; }; }
	CARGO_TARGET_DIR=$(TOOLS_TARGET) cargo install solana-cli --version 3.1.12 --locked --root $(CACHE)/tools

solana-verify: $(SOLANA_VERIFY_BIN)
$(SOLANA_VERIFY_BIN):
	CARGO_TARGET_DIR=$(TOOLS_TARGET) cargo install solana-verify --version 0.5.2 --locked --root $(CACHE)/tools

.PHONY: bench faults

## bench: figures on the real stack, one table, also bench/results.json (BENCH_ACCOUNTS=100000; see bench/README.md)
bench: build temporal
	go build -o bin/ ./bench/cmd/bench ./bench/cmd/loadgen
	bin/bench

## faults: fault drills on the real stack (kill -9, restarts, RPC stall); each prints PASS or FAIL
faults: build temporal
	go build -o bin/ ./bench/cmd/faults
	bin/faults

## fuzz: the API's fuzz targets (request bodies, signed transactions) for FUZZ_TIME each, one at a time
# A count, not a duration: Go 1.26 can fail a time-bounded run with "context deadline exceeded"
# and no failing input (go.dev/issue/75804).
FUZZ_TIME ?= 200000x
.PHONY: fuzz
fuzz:
	for t in FuzzBindJSON FuzzParseSignedTx; do \
	  go test -run='^$$' -fuzz="^$$t$$" -fuzztime=$(FUZZ_TIME) -fuzzminimizetime=0 ./internal/api || exit 1; done

# The browser UI (web/): TypeScript built by Vite into web/dist, which is committed and embedded
# in apiserver with go:embed, so Go builds need no Node.js. Node.js and npm are needed only to
# change the UI (`make web`), to check it (`make web-check`) and for its browser test.
.PHONY: web web-deps web-check web-e2e
WEB_STAMP := web/node_modules/.package-lock.json

## web-deps: the UI's npm packages, exactly as web/package-lock.json pins them
web-deps: $(WEB_STAMP)
$(WEB_STAMP): web/package.json web/package-lock.json
	cd web && npm ci --no-audit --no-fund

## web: rebuild web/dist from web/src (commit the result)
web: web-deps
	cd web && npm run build

## web-check: type check, unit tests, and fail when the committed web/dist is stale
web-check: web-deps
	cd web && npx tsc --noEmit && npm test && npm run check

## web-e2e: the UI in Debian's chromium against the whole stack (also part of `go test ./...`)
web-e2e: web-deps localnet temporal
	go test $(GO_TEST_FLAGS) -v ./web/e2e
