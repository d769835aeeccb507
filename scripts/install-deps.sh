#!/usr/bin/env bash
# Installs every Debian package the build, the tests, the demo and the
# benchmarks need. Idempotent: packages already present are skipped, and apt
# is only consulted when something is missing. Needs root or sudo.
set -euo pipefail

PACKAGES=(
  # toolchain
  build-essential cmake ninja-build pkg-config git
  # libraries
  librocksdb-dev libssl-dev libsodium-dev libzstd-dev libcurl4-openssl-dev
  libyaml-cpp-dev nlohmann-json3-dev libcli11-dev libspdlog-dev libfmt-dev
  libcpp-httplib-dev libarchive-dev libgpgme-dev libgfshare-dev libp11-kit-dev
  libtinyxml2-dev
  # tests
  libgtest-dev libgmock-dev libbenchmark-dev gnupg libgfshare-bin softhsm2
  opensc curl python3
  # tests: promtool (alert rules, metrics files); the package's own server is not used
  prometheus
  # tests: the drill's HTML report rendered headless (tests/integration/drill_test.cc)
  chromium
  # tests: S3-compatible servers (tests/s3/s3-server.sh runs them on loopback).
  # Swift's servers need python3-swift alone: the swift-proxy/-object/
  # -container/-account packages add only init scripts and /etc configs, and
  # would enable some fifteen system services on a systemd host.
  python3-swift memcached radosgw ceph-mon ceph-osd awscli
  # benchmarks: the tools an operator would otherwise pick
  restic borgbackup zstd tar
  # packaging: the .deb (dpkg-shlibdeps), its tests (logrotate,
  # systemd-analyze, shellcheck for the maintainer scripts)
  dpkg-dev logrotate systemd shellcheck
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]} == 0)); then
  echo "install-deps: all ${#PACKAGES[@]} packages present"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "install-deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  SUDO="sudo"
fi
echo "install-deps: installing ${missing[*]}"
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
