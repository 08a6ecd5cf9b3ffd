# The two commands of the README: `make run` and `make test`. Both install what is missing.
JOBS ?= 2
LISTEN ?= 127.0.0.1:8080
DB ?= fidelis.db

.PHONY: run test bench build deps deps-run clean format

# What building and serving need (libraries, the web pages' packages)...
deps-run:
	@./scripts/deps.sh run
	@./scripts/web.sh

# ...and what the tests add (PostgreSQL, Chromium, Python).
deps:
	@./scripts/deps.sh test
	@./scripts/web.sh

build: deps-run
	@cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build build -j $(JOBS)

run: build
	./build/fidelis serve --db $(DB) --listen $(LISTEN) --demo

# Every test twice: a plain debug build, then under AddressSanitizer + UBSan.
test: deps
	@cmake -S . -B build-test -DCMAKE_BUILD_TYPE=Debug -DFIDELIS_TESTING=ON >/dev/null
	@cmake --build build-test -j $(JOBS)
	cd build-test && ctest --output-on-failure -j $(JOBS)
	@cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DFIDELIS_TESTING=ON -DFIDELIS_SANITIZE=ON >/dev/null
	@cmake --build build-asan -j $(JOBS)
	cd build-asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 ctest --output-on-failure -j $(JOBS)

# Benchmarks (not part of the tests): optimised build, real processes on loopback.
bench: deps build
	./bench/run.sh

format:
	clang-format -i src/*/*.c src/*/*.h tests/unit/*.c

clean:
	rm -rf build build-test build-asan
