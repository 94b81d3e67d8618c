# Keel — the two commands (see README.md):
#   make demo   install missing Debian packages, build (release), run the demo simulation
#   make test   install missing Debian packages, build, run the whole suite through ctest
# Other targets: build, debug (ASan+UBSan), tsan, tsan-embedded, bench, bench-peers, soak, fuzz,
# fuzz-smoke, protocol-gen, determinism-builds, format, clean.

JOBS     ?= $(shell nproc 2>/dev/null || echo 2)
WERROR   ?= $(if $(CI),ON,OFF)
RELEASE  := build/release
TESTDIR  := build/test
OUT      := out

.PHONY: deps demo test build debug tsan bench soak format clean tsan-embedded

deps:
	@bash cmake/install_deps.sh

$(RELEASE)/build.ninja:
	cmake -S . -B $(RELEASE) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DKEEL_WERROR=$(WERROR)

build: deps $(RELEASE)/build.ninja
	cmake --build $(RELEASE) -j $(JOBS) --target keel

demo: build
	@mkdir -p $(OUT)
	$(RELEASE)/cli/keel sim run --seed 42 --trace $(OUT)/demo-trace.jsonl --summary-json $(OUT)/demo-summary.json
	$(RELEASE)/cli/keel viz spacetime $(OUT)/demo-trace.jsonl --to 3s --out $(OUT)/demo-spacetime.svg
	$(RELEASE)/cli/keel viz quorum --scenario quorum-chaos --seed 42 --at 20s --out $(OUT)/demo-quorum.svg
	@echo
	@echo "Demo outputs:"
	@echo "  $(OUT)/demo-summary.json    the run summary (seed, events, trace hash, faults, result)"
	@echo "  $(OUT)/demo-trace.jsonl     the trace, one JSON line per event"
	@echo "  $(OUT)/demo-spacetime.svg   a space-time diagram of the first 3 simulated seconds"
	@echo "  $(OUT)/demo-quorum.svg      the KRaft quorum 20 s into the run: roles, epochs, logs, faults"
	@echo "  keel binary: $(RELEASE)/cli/keel  (try: $(RELEASE)/cli/keel --help)"

# The whole suite: an -O1 build with ASan+UBSan (KEEL_ASSERT is always on), then ctest.
# -O1 keeps the sanitized build quick to compile on a 2-core machine and the tests fast.
# ctest runs one more test than there are cores: the real-client tests mostly wait on their
# servers, and a slot they hold would otherwise idle a core. The test sources compile in
# unity batches (KEEL_UNITY_TESTS, cmake/keel.cmake): minutes less for a clean build.
test: deps
	cmake -S . -B $(TESTDIR) -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS_RELEASE=-O1 \
	      -DKEEL_SANITIZE=ON -DKEEL_WERROR=$(WERROR) -DKEEL_UNITY_TESTS=ON
	cmake --build $(TESTDIR) -j $(JOBS)
	cd $(TESTDIR) && ASAN_OPTIONS=detect_leaks=1 ctest --output-on-failure -j $$(( $(JOBS) + 1 )) --timeout 900
	$(MAKE) tsan-embedded
	$(MAKE) fuzz-smoke

debug: deps
	cmake --preset debug && cmake --build --preset debug -j $(JOBS)

tsan: deps
	cmake --preset tsan && cmake --build --preset tsan -j $(JOBS)

bench: build
	$(RELEASE)/cli/keel bench sim
	$(RELEASE)/cli/keel bench log

# Keel (3 nodes, RF 3, acks=all) against NATS JetStream (3 nodes, R3, file storage) and
# Redis (one node, AOF fsync always) on loopback: the same PEER_RECORDS x PEER_RECORD_SIZE B
# acknowledged appends and read-back, one run each, a table with the ratios and
# out/bench-peers.json (docs/benchmarks.md). Installs nats-server and redis-server if
# missing (bench/peers/install_peers.sh; not part of `make deps`). Not run by CI.
PEER_RECORDS     ?= 1000000
PEER_RECORD_SIZE ?= 100
PEER_ARGS        ?= --keel-fsync
.PHONY: bench-peers
bench-peers: build
	@bash bench/peers/install_peers.sh
	@mkdir -p $(OUT)
	python3 bench/peers/peers_bench.py --keel $(RELEASE)/cli/keel --records $(PEER_RECORDS) \
	        --record-size $(PEER_RECORD_SIZE) --json $(OUT)/bench-peers.json $(PEER_ARGS)

# The longer sweeps that CI runs only a slice of (SEEDS scales them; about 10 minutes on
# 2 cores with the default). Each prints its failing seeds with replay commands and writes
# out/soak-<scenario>.json; make stops at the first scenario with a failure.
SEEDS ?= 10000
soak: build
	@mkdir -p $(OUT)
	$(RELEASE)/cli/keel sim sweep quorum-chaos --seeds 1-$(SEEDS) --jobs $(JOBS) --json $(OUT)/soak-quorum-chaos.json
	$(RELEASE)/cli/keel sim sweep quorum-chaos --seeds 1-$(SEEDS) --jobs $(JOBS) --param controllers_only=1 --json $(OUT)/soak-quorum-chaos-controllers.json
	$(RELEASE)/cli/keel sim sweep controller-brokers --seeds 1-$(SEEDS) --jobs $(JOBS) --json $(OUT)/soak-controller-brokers.json
	$(RELEASE)/cli/keel sim sweep controller-failover --seeds 1-$(SEEDS) --jobs $(JOBS) --json $(OUT)/soak-controller-failover.json
	$(RELEASE)/cli/keel sim sweep active-controller-failover --seeds 1-$(SEEDS) --jobs $(JOBS) --json $(OUT)/soak-active-controller-failover.json
	$(RELEASE)/cli/keel sim sweep quorum-disk-loss --seeds 1-$(SEEDS) --jobs $(JOBS) --json $(OUT)/soak-quorum-disk-loss.json
	$(RELEASE)/cli/keel sim sweep unclean-election --seeds 1-1000 --jobs $(JOBS) --json $(OUT)/soak-unclean-election.json
	$(RELEASE)/cli/keel sim sweep data-chaos --seeds 1-$(SEEDS) --jobs $(JOBS) --json $(OUT)/soak-data-chaos.json
	$(RELEASE)/cli/keel sim sweep group-chaos --seeds 1-1000 --jobs $(JOBS) --json $(OUT)/soak-group-chaos.json
	$(RELEASE)/cli/keel sim sweep counter-chaos --seeds 1-$(SEEDS) --jobs $(JOBS) --json $(OUT)/soak-counter-chaos.json

format:
	clang-format -i $$(git ls-files '*.h' '*.cc')

clean:
	rm -rf build $(OUT)

# The embedded pub-sub library's tests (unit, multi-threaded stress, model) under
# ThreadSanitizer, in a build of their own (only those targets); `make test` ends with it.
TSAN_EMBEDDED := build/tsan-embedded
tsan-embedded: deps
	cmake -S . -B $(TSAN_EMBEDDED) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DKEEL_TSAN=ON -DKEEL_WERROR=$(WERROR)
	cmake --build $(TSAN_EMBEDDED) -j $(JOBS) --target keel_embedded_tests
	TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" $(TSAN_EMBEDDED)/tests/embedded/keel_embedded_tests

# Coverage-guided fuzzing (docs/fuzzing.md): libFuzzer targets in a separate clang build
# (build/fuzz, configured from fuzz/), so the GCC builds are unaffected. `make fuzz` runs
# each target for FUZZ_SECONDS and prints execs/s and totals; `make fuzz-smoke` (the end
# of `make test`) runs each for FUZZ_SMOKE_SECONDS and replays the committed regressions.
.PHONY: fuzz fuzz-smoke fuzz-build
FUZZDIR            := build/fuzz
FUZZ_SECONDS       ?= 60
FUZZ_SMOKE_SECONDS ?= 3

fuzz-build: deps
	CXX=clang++ cmake -S fuzz -B $(FUZZDIR) -G Ninja
	cmake --build $(FUZZDIR) -j $(JOBS) --target fuzz_all

fuzz: fuzz-build
	bash fuzz/run.sh $(FUZZDIR) $(FUZZ_SECONDS)

fuzz-smoke: fuzz-build
	bash fuzz/run.sh $(FUZZDIR) $(FUZZ_SMOKE_SECONDS)

# Regenerates the protocol codecs from core/protocol/schemas/*.json (docs/protocol.md).
.PHONY: protocol-gen
protocol-gen:
	python3 core/protocol/codegen/kafka_codegen.py core/protocol/schemas core/protocol/generated \
	        --tests-out tests/protocol/generated

# Determinism across builds: the same scenario seeds run by a debug (-O0) and a release
# keel must give the same trace hashes (tests/determinism/cross_build.sh; the ctest
# cross_build_determinism does the same when given KEEL_OTHER_KEEL).
DETDEBUG := build/det-debug
.PHONY: determinism-builds
determinism-builds: deps $(RELEASE)/build.ninja
	cmake --build $(RELEASE) -j $(JOBS) --target keel
	cmake -S . -B $(DETDEBUG) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DKEEL_WERROR=$(WERROR)
	cmake --build $(DETDEBUG) -j $(JOBS) --target keel
	tests/determinism/cross_build.sh $(DETDEBUG)/cli/keel $(RELEASE)/cli/keel
