#!/usr/bin/env bash
# Builds everything and runs every test: the integration, packaging and
# surface tests in an optimised (Release) build, then the unit tests under
# AddressSanitizer and UndefinedBehaviorSanitizer. The unit tests are built
# and run once, in the sanitizer build, where the sanitizers check them;
# compiling them twice cost CI minutes. That build compiles while the Release
# tests run. Installs its own dependencies (idempotent).
#
#   bash scripts/test.sh            # everything (what CI runs)
#   SKIP_SANITIZERS=1 bash scripts/test.sh
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh

JOBS=${JOBS:-$(nproc)}
# Release: what a user or a packager builds (-O3 finds warnings -O2 does not);
# warnings are errors in the project's own builds only (AILEE_WERROR).
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DAILEE_SANITIZE=OFF -DAILEE_WERROR=ON \
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
  -DAILEE_SANITIZE=ON -DAILEE_BUILD_BENCH=OFF -DAILEE_WERROR=ON -DAILEE_UNIT_TESTS=ON >/dev/null
# Only the unit-test binaries: the integration tests run real processes and
# are covered by the Release build. The key unit tests that drive ailee-cli
# run the Release build's (AILEE_TEST_CLI): an ASan-built CLI generating keys
# on SoftHSM reports the module's own leaks, and building one would cost CI
# minutes; the tests' side still runs under the sanitizers.
targets=$(ninja -C build-asan -t targets all | sed -n 's/^\(tests\/unit_[a-z0-9_]*\): .*/\1/p' | sort -u)

# It compiles while the Release tests run, at the lowest priority (nice 19:
# the tests keep some 98% of any CPU they ask for): those tests mostly wait
# on nodes, sockets and fsync (about half of two cores), and one after the
# other the two phases kept a core idle for some six minutes.
# Its own process group (setsid), so a failed run stops the compilers too.
asan_log=build-asan/test-sh-build.log
# shellcheck disable=SC2086
setsid nice -n 19 ninja -C build-asan -j"$JOBS" $targets >"$asan_log" 2>&1 &
asan_build=$!
stop_asan_build() { kill -- -"$asan_build" 2>/dev/null || true; wait "$asan_build" 2>/dev/null || true; }
trap stop_asan_build EXIT

release_rc=0
ctest --test-dir build --output-on-failure -j"$JOBS" --timeout 600 || release_rc=$?
if [ "$release_rc" != 0 ]; then
  echo "test.sh: Release tests failed (ctest exit $release_rc)" >&2
  exit "$release_rc"
fi
if ! wait "$asan_build"; then
  tail -n 200 "$asan_log" >&2
  echo "test.sh: the sanitizer build failed (whole log: $asan_log)" >&2
  exit 1
fi
trap - EXIT
tail -n 3 "$asan_log"

AILEE_TEST_CLI=$PWD/build/src/cli/ailee-cli \
ASAN_OPTIONS=detect_leaks=1 LSAN_OPTIONS=suppressions=$PWD/tests/lsan.supp \
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-asan -L unit --output-on-failure -j"$JOBS" --timeout 600
