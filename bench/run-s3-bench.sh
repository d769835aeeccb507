#!/usr/bin/env bash
# One command: backup and restore throughput to a real S3 server on loopback,
# ours beside the runbook's `aws s3 sync` and restic's S3 backend, each into
# its own bucket of the same server, on the same node state, each tool's whole
# sequence repeated and the median kept:
#
#   bash bench/run-s3-bench.sh
#
# Tools (BENCH_TOOLS):
#   ours       ailee-cli repository at s3://bench-ours/repo: backup state --offline
#              (full, then incremental), restore latest --target --no-verify, then
#              the state-root proof that restore runs by default (verify-state of
#              the restored dir, its own column), verify --read-data
#   ours-ckpt  the runbook's path in our tool: create-checkpoint --offline --output
#              s3://bench-ckpt/ckpt-N (every checkpoint is a complete upload), then
#              apply-checkpoint s3://bench-ckpt/ckpt-2 --target DIR
#   aws        `aws s3 sync CHECKPOINT s3://bench-aws/ckpt --delete` (the second sync
#              uploads the new and changed files), restore: `aws s3 sync s3://... DIR`
#   restic     `restic -r s3:.../bench-restic/repo` backup (full, incremental), restore latest
# aws and restic back up a checkpoint directory (`create-checkpoint --offline
# --output DIR`); ours make theirs from the stopped data dir, the same state.
#
# Every restore is checked before its numbers count: ours with
# `ailee-cli verify-state` (state root recomputed; height and root must equal
# the churned checkpoint's manifest), aws and restic with `diff -r` against
# the churned checkpoint. A run whose check fails (or that stops at a failed
# or timed-out step) is shown in the every-run table and left out of the medians.
#
# Runs: BENCH_REPEAT of them, interleaved (run 1 of every tool, then run 2,
# ...) as in run-repo-bench.sh, so that a change in the machine's load hits
# every tool alike; the 1-minute load average before each step is recorded.
# Every run of a tool starts clean: its own new bucket (bench-TOOL-RUN,
# removed once its stored size is taken), a fresh copy of the base, an empty
# restore dir and no client cache, so run 2 is a full backup again.
#
# The server: tests/s3/s3-server.sh start $BENCH_S3_KIND bench-run/s3-server-KIND
# (fresh, stopped at exit). Credentials reach every tool through the
# environment only (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION); the
# endpoint through our config's backup.s3.endpoint, aws's --endpoint-url and
# restic's URL.
#
# The dataset is run-repo-bench.sh's, cached in bench-run/repo-dataset-$BENCH_SIZE
# (built by `BENCH_PHASE=dataset bench/run-repo-bench.sh` when missing: base/
# from `ailee-cli load --mode bulk --target-size`, churned/ = base plus
# ${BENCH_CHURN_PCT}% more transactions), plus offline checkpoints of both in
# bench-run/s3-dataset-$BENCH_SIZE. Each tool starts from a copy of the base;
# the churn is then applied in place (only changed files rewritten, with a
# fresh mtime, as a node writes them), so every incremental sees the same bytes.
#
# Knobs (environment):
#   BENCH_SIZE=1GiB          dataset size (256MiB for a quick run)
#   BENCH_REPEAT=3           runs per tool; the tables show the median, the TSV every run
#   BENCH_CHURN_PCT=5        churn as a percentage of the base transactions
#   BENCH_TOOLS="ours ours-ckpt aws restic"
#   BENCH_S3_KIND=swift      or ceph
#   BENCH_RESTIC_TLS=auto    put restic behind a TLS front on loopback (auto: with swift; see below)
#   BENCH_RESTIC_TIMEOUT=600 seconds each restic command may take before it is stopped and its
#                            step recorded as TIMEOUT (restic once stalled on Ceph)
#   BUILD_DIR=build-bench    build tree (configured if missing)
#   BENCH_BIN_DIR            use binaries from this build tree instead of building
#   BENCH_KDF_MIB=256        Argon2id memory of our repository's key slot (the default)
#   BENCH_NO_DROP_CACHES=1   do not drop the page cache (it is dropped only as root anyway)
#   AILEE_AWS_CLI            the aws binary (default /usr/bin/aws, Debian's)
# Output: Markdown tables on stdout and in bench/RESULTS-s3.md (Swift) or
# bench/RESULTS-s3-ceph.md (BENCH_S3_KIND=ceph): medians per tool and step,
# then every run's wall time and load; raw timings of every run (status,
# wall, client CPU, server CPU, peak RSS, load) in bench-run/s3-bench.tsv;
# every command's output in bench-run/s3-logs/run-N/ (kept until the next run).
#
# restic and Swift: restic 0.14 (minio-go) signs PUTs over plain http with
# streaming "aws-chunked" payloads, which Swift's s3api refuses ("Transfering
# payloads in multiple chunks using aws-chunked is not supported", 501); no
# restic option turns that off (s3.bucket-lookup=path and s3.region do not).
# Over https minio-go sends whole payloads, so with Swift restic talks to the
# server through bench/s3/tls_front.py (a TLS relay on loopback, self-signed
# certificate passed with --cacert). Ceph's radosgw takes aws-chunked: no front.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
T_START=$(date +%s)
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
SIZE=${BENCH_SIZE:-1GiB}
CHURN_PCT=${BENCH_CHURN_PCT:-5}
TOOLS=${BENCH_TOOLS:-"ours ours-ckpt aws restic"}
KIND=${BENCH_S3_KIND:-swift}
KDF_MIB=${BENCH_KDF_MIB:-256}
RESTIC_TLS=${BENCH_RESTIC_TLS:-auto}
RESTIC_TIMEOUT=${BENCH_RESTIC_TIMEOUT:-600}
REPEAT=${BENCH_REPEAT:-3}
[[ "$REPEAT" =~ ^[1-9][0-9]*$ ]] || { echo "BENCH_REPEAT must be a positive integer, not '$REPEAT'" >&2; exit 2; }
[ "$RESTIC_TLS" = auto ] && { [ "$KIND" = swift ] && RESTIC_TLS=1 || RESTIC_TLS=0; }
if [ -n "${AILEE_AWS_CLI:-}" ]; then AWS=$AILEE_AWS_CLI
elif [ -x /usr/bin/aws ]; then AWS=/usr/bin/aws
else AWS=$(command -v aws); fi
OUT=$ROOT/bench-run
DS=$OUT/repo-dataset-$SIZE
CK=$OUT/s3-dataset-$SIZE
W=$OUT/s3-work
L=$OUT/s3-logs
SRV=$OUT/s3-server-$KIND
TLS=$OUT/s3-tls
# One results file per server kind: Swift's is the issue's reference.
RESULTS=$ROOT/bench/RESULTS-s3.md
[ "$KIND" = swift ] || RESULTS=$ROOT/bench/RESULTS-s3-$KIND.md
mkdir -p "$OUT"

log() { printf '\033[1m[s3-bench]\033[0m %s\n' "$*" >&2; }
NOTES=()
note() { log "note: $*"; NOTES+=("$*"); }

bash scripts/install-deps.sh >&2

# bench_bin, bench_config, changed_bytes, apply_churn
source bench/lib.sh
bench_bin ailee-cli
CLI=$BIN/src/cli/ailee-cli
[ -x "$CLI" ] || { echo "no ailee-cli at $CLI" >&2; exit 1; }

# ------------------------------------------------------------------ dataset
T_DATASET=$(date +%s)
if [ ! -f "$DS/.complete" ]; then
  log "building the $SIZE dataset with bench/run-repo-bench.sh (once; both benchmarks reuse it)"
  BENCH_PHASE=dataset BENCH_SIZE=$SIZE BENCH_CHURN_PCT=$CHURN_PCT BENCH_BIN_DIR=$BIN bash bench/run-repo-bench.sh
fi

# backup.s3 points at our server.
write_config() { bench_config "$1" "$2" "$3" "  s3:
    endpoint: ${S3_ENDPOINT:-http://127.0.0.1:1}"; }  # FILE DATA_DIR REPO_URL

# Offline checkpoints of base/ and churned/, made from throwaway copies (an
# offline checkpoint opens the data dir read-write; the shared dataset stays
# as run-repo-bench.sh left it). SST files are hard links into the copies.
if [ ! -f "$CK/.complete" ]; then
  log "making offline checkpoints of the dataset in $CK (once)"
  rm -rf "$CK" && mkdir -p "$CK" "$W"
  [ -f "$W/pass" ] || { echo unused > "$W/pass"; chmod 600 "$W/pass"; }  # the config must validate
  for s in base churned; do
    cp -a "$DS/$s" "$CK/$s.data"
    write_config "$CK/$s.yaml" "$CK/$s.data" "file://$CK/unused"
    "$CLI" --config "$CK/$s.yaml" -q create-checkpoint --offline --data-dir "$CK/$s.data" --output "$CK/$s" >&2
    rm -rf "$CK/$s.data" "$CK/$s.yaml"
  done
  touch "$CK/.complete"
fi
T_DATASET=$(( $(date +%s) - T_DATASET ))

BASE_BYTES=$(du -sb "$CK/base" | cut -f1)
CHURN_BYTES=$(du -sb "$CK/churned" | cut -f1)
manifest() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1/AILEE-CHECKPOINT.json" "$2"; }
CHURN_HEIGHT=$(manifest "$CK/churned" height)
CHURN_ROOT=$(manifest "$CK/churned" state_root)
CHANGED_BYTES=$(changed_bytes "$CK/base" "$CK/churned")
log "dataset: checkpoint of base $((BASE_BYTES >> 20)) MiB, churned $((CHURN_BYTES >> 20)) MiB ($((CHANGED_BYTES >> 20)) MiB in new or changed files), churned height $CHURN_HEIGHT"

# Make DIR equal to SRC (bench/lib.sh). Rewritten files get a fresh mtime, as
# files the node writes now would: `aws s3 sync` uploads a same-size file
# only when it is newer.
apply_fresh_churn() { apply_churn "$1" "$2" fresh; }  # SRC DIR

# ------------------------------------------------------------------- server
TLS_PID=
cleanup() {
  if [ -n "$TLS_PID" ]; then kill "$TLS_PID" 2>/dev/null || true; fi
  bash tests/s3/s3-server.sh stop "$KIND" "$SRV" >/dev/null 2>&1 || true
  # The buckets (several GiB; the next start wipes them anyway). Logs stay.
  rm -rf "${SRV:?}/data"
}
trap cleanup EXIT

log "starting a fresh $KIND server in $SRV"
bash tests/s3/s3-server.sh stop "$KIND" "$SRV" >/dev/null 2>&1 || true
# radosgw frees a removed bucket's objects only at its garbage collection
# (hours later), so every run's data stays on the OSD: 4 GiB (the tests'
# size) filled during the first run's restic backup, after which every write
# blocked (restic stalled to its timeout, later buckets could not be made).
# The OSD is a sparse file: only what is written takes room.
S3_CEPH_OSD_GIB=${S3_CEPH_OSD_GIB:-$(( ($(numfmt --from=iec-i "${SIZE%B}") >> 30) * 6 * REPEAT + 8 ))} \
  bash tests/s3/s3-server.sh start "$KIND" "$SRV"
set -a
# shellcheck disable=SC1091
. "$SRV/env"
set +a
S3_ENDPOINT=$AILEE_TEST_S3_ENDPOINT
# Each tool is given the endpoint explicitly; keep only the credentials,
# the region and the aws CLI's path-style config in the environment.
unset AWS_ENDPOINT_URL AWS_ENDPOINT_URL_S3
SERVER_PIDS=()
for f in $AILEE_TEST_S3_PID_FILES; do SERVER_PIDS+=("$(cat "$f")"); done
case $KIND in
  swift) SERVER_VERSION="Swift $(/usr/bin/python3 -c 'import swift; print(swift.__version__)' 2>/dev/null || echo '?') (s3api, one process per server)" ;;
  ceph) SERVER_VERSION="Ceph radosgw $(radosgw --version 2>/dev/null | awk '{print $3; exit}')" ;;
esac
aws_() { "$AWS" --endpoint-url "$S3_ENDPOINT" "$@"; }

# The runbook syncs with --storage-class STANDARD_IA: offered only if the server takes it.
AWS_CLASS=()
echo probe > "$OUT/s3-probe.txt"
aws_ s3 mb s3://bench-probe >/dev/null
if aws_ s3 cp --only-show-errors --storage-class STANDARD_IA "$OUT/s3-probe.txt" s3://bench-probe/probe 2> "$OUT/s3-probe.err"; then
  AWS_CLASS=(--storage-class STANDARD_IA)
  note "aws s3 sync runs with the runbook's --storage-class STANDARD_IA ($KIND accepts it)."
else
  # Ceph answers 400 InvalidArgument with an empty message, on which aws 2.9
  # fails with "argument of type 'NoneType' is not iterable".
  why=$(sed -n 's/.*\(An error occurred.*\)/\1/p' "$OUT/s3-probe.err" | head -1)
  [ -n "$why" ] || why=$(tail -1 "$OUT/s3-probe.err" | sed 's/^upload failed: [^ ]* to [^ ]* //')
  note "$KIND refuses the runbook's --storage-class STANDARD_IA (aws: \"$why\"): aws s3 sync runs without it (bucket default, STANDARD)."
fi
rm -f "$OUT/s3-probe.txt"

DROP=no
if [ -z "${BENCH_NO_DROP_CACHES:-}" ] && [ "$(id -u)" -eq 0 ] && sync && echo 3 2>/dev/null > /proc/sys/vm/drop_caches; then
  DROP=yes
fi
drop_caches() { sync; [ "$DROP" = yes ] && echo 3 > /proc/sys/vm/drop_caches; return 0; }

TICK=$(getconf CLK_TCK)
# CPU seconds the server's processes (and the TLS front) have used so far.
server_cpu() {
  local pid t=0 c
  for pid in "${SERVER_PIDS[@]}" $TLS_PID; do
    c=$(awk '{sub(/.*\) /, ""); print $12 + $13}' "/proc/$pid/stat" 2>/dev/null || echo 0)
    t=$((t + c))
  done
  echo "$t"
}

TSV=$OUT/s3-bench.tsv
printf 'run\ttool\tstep\tstatus\tseconds\tbytes\tclient_cpu\tserver_cpu\trss_kib\tload1\n' > "$TSV"
rm -rf "$L" && mkdir -p "$L"
RUN=0
LR=$L  # this run's logs: $L/run-$RUN
load1() { cut -d' ' -f1 /proc/loadavg; }
# row TOOL STEP STATUS SECONDS BYTES CLIENT_CPU SERVER_CPU RSS_KIB LOAD: one TSV line of this run.
row() { local IFS=$'\t'; echo "$RUN$IFS$*" >> "$TSV"; }
# timed [--warm] [--timeout SECONDS] TOOL STEP BYTES CMD...: cold cache
# (unless --warm), wall time of CMD, with the client's CPU (user+sys,
# children included), the server's, the client's peak RSS and the load
# average before the step; one TSV row. Returns 1 when CMD failed or was
# stopped at the timeout (status TIMEOUT), so the tool's run can stop there.
timed() {
  local warm=0 limit=0
  while :; do
    case $1 in
      --warm) warm=1; shift ;;
      --timeout) limit=$2; shift 2 ;;
      *) break ;;
    esac
  done
  local tool=$1 step=$2 bytes=$3; shift 3
  local f=$LR/$tool-$step
  [ "$limit" = 0 ] || set -- timeout --kill-after=30 "$limit" "$@"
  [ "$warm" = 1 ] || drop_caches
  local load s0 s1 t0 t1 rc=0 times status=ok
  load=$(load1)
  s0=$(server_cpu)
  t0=$(date +%s.%N)
  # Peak RSS (KiB) of the command, its waited-for children included.
  { TIMEFORMAT='%U %S'; time /usr/bin/time -f %M -o "$f.rss" "$@" > "$f.out" 2> "$f.err"; } 2> "$f.time" || rc=$?
  t1=$(date +%s.%N)
  s1=$(server_cpu)
  if [ "$rc" != 0 ]; then
    status=FAILED
    # timeout(1) exits 124 when SIGTERM stopped CMD, 137 when it took SIGKILL.
    if [ "$limit" != 0 ] && { [ "$rc" = 124 ] || [ "$rc" = 137 ]; }; then status=TIMEOUT; fi
  fi
  read -r -a times < "$f.time"
  local wall cpu scpu rss
  rss=$(tail -1 "$f.rss")
  [[ "$rss" =~ ^[0-9]+$ ]] || rss=""
  wall=$(python3 -c "print(f'{$t1 - $t0:.2f}')")
  cpu=$(python3 -c "print(f'{${times[0]} + ${times[1]}:.2f}')")
  scpu=$(python3 -c "print(f'{($s1 - $s0) / $TICK:.2f}')")
  row "$tool" "$step" "$status" "$wall" "$bytes" "$cpu" "$scpu" "$rss" "$load"
  if [ "$status" != ok ]; then
    log "$tool $step $status after $wall s (run $RUN, exit $rc):"; tail -5 "$f.err" >&2
    return 1
  fi
  log "$tool $step: $wall s (run $RUN, load $load; client CPU $cpu s, server CPU $scpu s, peak RSS $((rss >> 10)) MiB)"
}
# check TOOL WHAT CMD...: a correctness check of this run's restore (not
# timed in the table, but its wall time is kept); a failure marks the run.
check() {
  local tool=$1 what=$2 t0 t1 load status; shift 2
  load=$(load1)
  t0=$(date +%s.%N)
  if "$@" > "$LR/$tool-check.out" 2>&1; then status=ok; else status="FAILED: $what"; fi
  t1=$(date +%s.%N)
  row "$tool" check "$status" "$(python3 -c "print(f'{$t1 - $t0:.2f}')")" 0 "" "" "" "$load"
  if [ "$status" = ok ]; then
    log "$tool check: $what: ok (run $RUN)"
  else
    log "$tool check FAILED (run $RUN): $what:"; tail -5 "$LR/$tool-check.out" >&2
  fi
}
# setup [--timeout SECONDS] TOOL WHAT CMD...: an untimed command the tool's
# steps need (a bucket, a repository); a failure (or the timeout) is
# recorded and ends this run of the tool.
setup() {
  local limit=0 rc=0 status=FAILED
  [ "$1" = --timeout ] && { limit=$2; shift 2; }
  local tool=$1 what=$2; shift 2
  [ "$limit" = 0 ] || set -- timeout --kill-after=30 "$limit" "$@"
  "$@" >> "$LR/$tool-setup.log" 2>&1 || rc=$?
  [ "$rc" = 0 ] && return 0
  if [ "$limit" != 0 ] && { [ "$rc" = 124 ] || [ "$rc" = 137 ]; }; then status=TIMEOUT; fi
  log "$tool setup $status (run $RUN): $what:"; tail -5 "$LR/$tool-setup.log" >&2
  row "$tool" setup "$status: $what" "" 0 "" "" "" "$(load1)"
  return 1
}
stored() {  # TOOL: bytes of every object in this run's bucket
  local n
  n=$(aws_ s3 ls --recursive --summarize "s3://$BUCKET" | awk '/Total Size:/ {print $3}') || n=""
  if [ -n "$n" ]; then row "$1" size ok "" "$n" "" "" "" ""
  else row "$1" size FAILED "" 0 "" "" "" ""; fi
}

state_is_churned() {  # DIR: verify-state (warm) and proof_is_churned
  "$CLI" --config "$W/cfg.yaml" --json verify-state "$1" > "$LR/verify-state.json" && proof_is_churned "$LR/verify-state.json"
}
# The restored state proved out (`verify-state --json` output FILE: state
# root recomputed from scratch, blocks and signatures checked) and is the
# churned checkpoint's state: same height, same root.
proof_is_churned() {  # FILE
  python3 - "$1" "$CHURN_HEIGHT" "$CHURN_ROOT" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
ok = j["ok"] and j["height"] == int(sys.argv[2]) and j["state_root"] == sys.argv[3]
print(f"verify-state: ok={j['ok']} height={j['height']} (want {sys.argv[2]}) state_root={j['state_root']} (want {sys.argv[3]})")
sys.exit(0 if ok else 1)
PY
}

fresh_work() {  # SOURCE: base data dir or base checkpoint
  rm -rf "$W" && mkdir -p "$W"
  head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$W/pass"; chmod 600 "$W/pass"
  case $1 in
    data) cp -a "$DS/base" "$W/data" ;;
    checkpoint) cp -al "$CK/base" "$W/src" ;;  # safe: apply_churn replaces files, never writes into them
  esac
  write_config "$W/cfg.yaml" "$W/data" "s3://$BUCKET/repo"
  sync
}

run_ours() {
  fresh_work data
  local C=("$CLI" --config "$W/cfg.yaml")
  setup ours "make bucket $BUCKET" aws_ s3 mb "s3://$BUCKET" || return 0
  setup ours "repo init" "${C[@]}" -q repo init --repo "s3://$BUCKET/repo" --kdf-memory-mib "$KDF_MIB" || return 0
  timed ours full "$BASE_BYTES" "${C[@]}" --json backup state --offline || return 0
  apply_fresh_churn "$DS/churned" "$W/data"
  timed ours incremental "$CHURN_BYTES" "${C[@]}" --json backup state --offline || return 0
  # The table's restore is the transfer (every file is still checked against
  # its SHA-256); the state-root proof that `restore` runs by default is the
  # next step, on its own, warm as it would run right after the restore.
  timed ours restore "$CHURN_BYTES" "${C[@]}" --json restore latest --target "$W/restore" --no-verify || return 0
  timed --warm ours proof "$CHURN_BYTES" "${C[@]}" --json verify-state "$W/restore" || true
  check ours "verify-state of the restored dir" proof_is_churned "$LR/ours-proof.out"
  timed ours verify "$CHURN_BYTES" "${C[@]}" --json verify --read-data || true
  # The fixed cost inside every step above: open the repository (Argon2id, index).
  timed ours open 0 "${C[@]}" -q snapshots || true
  stored ours
  for s in full incremental restore; do
    python3 - "$LR/ours-$s.out" "$s" "$RUN" >&2 <<'PY' || true
import json, sys
j = json.load(open(sys.argv[1]))
keys = ["seconds", "bytes_total", "bytes_read", "bytes_new", "bytes_stored", "packs_written", "files", "files_unchanged", "files_reused", "bytes_fetched"]
print(f"[s3-bench] ours {sys.argv[2]} --json (run {sys.argv[3]}): " + ", ".join(f"{k}={j[k]}" for k in keys if k in j))
PY
  done
}

run_ours_ckpt() {
  fresh_work data
  local C=("$CLI" --config "$W/cfg.yaml")
  setup ours-ckpt "make bucket $BUCKET" aws_ s3 mb "s3://$BUCKET" || return 0
  timed ours-ckpt full "$BASE_BYTES" "${C[@]}" --json create-checkpoint --offline --output "s3://$BUCKET/ckpt-1" || return 0
  apply_fresh_churn "$DS/churned" "$W/data"
  timed ours-ckpt incremental "$CHURN_BYTES" "${C[@]}" --json create-checkpoint --offline --output "s3://$BUCKET/ckpt-2" || return 0
  timed ours-ckpt restore "$CHURN_BYTES" "${C[@]}" --json apply-checkpoint "s3://$BUCKET/ckpt-2" --target "$W/restore" || return 0
  # apply-checkpoint proved the downloaded state before applying it; this
  # proves what it applied.
  check ours-ckpt "verify-state of the applied dir" state_is_churned "$W/restore"
  stored ours-ckpt
}

run_aws() {
  fresh_work checkpoint
  setup aws "make bucket $BUCKET" aws_ s3 mb "s3://$BUCKET" || return 0
  local A=("$AWS" --endpoint-url "$S3_ENDPOINT" s3 sync --only-show-errors --no-progress)
  timed aws full "$BASE_BYTES" "${A[@]}" "${AWS_CLASS[@]}" "$W/src" "s3://$BUCKET/ckpt" || return 0
  apply_fresh_churn "$CK/churned" "$W/src"
  timed aws incremental "$CHURN_BYTES" "${A[@]}" "${AWS_CLASS[@]}" --delete "$W/src" "s3://$BUCKET/ckpt" || return 0
  timed aws restore "$CHURN_BYTES" "${A[@]}" "s3://$BUCKET/ckpt" "$W/restore" || return 0
  check aws "diff -r against the churned checkpoint" diff -r "$CK/churned" "$W/restore"
  stored aws
}

# The TLS front restic needs with Swift (see the header), started once and
# kept for every run; prints the URL restic is to use.
restic_url() {
  if [ "$RESTIC_TLS" != 1 ]; then echo "$S3_ENDPOINT"; return 0; fi
  if [ -z "$TLS_PID" ]; then
    rm -rf "$TLS" && mkdir -p "$TLS"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj /CN=127.0.0.1 \
      -addext subjectAltName=IP:127.0.0.1 -keyout "$TLS/key.pem" -out "$TLS/cert.pem" 2>/dev/null
    /usr/bin/python3 bench/s3/tls_front.py "$TLS/cert.pem" "$TLS/key.pem" "${S3_ENDPOINT##*:}" "$TLS/port" \
      > "$TLS/front.log" 2>&1 &
    TLS_PID=$!
    for _ in $(seq 100); do [ -s "$TLS/port" ] && break; sleep 0.2; done
  fi
  [ -s "$TLS/port" ] || { echo "the TLS front did not start: $(cat "$TLS/front.log")" >&2; return 1; }
  echo "https://127.0.0.1:$(cat "$TLS/port")"
}

run_restic() {
  fresh_work checkpoint
  setup restic "make bucket $BUCKET" aws_ s3 mb "s3://$BUCKET" || return 0
  local url tls=()
  # Not in a command substitution: the front's pid must reach this shell.
  restic_url > "$W/restic-url" 2>> "$LR/restic-setup.log" || true
  url=$(cat "$W/restic-url")
  setup restic "TLS front" test -n "$url" || return 0
  if [ "$RESTIC_TLS" = 1 ]; then tls=(--cacert "$TLS/cert.pem"); fi
  local -x RESTIC_PASSWORD_FILE=$W/pass RESTIC_CACHE_DIR=$W/restic-cache
  local R=(restic -r "s3:$url/$BUCKET/repo" "${tls[@]}" -o s3.bucket-lookup=path -o "s3.region=$AWS_REGION")
  local T=(--timeout "$RESTIC_TIMEOUT")
  setup "${T[@]}" restic "restic init" "${R[@]}" -q init || return 0
  timed "${T[@]}" restic full "$BASE_BYTES" "${R[@]}" -q backup "$W/src" || return 0
  apply_fresh_churn "$CK/churned" "$W/src"
  timed "${T[@]}" restic incremental "$CHURN_BYTES" "${R[@]}" -q backup "$W/src" || return 0
  timed "${T[@]}" restic restore "$CHURN_BYTES" "${R[@]}" -q restore latest --target "$W/restore" || return 0
  check restic "diff -r against the churned checkpoint" diff -r "$CK/churned" "$W/restore$W/src"
  stored restic
}

# Interleaved: run 1 of every tool, then run 2, ... Each run of a tool gets
# its own new bucket, removed (untimed) once its stored size is taken, so
# the server's disk holds one run's data at a time.
for RUN in $(seq "$REPEAT"); do
  LR=$L/run-$RUN
  mkdir -p "$LR"
  for tool in $TOOLS; do
    log "=== $tool (run $RUN of $REPEAT)"
    BUCKET=bench-${tool#ours-}-$RUN  # ours-ckpt: bench-ckpt-N
    case $tool in
      ours) run_ours ;;
      ours-ckpt) run_ours_ckpt ;;
      aws) run_aws ;;
      restic) run_restic ;;
      *) log "unknown tool $tool"; continue ;;
    esac
    rm -rf "$W"
    aws_ s3 rb --force "s3://$BUCKET" >> "$LR/buckets.log" 2>&1 ||
      log "could not remove bucket $BUCKET (see $LR/buckets.log); the server's data is removed at exit anyway"
  done
done
[ "$RESTIC_TLS" = 1 ] && [[ " $TOOLS " == *" restic "* ]] &&
  note "restic reaches $KIND through bench/s3/tls_front.py (https on loopback, --cacert): over plain http restic 0.14 uploads with aws-chunked payloads, which $KIND's s3api refuses (501, 'Transfering payloads in multiple chunks using aws-chunked is not supported'), and no restic option (s3.bucket-lookup=path, s3.region) changes that. Its server CPU includes the front's."

# ------------------------------------------------------------------- table
T_TOTAL=$(( $(date +%s) - T_START ))
NOTES_TEXT=$(printf '%s\n' "${NOTES[@]}")
export NOTES_TEXT SIZE KIND SERVER_VERSION DROP LOAD_START T_TOTAL T_DATASET KDF_MIB AWS CHURN_PCT REPEAT RESTIC_TIMEOUT
python3 - "$TSV" "$RESULTS" "$BASE_BYTES" "$CHURN_BYTES" "$CHANGED_BYTES" "$L" <<'EOF'
import json, os, statistics, sys, time
tsv, md, base, churn, changed, logs = sys.argv[1], sys.argv[2], *map(int, sys.argv[3:6]), sys.argv[6]
E = os.environ
repeat = int(E["REPEAT"])
RUNS = range(1, repeat + 1)
STEPS = ["full", "incremental", "restore", "proof", "verify", "open"]
num = lambda x: float(x) if x else None
rows, order, loads = {}, [], []  # rows[tool][run][step] = {status, secs, bytes, cpu, scpu, rss, load}
with open(tsv) as f:
    next(f)  # the header line
    for line in f:
        run, tool, step, status, secs, nbytes, cpu, scpu, rss, load = line.rstrip("\n").split("\t")
        if tool not in rows:
            rows[tool] = {}
            order.append(tool)
        rows[tool].setdefault(int(run), {})[step] = dict(status=status, secs=num(secs), bytes=int(nbytes or 0),
                                                        cpu=num(cpu), scpu=num(scpu), rss=num(rss), load=num(load))
        if step in STEPS and load:
            loads.append(float(load))

def verdict(t, run):
    """"ok" when this run's restore was checked and found right; otherwise why not."""
    r = rows[t].get(run, {})
    if "check" in r:
        return r["check"]["status"]
    for st in ["setup", "full", "incremental", "restore"]:  # the step that ended the run
        if st in r and r[st]["status"] != "ok":
            return f"{st} {r[st]['status']}"
    return "not checked" if r else "not run"
def counted(t):
    """The runs whose numbers count: those checked ok (every run that has them if none was: the row says so)."""
    ok = [r for r in RUNS if verdict(t, r) == "ok"]
    return ok or [r for r in RUNS if r in rows[t]]
def values(t, step, key="secs"):
    out = []
    for r in counted(t):
        v = rows[t][r].get(step)
        if v and v["status"] == "ok" and v[key] is not None:
            out.append(v[key])
    return out
def med(t, step, key="secs"):
    v = values(t, step, key)
    return statistics.median(v) if v else None
def secs(t, step):
    m = med(t, step)
    if m is not None:
        return f"{m:.1f}"
    seen = sorted({rows[t][r][step]["status"] for r in rows[t] if step in rows[t][r]})
    return "/".join(seen) if seen else "n/a"
def rate(t, step):
    m = med(t, step)
    nbytes = next((rows[t][r][step]["bytes"] for r in rows[t] if step in rows[t][r]), 0)
    return f"{nbytes / 1e6 / m:.1f}" if m and nbytes else "n/a"
def size(t):
    m = med(t, "size", "bytes")
    return f"{m / 2**20:.0f} MiB" if m is not None else "n/a"
def runs_ok(t):
    ok = [r for r in RUNS if verdict(t, r) == "ok"]
    bad = [f"run {r}: {verdict(t, r)}" for r in RUNS if verdict(t, r) != "ok"]
    return f"{len(ok)} of {repeat}" + (f" ({'; '.join(bad)})" if bad else "")
names = {"ours": "ailee-cli repository (ours)", "ours-ckpt": "ailee-cli checkpoint by URL (ours)",
         "aws": "aws s3 sync", "restic": "restic (S3 backend)"}
sys.path.insert(0, "bench")
from machine import machine, version as ver
commit = ver(["git", "rev-parse", "--short", "HEAD"])
out = []
out.append(f"# S3 benchmark: {E['SIZE']} of node state to a local {E['KIND']} server\n")
out.append("`bash bench/run-s3-bench.sh` (`BENCH_SIZE=" + E["SIZE"] + f"`, `BENCH_REPEAT={repeat}`). Each run of a tool "
           "writes into its own new bucket of one server on loopback, from a fresh copy of the base into an empty "
           "restore directory; the runs are interleaved (run 1 of every tool, then run 2, ...). Full: the base state "
           f"({base / 2**20:.0f} MiB checkpoint); incremental after "
           f"{E['CHURN_PCT']}% more transactions ({churn / 2**20:.0f} MiB, {changed / 2**20:.0f} MiB of it in new or changed files); "
           "restore: the incremental's state into an empty directory. Wall-clock seconds of the whole command, "
           f"median of the {repeat} runs (only runs whose restore checked ok count); "
           "MB/s = checkpoint bytes (base for the full backup, churned for the restore) / median seconds. "
           "Stored size: every object in the tool's bucket after both backups.\n")
out.append("| tool | runs checked ok | full backup s | MB/s | incremental s | restore s | MB/s | state-root proof s | stored size |")
out.append("|---|---|---:|---:|---:|---:|---:|---:|---:|")
def proof(t):
    return {"ours": secs(t, "proof"), "ours-ckpt": "in restore"}.get(t, "none")
for t in order:
    if not any(verdict(t, r) == "ok" for r in RUNS):
        out.append(f"| {names.get(t, t)} | {runs_ok(t)} | {secs(t, 'full')} | — | {secs(t, 'incremental')} | "
                   f"{secs(t, 'restore')} | — | {proof(t)} | {size(t)} (NOT CHECKED OK) |")
        continue
    out.append(f"| {names.get(t, t)} | {runs_ok(t)} | {secs(t, 'full')} | {rate(t, 'full')} | {secs(t, 'incremental')} | "
               f"{secs(t, 'restore')} | {rate(t, 'restore')} | {proof(t)} | {size(t)} |")
out.append("")
out.append("Where the time goes (medians over the same runs, each column on its own): CPU seconds of the client "
           "command, children included, and of the server's processes, during each step, and the client's peak "
           "resident memory (`/usr/bin/time -f %M`):\n")
out.append("| tool | step | wall s | client CPU s | server CPU s | client peak RSS MiB |")
out.append("|---|---|---:|---:|---:|---:|")
for t in order:
    for step in STEPS:
        if med(t, step) is None:
            continue
        f2 = lambda key: "n/a" if med(t, step, key) is None else f"{med(t, step, key):.2f}"
        rss = med(t, step, "rss")
        out.append(f"| {t} | {step} | {med(t, step):.1f} | {f2('cpu')} | {f2('scpu')} | "
                   f"{'n/a' if rss is None else f'{rss / 1024:.0f}'} |")
out.append("")
out.append("Every run (wall seconds; in brackets the 1-minute load average before the step); `check` is the run's "
           "restore check, and a run that is not ok there is left out of the medians:\n")
out.append("| tool | step | " + " | ".join(f"run {r}" for r in RUNS) + " |")
out.append("|---|---|" + "---:|" * repeat)
for t in order:
    for step in ["setup"] + STEPS + ["check"]:
        if not any(step in rows[t].get(r, {}) for r in RUNS):
            continue
        cells = []
        for r in RUNS:
            v = rows[t].get(r, {}).get(step)
            if v is None:
                cells.append("")
            elif step == "check":
                cells.append(v["status"])
            elif step == "setup":
                cells.append(v["status"])
            elif v["status"] == "ok":
                cells.append(f"{v['secs']:.1f} ({v['load']:.1f})")
            else:
                cells.append(f"{v['status']} after {v['secs']:.1f} ({v['load']:.1f})")
        out.append(f"| {t} | {step} | " + " | ".join(cells) + " |")
out.append("")
# Our own clocks and counters (--json): seconds are medians over the counted runs, the rest from the last of them.
def ours_json(step):
    got = []
    for r in counted("ours") if "ours" in rows else []:
        try:
            got.append(json.load(open(os.path.join(logs, f"run-{r}", f"ours-{step}.out"))))
        except Exception:
            pass
    return got
details = []
for step in ["full", "incremental"]:
    js = ours_json(step)
    if js:
        d = js[-1]
        details.append(f"ours {step}: repository part {statistics.median(x['seconds'] for x in js):.1f} s (median), "
                       f"read {d['bytes_read'] / 2**20:.0f} MiB, new {d['bytes_new'] / 2**20:.0f} MiB, "
                       f"stored {d['bytes_stored'] / 2**20:.0f} MiB ({d['files']} files, {d['files_unchanged']} unchanged)")
js = ours_json("restore")
if js and "ours" in rows and med("ours", "restore") is not None and med("ours", "proof") is not None:
    r, pr = med("ours", "restore"), med("ours", "proof")
    details.append(f"ours restore is `restore latest --target DIR --no-verify` (fetching and writing "
                   f"{statistics.median(x['seconds'] for x in js):.1f} s of it, median; every file is still checked "
                   "against its SHA-256); its state-root proof is the next column (`verify-state` of the restored "
                   f"directory, warm). `restore` without --no-verify runs both: {r + pr:.1f} s, {churn / 1e6 / (r + pr):.1f} MB/s.")
if "ours-ckpt" in rows and med("ours-ckpt", "check") is not None:
    details.append("ours-ckpt restore (`apply-checkpoint s3://...`) downloads every file (checking its SHA-256), runs "
                   "`verify-checkpoint` on the download (every file hashed again, then the state-root proof), then "
                   "copies every file into the target, hashing it a third time; the check's `verify-state` of the "
                   f"applied directory alone took {med('ours-ckpt', 'check'):.1f} s (median)")
if "ours" in rows and med("ours", "verify") is not None:
    details.append(f"ours `verify --read-data` (downloads and decrypts every pack): {med('ours', 'verify'):.1f} s")
if "ours" in rows and med("ours", "open") is not None:
    details.append(f"ours fixed cost per command (`snapshots`: Argon2id at {E['KDF_MIB']} MiB, listing and index): "
                   f"{med('ours', 'open'):.1f} s")
if "ours" in rows and all(med("ours", st, "rss") is not None for st in ("open", "full", "restore", "verify")):
    mib = lambda st: f"{med('ours', st, 'rss') / 1024:.0f} MiB"
    details.append(f"Memory (ours, peak RSS of the whole command): `snapshots` alone {mib('open')} (the Argon2id key "
                   f"derivation at {E['KDF_MIB']} MiB, done and freed before any transfer), full {mib('full')}, "
                   f"incremental {mib('incremental')}, restore {mib('restore')}, verify --read-data {mib('verify')}. "
                   "The transfers' bounds as docs/s3.md states them (\"Transfers in parallel\"): backup (4 x workers + 10) "
                   "x chunk + (parallel_uploads + 2) x pack = 264 MiB, restore and verify 8 x (16 MiB + 2 x chunk) = 192 MiB.")
if "restic" in rows:
    details.append(f"Every restic command was bounded at {E['RESTIC_TIMEOUT']} s (`timeout`); a step stopped there "
                   "shows as TIMEOUT and ends that run of restic.")
out.append("Notes:\n")
for n in details + [n for n in E.get("NOTES_TEXT", "").splitlines() if n]:
    out.append(f"- {n}")
out.append("- ours encrypts (AES-256-GCM), compresses (zstd) and deduplicates; its incremental stores only new data. "
           "ours-ckpt uploads plain checkpoint files, each checkpoint complete under its own prefix (its incremental is "
           "a full upload); `apply-checkpoint` downloads, checks every file's SHA-256, proves the state root, then applies. "
           "aws s3 sync keeps one mirror (`--delete`), no history, no encryption, no verification. restic encrypts, "
           "deduplicates and compresses (repository v2).")
out.append("- Every restore was checked: ours by `ailee-cli verify-state` on the restored directory (state root "
           "recomputed from scratch, blocks and signatures checked; height and root equal the churned checkpoint's "
           "manifest), aws and restic by `diff -r` against the churned checkpoint. Those checks are not in the table, "
           "except ours' proof column.")
out.append("")
la = os.getloadavg()
load_steps = (f"before the timed steps median {statistics.median(loads):.1f}, max {max(loads):.1f}; " if loads else "")
out.append(f"Machine: {machine()}; "
           f"{time.strftime('%Y-%m-%d %H:%M %Z')}; 1-minute load average {load_steps}load average at start "
           f"{E['LOAD_START']}, at end {la[0]:.2f} {la[1]:.2f} {la[2]:.2f} (the machine is shared with other builds). "
           f"Page cache dropped before every step: {E['DROP']}. Server: {E['SERVER_VERSION']} on 127.0.0.1, on the same disk. "
           f"Tools: ailee-cli of checkout {commit}"
           + (f" (binaries from BENCH_BIN_DIR={E['BENCH_BIN_DIR']}, built separately)" if E.get("BENCH_BIN_DIR") else "")
           + f"; {ver([E['AWS'], '--version'])}; {ver(['restic', 'version'])}. "
           f"Whole script: {int(E['T_TOTAL']) // 60} min {int(E['T_TOTAL']) % 60} s "
           f"(of which dataset preparation {E['T_DATASET']} s).")
text = "\n".join(out) + "\n"
open(md, "w").write(text)
print(text)
EOF
cp "$RESULTS" "$OUT/s3-bench-$KIND.md"
