#!/usr/bin/env bash
# The main job on embedded defaults: a live two-node AILEE-Core network
# (leader node-1, follower node-2) under load; node-2 is backed up into an
# encrypted local repository (full, then incremental while it runs), every
# snapshot replicated offsite, and its block archiver writes every block it
# commits to the offsite copy. The signer key is backed up with
# stock-gpg-readable encryption. Then node-2's host is lost (node and archiver
# killed with SIGKILL, data dir and the local repository deleted) and
# `ailee-cli recover-node` brings it back from the offsite copy in one command
# (state proven before it is swapped in, node started, caught up, deep health
# check); the demo shows the same state root at the same height on both
# nodes, verifies the audit log, and runs a recovery drill in a sandbox.
#
#   bash scripts/demo.sh            # work dir: ./demo-run (recreated)
#   DEMO_BUILD_DIR=build DEMO_BUILD_TYPE=RelWithDebInfo bash scripts/demo.sh
#                                   # reuse a developer build (default: ./build, Release)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
B=${DEMO_BUILD_DIR:-build}
bash scripts/install-deps.sh
cmake -S . -B "$B" -G Ninja -DCMAKE_BUILD_TYPE="${DEMO_BUILD_TYPE:-Release}" >/dev/null
ninja -C "$B" ailee-node ailee-cli

BIN=$ROOT/$B/src
W=${DEMO_DIR:-$ROOT/demo-run}
rm -rf "$W"; mkdir -p "$W/keys" "$W/logs"
cd "$W"
umask 077
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
PIDS=()
cleanup() {
  for p in "${PIDS[@]:-}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]:-}"; do wait "$p" 2>/dev/null || true; done
}
trap cleanup EXIT

say "1. Keys and configuration"
openssl genpkey -algorithm ed25519 -out keys/signer-01.key
openssl pkey -in keys/signer-01.key -pubout -out keys/signer-01.pub
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > repo.pass      # repository passphrase (file, never argv)
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > key-backup.pass
# Free loopback ports, asked of the kernel (a random pick can land on one in use).
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
LEADER_PORT=$(free_port); FOLLOWER_PORT=$(free_port)
while [ "$FOLLOWER_PORT" = "$LEADER_PORT" ]; do FOLLOWER_PORT=$(free_port); done
common() {
cat <<YAML
federation:
  threshold: 1
  signers:
    - id: signer-01
      public_key_file: keys/signer-01.pub
logging:
  audit_log: logs/audit.log
backup:
  repository: file://$W/repo
  passphrase_file: repo.pass
  secondary_repositories: [file://$W/offsite/repo]   # an s3:// URL in production (docs/s3.md)
  min_copies: 2
YAML
}
{ cat <<YAML
node:
  id: node-1
  data_dir: data/node-1
  listen: 127.0.0.1:$LEADER_PORT
  block_interval_ms: 250
  commitment_interval: 20
signer:
  id: signer-01
  key_file: keys/signer-01.key
YAML
common; } > node-1.yaml
{ cat <<YAML
node:
  id: node-2
  data_dir: data/node-2
  listen: 127.0.0.1:$FOLLOWER_PORT
  block_interval_ms: 250
  commitment_interval: 20
follow: http://127.0.0.1:$LEADER_PORT
YAML
common; } > node-2.yaml
C1="$BIN/cli/ailee-cli --config node-1.yaml"
C2="$BIN/cli/ailee-cli --config node-2.yaml"
$C1 validate-config
$C2 validate-config

say "2. Start leader node-1 and follower node-2, drive load"
"$BIN/node/ailee-node" --config node-1.yaml > logs/node-1.log 2>&1 & PIDS+=($!)
"$BIN/node/ailee-node" --config node-2.yaml > logs/node-2.log 2>&1 & NODE2=$!; PIDS+=("$NODE2")
# Up to 60 s each (a loaded machine starts RocksDB slowly); a node that
# exits instead is shown with its log.
wait_healthy() {  # CLI, pid, name
  for _ in $(seq 600); do
    $1 -q health-check >/dev/null 2>&1 && return 0
    kill -0 "$2" 2>/dev/null || { echo "$3 exited during start:"; tail -20 "logs/$3.log"; exit 1; }
    sleep 0.1
  done
  echo "$3 not healthy after 60 s:"; tail -20 "logs/$3.log"; exit 1
}
wait_healthy "$C1" "${PIDS[0]}" node-1
wait_healthy "$C2" "$NODE2" node-2
# The burst is signed before its clock starts (12,000 = 8 s at 1,500/s) and
# sent as batches on two connections, so the generator's own signing and one
# request per transaction do not hold it below the asked rate.
$C1 load --accounts 2000 --rate 1500 --duration 8 --memo-bytes 256 --presign 12000 --batch 100 --connections 2
$C1 load --accounts 2000 --rate 800 --duration 40 --memo-bytes 256 > logs/load.log 2>&1 & LOAD=$!; PIDS+=("$LOAD")
$C2 sync-status --wait 20

say "3. Back up the live node-2: repository, full backup, incrementals under load, each replicated offsite"
$C2 repo init --kdf-memory-mib 64
$C2 backup state --full --tag daily
# The block archive: every block node-2 commits goes to the offsite copy
# within a block interval, so a recovery rolls the snapshot forward to the
# last block before the loss (RPO: seconds, not the 15 minutes between backups).
$C2 archive run --repo "file://$W/offsite/repo" > logs/archive.log 2>&1 & ARCHIVER=$!; PIDS+=("$ARCHIVER")
sleep 3
$C2 backup state --tag 15min
sleep 3
$C2 backup state --tag 15min
$C2 snapshots
$C2 verify --read-data
$C2 repo status

say "4. Back up the signer key (OpenPGP, AES-256; any copy opens with stock gpg)"
AILEE_KEY_PASSPHRASE=$(cat key-backup.pass) $C1 keys backup --id signer-01 --key keys/signer-01.key --out safe-1 --out safe-2
AILEE_KEY_PASSPHRASE=$(cat key-backup.pass) $C1 keys verify --id signer-01 safe-1 safe-2
gpg --batch --quiet --homedir "$(mktemp -d)" --pinentry-mode loopback --passphrase-file key-backup.pass \
    --decrypt safe-1/signer-01.key.gpg | openssl pkey -pubout | cmp - keys/signer-01.pub && echo "stock gpg opens the key backup: public key matches"

say "5. Disaster: node-2's host is lost: the node and its archiver killed (SIGKILL), its data dir and the local repository destroyed"
# Heights come from the node's own /v1/status: sync-status is a check (it
# exits 6 while the follower is a block behind), not a way to read a value.
height_of() { curl -sf "http://127.0.0.1:$1/v1/status" | python3 -c 'import json,sys; print(json.load(sys.stdin)["height"])'; }
BEFORE=$(height_of "$FOLLOWER_PORT")
kill -9 "$NODE2" "$ARCHIVER"; wait "$NODE2" "$ARCHIVER" 2>/dev/null || true
rm -rf data/node-2 data/blocklog-buffer repo
echo "node-2 reported height $BEFORE just before it was killed; its data dir, archive buffer and the local repository are gone (left in data/: $(ls data))"

say "6. Recovery in one command: recover-node from the offsite copy (plan, then config, key, state proven before it is swapped in, start, catch up, deep health check)"
$C2 recover-node --repo "file://$W/offsite/repo" --start --node-binary "$BIN/node/ailee-node" --dry-run
T0=$(date +%s.%N)
$C2 recover-node --repo "file://$W/offsite/repo" --yes --start --node-binary "$BIN/node/ailee-node" | tee logs/recover-node.txt
T2=$(date +%s.%N)
# The report recover-node wrote: the node it started (stopped at the end of
# the demo), the height the restored state was proven at, RTO and RPO.
REPORT=$(sed -n 's/.* report \(.*\)$/\1/p' logs/recover-node.txt | tail -1)
read -r NODE2 RESTORED < <(python3 - "$REPORT" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
phases = {p["phase"]: p for p in r["phases"]}
print(phases["start"]["detail"]["pid"], phases["state"]["detail"]["height"])
PY
)
PIDS+=("$NODE2")
wait "$LOAD" || true
$C2 sync-status --wait 60

say "8. Proof: both nodes have the same state root at the same height"
H=$(height_of "$FOLLOWER_PORT")  # the leader is at or past it
R1=$(curl -s "http://127.0.0.1:$LEADER_PORT/v1/blocks/$H" | python3 -c 'import json,sys; print(json.load(sys.stdin)["header"]["state_root"])')
R2=$(curl -s "http://127.0.0.1:$FOLLOWER_PORT/v1/blocks/$H" | python3 -c 'import json,sys; print(json.load(sys.stdin)["header"]["state_root"])')
echo "height $H: leader $R1"
echo "height $H: node-2 $R2"
[ "$R1" = "$R2" ] || { echo "MISMATCH"; exit 1; }
$C2 health-check --deep
$C2 audit verify logs/audit.log --repo "file://$W/offsite/repo"

say "9. Drill: rehearse the recovery without touching production (sandbox node, never signs), RTO and RPO measured"
$C2 drill --repo "file://$W/offsite/repo" --node-binary "$BIN/node/ailee-node" --html logs/drill.html

printf '\n\033[1mRecovered.\033[0m node-2 lost near height %s, its state restored from the offsite copy at height %s and proven,\n' \
  "$BEFORE" "$RESTORED"
printf 'caught up with the leader to height %s, healthy, %.2f s after recover-node began. Work dir: %s\n' \
  "$H" "$(python3 -c "print($T2 - $T0)")" "$W"
