#!/usr/bin/env bash
# One command: the cost and speed of the block archive (issue 10), printed as a table:
#   - node tx/s at the load generator's full rate, without and with `ailee-cli archive run`;
#   - archiver lag (blocks behind the node) sampled during the loaded run;
#   - archive bytes per block against the block's share of the RocksDB data dir;
#   - replay speed of archived blocks (blocks/s, tx/s) onto an empty data dir,
#     beside a fresh follower's catch-up speed over the same chain;
#   - RPO: the node killed with SIGKILL at BENCH_KILLS random moments under
#     load; each time, the blocks its data dir had committed that the archive
#     lacks once the archiver had its seal interval to hand on what it held
#     (min / median / p90 / max).
# Not in CI. Uses the binaries of BUILD_DIR (default: build; built if missing).
#
# Knobs (environment): BUILD_DIR, BENCH_SECONDS=20 (each loaded run),
# BENCH_RATE=100000 (above capacity on purpose), BENCH_ACCOUNTS=1000,
# BENCH_BLOCK_MS=1000 (the default config's block interval), BENCH_KILLS=50,
# AILEE_TEST_TMPDIR.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
SECONDS_RUN=${BENCH_SECONDS:-20}
RATE=${BENCH_RATE:-100000}
ACCOUNTS=${BENCH_ACCOUNTS:-1000}
BLOCK_MS=${BENCH_BLOCK_MS:-1000}
KILLS=${BENCH_KILLS:-50}
if [ ! -x "$BUILD_DIR/src/cli/ailee-cli" ] || [ ! -x "$BUILD_DIR/src/node/ailee-node" ]; then
  ninja -C "$BUILD_DIR" ailee-node ailee-cli
fi
CLI=$(realpath "$BUILD_DIR/src/cli/ailee-cli")
NODE=$(realpath "$BUILD_DIR/src/node/ailee-node")
W=$(mktemp -d "${AILEE_TEST_TMPDIR:-${TMPDIR:-/tmp}}/ailee-bench-archive-XXXXXX")
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  [ "${AILEE_KEEP_TEST_DIRS:-}" = 1 ] || rm -rf "$W"
}
trap cleanup EXIT

openssl genpkey -algorithm ed25519 -out "$W/signer.key" 2>/dev/null
chmod 600 "$W/signer.key"
openssl pkey -in "$W/signer.key" -pubout -out "$W/signer.pub"
printf 'bench archive passphrase\n' > "$W/pass"
chmod 600 "$W/pass"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# config NAME PORT [FOLLOW_URL]
config() {
  local dir="$W/$1"
  mkdir -p "$dir"
  {
    echo "node:"
    echo "  id: bench-node"
    echo "  data_dir: $dir/data"
    echo "  listen: 127.0.0.1:$2"
    echo "  block_interval_ms: $BLOCK_MS"
    echo "federation:"
    echo "  threshold: 1"
    echo "  signers:"
    echo "    - id: signer-01"
    echo "      public_key_file: $W/signer.pub"
    if [ -z "${3:-}" ]; then
      # A key copy per chain: the signing fence beside it belongs to one
      # chain (a shared one would keep the next fresh chain from starting).
      install -m 600 "$W/signer.key" "$dir/signer.key"
      echo "signer:"
      echo "  id: signer-01"
      echo "  key_file: $dir/signer.key"
    else
      echo "follow: $3"
    fi
    echo "logging:"
    echo "  audit_log: $W/audit.log"
    echo "backup:"
    echo "  repository: file://$W/repo-$1"
    echo "  passphrase_file: $W/pass"
  } > "$dir/config.yaml"
  echo "$dir/config.yaml"
}

start_node() {  # CONFIG PORT -> pid in NODE_PID
  "$NODE" --config "$1" >> "$(dirname "$1")/node.log" 2>&1 &
  NODE_PID=$!
  PIDS+=("$NODE_PID")
  for _ in $(seq 1 200); do
    curl -sf "http://127.0.0.1:$2/v1/health" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "node did not start: $(tail -5 "$(dirname "$1")/node.log")" >&2
  exit 1
}
json() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }

# run NAME WITH_ARCHIVER -> "tx/s height lag_max"
run() {
  local port cfg
  port=$(free_port)
  cfg=$(config "$1" "$port")
  "$CLI" --config "$cfg" -q repo init --kdf-memory-mib 8 --kdf-iterations 1
  start_node "$cfg" "$port"
  local arch=""
  if [ "$2" = 1 ]; then
    "$CLI" --config "$cfg" -q archive run --buffer-dir "$W/$1/buffer" 2>> "$W/$1/archiver.log" &
    arch=$!
    PIDS+=("$arch")
  fi
  local out
  out=$("$CLI" --config "$cfg" --json load --mode http --rate "$RATE" --accounts "$ACCOUNTS" --duration "$SECONDS_RUN" &
        lp=$!
        if [ "$2" = 1 ]; then
          for _ in $(seq 1 $((SECONDS_RUN - 1))); do
            sleep 1
            "$CLI" --config "$cfg" --json archive status --buffer-dir "$W/$1/buffer" 2>/dev/null |
              json '["lag_blocks"]' >> "$W/$1/lag.txt" || true
          done
        fi
        wait $lp)
  TPS=$(echo "$out" | json '["tx_per_second"]')
  HEIGHT=$(curl -sf "http://127.0.0.1:$port/v1/status" | json '["height"]')
  LAGMAX=$( [ -f "$W/$1/lag.txt" ] && sort -n "$W/$1/lag.txt" | tail -1 || echo "-")
  if [ -n "$arch" ]; then
    kill -TERM "$arch"; wait "$arch" || true
    "$CLI" --config "$cfg" -q archive run --once --buffer-dir "$W/$1/buffer"
  fi
  PORT=$port CFG=$cfg
}

run plain 0
TPS_PLAIN=$TPS
kill "$NODE_PID"; wait "$NODE_PID" 2>/dev/null || true
run archived 1
TPS_ARCH=$TPS
LEADER_PORT=$PORT LEADER_CFG=$CFG LEADER_PID=$NODE_PID
ARCHIVED_HEIGHT=$HEIGHT

ARCHIVE_BYTES=$(du -sb "$W/repo-archived/blocks" | cut -f1)
DATA_BYTES=$(du -sb "$W/archived/data" | cut -f1)
# The node keeps producing (empty) blocks: measure up to what is archived.
TIP=$("$CLI" --config "$LEADER_CFG" --json archive status --buffer-dir "$W/archived/buffer" | json '["archived_height"]')

# Replay everything onto an empty data dir (height 0): the data dir of a
# follower of nothing, started and stopped at once.
"$NODE" --config "$(config replay "$(free_port)" "http://127.0.0.1:1")" >> "$W/replay/node.log" 2>&1 &
ip=$!; sleep 2; kill -TERM "$ip"; wait "$ip" 2>/dev/null || true
REPLAY_DIR="$W/replay/data"
REPLAY=$("$CLI" --config "$LEADER_CFG" --json archive replay --data-dir "$REPLAY_DIR" --to-height "$TIP")
R_SECONDS=$(echo "$REPLAY" | json '["seconds"]')
R_BLOCKS=$(echo "$REPLAY" | json '["blocks"]')
R_TXS=$(echo "$REPLAY" | json '["transactions"]')

# A fresh follower catches up over the same chain.
fport=$(free_port)
fcfg=$(config follower "$fport" "http://127.0.0.1:$LEADER_PORT")
t0=$(date +%s.%N)
start_node "$fcfg" "$fport"
until [ "$(curl -sf "http://127.0.0.1:$fport/v1/status" | json '["height"]')" -ge "$TIP" ]; do sleep 0.1; done
t1=$(date +%s.%N)
F_SECONDS=$(python3 -c "print($t1 - $t0)")

# RPO at a random kill: node and archiver (default seal settings) under load;
# the node is killed with SIGKILL 0.3-2.5 s into each loaded stretch. The
# archiver keeps running (it retries the node), seals what it fetched within
# its seal interval, and the data dir's tip is read while the node is down.
kill "$NODE_PID" "$LEADER_PID"; wait "$NODE_PID" "$LEADER_PID" 2>/dev/null || true  # follower, leader: idle now
rport=$(free_port)
rcfg=$(config rpo "$rport")
"$CLI" --config "$rcfg" -q repo init --kdf-memory-mib 8 --kdf-iterations 1
start_node "$rcfg" "$rport"
"$CLI" --config "$rcfg" -q archive run --buffer-dir "$W/rpo/buffer" 2>> "$W/rpo/archiver.log" &
PIDS+=("$!")
: > "$W/rpo/rpo.txt"
for i in $(seq 1 "$KILLS"); do
  "$CLI" --config "$rcfg" -q load --mode http --rate "$RATE" --accounts "$ACCOUNTS" --duration 4 --seed "$i" \
    >> "$W/rpo/load.log" 2>&1 &
  lp=$!
  sleep "$(python3 -c 'import random; print(round(random.uniform(0.3, 2.5), 2))')"
  kill -KILL "$NODE_PID"; wait "$NODE_PID" 2>/dev/null || true
  kill "$lp" 2>/dev/null || true; wait "$lp" 2>/dev/null || true
  sleep "$(python3 -c "print(2 * $BLOCK_MS / 1000 + 0.5)")"
  committed=$("$CLI" --config "$rcfg" --json verify-state "$W/rpo/data" | json '["height"]')
  archived=$("$CLI" --config "$rcfg" --json archive status --node-id bench-node --buffer-dir "$W/rpo/buffer" |
             json '["archived_height"]')
  echo $((committed - archived)) >> "$W/rpo/rpo.txt"
  start_node "$rcfg" "$rport"
done
RPO=$(python3 -c '
import sys
v = sorted(int(x) for x in open(sys.argv[1]) if x.strip())
q = lambda p: v[min(len(v) - 1, int(p * len(v)))]
print(f"{v[0]} / {v[len(v) // 2]} / {q(0.9)} / {v[-1]} blocks over {len(v)} kills")' "$W/rpo/rpo.txt")

python3 - "$TPS_PLAIN" "$TPS_ARCH" "$ARCHIVED_HEIGHT" "$ARCHIVE_BYTES" "$DATA_BYTES" "$TIP" "$R_TXS" \
          "$R_SECONDS" "$R_BLOCKS" "$R_TXS" "$F_SECONDS" "$LAGMAX" "$RPO" <<'PY'
import sys
tp, ta, h, ab, db, tip, txs, rs, rb, rt, fs, lag, rpo = sys.argv[1:14]
tp, ta, ab, db, tip, txs, rs, rb, rt, fs = map(float, (tp, ta, ab, db, tip, txs, rs, rb, rt, fs))
print("| measure | value |")
print("|---|---|")
print(f"| node tx/s, no archiver | {tp:.0f} |")
print(f"| node tx/s, with archiver | {ta:.0f} ({(ta - tp) / tp * 100:+.1f} %) |")
print(f"| archiver lag during load (max of 1 s samples, blocks) | {lag} |")
print(f"| RPO at a SIGKILL of the node (min / median / p90 / max) | {rpo} |")
print(f"| blocks / transactions | {tip:.0f} / {txs:.0f} |")
print(f"| archive bytes per block | {ab / tip:.0f} |")
print(f"| RocksDB data dir bytes per block | {db / tip:.0f} |")
print(f"| replay | {rb / rs:.0f} blocks/s, {rt / rs:.0f} tx/s ({rs:.1f} s) |")
print(f"| follower catch-up (incl. start) | {tip / fs:.0f} blocks/s, {txs / fs:.0f} tx/s ({fs:.1f} s) |")
PY
