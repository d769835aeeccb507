#!/usr/bin/env bash
# Builds everything and runs every test: the integration, packaging and
# surface tests in an optimised (Release) build, then the unit tests under
# AddressSanitizer and UndefinedBehaviorSanitizer. The unit tests are built
# and run once, in the sanitizer build, where the sanitizers check them;
# compiling them twice cost CI minutes. Installs its own dependencies
# (idempotent).
#
# Both builds are unity builds (CMAKE_UNITY_BUILD: CMake compiles each
# target's sources in batches of 8 as one translation unit). Most of a file's
# compile time is the headers it shares with its neighbours (RocksDB, JSON,
# gtest, httplib) and the templates they instantiate; a batch pays for them
# once. Measured on the sanitizer build of src/state and src/repo: 77 CPU
# seconds instead of 234. A developer's build (no CMAKE_UNITY_BUILD) still
# compiles every file on its own, which catches a missing #include a batch
# would hide; names in anonymous namespaces must stay unique within a target.
#
#   bash scripts/test.sh            # everything (what CI runs)
#   SKIP_SANITIZERS=1 bash scripts/test.sh
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh

JOBS=${JOBS:-$(nproc)}
# Release: what a user or a packager builds (-O3 finds warnings -O2 does not);
# warnings are errors in the project's own builds only (AILEE_WERROR).
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_UNITY_BUILD=ON -DAILEE_SANITIZE=OFF -DAILEE_WERROR=ON \
  -DAILEE_UNIT_TESTS="$([ "${SKIP_SANITIZERS:-0}" = 1 ] && echo ON || echo OFF)" >/dev/null
ninja -C build -j"$JOBS"

if [ "${SKIP_SANITIZERS:-0}" = "1" ]; then
  ctest --test-dir build --output-on-failure -j"$JOBS" --timeout 600
  exit 0
fi

# The sanitizer build: the unit tests under AddressSanitizer and
# UndefinedBehaviorSanitizer. No debug information by default (-g0): the
# sanitizers' stack traces still name every function (frame pointers and
# symbols), and line tables cost a further 7% of this build's compile time;
# ASAN_DEBUG_FLAGS=-g1 brings file:line back when a report needs it.
cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG="${ASAN_DEBUG_FLAGS:--g0}" \
  -DCMAKE_UNITY_BUILD=ON -DAILEE_SANITIZE=ON -DAILEE_BUILD_BENCH=OFF -DAILEE_WERROR=ON -DAILEE_UNIT_TESTS=ON >/dev/null
# Only the unit-test binaries: the integration tests run real processes and
# are covered by the Release build. The key unit tests that drive ailee-cli
# run the Release build's (AILEE_TEST_CLI): an ASan-built CLI generating keys
# on SoftHSM reports the module's own leaks, and building one would cost CI
# minutes; the tests' side still runs under the sanitizers.
targets=$(ninja -C build-asan -t targets all | sed -n 's/^\(tests\/unit_[a-z0-9_]*\): .*/\1/p' | sort -u)

# After the Release tests, not beside them: CI at stop 22 overlapped the two
# (this build at nice 19 while the tests ran) and took 2565 s, against stop
# 21's 2287 s one after the other with a few minutes' fewer tests: no gain
# showed. The tests wait on nodes, sockets and fsync, compilers beside them
# stretch those waits, and one phase after the other is easier to read.
ctest --test-dir build --output-on-failure -j"$JOBS" --timeout 600
# shellcheck disable=SC2086
ninja -C build-asan -j"$JOBS" $targets

AILEE_TEST_CLI=$PWD/build/src/cli/ailee-cli \
ASAN_OPTIONS=detect_leaks=1 LSAN_OPTIONS=suppressions=$PWD/tests/lsan.supp \
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-asan -L unit --output-on-failure -j"$JOBS" --timeout 600
