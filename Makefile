# profond — short commands over the CMake build.
#   make          build (Release) into build/
#   make deps     install missing Debian packages (apt-get)
#   make test     deps + build + every test (ctest)
#   make demo     deps + build + the main job
#   make lecture  deps + build + every experiment of the lecture into lecture-out/
#   make asan     the tests again under AddressSanitizer + UBSan (build-asan/)
#   make fuzz     each libFuzzer target for FUZZ_SECONDS (default 60; needs clang)
#   make golden   rewrite the PyTorch golden files (Debian's python3-torch)
#   make bench    profond against PyTorch on this machine (bench/run.py; appends
#                 to bench/RESULTS.md). BENCH=train,infer a subset, QUICK=1 a
#                 short trial, TORCH_PYTHON=python a second torch. Not in make test.
#   make install  install library, header and pkg-config file (PREFIX=/usr/local)
#   make clean

BUILD ?= build
PREFIX ?= /usr/local
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_FLAGS ?=
FUZZ_SECONDS ?= 60

.PHONY: all build deps test demo lecture asan fuzz golden bench install clean

all: build

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX=$(PREFIX) $(CMAKE_FLAGS)

build: $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

deps:
	@scripts/deps.sh

test: deps
	$(MAKE) build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

demo: deps
	$(MAKE) build
	@scripts/demo.sh $(BUILD)

# Builds only the command line (not the tests), then scripts/lecture.sh.
lecture: deps $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS) --target profond
	@scripts/lecture.sh $(BUILD) lecture-out

asan: deps
	cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DPF_SANITIZE=ON
	cmake --build build-asan -j $(JOBS)
	cd build-asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 ctest --output-on-failure -j $(JOBS)

fuzz: deps
	CC=clang cmake -S . -B build-fuzz -DPF_FUZZ=ON -DPF_BUILD_TESTS=OFF -DCMAKE_BUILD_TYPE=Debug
	cmake --build build-fuzz -j $(JOBS)
	@scripts/fuzz.sh build-fuzz $(FUZZ_SECONDS)

golden:
	/usr/bin/python3 tests/golden/generate.py

# MNIST as make demo finds it: $PROFOND_DATA, ./data, then ../shared/data.
bench: deps
	$(MAKE) build
	@data=$${PROFOND_DATA:-data}; \
	for d in "$${PROFOND_DATA:-}" data ../shared/data; do \
	    if [ -n "$$d" ] && [ -d "$$d/mnist" ]; then data=$$d; break; fi; \
	done; \
	PROFOND_DATA=$$data BUILD=$(BUILD) BENCH=$(BENCH) BENCH_QUICK=$(QUICK) /usr/bin/python3 bench/run.py

install: build
	cmake --install $(BUILD) --prefix $(PREFIX)

clean:
	rm -rf $(BUILD) build-asan build-fuzz build-clang
