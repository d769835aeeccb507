#!/usr/bin/env bash
# Builds the Debian package of ailee-node and ailee-cli in one command and
# prints the .deb's path (the last line of stdout; progress goes to stderr).
#
#   bash scripts/package.sh [--build-dir DIR] [--out DIR]
#
# --build-dir: the CMake build tree to package (default build-release/,
#   configured Release on first use). An existing tree is used as it is
#   configured: the package test passes the test build's own tree.
# --out: where the .deb goes (default dist/).
# Idempotent: a second run rebuilds only what changed and replaces the .deb.
# Needs the build dependencies (scripts/install-deps.sh) and dpkg-dev
# (dpkg-shlibdeps computes the library dependencies).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build="$root/build-release"
out="$root/dist"
while (($#)); do
  case "$1" in
    --build-dir) build=$(realpath -m "$2"); shift 2 ;;
    --out) out=$(realpath -m "$2"); shift 2 ;;
    -h|--help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "package.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done

if [ ! -f "$build/CMakeCache.txt" ]; then
  launcher=()
  if command -v ccache >/dev/null; then
    launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
  fi
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DAILEE_BUILD_BENCH=OFF "${launcher[@]}" >&2
fi
cmake --build "$build" --target ailee-node ailee-cli -j "${AILEE_PACKAGE_JOBS:-2}" >&2

# CPack stages below its package directory: a private one per run, so two
# runs (or a run and the package test) never share a staging tree.
mkdir -p "$out"
stage=$(mktemp -d "$out/.cpack.XXXXXX")
trap 'rm -rf "$stage"' EXIT
cpack -G DEB --config "$build/CPackConfig.cmake" -B "$stage" >&2
debs=("$stage"/*.deb)
if [ ${#debs[@]} -ne 1 ] || [ ! -f "${debs[0]}" ]; then
  echo "package.sh: expected one .deb in $stage, found: ${debs[*]}" >&2
  exit 1
fi
mv -f "${debs[0]}" "$out/"
echo "$out/$(basename "${debs[0]}")"
