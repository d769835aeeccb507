#!/usr/bin/env bash
# `cmake --install` lays out the package's files, and `systemd-analyze
# verify` accepts every unit and timer as installed (with the shared
# hardening drop-in, the binaries they name present, no warning at all).
#
#   units_test.sh BUILD_DIR
#
# The units are verified in a throwaway root (--root): the installed tree,
# plus the host's targets and slices the units refer to and the programs
# they run besides ours (flock, kill). A planted mistake must fail the same
# check, so a verify that silently checks nothing cannot pass.
set -euo pipefail
build=$1
tmp=$(mktemp -d "${TMPDIR:-/tmp}/ailee-units-test.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
R="$tmp/root"

echo "--- cmake --install"
DESTDIR="$R" cmake --install "$build" --prefix /usr > "$tmp/install.log" || { cat "$tmp/install.log"; fail "cmake --install"; }
for f in usr/bin/ailee-node usr/bin/ailee-cli usr/lib/systemd/system/ailee-node.service \
         usr/lib/systemd/system/ailee-archive.service \
         usr/lib/systemd/system/ailee-job-.service.d/10-hardening.conf etc/cron.d/ailee etc/logrotate.d/ailee \
         etc/ailee/jobs.env usr/share/doc/ailee-core/config.example.yaml; do
  [ -e "$R/$f" ] || fail "cmake --install did not install /$f"
done
[ "$(stat -c %a "$R/etc/ailee/jobs.env")" = 640 ] || fail "jobs.env is not 0640"

units=("$R"/usr/lib/systemd/system/ailee-*.service "$R"/usr/lib/systemd/system/ailee-*.timer)
[ ${#units[@]} -ge 16 ] || fail "only ${#units[@]} units installed"
mkdir -p "$R/bin" "$R/usr/bin" "$R/lib/systemd/system"
cp /usr/bin/flock "$R/usr/bin/"
cp /bin/kill "$R/bin/"
for u in /lib/systemd/system/*.target /lib/systemd/system/*.slice; do
  [ -e "$R/usr/lib/systemd/system/$(basename "$u")" ] || cp "$u" "$R/usr/lib/systemd/system/"
done

verify() { # verify UNIT...: quiet and exit 0, or the output
  local out
  out=$(cd "$R" && SYSTEMD_LOG_COLOR=0 timeout 120 systemd-analyze verify --root="$R" "$@" 2>&1) || { echo "$out"; return 1; }
  [ -z "$out" ] || { echo "$out"; return 1; }
}
echo "--- systemd-analyze verify"
for u in "${units[@]}"; do
  out=$(verify "${u#"$R"/}") || fail "systemd-analyze verify $(basename "$u"):"$'\n'"$out"
  echo "ok $(basename "$u")"
done

echo "--- a planted mistake is caught"
job="$R/usr/lib/systemd/system/ailee-job-verify.service"
cp "$job" "$tmp/saved"
sed -i 's|^ExecStart=/usr/bin/flock |ExecStart=/usr/bin/flock-missing |' "$job"
if verify "${job#"$R"/}" > /dev/null; then fail "verify accepted an ExecStart naming a missing binary"; fi
cp "$tmp/saved" "$job"
echo "NoSuchSetting=1" >> "$R/usr/lib/systemd/system/ailee-job-.service.d/10-hardening.conf"
if verify "${job#"$R"/}" > /dev/null; then fail "verify did not read the shared drop-in (an unknown key passed)"; fi
echo "units test passed"
