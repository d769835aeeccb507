#!/usr/bin/env bash
# One command: recovering a lost follower at BENCH_SIZE of state (issue 11),
# ours beside the recovery an operator would otherwise do by hand, on one
# leader + follower network on loopback:
#
#   bash bench/run-recover-bench.sh
#
# Setup (not timed): the leader and the follower start from copies of the
# dataset's churned/ state (run-repo-bench.sh's bulk-loaded chain, built with
# BENCH_BLOCK_TX transactions per block; the leader signs with the dataset's
# key and its signing fence, which the bulk load left at churned/'s tip). The follower's config is backed up (`backup
# config`), its block archive runs (`archive run`, from genesis), and at one
# moment, with the follower stopped, the same data dir is backed up by ours
# (`backup state --offline`) and by restic, so both start from the same
# height. The leader then goes on for BENCH_AFTER_S seconds under a light
# load, so that the RPO is not trivially zero.
#
# Then, each against the leader's tip at the moment the step began:
#   (a) ours, recover-node: the follower's host is destroyed (node and
#       archiver killed with SIGKILL; data dir, config, audit log, archive
#       buffer deleted; the repository is offsite), then `ailee-cli
#       recover-node --node follower --repo ... --start --yes --json`; its
#       report gives each phase's time, the RTO and the RPO;
#   (a2) ours, recover-node --prove-in-background (recover-bg): the follower
#       and its archiver running again and caught up, as (a) found them
#       (put back by a restore when the follower is not running), the host
#       destroyed again as in (a), then the same command with
#       --prove-in-background: the state is swapped in unproven and the
#       node proves it when it starts, serving only its status until then;
#       the report gives the RTO to "serving, proof running"
#       (rto_serving_ms), to "proven" (rto_proven_ms) and the whole RTO.
#       Under the table, one line sets restore + proof against the plain
#       restore (issue 16): (a)'s state phase (fetch, replay, proof), (a2)'s
#       state phase and times to serving and to proven, restic's restore;
#   (b) ours, drill: `ailee-cli drill --json` of the recovered follower
#       against the running network (sandbox restore, replay, proof, start,
#       catch-up); phases, RTO and RPO from its report;
#   (c) by hand: the host destroyed again, its config put back from the
#       operator's own copy (config management), `restic restore` of the
#       data dir, the node started, timed until it holds the leader's tip;
#   (d) by hand: resync from genesis through the follower path: an empty
#       data dir started against the leader, timed until it holds the tip
#       (bounded by BENCH_RESYNC_TIMEOUT; a cut-off run is reported as such,
#       with the height it reached).
# The page cache is dropped before each recovery (as root). Every recovery
# counts only once checked: the recovered node's state root at its height
# equals the leader's (for the drill: its own checks passed, state-root among
# them). A field a recover-node report lacks is recorded as n/a.
#
# RPO is what the recovered state lacked against the network's tip when the
# recovery began (blocks, and seconds between the two blocks' timestamps);
# the rest comes from the leader. For (d) that is the whole chain.
#
# Knobs (environment):
#   BENCH_SIZE=2GiB            dataset size (256MiB for a quick run)
#   BENCH_BLOCK_TX=50          transactions per block of the dataset (run-repo-bench.sh's knob).
#                              Not the loader's 4000: followers and the archiver fetch blocks
#                              200 at a time (/v1/blocks?limit=200, no byte bound), and with
#                              blocks of 4000 transfers with 2 KiB memos (~9 MB each) that
#                              answer is hundreds of MB of hex JSON, which never arrives within
#                              their 10 s timeout: the archiver and a resync from genesis retry
#                              forever (seen at 256MiB). At 50, 200 blocks are about 45 MB.
#   BENCH_AFTER_S=20           seconds the leader runs on after the snapshot
#   BENCH_BLOCK_MS=500         block interval of both nodes
#   BENCH_WAIT_S=1800          bound on each recovery's catch-up (recover-node --wait, drill --timeout)
#   BENCH_RESYNC_TIMEOUT=1800  bound on (d), seconds
#   BENCH_STEPS="recover recover-bg drill restic resync"
#                              any subset; each step sets up what it needs
#   BUILD_DIR=build-bench      build tree (configured if missing)
#   BENCH_BIN_DIR              use binaries from this build tree instead of building
#   BENCH_NO_DROP_CACHES=1     do not drop the page cache (it is dropped only as root anyway)
# Output: a Markdown table on stdout and in bench/RESULTS-recover.md (the
# section of BENCH_SIZE; the other sizes' sections are kept); raw
# values in bench-run/recover-bench.tsv; every command's output and node log
# in bench-run/recover-logs/ (kept until the next run).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
SIZE=${BENCH_SIZE:-2GiB}
AFTER_S=${BENCH_AFTER_S:-20}
BLOCK_MS=${BENCH_BLOCK_MS:-500}
WAIT_S=${BENCH_WAIT_S:-1800}
RESYNC_TIMEOUT=${BENCH_RESYNC_TIMEOUT:-1800}
STEPS=${BENCH_STEPS:-"recover recover-bg drill restic resync"}
BLOCK_TX=${BENCH_BLOCK_TX:-50}
OUT=$ROOT/bench-run
DS=$OUT/repo-dataset-$SIZE
[ "$BLOCK_TX" = 4000 ] || DS=$DS-btx$BLOCK_TX  # run-repo-bench.sh's naming
W=$OUT/recover-work
L=$OUT/recover-logs
TSV=$OUT/recover-bench.tsv
RESULTS=$ROOT/bench/RESULTS-recover.md
HOST=$W/follower  # everything the follower's host holds; destroyed up to three times
mkdir -p "$OUT"

log() { printf '\033[1m[recover-bench]\033[0m %s\n' "$*" >&2; }

bash scripts/install-deps.sh >&2

# bench_bin (the node configs here are a leader's and a follower's, not lib.sh's bench_config)
source bench/lib.sh
bench_bin ailee-cli ailee-node
CLI=$BIN/src/cli/ailee-cli
NODE=$BIN/src/node/ailee-node
if [ ! -x "$CLI" ] || [ ! -x "$NODE" ]; then echo "no ailee-cli or ailee-node under $BIN" >&2; exit 1; fi

if [ ! -f "$DS/.complete" ]; then
  log "building the $SIZE dataset with bench/run-repo-bench.sh (once; the benchmarks share it)"
  BENCH_PHASE=dataset BENCH_SIZE=$SIZE BENCH_BLOCK_TX=$BLOCK_TX BENCH_BIN_DIR=$BIN bash bench/run-repo-bench.sh
fi

# ------------------------------------------------------------ processes
# Every process started here (and the node recover-node spawns, which is not
# our child) is in PIDS and ended on every way out.
PIDS=()
cleanup() {
  set +e  # every process gets its signal, whatever fails
  local p
  adopt_spawned_nodes  # interrupted inside recover-node: the node it spawned
  for p in "${PIDS[@]}"; do [ "$p" -gt 0 ] && kill -TERM "$p" 2>/dev/null; done
  for _ in $(seq 100); do
    local alive=0
    for p in "${PIDS[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
    [ "$alive" = 0 ] && break
    sleep 0.1
  done
  for p in "${PIDS[@]}"; do [ "$p" -gt 0 ] && kill -KILL "$p" 2>/dev/null; done
  wait 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# stop_pid PID [SIGNAL]: ends one process (ours or adopted), waits for it,
# and forgets it (its number may be reused by someone else's process).
stop_pid() {
  [ "${1:-0}" -gt 0 ] || return 0  # never 0: kill 0 would signal this whole process group
  kill "-${2:-TERM}" "$1" 2>/dev/null || true
  for _ in $(seq 300); do
    kill -0 "$1" 2>/dev/null || break
    # An adopted process that exited stays a zombie until init reaps it.
    [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" = Z ] && break
    sleep 0.1
  done
  kill -KILL "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
  local keep=() p
  for p in "${PIDS[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
  PIDS=("${keep[@]}")
}
# The nodes running with the follower's config that are not in PIDS: the
# one recover-node spawned (not our child; its report names it, but a run
# that failed half-way may not have reported it).
adopt_spawned_nodes() {
  local p
  for p in $(host_node_pids); do
    [[ " ${PIDS[*]} " == *" $p "* ]] || PIDS+=("$p")
  done
  return 0
}
# host_node_pids: the nodes running with the follower's config, started here
# or by recover-node (whose report may lack its pid after a failure).
host_node_pids() {
  local d
  for d in /proc/[0-9]*; do
    { tr '\0' ' ' < "$d/cmdline"; } 2>/dev/null | grep -q "ailee-node --config $HOST/config.yaml" && echo "${d#/proc/}"
  done
  return 0
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
jq_() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval("d" + sys.argv[2]))' "$@"; }  # FILE EXPR
now() { date +%s.%N; }
secs() { python3 -c "print(f'{$2 - $1:.2f}')"; }  # T0 T1
api() { curl -sf --max-time 5 "http://127.0.0.1:$1$2"; }  # PORT PATH
height_of() { api "$1" /v1/status | python3 -c 'import json,sys; print(json.load(sys.stdin)["height"])'; }
block_field() { api "$1" "/v1/blocks/$2" | python3 -c 'import json,sys; print(json.load(sys.stdin)["header"][sys.argv[1]])' "$3"; }
peak_rss_mib() { awk '/VmHWM/ {printf "%d", $2 / 1024}' "/proc/$1/status" 2>/dev/null || echo 0; }  # PID (a node)
time_rss_mib() { awk -F': ' '/Maximum resident set size/ {printf "%d", $2 / 1024}' "$1"; }  # /usr/bin/time -v output

record() { printf '%s\t%s\t%s\n' "$1" "$2" "$3" >> "$TSV"; }  # TOOL KEY VALUE
# A step begins: its 1-minute load average is kept for the results.
step() { log "$1 (load $(cut -d' ' -f1-3 /proc/loadavg))"; record load "$1" "$(cut -d' ' -f1-3 /proc/loadavg)"; }

DROP=no
if [ -z "${BENCH_NO_DROP_CACHES:-}" ] && [ "$(id -u)" -eq 0 ] && sync && echo 3 2>/dev/null > /proc/sys/vm/drop_caches; then
  DROP=yes
fi
drop_caches() { sync; [ "$DROP" = yes ] && echo 3 > /proc/sys/vm/drop_caches; return 0; }

# node_config NAME PORT ROLE: the leader signs with the dataset's key (a copy
# beside its config, with the fence the bulk load left); the follower
# follows it. Both back up to the offsite repository.
node_config() {
  local dir=$W/$1
  {
    echo "node:"
    echo "  id: $1"
    echo "  data_dir: $dir/data"
    echo "  listen: 127.0.0.1:$2"
    echo "  block_interval_ms: $BLOCK_MS"
    echo "  commitment_interval: 20"
    echo "federation:"
    echo "  threshold: 1"
    echo "  signers:"
    echo "    - id: signer-01"
    echo "      public_key_file: $DS/keys/signer-01.pub"
    if [ "$3" = leader ]; then
      echo "signer:"
      echo "  id: signer-01"
      echo "  key_file: $dir/signer-01.key"
      echo "peers: [http://127.0.0.1:$FOLLOWER_PORT]"
    else
      echo "follow: http://127.0.0.1:$LEADER_PORT"
    fi
    echo "logging:"
    echo "  audit_log: $dir/audit.log"
    echo "backup:"
    echo "  repository: file://$W/offsite/repo"
    echo "  passphrase_file: $W/repo.pass"
    echo "  config_paths: [$dir/config.yaml]"
  } > "$dir/config.yaml"
}

# start_node NAME PORT: starts it (our child), waits until its API answers.
start_node() {
  "$NODE" --config "$W/$1/config.yaml" >> "$L/$1-node.log" 2>&1 &
  NODE_PID=$!
  PIDS+=("$NODE_PID")
  wait_up "$2" "$NODE_PID" "$1"
}
wait_up() {  # PORT PID NAME
  for _ in $(seq 1200); do
    api "$1" /v1/health >/dev/null 2>&1 && return 0
    kill -0 "$2" 2>/dev/null || { log "$3 exited during start:"; tail -20 "$L/$3-node.log" >&2; exit 1; }
    sleep 0.1
  done
  log "$3 did not answer within 120 s"; exit 1
}
# wait_height PORT H TIMEOUT_S: 0 once the node holds H, 1 after the timeout.
wait_height() {
  local end=$(( $(date +%s) + $3 )) h
  while [ "$(date +%s)" -lt "$end" ]; do
    h=$(height_of "$1" 2>/dev/null || echo 0)
    [ "$h" -ge "$2" ] && return 0
    sleep 0.2
  done
  return 1
}
# check_root TOOL: the follower's state root at its height equals the leader's.
check_root() {
  local h r1 r2
  h=$(height_of "$FOLLOWER_PORT")
  r1=$(block_field "$LEADER_PORT" "$h" state_root)
  r2=$(block_field "$FOLLOWER_PORT" "$h" state_root)
  if [ -n "$r1" ] && [ "$r1" = "$r2" ]; then
    record "$1" check "state root at height $h equals the leader's"
    log "$1: state root at height $h equals the leader's"
  else
    record "$1" check "FAILED: state root at height $h: leader $r1, follower $r2"
    log "$1: FAILED: state root at height $h: leader $r1, follower $r2"
  fi
}
# rpo TOOL TIP RESTORED: blocks and seconds the recovered state lacked.
rpo() {
  record "$1" rpo_blocks "$(( $2 - $3 ))"
  local t2 t3
  t2=$(block_field "$LEADER_PORT" "$2" timestamp_ms)
  if [ "$3" -gt 0 ]; then t3=$(block_field "$LEADER_PORT" "$3" timestamp_ms); else t3=$(block_field "$LEADER_PORT" 1 timestamp_ms); fi
  record "$1" rpo_s "$(python3 -c "print(f'{($t2 - $t3) / 1000:.1f}')")"
}
# destroy_host: the follower's host is lost with everything on it.
destroy_host() {
  local p
  for p in "$@" $(host_node_pids); do stop_pid "$p" KILL; done
  rm -rf "$HOST" "$W/restic-cache"
}

# start_archiver: `archive run` of the follower (resumes at the archive's
# last height), then waits until it is within 2 blocks of the node.
start_archiver() {
  "${FC[@]}" -q archive run >> "$L/archiver.log" 2>&1 &
  ARCHIVER_PID=$!; PIDS+=("$ARCHIVER_PID")
  until [ "$(archive_lag | tail -1)" -le 2 ]; do
    kill -0 "$ARCHIVER_PID" 2>/dev/null || { log "archive run exited:"; tail -20 "$L/archiver.log" >&2; exit 1; }
    sleep 1
  done
}
archive_lag() {  # blocks the archive lacks behind the follower (99999 while unknown)
  "${FC[@]}" --json archive status 2>/dev/null |
    python3 -c 'import json,sys; print(json.load(sys.stdin).get("lag_blocks", 99999))' 2>/dev/null || echo 99999
}

# ------------------------------------------------------------------- setup
rm -rf "$W" "$L" && mkdir -p "$W/leader" "$HOST" "$W/offsite" "$W/config-management" "$L"
: > "$TSV"
umask 077
head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$W/repo.pass"
head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$W/secrets.pass"
install -m 600 "$DS/keys/signer-01.key" "$W/leader/signer-01.key"
[ -f "$DS/keys/signer-01.key.fence" ] && install -m 600 "$DS/keys/signer-01.key.fence" "$W/leader/signer-01.key.fence"
umask 022
LEADER_PORT=$(free_port); FOLLOWER_PORT=$(free_port)
while [ "$FOLLOWER_PORT" = "$LEADER_PORT" ]; do FOLLOWER_PORT=$(free_port); done
node_config leader "$LEADER_PORT" leader
node_config follower "$FOLLOWER_PORT" follower
cp "$HOST/config.yaml" "$W/config-management/follower.yaml"
FC=("$CLI" --config "$HOST/config.yaml")

step "setup: copying the $SIZE dataset (churned) to the leader and the follower"
cp -a --reflink=auto "$DS/churned" "$W/leader/data"
cp -a --reflink=auto "$DS/churned" "$HOST/data"
DATA_BYTES=$(du -sb "$HOST/data" | cut -f1)
record setup data_bytes "$DATA_BYTES"
start_node follower "$FOLLOWER_PORT"; FOLLOWER_PID=$NODE_PID
start_node leader "$LEADER_PORT"
record setup dataset_height "$(height_of "$LEADER_PORT")"
wait_height "$LEADER_PORT" "$(( $(height_of "$FOLLOWER_PORT") + 2 ))" 120 || { log "the leader produces no blocks"; tail -20 "$L/leader-node.log" >&2; exit 1; }

step "setup: repository, config backup, block archive from genesis"
"${FC[@]}" -q repo init >&2
"${FC[@]}" -q backup config --secrets-passphrase-file "$W/secrets.pass" >&2
t0=$(now)
start_archiver
record setup archive_catch_up_s "$(secs "$t0" "$(now)")"

step "setup: the snapshot moment (follower stopped; ours and restic back up the same data dir)"
stop_pid "$FOLLOWER_PID"
t0=$(now)
"${FC[@]}" --json backup state --offline > "$L/backup-state.json"
record setup ours_backup_s "$(secs "$t0" "$(now)")"
SNAP_HEIGHT=$(jq_ "$L/backup-state.json" '["height"]')
record setup snapshot_height "$SNAP_HEIGHT"
export RESTIC_PASSWORD_FILE=$W/repo.pass RESTIC_REPOSITORY=$W/restic-repo RESTIC_CACHE_DIR=$W/restic-cache
restic -q init >&2
t0=$(now)
(cd "$HOST/data" && restic -q backup .) >&2
record setup restic_backup_s "$(secs "$t0" "$(now)")"
start_node follower "$FOLLOWER_PORT"; FOLLOWER_PID=$NODE_PID

step "setup: the leader runs on for $AFTER_S s under load"
"$CLI" --config "$W/leader/config.yaml" -q load --mode http --rate 200 --accounts 100 --duration "$AFTER_S" \
  > "$L/load.log" 2>&1 || log "the load generator failed (blocks are produced anyway): $(tail -1 "$L/load.log")"
wait_height "$FOLLOWER_PORT" "$(height_of "$LEADER_PORT")" 120 || true

# recover_node TOOL [FLAG...]: the follower's host destroyed, then
# `recover-node ... --start --wait --yes --json` with the FLAGs under
# /usr/bin/time -v; its report gives phases, RTO (with --prove-in-background
# also to serving and to proven) and RPO. A field the report lacks is n/a.
recover_node() {
  local tool=$1 rc=0 t0
  shift
  destroy_host "$FOLLOWER_PID" "$ARCHIVER_PID"
  ARCHIVER_PID=0
  drop_caches
  t0=$(now)
  /usr/bin/time -v -o "$L/$tool.time" "${FC[@]}" --audit-log "$W/operator-audit.log" --json recover-node \
    --node follower --repo "file://$W/offsite/repo" --passphrase-file "$W/repo.pass" \
    --secrets-passphrase-file "$W/secrets.pass" "$@" --start --node-binary "$NODE" --wait "$WAIT_S" --yes \
    > "$L/$tool.json" 2> "$L/$tool.err" || rc=$?
  record "$tool" wall_s "$(secs "$t0" "$(now)")"
  FOLLOWER_PID=$(jq_ "$L/$tool.json" '.get("node_pid") or 0' 2>/dev/null || echo 0)
  adopt_spawned_nodes
  if [ "$FOLLOWER_PID" = 0 ]; then FOLLOWER_PID=$(host_node_pids | head -n1); FOLLOWER_PID=${FOLLOWER_PID:-0}; fi
  if [ "$rc" = 0 ] && [ "$(jq_ "$L/$tool.json" '.get("complete")' 2>/dev/null)" = True ]; then
    python3 - "$L/$tool.json" "$tool" >> "$TSV" <<'PY'
import json, sys
r, tool = json.load(open(sys.argv[1])), sys.argv[2]
def s(ms):  # milliseconds (or null) -> seconds, one decimal
    return "n/a" if ms is None else f"{ms / 1000:.1f}"
phases = {p.get("phase", "?"): p.get("duration_ms") for p in r.get("phases") or []}
print(f"{tool}\tphases\t" + (", ".join(f"{k} {s(v)}" for k, v in phases.items()) or "n/a"))
print(f"{tool}\tstate_s\t{s(phases.get('state'))}")  # fetch + replay (+ proof, unless in the background)
print(f"{tool}\trto_s\t{s(r.get('rto_ms'))}")
print(f"{tool}\trto_serving_s\t{s(r.get('rto_serving_ms'))}")
print(f"{tool}\trto_proven_s\t{s(r.get('rto_proven_ms'))}")
rpo_blocks = r.get("rpo_blocks")
print(f"{tool}\trpo_blocks\t{'n/a' if rpo_blocks is None else rpo_blocks}")
print(f"{tool}\trpo_s\t{'n/a' if r.get('rpo_seconds') is None else format(r['rpo_seconds'], '.1f')}")
print(f"{tool}\trestored_height\t{r.get('recovered_height', 'n/a')}")
print(f"{tool}\ttip\t{'n/a' if r.get('network_tip') is None else r['network_tip']}")
PY
    record "$tool" rss "cli $(time_rss_mib "$L/$tool.time") MiB, node $(peak_rss_mib "$FOLLOWER_PID") MiB"
    check_root "$tool"
  else
    record "$tool" check "FAILED (exit $rc): $(tail -1 "$L/$tool.err")"
    log "$tool: recover-node failed (exit $rc):"; tail -5 "$L/$tool.err" >&2
  fi
}

# follower_up: the follower's host as (a) finds it after the setup: its node
# running (else, e.g. after a failed recovery, put back from the operator's
# copy of the config and a restore of the newest snapshot) and its archiver
# running (a service of its own; recover-node does not start it), caught up.
follower_up() {
  if ! api "$FOLLOWER_PORT" /v1/health >/dev/null 2>&1; then
    local p
    for p in $(host_node_pids); do stop_pid "$p" KILL; done  # one that answers 503 (a proof stuck or failed)
    rm -rf "$HOST" && mkdir -p "$HOST" && cp "$W/config-management/follower.yaml" "$HOST/config.yaml"
    "${FC[@]}" -q restore latest --target "$HOST/data" >&2
    start_node follower "$FOLLOWER_PORT"; FOLLOWER_PID=$NODE_PID
  fi
  [ "$ARCHIVER_PID" != 0 ] || start_archiver
}

# ------------------------------------------------------------------ (a) ours
if [[ " $STEPS " == *" recover "* ]]; then
  step "(a) recover-node: host destroyed"
  recover_node recover
fi

# ------------------------------------- (a2) ours, the proof in the background
if [[ " $STEPS " == *" recover-bg "* ]]; then
  # As (a) found it: the follower and its archiver running, caught up.
  follower_up
  step "(a2) recover-node --prove-in-background: host destroyed"
  recover_node recover-bg --prove-in-background
fi

# ----------------------------------------------------------------- (b) drill
if [[ " $STEPS " == *" drill "* ]]; then
  # The recovered host runs its archiver again: the drill's point is the
  # archive's end.
  follower_up
  step "(b) drill against the running network"
  drop_caches
  rc=0
  /usr/bin/time -v -o "$L/drill.time" "${FC[@]}" --json drill --timeout "$WAIT_S" --node-binary "$NODE" \
    > "$L/drill.json" 2> "$L/drill.err" || rc=$?
  if [ -s "$L/drill.json" ]; then
    python3 - "$L/drill.json" >> "$TSV" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
print("drill\tphases\t" + ", ".join(f"{p['name']} {p['duration_ms'] / 1000:.1f}" for p in r["phases"]))
print(f"drill\trto_s\t{r['rto_ms'] / 1000:.1f}")
print(f"drill\trpo_blocks\t{r['rpo_blocks']}")
print(f"drill\trpo_s\t{r['rpo_ms'] / 1000:.1f}")
print(f"drill\trestored_height\t{r['restored_height']}")
print(f"drill\ttip\t{r['network_tip']}")
checks = [c["name"] for c in r["checks"] if not c["ok"]]
print("drill\tcheck\t" + (f"checks passed (state-root at height {r['proven_height']})" if r["ok"] else "FAILED: " + ", ".join(checks)))
PY
    record drill rss "cli with its sandbox node $(time_rss_mib "$L/drill.time") MiB"
  else
    record drill check "FAILED (exit $rc): $(tail -1 "$L/drill.err")"
  fi
  [ "$rc" = 0 ] || { log "drill exit $rc:"; tail -5 "$L/drill.err" >&2; }
fi

# ------------------------------------------------- (c) by hand: restic restore
if [[ " $STEPS " == *" restic "* ]]; then
  step "(c) restic restore: host destroyed"
  destroy_host "$FOLLOWER_PID" "$ARCHIVER_PID"
  ARCHIVER_PID=0
  mkdir -p "$HOST" && cp "$W/config-management/follower.yaml" "$HOST/config.yaml"
  drop_caches
  TIP=$(height_of "$LEADER_PORT")
  t0=$(now)
  /usr/bin/time -v -o "$L/restic.time" restic -q restore latest --target "$HOST/data" > "$L/restic-restore.log" 2>&1
  t1=$(now)
  start_node follower "$FOLLOWER_PORT"; FOLLOWER_PID=$NODE_PID
  t2=$(now)
  if wait_height "$FOLLOWER_PORT" "$TIP" "$WAIT_S"; then
    t3=$(now)
    record restic phases "restore $(secs "$t0" "$t1"), start $(secs "$t1" "$t2"), catch-up $(secs "$t2" "$t3")"
    record restic restore_s "$(secs "$t0" "$t1")"
    record restic rto_s "$(secs "$t0" "$t3")"
    rpo restic "$TIP" "$SNAP_HEIGHT"
    record restic restored_height "$SNAP_HEIGHT"
    record restic tip "$TIP"
    record restic rss "restic $(time_rss_mib "$L/restic.time") MiB, node $(peak_rss_mib "$FOLLOWER_PID") MiB"
    check_root restic
  else
    record restic check "FAILED: not at the tip $TIP within $WAIT_S s"
  fi
fi

# ------------------------------------------- (d) by hand: resync from genesis
if [[ " $STEPS " == *" resync "* ]]; then
  step "(d) resync from genesis: empty data dir"
  [ -n "${FOLLOWER_PID:-}" ] && stop_pid "$FOLLOWER_PID" KILL
  rm -rf "$HOST/data"
  mkdir -p "$HOST" && cp "$W/config-management/follower.yaml" "$HOST/config.yaml"
  drop_caches
  TIP=$(height_of "$LEADER_PORT")
  t0=$(now)
  start_node follower "$FOLLOWER_PORT"; FOLLOWER_PID=$NODE_PID
  t1=$(now)
  if wait_height "$FOLLOWER_PORT" "$TIP" "$RESYNC_TIMEOUT"; then
    t2=$(now)
    record resync phases "start $(secs "$t0" "$t1"), catch-up $(secs "$t1" "$t2")"
    record resync rto_s "$(secs "$t0" "$t2")"
    check_root resync
  else
    h=$(height_of "$FOLLOWER_PORT" || echo 0)
    record resync phases "start $(secs "$t0" "$t1"), catch-up cut off at $RESYNC_TIMEOUT s at height $h of $TIP"
    record resync rto_s "> $(secs "$t0" "$(now)") (about $(python3 -c "print(round(($(now) - $t0) * $TIP / max($h, 1)))") at this rate)"
    record resync check "cut off (height $h of $TIP)"
  fi
  rpo resync "$TIP" 0
  record resync restored_height 0
  record resync tip "$TIP"
  record resync rss "node $(peak_rss_mib "$FOLLOWER_PID") MiB"
fi
step "done"

# ------------------------------------------------------------------- table
DROPPED=$DROP python3 - "$TSV" "$RESULTS" "$SIZE" <<'PY'
import os, sys
tsv, md, size = sys.argv[1:4]
v, loads = {}, []
for line in open(tsv):
    tool, key, val = line.rstrip("\n").split("\t", 2)
    if tool == "load":
        loads.append((key, val))
    else:
        v.setdefault(tool, {})[key] = val
def g(tool, key):
    return v.get(tool, {}).get(key, "n/a")
def ratio(a, b):  # "2.1x", or "" when either is not a number
    try:
        return f"{float(a) / float(b):.1f}x"
    except (ValueError, ZeroDivisionError):
        return ""
# Issue 16's target, restore + proof <= 1.5x the plain restore, as this run
# measured it: the proof inside recover-node's state phase (foreground), or
# after it with the node gated (background), against restic's restore.
def restore_and_proof():
    if "recover" not in v and "recover-bg" not in v:
        return "Restore + proof against the plain restore: not measured (neither recover nor recover-bg in BENCH_STEPS)."
    plain = g("restic", "restore_s")
    def at(x, *against):  # "3.5 s (1.1x that restore, 0.9x restic's restore)"; "n/a" for a missing value
        if x == "n/a":
            return "n/a"
        ratios = [f"{ratio(x, b)} {name}" for b, name in against if ratio(x, b)]
        return f"{x} s" + (f" ({', '.join(ratios)})" if ratios else "")
    parts = []
    if "recover" in v:
        parts.append("foreground (`recover-node`): state phase (fetch + replay + proof) "
                     + at(g("recover", "state_s"), (plain, "restic's restore")))
    if "recover-bg" in v:
        bg = g("recover-bg", "state_s")
        ours = (bg, "our unproven restore")
        parts.append(f"background (`--prove-in-background`): state phase (fetch + replay, unproven) {at(bg, (plain, 'restic')) }, "
                     f"serving with the proof running at {at(g('recover-bg', 'rto_serving_s'), ours, (plain, 'restic'))}, "
                     f"proven at {at(g('recover-bg', 'rto_proven_s'), ours, (plain, 'restic'))}")
    parts.append(f"restic's plain restore {plain} s" if plain != "n/a" else "restic's plain restore not run (BENCH_STEPS)")
    return ("Restore + proof against the plain restore (issue 16: <= 1.5x), this run: " + "; ".join(parts) +
            ". Serving and proven count from the command's start (its config phase included); a gated node answers "
            "only /v1/status, /v1/health and /metrics until proven.")
sys.path.insert(0, "bench")
from machine import machine, version
s = v.get("setup", {})
names = {"recover": "ours: `recover-node` (host lost)",
         "recover-bg": "ours: `recover-node --prove-in-background` (host lost)", "drill": "ours: `drill` (sandbox, network running)",
         "restic": "by hand: `restic restore` + node start + catch-up", "resync": "by hand: resync from genesis (follower path)"}
out = [f"## {size} of state ({int(s.get('data_bytes', 0)) / 2**20:.0f} MiB on disk)\n",
       f"Chain: {s.get('dataset_height', '?')} blocks in the dataset; state snapshot (ours) and restic backup of the "
       f"same stopped data dir at height {s.get('snapshot_height', '?')}; the leader then ran on under load. "
       "RTO: wall seconds from the start of the recovery until the node holds the leader's tip at that start. "
       "RPO: what the recovered state lacked against that tip (the rest came from the leader). "
       + ("Page cache dropped before each recovery." if os.environ.get("DROPPED") == "yes" else "Page cache NOT dropped.") + "\n",
       "| tool | phases (s) | RTO s | RPO blocks | RPO s | peak RSS | checked |",
       "|---|---|---:|---:|---:|---|---|"]
TOOLS = ("recover", "recover-bg", "drill", "restic", "resync")
for t in ("recover", "recover-bg"):
    if "wall_s" in v.get(t, {}) and "phases" in v[t]:
        v[t]["phases"] += f"; the whole command {v[t]['wall_s']}"
if "recover-bg" in v and "rto_s" in v["recover-bg"]:
    v["recover-bg"]["rto_s"] += f" (serving {g('recover-bg', 'rto_serving_s')}, proven {g('recover-bg', 'rto_proven_s')})"
for t in TOOLS:
    if t in v:
        out.append(f"| {names[t]} | {g(t, 'phases')} | {g(t, 'rto_s')} | {g(t, 'rpo_blocks')} | {g(t, 'rpo_s')} | {g(t, 'rss')} | {g(t, 'check')} |")
out += ["",
        "Restored height / tip at the start: " + "; ".join(f"{t} {g(t, 'restored_height')} / {g(t, 'tip')}" for t in TOOLS if t in v) + ".",
        restore_and_proof(),
        f"Setup (not in the table): archive run from genesis caught up in {s.get('archive_catch_up_s', '?')} s; "
        f"`backup state --offline` {s.get('ours_backup_s', '?')} s; `restic backup` {s.get('restic_backup_s', '?')} s.",
        "Notes: recover-node's phases are config, key (none on a follower), state (snapshot fetch, archive replay, proof), "
        "start (node spawned, caught up) and health (deep health check); with `--prove-in-background` the state phase "
        "swaps the restored state in unproven and the start phase holds the node's proof (gated: nothing applied or "
        "served but its status until proven), its RTO cell gives the times to serving and to proven, and the host was "
        "destroyed again only once the follower and its archiver ran again, caught up, as (a) found it. recover-node's RPO is measured against the tip when it began, "
        "with the archive rolling the snapshot forward to the last block archived before the host died. The drill's RTO is "
        "fetch + replay + proof + start + catch-up (its compare step is not in it). By hand, the config came back from the "
        "operator's own copy (not timed); nothing checks a restic-restored data dir before the node opens it (ours "
        "proves the restored state, its proof phase, before the swap), and restic holds nothing newer than its "
        "snapshot (ours rolls the snapshot forward with the block archive). Peak RSS: `/usr/bin/time -v` of the command (the drill's includes its sandbox "
        "node, a child), the node's VmHWM where it runs on.",
        "",
        f"Machine: {machine()}; checkout {version(['git', 'rev-parse', '--short', 'HEAD'])}; {version(['restic', 'version'])}.",
        # Shared: its numbers are upper bounds, and the load says how far off.
        f"The machine was shared: other engineers built and tested C++ on it during the run; this benchmark ran at nice {os.nice(0)} "
        "(their builds, `ailee-build`, run at nice 5 and their tests at 0: a higher niceness gets the smaller share of the cores).",
        "",
        "Load average (1, 5, 15 min) at each step:",
        ""]
out += [f"- {k}: {l}" for k, l in loads]
section = "\n".join(out) + "\n"
print(section)

# The file keeps one section per size (a quick 256MiB run does not erase the
# 2GiB one): this size's section is replaced, the others kept, largest first.
def size_bytes(name):
    units = {"KiB": 2**10, "MiB": 2**20, "GiB": 2**30, "TiB": 2**40}
    unit = next((u for u in units if name.endswith(u)), None)
    try:
        return float(name[:-3]) * units[unit] if unit else float(name)
    except ValueError:
        return 0
sections = {}
if os.path.exists(md):
    for chunk in open(md).read().split("\n## ")[1:]:
        sections[chunk.split(" ", 1)[0]] = "## " + chunk.rstrip("\n") + "\n"
sections[size] = section
head = ("# Recovery benchmark: a lost follower\n\n"
        "One section per dataset size (`BENCH_SIZE`); `bash bench/run-recover-bench.sh` rewrites its size's section "
        "and keeps the others.\n")
open(md, "w").write(head + "".join("\n" + sections[k] for k in sorted(sections, key=size_bytes, reverse=True)))
PY
