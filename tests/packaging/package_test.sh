#!/usr/bin/env bash
# The Debian package, end to end in a throwaway root: scripts/package.sh
# builds it; `dpkg --root` installs, removes and purges it; the maintainer
# scripts create (and purge removes) the ailee user and group and the
# directories with the owners and modes the units and validate-config
# expect; data is kept unless the operator asked.
#
#   package_test.sh SOURCE_DIR BUILD_DIR
#
# The root and why it is not a chroot: throwaway_root.sh.
set -euo pipefail
# shellcheck source=throwaway_root.sh
. "$(dirname "$0")/throwaway_root.sh"
src=$1 build=$2
if [ "$(id -u)" -ne 0 ]; then
  echo "SKIP: needs root (files owned by the package's ailee uid, dpkg --root)"
  exit 77
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/ailee-package-test.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
step() { echo "--- $*"; }

step "build the package"
deb=$(bash "$src/scripts/package.sh" --build-dir "$build" --out "$tmp/dist" 2>"$tmp/package.log" | tail -n 1) \
  || { cat "$tmp/package.log" >&2; fail "scripts/package.sh failed"; }
[ -f "$deb" ] || fail "package.sh printed '$deb', not a file"
case "$deb" in */ailee-core_*_*.deb) ;; *) fail "unexpected package name $deb" ;; esac
# Idempotent: a second run replaces the same file and leaves no staging behind.
again=$(bash "$src/scripts/package.sh" --build-dir "$build" --out "$tmp/dist" 2>>"$tmp/package.log" | tail -n 1) \
  || { cat "$tmp/package.log" >&2; fail "scripts/package.sh failed the second time"; }
[ "$again" = "$deb" ] || fail "second run printed $again, first $deb"
[ "$(ls -A "$tmp/dist")" = "$(basename "$deb")" ] || fail "dist holds more than the .deb: $(ls -A "$tmp/dist")"

step "control: dependencies from dpkg-shlibdeps, conffiles, scripts"
dpkg-deb --field "$deb" Depends > "$tmp/depends"
for lib in libc6 librocksdb libsodium libgpgme libssl; do
  grep -q "$lib" "$tmp/depends" || fail "Depends lacks $lib (shlibdeps?): $(cat "$tmp/depends")"
done
grep -q "gpg" "$tmp/depends" || fail "Depends lacks gpg"
mkdir "$tmp/control"
dpkg-deb --control "$deb" "$tmp/control"
for s in postinst prerm postrm; do
  [ -x "$tmp/control/$s" ] || fail "$s missing or not executable"
  sh -n "$tmp/control/$s" || fail "$s is not valid sh"
  if command -v shellcheck >/dev/null; then shellcheck -s sh "$tmp/control/$s" || fail "shellcheck $s"; fi
done
sort "$tmp/control/conffiles" > "$tmp/conffiles"
printf '%s\n' /etc/ailee/jobs.env /etc/cron.d/ailee /etc/logrotate.d/ailee > "$tmp/want-conffiles"
diff -u "$tmp/want-conffiles" "$tmp/conffiles" || fail "conffiles"

step "contents"
dpkg-deb --contents "$deb" > "$tmp/contents"
for f in ./usr/bin/ailee-node ./usr/bin/ailee-cli ./usr/lib/systemd/system/ailee-node.service \
         ./usr/lib/systemd/system/ailee-job-backup-state.timer ./usr/lib/systemd/system/ailee-job-.service.d/10-hardening.conf \
         ./etc/cron.d/ailee ./etc/logrotate.d/ailee ./etc/ailee/jobs.env \
         ./usr/share/doc/ailee-core/config.example.yaml ./usr/share/doc/ailee-core/operations.md \
         ./usr/share/doc/ailee-core/prometheus/ailee-rules.yml; do
  grep -q " $f\$" "$tmp/contents" || fail "$f not in the package"
done
# /usr/lib holds only the units and the tmpfiles.d entry, no library.
if grep -E ' \./(usr/)?(include|lib/.)' "$tmp/contents" | grep -vE ' \./usr/lib/(systemd|tmpfiles\.d)/'; then
  fail "headers or libraries in the package"
fi

step "a throwaway root"
R="$tmp/root"
make_root "$R"
dpkg_root() { dpkg_in "$R" "$@"; }

step "install"
dpkg_root -i "$deb" > "$tmp/install.log" 2>&1 || { cat "$tmp/install.log" >&2; fail "dpkg -i"; }
grep -q '^ailee:' "$R/etc/passwd" || fail "no ailee user"
grep -q '^ailee:' "$R/etc/group" || fail "no ailee group"
uid=$(id_in "$R" passwd ailee)
gid=$(id_in "$R" group ailee)
((uid > 0 && uid < 1000)) || fail "ailee is not a system user (uid $uid)"
awk -F: '$1=="ailee"{exit !($7=="/usr/sbin/nologin")}' "$R/etc/passwd" || fail "ailee has a login shell"
expect() { # expect PATH MODE UID GID
  local got
  got=$(stat -c '%a %u %g' "$R$1") || fail "$1 missing"
  [ "$got" = "$2 $3 $4" ] || fail "$1: want mode/uid/gid $2 $3 $4, found $got"
}
expect /etc/ailee 750 0 "$gid"
expect /etc/ailee/jobs.env 640 0 "$gid"
expect /var/lib/ailee 750 "$uid" "$gid"
expect /var/lib/ailee/keys 700 "$uid" "$gid"
expect /var/log/ailee 750 "$uid" "$gid"
expect /var/backups/ailee 750 "$uid" "$gid"
expect /run/ailee 750 "$uid" "$gid"
expect /usr/lib/tmpfiles.d/ailee.conf 644 0 0
grep -q '^d /run/ailee 0750 ailee ailee' "$R/usr/lib/tmpfiles.d/ailee.conf" || fail "tmpfiles.d does not make /run/ailee"
expect /etc/cron.d/ailee 644 0 0
expect /etc/logrotate.d/ailee 644 0 0
expect /usr/bin/ailee-cli 755 0 0
"$R/usr/bin/ailee-cli" --help > /dev/null || fail "the installed ailee-cli does not run"

step "validate-config accepts a config laid out as the permission model says"
# config.yaml and public keys root:ailee 0640 in /etc/ailee; the signer key
# ailee 0600 in /var/lib/ailee/keys (its fence is written beside it).
K="$R/var/lib/ailee/keys"
openssl genpkey -algorithm ed25519 -out "$K/signer-01.key" 2>/dev/null
openssl pkey -in "$K/signer-01.key" -pubout -out "$R/etc/ailee/signer-01.pub"
chown "$uid:$gid" "$K/signer-01.key"
chmod 0600 "$K/signer-01.key"
cat > "$R/etc/ailee/config.yaml" <<YAML
node:
  id: node-1
  data_dir: $R/var/lib/ailee/node-1
  listen: 127.0.0.1:8545
federation:
  threshold: 1
  signers:
    - id: signer-01
      public_key_file: signer-01.pub
signer:
  id: signer-01
  key_file: $K/signer-01.key
logging:
  log_file: $R/var/log/ailee/node.log
  audit_log: $R/var/log/ailee/audit.log
YAML
chown "0:$gid" "$R"/etc/ailee/config.yaml "$R"/etc/ailee/signer-01.pub
chmod 0640 "$R"/etc/ailee/config.yaml "$R"/etc/ailee/signer-01.pub
"$R/usr/bin/ailee-cli" --config "$R/etc/ailee/config.yaml" validate-config > "$tmp/validate.log" 2>&1 \
  || { cat "$tmp/validate.log" >&2; fail "validate-config rejects the packaged layout"; }

step "reinstall (upgrade path) keeps an operator's mode"
chmod 0700 "$R/var/lib/ailee"
dpkg_root -i "$deb" > "$tmp/reinstall.log" 2>&1 || { cat "$tmp/reinstall.log" >&2; fail "second dpkg -i"; }
expect /var/lib/ailee 700 "$uid" "$gid"
chmod 0750 "$R/var/lib/ailee"

step "remove keeps data, config and the user"
mkdir -p "$R/var/lib/ailee/node-1" && echo state > "$R/var/lib/ailee/node-1/CURRENT"
echo '{"seq":1}' > "$R/var/log/ailee/audit.log"
dpkg_root --remove ailee-core > "$tmp/remove.log" 2>&1 || { cat "$tmp/remove.log" >&2; fail "dpkg --remove"; }
[ ! -e "$R/usr/bin/ailee-cli" ] || fail "remove left the binary"
[ -f "$R/etc/ailee/jobs.env" ] || fail "remove deleted a conffile"
[ -f "$R/var/lib/ailee/node-1/CURRENT" ] || fail "remove deleted node state"
grep -q '^ailee:' "$R/etc/passwd" || fail "remove deleted the user"

step "purge without purge-data keeps state, logs, the operator's config and the user"
dpkg_root --purge ailee-core > "$tmp/purge.log" 2>&1 || { cat "$tmp/purge.log" >&2; fail "dpkg --purge"; }
[ ! -e "$R/etc/ailee/jobs.env" ] || fail "purge left jobs.env"
[ ! -e "$R/etc/cron.d/ailee" ] || fail "purge left the cron file"
[ -f "$R/var/lib/ailee/node-1/CURRENT" ] || fail "purge deleted node state nobody asked to delete"
[ -f "$R/var/log/ailee/audit.log" ] || fail "purge deleted the audit log"
[ -f "$R/etc/ailee/config.yaml" ] || fail "purge deleted the operator's config"
[ ! -e "$R/var/backups/ailee" ] || fail "purge left the empty repository dir"
grep -q '^ailee:' "$R/etc/passwd" || fail "purge deleted the user while files it owns remain"

step "purge with /etc/ailee/purge-data removes everything it created"
dpkg_root -i "$deb" > "$tmp/install2.log" 2>&1 || { cat "$tmp/install2.log" >&2; fail "dpkg -i again"; }
[ "$(id_in "$R" passwd ailee)" = "$uid" ] || fail "reinstall changed the ailee uid"
rm -f "$R"/etc/ailee/config.yaml "$R"/etc/ailee/signer-01.pub "$R/var/log/ailee/audit.log"
touch "$R/etc/ailee/purge-data"
dpkg_root --purge ailee-core > "$tmp/purge2.log" 2>&1 || { cat "$tmp/purge2.log" >&2; fail "second purge"; }
for d in /etc/ailee /var/lib/ailee /var/log/ailee /var/backups/ailee /run/ailee; do
  [ ! -e "$R$d" ] || fail "purge-data left $d: $(ls -la "$R$d")"
done
! grep -q '^ailee:' "$R/etc/passwd" || fail "purge left the user"
! grep -q '^ailee:' "$R/etc/group" || fail "purge left the group"
[ "$(ls -A "$R/usr/bin" 2>/dev/null)" = "" ] || fail "purge left files in /usr/bin"
echo "package test passed: $deb"
