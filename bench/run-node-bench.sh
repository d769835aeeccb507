#!/usr/bin/env bash
# One command: build the node, the CLI and node_bench, then measure
#   - transactions per second (HTTP submission: one per POST /v1/tx and
#     BENCH_HTTP_BATCH per POST /v1/txs; bulk block application),
#   - blocks per second a fresh follower catches up,
#   - seconds per GiB of a from-scratch verify-state (state root recomputed),
# and print a table. Takes about 4-5 minutes with the defaults on 2 cores.
# Results and how to read them: bench/RESULTS-node.md.
#
# Knobs (environment):
#   BUILD_DIR               build tree to use/create (default: build-bench)
#   BENCH_SECONDS=20        length of each throughput run
#   BENCH_HTTP_RATE=100000  target tx/s for the HTTP runs (above capacity on purpose)
#   BENCH_HTTP_BATCH=500    transfers per POST /v1/txs in the batched HTTP run (<= 1000)
#   BENCH_HTTP_CONNECTIONS=2  requests in flight at once in the batched HTTP run
#   BENCH_HTTP_PRESIGN=12000*BENCH_SECONDS  transfers signed before each HTTP run's clock starts
#   BENCH_ACCOUNTS=1000     accounts for the throughput runs
#   BENCH_FOLLOW_BLOCKS=2000, BENCH_FOLLOW_BLOCK_TX=50   leader pre-fill for catch-up
#   BENCH_DATASET=256MiB    size of the verify-state dataset
#   BENCH_DATASET_ACCOUNTS=10000 (at most ~20000: see node_bench.cc), BENCH_MEMO_BYTES=2048
#   BENCH_PARTS=http,follow,dataset  which measurements to run (e.g. BENCH_PARTS=http)
#   AILEE_TEST_TMPDIR       where the data goes (default $TMPDIR or /tmp);
#                           AILEE_KEEP_TEST_DIRS=1 keeps it afterwards
#
# The 2 GiB dataset of the foundation issue (about 10 minutes to build):
#   BENCH_DATASET=2GiB bash bench/run-node-bench.sh
# which is `ailee-cli load --mode bulk --target-size 2GiB --memo-bytes 2048`
# followed by `ailee-cli verify-state DATA_DIR`.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build-bench}
if [ ! -f "$BUILD_DIR/build.ninja" ]; then
  cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi
ninja -C "$BUILD_DIR" ailee-node ailee-cli node_bench
exec "$BUILD_DIR/bench/node/node_bench"
