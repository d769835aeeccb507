#!/usr/bin/env bash
# shellcheck disable=SC2317 source-path=SCRIPTDIR  # SC2317: "${kind}_start" calls look unreachable
# Real S3-compatible servers from Debian packages, on loopback, for tests.
#
#   tests/s3/s3-server.sh start  KIND DIR   # KIND: swift | ceph
#   tests/s3/s3-server.sh stop   KIND DIR
#   tests/s3/s3-server.sh status KIND DIR
#
# start: if DIR already holds a live server of KIND, reuses it. Otherwise
#   stops whatever is left of an earlier one (a killed test run: dead pids,
#   stale sockets), wipes the server's files under DIR, starts the server on
#   127.0.0.1 on free ports as the current user, waits until it answers a
#   signed S3 request, and writes DIR/env (mode 0600, KEY='value' lines):
#     AILEE_TEST_S3_KIND, AILEE_TEST_S3_ENDPOINT, AWS_ACCESS_KEY_ID,
#     AWS_SECRET_ACCESS_KEY, AWS_REGION, AILEE_TEST_S3_OBJECT_LOCK (0|1),
#     AILEE_TEST_S3_DIR, AILEE_TEST_S3_PID_FILES, and what makes the aws CLI
#     use this server alone (AWS_CONFIG_FILE, AWS_ENDPOINT_URL, ...).
#   Use it with:  set -a; . DIR/env; set +a
#                 aws --endpoint-url "$AILEE_TEST_S3_ENDPOINT" s3 ls
#   Exits 1 with the tail of the server logs if the server does not come up
#   within AILEE_S3_START_TIMEOUT seconds (default 60 swift, 120 ceph).
# stop: kills the process groups start created (SIGTERM, then SIGKILL after
#   3 s), and any process of ours with DIR/etc/ or DIR/run/ in its argv
#   (one whose pid file was lost). Leaves the files, so a failed run can be
#   inspected.
# status: exits 0 if every process of the server is alive and it answers
#   HTTP, 1 otherwise.
#
# Everything (configs, data, logs, pid files, sockets) lives under DIR; a
# non-empty DIR must carry the marker file .ailee-s3-server, so a mistyped
# DIR is never wiped. start and stop serialize on DIR/.lock (flock).
#
# Environment: AILEE_S3_START_TIMEOUT (seconds), AILEE_AWS_CLI (the aws
# binary; default /usr/bin/aws, Debian's, else the first aws on PATH).
set -euo pipefail

usage() { sed -n '3,/^set /{/^#/p}' "$0" >&2; exit 2; }
[ $# -eq 3 ] || usage
cmd=$1 kind=$2 dir=$3
case "$cmd" in start|stop|status) ;; *) usage ;; esac
case "$kind" in swift|ceph) ;; *) echo "s3-server: unknown KIND '$kind' (swift or ceph)" >&2; exit 2 ;; esac
case "$dir" in *"'"*|*$'\n'*) echo "s3-server: DIR must not contain quotes or newlines: $dir" >&2; exit 2 ;; esac

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
MARKER=.ailee-s3-server
PY=/usr/bin/python3  # Debian's python: the one with the swift and ceph modules
if [ -n "${AILEE_AWS_CLI:-}" ]; then AWS=$AILEE_AWS_CLI
elif [ -x /usr/bin/aws ]; then AWS=/usr/bin/aws
else AWS=$(command -v aws || echo aws); fi

# The caller's AWS settings (a profile, a session token, another endpoint)
# must not leak into the aws runs that probe our server, nor Ceph's into
# the ceph tools.
for v in $(compgen -e); do
  case "$v" in AWS_*|CEPH_ARGS|CEPH_CONF) unset "$v" ;; esac
done

log() { echo "s3-server[$kind]: $*" >&2; }
die() { log "$*"; exit 1; }
now() { date +%s; }

# ------------------------------------------------------------------ processes
# Every daemon is started by spawn: in its own session and process group (so
# stop can kill everything it forked), stdin from /dev/null, output appended
# to DIR/log/NAME.log, without our lock fd, and with its pid in
# DIR/run/NAME.pid, listed in DIR/run/pids in start order.

spawn() {
  local name=$1; shift
  # In a non-interactive shell a background job is not a group leader, so
  # setsid execs in place and $! is the daemon's own pid.
  setsid "$@" </dev/null >>"$dir/log/$name.log" 2>&1 9>&- &
  echo $! >"$dir/run/$name.pid"
  echo "$dir/run/$name.pid" >>"$dir/run/pids"
}

# True if the pid file names a live process of ours: its command line
# mentions a path under DIR (a recycled pid belongs to someone else; a
# zombie has no command line).
# Bash builtins only: stop and the start-up waits call this in loops.
pid_ours() {
  local pid args=()
  read -r pid 2>/dev/null <"$1" || return 1
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  mapfile -d '' args 2>/dev/null <"/proc/$pid/cmdline" || return 1
  [[ "${args[*]}" == *"$dir/"* ]]
}

pid_files() { [ -f "$dir/run/pids" ] && echo "$(<"$dir/run/pids")"; return 0; }

all_alive() {
  local f n=0
  for f in $(pid_files); do pid_ours "$f" || return 1; n=$((n + 1)); done
  [ "$n" -gt 0 ]
}

signal_ours() {
  local sig=$1 f pid
  for f in $(pid_files); do
    pid_ours "$f" || continue
    pid=$(cat "$f")
    # The whole group when the daemon still leads it (its forks included).
    kill "-$sig" -- "-$pid" 2>/dev/null || kill "-$sig" "$pid" 2>/dev/null || true
  done
}

any_alive() {
  local f
  for f in $(pid_files); do pid_ours "$f" && return 0; done
  return 1
}

# Processes of ours that no pid file names any more (DIR/run was removed,
# or a start was killed between spawning a daemon and writing its pid):
# every server process has DIR/etc/ or DIR/run/ in its argv.
kill_strays() {
  local p pid args=()
  for p in /proc/[0-9]*; do
    pid=${p#/proc/}
    if [ "$pid" = $$ ] || [ ! -O "$p" ]; then continue; fi
    mapfile -d '' args 2>/dev/null <"$p/cmdline" || continue
    case "${args[*]}" in
      *"$dir/etc/"*|*"$dir/run/"*) log "killing stray process $pid: ${args[*]}"; kill -KILL "$pid" 2>/dev/null || true ;;
    esac
  done
}

# kill_all [GRACE]: SIGTERM, up to GRACE seconds (default 3) to exit, then
# SIGKILL. GRACE 0: SIGKILL at once (what start does to leftovers it wipes).
kill_all() {
  local grace=${1:-3} deadline
  any_alive || return 0
  if [ "$grace" -gt 0 ]; then
    signal_ours TERM
    deadline=$(($(now) + grace))
    while any_alive && [ "$(now)" -lt "$deadline" ]; do sleep 0.1; done
    any_alive && log "still running ${grace} s after SIGTERM: SIGKILL"
  fi
  signal_ours KILL
  deadline=$(($(now) + 5))
  while any_alive && [ "$(now)" -lt "$deadline" ]; do sleep 0.1; done
  if any_alive; then log "processes survive SIGKILL (uninterruptible I/O?): $(pid_files)"; fi
}

# The last lines of every log under DIR/log, for failure messages.
log_tails() {
  local f
  for f in "$dir"/log/*.log; do
    [ -s "$f" ] || continue
    echo "---- tail of $f" >&2
    tail -n "${1:-25}" "$f" >&2
  done
}

# Exits with the logs after stopping what was started.
fail_start() {
  log "start failed: $*"
  log_tails 25
  kill_all 0
  exit 1
}

# A loopback TCP port that was free a moment ago. Another process may take
# it before the server binds it: callers retry on "address in use".
free_port() {
  "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# HTTP status of GET URL ("000" when nothing answers).
http_code() {
  curl -s -o /dev/null -w '%{http_code}' --connect-timeout 1 --max-time 3 "$1" 2>/dev/null || true
}

# ------------------------------------------------------------------- env file

aws_env() {
  env AWS_ACCESS_KEY_ID="$S3_ACCESS_KEY" AWS_SECRET_ACCESS_KEY="$S3_SECRET_KEY" \
    AWS_REGION="$S3_REGION" AWS_DEFAULT_REGION="$S3_REGION" \
    AWS_CONFIG_FILE="$dir/aws-config" AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_PAGER= \
    "$@"
}

# One signed S3 request: proves the server, its auth and our keys work.
s3_answers() {
  aws_env "$AWS" --endpoint-url "http://127.0.0.1:$S3_PORT" --cli-connect-timeout 2 \
    --cli-read-timeout 10 s3api list-buckets >/dev/null 2>>"$dir/log/probe.log"
}

write_aws_config() {
  cat >"$dir/aws-config" <<EOF
[default]
region = $S3_REGION
s3 =
  addressing_style = path
EOF
}

write_env() {
  local f pids=""
  for f in $(pid_files); do pids="$pids${pids:+ }$f"; done
  (
    umask 077
    cat >"$dir/env.tmp" <<EOF
AILEE_TEST_S3_KIND='$kind'
AILEE_TEST_S3_ENDPOINT='http://127.0.0.1:$S3_PORT'
AWS_ACCESS_KEY_ID='$S3_ACCESS_KEY'
AWS_SECRET_ACCESS_KEY='$S3_SECRET_KEY'
AWS_REGION='$S3_REGION'
AWS_DEFAULT_REGION='$S3_REGION'
AWS_ENDPOINT_URL='http://127.0.0.1:$S3_PORT'
AWS_CONFIG_FILE='$dir/aws-config'
AWS_SHARED_CREDENTIALS_FILE='/dev/null'
AWS_PAGER=''
AWS_PROFILE='default'
AILEE_TEST_S3_OBJECT_LOCK='$S3_OBJECT_LOCK'
AILEE_TEST_S3_DIR='$dir'
AILEE_TEST_S3_PID_FILES='$pids'
EOF
  )
  mv -f "$dir/env.tmp" "$dir/env"
}

# Reads S3_PORT back from DIR/env (for status).
env_port() {
  sed -n "s|^AILEE_TEST_S3_ENDPOINT='http://127.0.0.1:\([0-9]*\)'$|\1|p" "$dir/env" 2>/dev/null || true
}

# ------------------------------------------------------------------ directory

# True if DIR holds nothing but (maybe) our lock file.
dir_is_empty() {
  local f
  for f in "$dir"/* "$dir"/.[!.]* "$dir"/..?*; do
    [ -e "$f" ] && [ "${f##*/}" != .lock ] && return 1
  done
  return 0
}

# A non-empty DIR must be ours: refuse to wipe anything else.
check_dir_is_ours() {
  if [ -d "$dir" ] && ! dir_is_empty && [ ! -f "$dir/$MARKER" ]; then
    die "$dir is not empty and has no $MARKER: not a server dir, refusing to touch it"
  fi
  if [ -f "$dir/$MARKER" ] && [ "$(cat "$dir/$MARKER")" != "$kind" ]; then
    die "$dir holds a $(cat "$dir/$MARKER") server, not $kind"
  fi
}

# Removes what an earlier server left (data, configs, pid files, sockets);
# keeps the previous logs as log.prev for a post-mortem.
wipe_dir() {
  rm -rf "$dir/log.prev"
  [ -d "$dir/log" ] && mv "$dir/log" "$dir/log.prev"
  rm -rf "${dir:?}/run" "${dir:?}/etc" "${dir:?}/data" "${dir:?}/env" "${dir:?}/env.tmp" "${dir:?}/aws-config"
  mkdir -p "$dir/run" "$dir/etc" "$dir/data" "$dir/log"
  chmod 700 "$dir"
  echo "$kind" >"$dir/$MARKER"
}

# ---------------------------------------------------------------------- main

# shellcheck source=swift.sh
. "$HERE/swift.sh"
# shellcheck source=ceph.sh
. "$HERE/ceph.sh"

if [ "$cmd" = status ]; then
  [ -d "$dir" ] && dir=$(cd "$dir" && pwd -P)
  [ -f "$dir/$MARKER" ] && [ "$(cat "$dir/$MARKER")" = "$kind" ] || exit 1
  all_alive || exit 1
  port=$(env_port)
  [ -n "$port" ] && [ "$(http_code "http://127.0.0.1:$port/")" != 000 ]
  exit
fi

mkdir -p "$dir"
dir=$(cd "$dir" && pwd -P)
check_dir_is_ours
exec 9>>"$dir/.lock"
flock -w 300 9 || die "another start/stop holds $dir/.lock for 300 s"
check_dir_is_ours  # again: the holder of the lock may have changed DIR

if [ "$cmd" = stop ]; then
  [ -f "$dir/$MARKER" ] || exit 0
  kill_all
  kill_strays
  rm -f "$dir"/run/*.pid "$dir/run/pids" "$dir/env"
  log "stopped ($dir)"
  exit 0
fi

# start
if [ -f "$dir/$MARKER" ] && [ -f "$dir/env" ] && all_alive && [ -n "$(env_port)" ] \
   && [ "$(http_code "http://127.0.0.1:$(env_port)/")" != 000 ]; then
  log "reusing the live server in $dir"
  exit 0
fi

"${kind}_check_packages"
timeout_s=${AILEE_S3_START_TIMEOUT:-$("${kind}_default_timeout")}
started=$(now)
for attempt in 1 2 3; do
  kill_all 0
  kill_strays
  wipe_dir
  S3_OBJECT_LOCK=0
  S3_REGION=us-east-1
  write_aws_config
  if "${kind}_start" "$(($(now) + timeout_s))"; then
    write_env
    log "up on http://127.0.0.1:$S3_PORT in $(($(now) - started)) s ($dir)"
    exit 0
  fi
  # Only a port taken between free_port and the bind is worth another try.
  if ! grep -qsE 'Address already in use|Could not bind|EADDRINUSE|failed to bind' "$dir"/log/*.log; then
    break
  fi
  log "a port was taken meanwhile (attempt $attempt): retrying with new ports"
done
fail_start "no S3 answer from $kind in $dir within ${timeout_s} s"
