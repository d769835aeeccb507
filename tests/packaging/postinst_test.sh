#!/usr/bin/env bash
# The maintainer script postinst on its own, against a throwaway root
# (DPKG_ROOT, as dpkg --root --force-script-chrootless runs it; no .deb to
# build, so it takes a second): what an operator may have done between two
# versions must not fail the upgrade.
# - /etc/ailee/jobs.env deleted (a host that verifies no key backups): dpkg
#   does not bring back a conffile the admin removed, and postinst's chown of
#   it failed under `set -e`, so every later upgrade stopped half-configured.
#
#   postinst_test.sh SOURCE_DIR
set -euo pipefail
# shellcheck source=throwaway_root.sh
. "$(dirname "$0")/throwaway_root.sh"
src=$1
if [ "$(id -u)" -ne 0 ]; then
  echo "SKIP: needs root (chown to the package's ailee uid)"
  exit 77
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/ailee-postinst-test.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
root=$tmp/root
make_root "$root"
postinst() { DPKG_ROOT=$root sh "$src/packaging/debian/postinst" "$@"; }

# A first install: dpkg has unpacked the conffile before configure.
mkdir -p "$root/etc/ailee"
cp "$src/packaging/jobs.env" "$root/etc/ailee/jobs.env"
postinst configure "" > "$tmp/first.log" 2>&1 || { cat "$tmp/first.log" >&2; fail "first configure"; }

# The operator removes jobs.env; the upgrade's configure must still succeed.
rm "$root/etc/ailee/jobs.env"
postinst configure 0.1.0 > "$tmp/upgrade.log" 2>&1 || { cat "$tmp/upgrade.log" >&2; fail "upgrade after jobs.env was deleted"; }
[ ! -e "$root/etc/ailee/jobs.env" ] || fail "postinst re-created jobs.env, which the operator deleted"
gid=$(id_in "$root" group ailee)
[ "$(stat -c '%a %u:%g' "$root/etc/ailee")" = "750 0:$gid" ] || fail "/etc/ailee: $(stat -c '%a %u:%g' "$root/etc/ailee")"

# Present again with a mode the operator loosened: the package owns it and sets it back.
cp "$src/packaging/jobs.env" "$root/etc/ailee/jobs.env"
chmod 0644 "$root/etc/ailee/jobs.env"
postinst configure 0.1.0 > "$tmp/again.log" 2>&1 || { cat "$tmp/again.log" >&2; fail "upgrade with jobs.env back"; }
[ "$(stat -c '%a %u:%g' "$root/etc/ailee/jobs.env")" = "640 0:$gid" ] || fail "jobs.env: $(stat -c '%a %u:%g' "$root/etc/ailee/jobs.env")"
echo "PASS"
