#!/usr/bin/env bash
# Builds everything and runs every test: the integration, packaging and
# surface tests in an optimised (Release) build, then the unit tests under
# AddressSanitizer and UndefinedBehaviorSanitizer. The unit tests are built
# and run once, in the sanitizer build, where the sanitizers check them;
# compiling them twice cost CI minutes. Installs its own dependencies
# (idempotent).
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
ctest --test-dir build --output-on-failure -j"$JOBS" --timeout 600

if [ "${SKIP_SANITIZERS:-0}" != "1" ]; then
  # -g1: line tables for the sanitizers' stack traces without full debug
  # information, which cost an eighth of this build's compile time.
  cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG=-g1 \
    -DAILEE_SANITIZE=ON -DAILEE_BUILD_BENCH=OFF -DAILEE_WERROR=ON -DAILEE_UNIT_TESTS=ON >/dev/null
  # Only the unit-test binaries: the integration tests run real processes and
  # are covered by the normal build above. The key unit tests that drive
  # ailee-cli run the Release build's (AILEE_TEST_CLI): an ASan-built CLI
  # generating keys on SoftHSM reports the module's own leaks, and building
  # one would cost CI minutes; the tests' side still runs under the sanitizers.
  targets=$(ninja -C build-asan -t targets all | sed -n 's/^\(tests\/unit_[a-z0-9_]*\): .*/\1/p' | sort -u)
  # shellcheck disable=SC2086
  ninja -C build-asan -j"$JOBS" $targets
  AILEE_TEST_CLI=$PWD/build/src/cli/ailee-cli \
  ASAN_OPTIONS=detect_leaks=1 LSAN_OPTIONS=suppressions=$PWD/tests/lsan.supp \
  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --test-dir build-asan -L unit --output-on-failure -j"$JOBS" --timeout 600
fi
