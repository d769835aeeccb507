#!/usr/bin/env bash
# The scheduled jobs as the package sets them up: installed into a throwaway
# root, a node started as the ailee user, and every ailee-job-*.service's
# exact ExecStart run as ailee (uid and gid from the root's own user
# database), with jobs.env's values. Each must exit 0, and nothing under
# /var/{lib,log,backups}/ailee may end up owned by anyone but ailee: the
# permission model of docs/operations.md, working.
#
#   jobs_test.sh SOURCE_DIR BUILD_DIR
#
# Paths: the units name /usr/bin, /var/... and /run/ailee; here they are
# below the root (/run/ailee as postinst made it), and the config is found
# through $AILEE_CONFIG, which ailee-cli reads like --config. The shared
# /run/lock stands in as a scratch dir (mode 1777) where another user has
# planted every job's old lock file: a unit that still locked there would fail.
set -euo pipefail
# shellcheck source=throwaway_root.sh
. "$(dirname "$0")/throwaway_root.sh"
src=$1 build=$2
if [ "$(id -u)" -ne 0 ]; then
  echo "SKIP: needs root (files owned by the package's ailee uid, dpkg --root)"
  exit 77
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/ailee-jobs-test.XXXXXX")
node_pid=""
cleanup() {
  if [ -n "$node_pid" ]; then kill -9 "$node_pid" 2>/dev/null || true; wait "$node_pid" 2>/dev/null || true; fi
  # $node_pid is the subshell that runs as_ailee: the node it started (and
  # an archiver or sandbox node a job left) would outlive it. Anything
  # running from the throwaway root goes with it.
  pkill -9 -f "^$tmp/" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; [ -f "$tmp/node.err" ] && tail -20 "$tmp/node.err" >&2; exit 1; }
step() { echo "--- $*"; }

step "install the package into a throwaway root"
deb=$(bash "$src/scripts/package.sh" --build-dir "$build" --out "$tmp/dist" 2>"$tmp/package.log" | tail -n 1) \
  || { cat "$tmp/package.log" >&2; fail "scripts/package.sh failed"; }
R="$tmp/root"
make_root "$R"
dpkg_in "$R" -i "$deb" > "$tmp/install.log" 2>&1 || { cat "$tmp/install.log" >&2; fail "dpkg -i"; }
uid=$(id_in "$R" passwd ailee)
gid=$(id_in "$R" group ailee)
chmod 0755 "$tmp" "$R"   # ailee must reach the root's directories, as it reaches / on a host
as_ailee() {
  env -i PATH=/usr/bin:/bin HOME="$R/var/lib/ailee" AILEE_CONFIG="$R/etc/ailee/config.yaml" \
    setpriv --reuid="$uid" --regid="$gid" --clear-groups "$@"
}

step "the operator's part: config, passphrase files (root:ailee 0640), signer key (ailee 0600), jobs.env"
E="$R/etc/ailee"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
K="$R/var/lib/ailee/keys"   # the signer key, where the node may write its fence
openssl genpkey -algorithm ed25519 -out "$K/signer-01.key" 2>/dev/null
openssl pkey -in "$K/signer-01.key" -pubout -out "$E/signer-01.pub"
chown "$uid:$gid" "$K/signer-01.key"
chmod 0600 "$K/signer-01.key"
for f in backup.pass secrets.pass key-backup.pass; do
  (umask 077; head -c 24 /dev/urandom | base64 > "$E/$f")
done
cat > "$E/config.yaml" <<YAML
node:
  id: node-1
  data_dir: $R/var/lib/ailee/node-1
  listen: 127.0.0.1:$port
  block_interval_ms: 200
  commitment_interval: 10
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
backup:
  repository: file://$R/var/backups/ailee/repo
  passphrase_file: $E/backup.pass
  config_paths: [$E]
  min_copies: 1
monitoring:
  textfile_dir: $R/var/lib/ailee/metrics
YAML
install -d -o "$uid" -g "$gid" -m 0755 "$R/var/lib/ailee/metrics"
sed -i "s|=/etc/ailee/|=$E/|; s|=/var/|=$R/var/|" "$E/jobs.env"
chown "0:$gid" "$E"/*
chmod 0640 "$E"/*
as_ailee "$R/usr/bin/ailee-cli" validate-config > "$tmp/validate.log" 2>&1 || { cat "$tmp/validate.log"; fail "validate-config as ailee"; }

step "the node, as ailee"
as_ailee "$R/usr/bin/ailee-node" > "$tmp/node.out" 2> "$tmp/node.err" &
node_pid=$!
for _ in $(seq 1 100); do
  as_ailee "$R/usr/bin/ailee-cli" --quiet health-check > /dev/null 2>&1 && break
  kill -0 "$node_pid" 2>/dev/null || fail "the node exited"
  sleep 0.2
done
as_ailee "$R/usr/bin/ailee-cli" --quiet health-check || fail "the node does not answer"

step "one-time setup as ailee: repository (cheap KDF), signer key backup"
as_ailee "$R/usr/bin/ailee-cli" --quiet repo init --kdf-memory-mib 8 --kdf-iterations 1 || fail "repo init"
as_ailee "$R/usr/bin/ailee-cli" --quiet keys backup --id signer-01 --key "$K/signer-01.key" \
  --out "$R/var/backups/ailee/keys" --passphrase-file "$E/key-backup.pass" || fail "keys backup"
# A rotated log for the logs job to archive (what logrotate leaves).
as_ailee sh -c "echo rotated > '$R/var/log/ailee/node.log.1'"

step "another local user plants the jobs' lock files in the shared lock dir, and cannot in ours"
mkdir -p "$tmp/lock" && chmod 1777 "$tmp/lock"
as_other() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
for unit in "$R"/usr/lib/systemd/system/ailee-job-*.service "$R/usr/lib/systemd/system/ailee-archive.service"; do
  name=$(basename "$unit" .service)
  name=${name#ailee-job-}; name=${name#ailee-}
  as_other sh -c "umask 077; : > '$tmp/lock/ailee-$name.lock'" || fail "could not plant $tmp/lock/ailee-$name.lock"
done
[ "$(stat -c '%a %u' "$R/run/ailee")" = "750 $uid" ] \
  || fail "/run/ailee is not ailee's 0750: $(stat -c '%a %u:%g' "$R/run/ailee")"
if as_other sh -c ": > '$R/run/ailee/backup-state.lock'" 2>/dev/null; then
  fail "another user created a lock file in /run/ailee"
fi

step "every scheduled job's ExecStart, as ailee"
set -a
# shellcheck disable=SC1091
. "$E/jobs.env"
set +a
# unit_words UNIT: the unit's ExecStart with its paths moved below the root,
# in the array `words`.
unit_words() {
  local line
  line=$(sed -n 's/^ExecStart=//p' "$1")
  line=${line//\/usr\/bin\/ailee-cli/$R\/usr\/bin\/ailee-cli}
  line=${line//\/run\/lock\//$tmp\/lock\/}
  line=${line//\/run\/ailee\//$R\/run\/ailee\/}
  line=${line// \/var\// $R\/var\/}
  # Our own unit files: ${VAR} from jobs.env, words split as systemd does here.
  eval "words=($line)"
}
for unit in "$R"/usr/lib/systemd/system/ailee-job-*.service; do
  job=$(basename "$unit" .service)
  unit_words "$unit"
  # shellcheck disable=SC2154
  if ! as_ailee "${words[@]}" > "$tmp/$job.log" 2>&1; then
    cat "$tmp/$job.log" >&2
    fail "$job failed as ailee: ${words[*]}"
  fi
  echo "ok $job"
done

step "the block archiver's ExecStart, as ailee: follows the node until stopped"
archived() { as_ailee "$R/usr/bin/ailee-cli" --json archive status | python3 -c 'import json,sys; print(json.load(sys.stdin)["archived_height"])'; }
unit_words "$R/usr/lib/systemd/system/ailee-archive.service"
setsid env -i PATH=/usr/bin:/bin HOME="$R/var/lib/ailee" AILEE_CONFIG="$R/etc/ailee/config.yaml" \
  setpriv --reuid="$uid" --regid="$gid" --clear-groups "${words[@]}" > "$tmp/archiver.log" 2>&1 &
archiver_pid=$!
first=0
for _ in $(seq 1 100); do
  first=$(archived) && [ "$first" -gt 0 ] && break
  kill -0 "$archiver_pid" 2>/dev/null || { cat "$tmp/archiver.log" >&2; fail "the archiver exited"; }
  sleep 0.2
done
[ "$first" -gt 0 ] || { cat "$tmp/archiver.log" >&2; fail "the archiver archived nothing in 20 s"; }
later=$first
for _ in $(seq 1 100); do
  later=$(archived) && [ "$later" -gt "$first" ] && break
  sleep 0.2
done
[ "$later" -gt "$first" ] || fail "the archive stays at height $first while the node commits blocks"
# A second start (the cron line's next minute, a manual start) is skipped.
rc=0; as_ailee "${words[@]}" > /dev/null 2>&1 || rc=$?
[ "$rc" = 75 ] || fail "a second archiver beside the running one exited $rc, want 75 (skipped under the flock)"
kill -TERM -- -"$archiver_pid"   # what systemd does: SIGTERM to the unit's processes
for _ in $(seq 1 100); do kill -0 "$archiver_pid" 2>/dev/null || break; sleep 0.1; done
kill -0 "$archiver_pid" 2>/dev/null && fail "the archiver did not stop within 10 s of SIGTERM"
wait "$archiver_pid" 2>/dev/null || true
echo "ok archive: heights $first then $later, stopped on SIGTERM"

step "an operator as root and as another admin: exit 5 naming the path and sudo -u, nothing written"
# expect_denied NAME LOG COMMAND...: exit 5 (permission), and the message
# names what and how (sudo -u), not only a bare HTTP error.
expect_denied() {
  local name=$1 log=$2 rc=0
  shift 2
  "$@" > "$log" 2>&1 || rc=$?
  [ "$rc" = 5 ] || { cat "$log" >&2; fail "$name exited $rc, want 5 (permission)"; }
  grep -q "sudo -u" "$log" || { cat "$log" >&2; fail "$name: no 'sudo -u' fix in the message"; }
  for word in "${want[@]}"; do
    grep -q -- "$word" "$log" || { cat "$log" >&2; fail "$name: the message does not name $word"; }
  done
}
# Their runs' job metrics go to a scratch dir: a refused manual run would
# otherwise be the backup_state file's last run (exit 5), checked below.
install -d -m 0777 "$tmp/operator-metrics"
cli_root() {
  env -i PATH=/usr/bin:/bin HOME=/root "$R/usr/bin/ailee-cli" --config "$E/config.yaml" \
    --metrics-dir "$tmp/operator-metrics" "$@"
}
install -d -m 0700 "$tmp/root-only"
want=("runs as user" "$tmp/root-only")
expect_denied "create-checkpoint as root into root's directory" "$tmp/perm1.log" \
  cli_root create-checkpoint --output "$tmp/root-only/ckpt"
want=("$R/var/backups/ailee/repo")
expect_denied "backup state as root" "$tmp/perm2.log" cli_root backup state
# Another admin: in group ailee (reads the config), not the node's user.
useradd --prefix "$R" --system --no-create-home --gid ailee --shell /usr/sbin/nologin opsadmin
admin_uid=$(id_in "$R" passwd opsadmin)
as_admin() {
  env -i PATH=/usr/bin:/bin HOME=/ AILEE_CONFIG="$E/config.yaml" AILEE_METRICS_DIR="$tmp/operator-metrics" \
    setpriv --reuid="$admin_uid" --regid="$gid" --clear-groups "$@"
}
install -d -o "$admin_uid" -g "$gid" -m 0700 "$tmp/admin-home"
# The first of the node's files it meets names the owner: the audit log, the
# admin token or the repository.
want=("$R/var/" "owned by\|only by the user\|belongs\? to")
expect_denied "create-checkpoint as another admin" "$tmp/perm3.log" \
  as_admin "$R/usr/bin/ailee-cli" create-checkpoint --output "$tmp/admin-home/ckpt"
expect_denied "backup state as another admin" "$tmp/perm4.log" as_admin "$R/usr/bin/ailee-cli" backup state
userdel --prefix "$R" opsadmin
[ ! -e "$tmp/root-only/ckpt" ] && [ ! -e "$tmp/admin-home/ckpt" ] || fail "a refused checkpoint was left behind"
echo "ok permissions: $(grep -h '^hint' "$tmp"/perm[1-4].log | sort -u | tr '\n' ' ')"

step "what the jobs made"
snaps=$(as_ailee "$R/usr/bin/ailee-cli" --json snapshots)
for kind in state config logs; do
  grep -q "\"$kind\"" <<<"$snaps" || fail "no $kind snapshot after the jobs: $snaps"
done
as_ailee "$R/usr/bin/ailee-cli" --quiet audit verify || fail "the audit log the jobs wrote does not verify"

step "metrics: one textfile per job, valid for Prometheus"
for job in backup_state backup_config verify keys_verify logs_archive drill; do
  prom="$R/var/lib/ailee/metrics/ailee_${job}_node-1.prom"
  [ -f "$prom" ] || fail "no metrics file $prom after the jobs: $(ls "$R/var/lib/ailee/metrics")"
  grep -q "^ailee_job_exit_code{ailee_job=\"$job\",node=\"node-1\"} 0$" "$prom" || fail "$prom: no exit code 0: $(cat "$prom")"
  if command -v promtool > /dev/null; then
    promtool check metrics < "$prom" || fail "promtool check metrics rejects $prom"
  fi
done

step "the drill left its report and no sandbox"
[ -s "$R/var/lib/ailee/drill-report.html" ] || fail "the drill job wrote no HTML report"
leftover=$(find "$R/var/lib/ailee" -maxdepth 1 -name '*drill*' ! -name drill-report.html -print | head -3)
[ -z "$leftover" ] || fail "the drill left its sandbox: $leftover"

step "check, as ailee: every check passes after the jobs (exit 0)"
as_ailee "$R/usr/bin/ailee-cli" check > "$tmp/check.out" 2>&1 || { cat "$tmp/check.out"; fail "check failed after every job ran"; }
cat "$tmp/check.out"
for line in "OK   state" "OK   config" "OK   copies" "OK   keys" "OK   drill"; do
  grep -q "^$line" "$tmp/check.out" || fail "check: no line '$line'"
done
foreign=$(find "$R/var/lib/ailee" "$R/var/log/ailee" "$R/var/backups/ailee" ! -uid "$uid" -print | head -5)
[ -z "$foreign" ] || fail "files not owned by ailee after the jobs: $foreign"
echo "jobs test passed"
