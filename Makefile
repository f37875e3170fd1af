# DurableStash — the front door.
#
#   make run     build and start durable-stashd on 127.0.0.1:7379 (embedded default store)
#   make test    install what is missing, build, run every test suite (what CI runs)
#
# Other targets: build, unit, elixir, asan, fuzz-smoke, fuzz, lint, format, bench, clean.
# `make run` keeps sessions under ./data (ignored by git); STORE=memory: keeps them in memory.

JOBS        ?= $(shell nproc)
BUILD_TYPE  ?= RelWithDebInfo
BUILD       := build
ASAN_BUILD  := build-asan
FUZZ_BUILD  := build-fuzz
FUZZ_SECONDS ?= 20
PORT        ?= 7379
STORE       ?= file:data
CMAKE_FLAGS := -G Ninja

.PHONY: all deps build run test unit elixir asan fuzz-smoke fuzz lint format format-check bench clean

all: build

deps:
	@./scripts/bootstrap.sh

$(BUILD)/build.ninja: CMakeLists.txt | deps
	cmake -S . -B $(BUILD) $(CMAKE_FLAGS) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE)

build: deps $(BUILD)/build.ninja
	cmake --build $(BUILD) -j $(JOBS)

run: build
	./$(BUILD)/durable-stashd --bind 127.0.0.1 --port $(PORT) --store $(STORE)

# Every suite, the way CI runs it: unit and end-to-end tests on the optimized build (the S3
# tests start a local Ceph radosgw), the Elixir adapter's tests against the daemon, the C++
# tests again under AddressSanitizer + UndefinedBehaviorSanitizer, then each fuzz target for a
# bounded time.
test: format-check unit elixir asan fuzz-smoke
	@echo "make test: all suites passed"

unit: build
	ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS)

elixir: build
	./scripts/test-elixir.sh $(BUILD)/durable-stashd

asan: deps
	cmake -S . -B $(ASAN_BUILD) $(CMAKE_FLAGS) -DCMAKE_BUILD_TYPE=Debug -DDS_SANITIZE=ON
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
	  ctest --test-dir $(ASAN_BUILD) --output-on-failure -j $(JOBS)

$(FUZZ_BUILD)/build.ninja: | deps
	cmake -S . -B $(FUZZ_BUILD) $(CMAKE_FLAGS) -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DCMAKE_CXX_COMPILER=clang++ -DDS_FUZZ=ON -DDS_BUILD_TESTS=OFF

fuzz-smoke: $(FUZZ_BUILD)/build.ninja
	cmake --build $(FUZZ_BUILD) -j $(JOBS) --target resp_fuzzer json_fuzzer etf_fuzzer
	./scripts/fuzz.sh $(FUZZ_BUILD) $(FUZZ_SECONDS)

fuzz: FUZZ_SECONDS = 600
fuzz: fuzz-smoke

lint: build
	./scripts/lint.sh $(BUILD)

format:
	clang-format -i $$(git ls-files '*.cc' '*.h')

format-check: deps
	clang-format --dry-run --Werror $$(git ls-files '*.cc' '*.h')

# The figures of BENCHMARKS.md: the daemon vs a Redis server it starts, same client (~5 min).
bench: build
	./scripts/bench.sh $(BUILD)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)
