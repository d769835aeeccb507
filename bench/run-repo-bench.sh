#!/usr/bin/env bash
# One command: the backup repository beside the tools an operator would
# otherwise pick, on the same node state, with a cold page cache before
# every timed step, each tool's whole sequence repeated and the median kept:
#
#   bash bench/run-repo-bench.sh
#
# Tools: ours (ailee-cli backup state --offline / restore / verify --read-data),
# RocksDB's BackupEngine (bench/repo/backup_engine_bench.cc), restic, borg,
# and `tar | zstd -1 -T0`. Steps: full backup, incremental after about 5%
# more blocks, restore of the latest backup into an empty dir, full data
# verification (restic check --read-data, borg check --verify-data,
# BackupEngine VerifyBackup with checksums, zstd -t), repository size.
#
# The dataset is made once by the load generator and cached under
# bench-run/ (reruns reuse it):
#   base/     `ailee-cli load --mode bulk --target-size $BENCH_SIZE --memo-bytes $BENCH_MEMO_BYTES`, flushed
#   churned/  base plus ${BENCH_CHURN_PCT}% more transactions, flushed
# Every tool gets its own copy of base/ to back up; the churn is then applied
# to that copy in place (only changed files are rewritten, as a running node
# would), so every tool's incremental sees exactly the same bytes.
#
# Ours runs as a scheduled backup would: the repository has a passphrase slot
# (Argon2id) and a key file slot (`repo key add --key-file`), and the timed
# steps open it with the key file. Opening with the passphrase is timed on
# its own ("open-passphrase"), beside opening with the key file ("open").
#
# The runs are interleaved (run 1 of every tool, then run 2, ...) so that a
# change in the machine's load hits every tool alike; the 1-minute load
# average before each step is recorded (shared build machines are noisy).
#
# Knobs (environment):
#   BENCH_SIZE=2GiB         dataset size (the issue's benchmark; 512MiB for a quick run)
#   BENCH_REPEAT=3          runs per tool; the table shows the median, the TSV every run
#   BENCH_CHURN_PCT=5       churn as a percentage of the base transactions
#   BENCH_MEMO_BYTES=2048   memo size of every transaction: the data shape. 2048 is the project's
#                           usual shape; 1024 (small memos: more, smaller transactions, so more
#                           keys and index per byte) is issue 16's second one. Another value gets
#                           its own dataset, repo-dataset-SIZE-memoN
#   BENCH_BLOCK_TX=4000     transactions per block of the dataset (the loader's default; another
#                           value gets its own dataset, repo-dataset-SIZE-btxN: run-recover-bench.sh
#                           uses small blocks, which followers and the archiver fetch 200 at a time)
#   BENCH_TOOLS="ours ours-off backup-engine restic borg tar-zstd"
#                           (ours-off: ours with --compression off, the speed end of the knob;
#                           ours-baseline: ours with BENCH_BASELINE_CLI, another build's ailee-cli,
#                           interleaved with this one's so that a before/after comparison on a
#                           shared machine sees the same load)
#   BUILD_DIR=build-bench   build tree (configured if missing)
#   BENCH_BIN_DIR           use binaries from this build tree instead of building
#   BENCH_KDF_MIB=256       Argon2id memory of our repository's key slot (the default)
#   BENCH_NO_DROP_CACHES=1  skip dropping the page cache (when not root)
#
# The 10 GiB tier (opt-in; issue 16's scale check): BENCH_SIZE=10GiB with
#   BENCH_TOOLS="ours backup-engine" BENCH_REPEAT=1. Building its dataset takes
#   about 40 minutes of both cores (once, cached); it needs about 6x the size
#   free on disk (base, churned, the working copy, the repository, two
#   restores), checked before anything starts.
# Output: a Markdown table on stdout and in bench-run/repo-bench-SIZE.md; raw
# timings (every run: seconds, load average before the step, peak RSS in KiB)
# in bench-run/repo-bench-SIZE.tsv (repo-bench-SIZE-memoN.* for another memo
# size); our --json outputs of the last run in bench-run/ours-*.out.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
SIZE=${BENCH_SIZE:-2GiB}
CHURN_PCT=${BENCH_CHURN_PCT:-5}
TOOLS=${BENCH_TOOLS:-"ours ours-off backup-engine restic borg tar-zstd"}
KDF_MIB=${BENCH_KDF_MIB:-256}
REPEAT=${BENCH_REPEAT:-3}
BLOCK_TX=${BENCH_BLOCK_TX:-4000}
MEMO=${BENCH_MEMO_BYTES:-2048}
OUT=$ROOT/bench-run
DS=$OUT/repo-dataset-$SIZE
[ "$BLOCK_TX" = 4000 ] || DS=$DS-btx$BLOCK_TX
SHAPE=""; [ "$MEMO" = 2048 ] || SHAPE=-memo$MEMO
DS=$DS$SHAPE
W=$OUT/repo-work
mkdir -p "$OUT"

log() { printf '\033[1m[repo-bench]\033[0m %s\n' "$*" >&2; }

# Room on disk before anything starts (the 10 GiB tier fills ~60 GiB): the
# dataset (base and churned, unless cached) plus, per tool, a working copy,
# its repository and two restores.
SIZE_BYTES=$(numfmt --from=iec-i "${SIZE%B}" 2>/dev/null) || { echo "BENCH_SIZE=$SIZE: not a size like 512MiB or 10GiB" >&2; exit 2; }
NEED=$(( SIZE_BYTES * 4 )); [ -f "$DS/.complete" ] || NEED=$(( SIZE_BYTES * 6 ))
# A work dir left by an interrupted run is removed before the first step: its room counts.
LEFT_OVER=$(du -sb "$W" 2>/dev/null | cut -f1) || true
FREE=$(( $(df --output=avail -B1 "$OUT" | tail -1) + ${LEFT_OVER:-0} ))
if [ "$FREE" -lt "$NEED" ]; then
  echo "not enough free space under $OUT for a $SIZE run: $((FREE >> 30)) GiB free, about $((NEED >> 30)) GiB needed" \
       "(free some, or set a smaller BENCH_SIZE)" >&2
  exit 2
fi

bash scripts/install-deps.sh >&2

if [ -n "${BENCH_BIN_DIR:-}" ]; then
  BIN=$BENCH_BIN_DIR
else
  BIN=$ROOT/${BUILD_DIR:-build-bench}
  [ -f "$BIN/build.ninja" ] || cmake -S . -B "$BIN" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  ninja -C "$BIN" ailee-cli bench_backup_engine >&2
fi
CLI=$BIN/src/cli/ailee-cli
BE=$BIN/bench/repo/bench_backup_engine
[ -x "$CLI" ] || { echo "no ailee-cli at $CLI" >&2; exit 1; }

# bench_config, changed_bytes, apply_churn
source bench/lib.sh
write_config() { bench_config "$1" "$2" "file://$3"; }  # FILE DATA_DIR REPO_DIR

# Flush the memtable into SSTs (an offline checkpoint does), so that every
# tool reads the same settled files and none of them pays for a flush.
settle() {  # CONFIG DATA_DIR
  rm -rf "$2.settle"
  "$CLI" --config "$1" -q create-checkpoint --offline --output "$2.settle" >&2
  rm -rf "$2.settle"
}

# ------------------------------------------------------------------ dataset
if [ ! -f "$DS/.complete" ]; then
  log "building the $SIZE dataset in $DS (once; reused by later runs)"
  rm -rf "$DS" && mkdir -p "$DS/keys" "$W"
  umask 077
  openssl genpkey -algorithm ed25519 -out "$DS/keys/signer-01.key" 2>/dev/null
  openssl pkey -in "$DS/keys/signer-01.key" -pubout -out "$DS/keys/signer-01.pub"
  umask 022
  head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$W/pass"; chmod 600 "$W/pass"
  write_config "$DS/base.yaml" "$DS/base" "$W/unused"
  "$CLI" --config "$DS/base.yaml" --json load --mode bulk --duration 0 --target-size "$SIZE" --memo-bytes "$MEMO" --block-tx "$BLOCK_TX" \
    > "$DS/base-load.json"
  settle "$DS/base.yaml" "$DS/base"
  accepted=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["accepted"])' "$DS/base-load.json")
  churn_tx=$(( accepted * CHURN_PCT / 100 ))
  log "churn: $churn_tx more transactions (${CHURN_PCT}% of $accepted)"
  cp -a "$DS/base" "$DS/churned"
  write_config "$DS/churned.yaml" "$DS/churned" "$W/unused"
  "$CLI" --config "$DS/churned.yaml" --json load --mode bulk --duration 0 --max-tx "$churn_tx" --memo-bytes "$MEMO" --block-tx "$BLOCK_TX" \
    > "$DS/churn-load.json"
  settle "$DS/churned.yaml" "$DS/churned"
  touch "$DS/.complete"
fi
[ "${BENCH_PHASE:-}" = dataset ] && { log "dataset ready: $DS"; exit 0; }

BASE_BYTES=$(du -sb "$DS/base" | cut -f1)
CHURN_BYTES=$(du -sb "$DS/churned" | cut -f1)
CHANGED_BYTES=$(changed_bytes "$DS/base" "$DS/churned")
log "dataset: base $((BASE_BYTES >> 20)) MiB, churned $((CHURN_BYTES >> 20)) MiB ($((CHANGED_BYTES >> 20)) MiB in new or changed files)"

# Make DIR equal to the churned dataset (bench/lib.sh), mtimes copied.
apply_dataset_churn() { apply_churn "$DS/churned" "$1"; }  # DIR

drop_caches() {
  sync
  if [ -z "${BENCH_NO_DROP_CACHES:-}" ]; then
    echo 3 > /proc/sys/vm/drop_caches 2>/dev/null || { log "cannot drop the page cache (not root?): set BENCH_NO_DROP_CACHES=1"; exit 1; }
  fi
}

TSV=$OUT/repo-bench-$SIZE$SHAPE.tsv
: > "$TSV"
RUN=0
# timed TOOL STEP BYTES CMD...: cold cache, wall time of CMD, one TSV row
# (tool, step, seconds, bytes, run, load average before the step).
timed() {
  local tool=$1 step=$2 bytes=$3; shift 3
  drop_caches
  local t0 t1 load
  load=$(cut -d' ' -f1 /proc/loadavg)
  t0=$(date +%s.%N)
  # /usr/bin/time -f %M: the peak RSS (KiB) of the command, or of its largest
  # waited-for child for a pipeline in `bash -c`.
  if ! /usr/bin/time -f %M -o "$W/$tool-$step.rss" "$@" > "$W/$tool-$step.out" 2> "$W/$tool-$step.err"; then
    log "$tool $step FAILED:"; tail -5 "$W/$tool-$step.err" >&2
    echo -e "$tool\t$step\tFAILED\t$bytes\t$RUN\t$load\t0" >> "$TSV"; return 0
  fi
  t1=$(date +%s.%N)
  local s rss; s=$(python3 -c "print(f'{$t1 - $t0:.2f}')")
  rss=$(tail -1 "$W/$tool-$step.rss")
  log "$tool $step: $s s, peak RSS $((rss >> 10)) MiB (run $RUN, load $load)"
  echo -e "$tool\t$step\t$s\t$bytes\t$RUN\t$load\t$rss" >> "$TSV"
}
repo_size() { echo -e "$1\tsize\t$(du -sb "$2" | cut -f1)\t0\t$RUN\t0\t0" >> "$TSV"; }

fresh_work() {
  rm -rf "$W" && mkdir -p "$W"
  head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$W/pass"; chmod 600 "$W/pass"
  cp -a "$DS/base" "$W/data"
  sync
}

run_ours() {  # [TOOL [BACKUP ARGS...]]: ours-off runs the same steps with --compression off
  local T=${1:-ours}; shift || true
  local extra=("$@") cli=$CLI
  [ "$T" = ours-baseline ] && cli=${BENCH_BASELINE_CLI:?ours-baseline needs BENCH_BASELINE_CLI}
  write_config "$W/ours.yaml" "$W/data" "$W/ours-repo"
  local C=("$cli" --config "$W/ours.yaml")
  "${C[@]}" -q repo init --kdf-memory-mib "$KDF_MIB" >&2
  # Scheduled backups open the repository with a key file (docs/repository-format.md, section 4).
  "${C[@]}" -q repo key add --key-file "$W/repo.key" >&2
  sed -i "s|passphrase_file: .*|passphrase_file: $W/repo.key|" "$W/ours.yaml"
  timed "$T" full "$BASE_BYTES" "${C[@]}" --json backup state --offline "${extra[@]}"
  cp "$W/$T-full.out" "$W/$T-full.json"
  apply_dataset_churn "$W/data"
  timed "$T" incremental "$CHURN_BYTES" "${C[@]}" --json backup state --offline "${extra[@]}"
  cp "$W/$T-incremental.out" "$W/$T-incremental.json"
  timed "$T" restore "$CHURN_BYTES" "${C[@]}" --json restore latest --target "$W/restore" --no-verify
  # The default restore: the same, then the state-root proof of the staged
  # tree before it is swapped in (every block, signature and anchor checked).
  if [ "$T" != ours-off ]; then
    rm -rf "$W/restore"  # room on disk at 10 GiB
    timed "$T" restore-proof "$CHURN_BYTES" "${C[@]}" --json restore latest --target "$W/restore-proof"
    rm -rf "$W/restore-proof"
  fi
  timed "$T" verify "$CHURN_BYTES" "${C[@]}" --json verify --read-data
  repo_size "$T" "$W/ours-repo"
  [ "$T" = ours ] || return 0
  # The fixed cost inside every step above: open the repository (key slot, index load).
  timed ours open 0 "${C[@]}" -q snapshots
  timed ours open-passphrase 0 "${C[@]}" -q snapshots --passphrase-file "$W/pass"
  # Where the time goes: the repository's own clocks (checkpoint and process start are outside them).
  for s in full incremental restore; do
    python3 - "$W/ours-$s.out" "$s" >&2 <<'EOF' || true
import json, sys
j = json.load(open(sys.argv[1]))
keys = ["seconds", "bytes_total", "bytes_read", "bytes_new", "bytes_stored", "files", "files_unchanged", "files_reused", "bytes_fetched"]
print("[repo-bench] ours " + sys.argv[2] + " --json: " + ", ".join(f"{k}={j[k]}" for k in keys if k in j))
EOF
  done
}

run_backup_engine() {
  [ -x "$BE" ] || { log "no $BE: skipping BackupEngine"; return 0; }
  timed backup-engine full "$BASE_BYTES" "$BE" backup "$W/data" "$W/be-repo"
  apply_dataset_churn "$W/data"
  timed backup-engine incremental "$CHURN_BYTES" "$BE" backup "$W/data" "$W/be-repo"
  timed backup-engine restore "$CHURN_BYTES" "$BE" restore "$W/be-repo" "$W/restore"
  timed backup-engine verify "$CHURN_BYTES" "$BE" verify "$W/be-repo"
  repo_size backup-engine "$W/be-repo"
}

run_restic() {
  export RESTIC_PASSWORD_FILE=$W/pass RESTIC_CACHE_DIR=$W/restic-cache RESTIC_REPOSITORY=$W/restic-repo
  restic -q init >&2
  timed restic full "$BASE_BYTES" restic -q backup "$W/data"
  apply_dataset_churn "$W/data"
  timed restic incremental "$CHURN_BYTES" restic -q backup "$W/data"
  timed restic restore "$CHURN_BYTES" restic -q restore latest --target "$W/restore"
  timed restic verify "$CHURN_BYTES" restic -q check --read-data
  repo_size restic "$W/restic-repo"
  unset RESTIC_PASSWORD_FILE RESTIC_CACHE_DIR RESTIC_REPOSITORY
}

run_borg() {
  export BORG_PASSPHRASE; BORG_PASSPHRASE=$(cat "$W/pass")
  export BORG_BASE_DIR=$W/borg-base BORG_RELOCATED_REPO_ACCESS_IS_OK=yes
  borg init -e repokey "$W/borg-repo" > "$W/borg-init.log" 2>&1
  timed borg full "$BASE_BYTES" borg create "$W/borg-repo::full" "$W/data"
  apply_dataset_churn "$W/data"
  timed borg incremental "$CHURN_BYTES" borg create "$W/borg-repo::incremental" "$W/data"
  mkdir -p "$W/restore"
  timed borg restore "$CHURN_BYTES" bash -c "cd '$W/restore' && borg extract '$W/borg-repo::incremental'"
  timed borg verify "$CHURN_BYTES" borg check --verify-data "$W/borg-repo"
  repo_size borg "$W/borg-repo"
  unset BORG_PASSPHRASE BORG_BASE_DIR BORG_RELOCATED_REPO_ACCESS_IS_OK
}

run_tar_zstd() {
  mkdir -p "$W/tar" "$W/restore"
  timed tar-zstd full "$BASE_BYTES" bash -c "tar -C '$W/data' -cf - . | zstd -1 -T0 -q -o '$W/tar/full.tar.zst'"
  timed tar-zstd restore "$BASE_BYTES" bash -c "zstd -dc -q '$W/tar/full.tar.zst' | tar -C '$W/restore' -xf -"
  timed tar-zstd verify "$BASE_BYTES" zstd -tq "$W/tar/full.tar.zst"
  repo_size tar-zstd "$W/tar"
}

for RUN in $(seq "$REPEAT"); do
  for tool in $TOOLS; do
    log "=== $tool (run $RUN of $REPEAT)"
    fresh_work
    case $tool in
      ours) run_ours ;;
      ours-off) run_ours ours-off --compression off ;;
      ours-baseline) run_ours ours-baseline ;;
      backup-engine) run_backup_engine ;;
      restic) run_restic ;;
      borg) run_borg ;;
      tar-zstd) run_tar_zstd ;;
      *) log "unknown tool $tool" ;;
    esac
    [ "$tool" = ours ] && cp "$W"/ours-*.out "$OUT/" 2>/dev/null || true
  done
done
rm -rf "$W"

# ------------------------------------------------------------------- table
KDF_MIB=$KDF_MIB DROPPED=$([ -z "${BENCH_NO_DROP_CACHES:-}" ] && echo yes || echo no) \
python3 - "$TSV" "$OUT/repo-bench-$SIZE$SHAPE.md" "$SIZE" "$BASE_BYTES" "$CHURN_BYTES" "$CHANGED_BYTES" "$REPEAT" "$MEMO" <<'EOF'
import os, sys, platform, statistics, subprocess
tsv, md, size = sys.argv[1], sys.argv[2], sys.argv[3]
base, churn, changed, repeat, memo = map(int, sys.argv[4:9])
runs = {}   # tool -> step -> [(seconds or None, bytes, run, load, peak RSS KiB)]
order = []
loads = []
for line in open(tsv):
    tool, step, val, nbytes, run, load, rss = line.rstrip("\n").split("\t")
    if tool not in runs:
        runs[tool] = {}
        order.append(tool)
    runs[tool].setdefault(step, []).append((None if val == "FAILED" else float(val), int(nbytes), int(run), float(load), int(rss)))
    if step != "size":
        loads.append(float(load))
def median(tool, step):
    v = [r[0] for r in runs[tool].get(step, []) if r[0] is not None]
    return statistics.median(v) if v else None
def cell(tool, step):
    rs = runs[tool].get(step)
    if not rs:
        return "n/a"
    if any(r[0] is None for r in rs):
        return "FAILED"
    s, nbytes = median(tool, step), rs[0][1]
    return f"{s:.2f} s ({nbytes / 1e6 / s:.0f} MB/s)" if s > 0 and nbytes else f"{s:.2f} s"
def peak_rss(tool):  # the largest peak RSS of the tool's backup, restore and verify steps, in MiB, and the step
    rs = [(r[4], st) for st, rr in runs[tool].items() if st not in ("size", "open-passphrase") for r in rr if r[0] is not None]
    return f"{max(rs)[0] / 1024:.0f} MiB ({max(rs)[1]})" if rs else "n/a"
def size_cell(tool):
    s = median(tool, "size")
    return f"{s / 2**20:.0f} MiB" if s is not None else "n/a"
names = {"ours": "ailee-cli (ours)", "ours-off": "ailee-cli, `--compression off`", "ours-baseline": "ailee-cli, baseline build", "backup-engine": "RocksDB BackupEngine", "restic": "restic", "borg": "borg",
         "tar-zstd": "tar \\| zstd -1 -T0"}
def ver(cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True).stdout.strip().splitlines()[0]
    except Exception:
        return "?"
cpu = "?"
for l in open("/proc/cpuinfo"):
    if l.startswith("model name"):
        cpu = l.split(":", 1)[1].strip()
        break
dropped = os.environ.get("DROPPED") == "yes"
out = []
out.append(f"# Repository benchmark: {size} of node state, {memo}-byte memos ({base / 2**20:.0f} MiB on disk)\n")
out.append(f"Incremental after {churn / 2**20 - base / 2**20:+.0f} MiB of churn ({changed / 2**20:.0f} MiB in new or changed files). "
           + ("Page cache dropped before every step; " if dropped else "Page cache NOT dropped (warm runs); ")
           + f"wall-clock seconds of the whole command, median of {repeat} interleaved runs; "
           "MB/s = dataset bytes (base for full, churned state otherwise) / seconds.\n")
out.append("| tool | full backup | incremental | restore | restore + proof | verify (read all data) | repository size | peak RSS |")
out.append("|---|---:|---:|---:|---:|---:|---:|---:|")
for t in order:
    out.append(f"| {names.get(t, t)} | {cell(t, 'full')} | {cell(t, 'incremental')} | {cell(t, 'restore')} | "
               f"{cell(t, 'restore-proof')} | {cell(t, 'verify')} | {size_cell(t)} | {peak_rss(t)} |")
out.append("")
out.append(f"Machine: {os.cpu_count()} cores ({cpu}), {platform.release()}; 1-minute load average before the timed "
           f"steps: median {statistics.median(loads) if loads else 0:.1f}, max {max(loads) if loads else 0:.1f} "
           f"(a load above 0 means other processes shared the cores). Tools: {ver(['restic', 'version'])}; "
           f"{ver(['borg', '--version'])}; {ver(['zstd', '--version'])}.")
out.append("Notes: ours encrypts (AES-256-GCM) and compresses with zstd where it pays; "
           "restore is `--no-verify` (every file's SHA-256 is still checked), restore + proof is the default restore "
           "(the staged tree's state root recomputed, every block, signature and anchor checked, before the swap); "
           "peak RSS is the largest of the tool's steps (`/usr/bin/time`), the step named (ours' open with the passphrase "
           "is left out: its Argon2id takes the key slot's memory, 256 MiB by default, and scheduled jobs use a key file); "
           "verify is `verify --read-data`. BackupEngine neither encrypts nor compresses. tar | zstd has no "
           "incremental; its verify is `zstd -t` (frame checksums).")
if "ours" in runs and median("ours", "open") is not None:
    pp = median("ours", "open-passphrase")
    out.append(f"Ours opens the repository with a key file, as scheduled backups do: {median('ours', 'open'):.2f} s for "
               f"`ailee-cli snapshots` (process start, key slot, index load); with the passphrase (Argon2id, "
               f"{os.environ.get('KDF_MIB', '256')} MiB, 3 passes) " + (f"{pp:.2f} s." if pp is not None else "n/a."))
out.append("")
out.append("Every run (seconds; load average before the step; peak RSS):\n")
steps = ["full", "incremental", "restore", "restore-proof", "verify", "open", "open-passphrase"]
out.append("| tool | step | " + " | ".join(f"run {i}" for i in range(1, repeat + 1)) + " |")
out.append("|---|---|" + "---:|" * repeat)
for t in order:
    for st in steps:
        rs = runs[t].get(st)
        if not rs:
            continue
        by_run = {r[2]: r for r in rs}
        cells = []
        for i in range(1, repeat + 1):
            r = by_run.get(i)
            cells.append("" if r is None else ("FAILED" if r[0] is None else f"{r[0]:.2f} ({r[3]:.1f}; {r[4] / 1024:.0f} MiB)"))
        out.append(f"| {names.get(t, t)} | {st} | " + " | ".join(cells) + " |")
text = "\n".join(out) + "\n"
open(md, "w").write(text)
print(text)
EOF
