# shellcheck shell=bash
# Shared by the benchmark scripts (sourced, not run): the node config every
# tool's run uses, and the two dataset operations both benchmarks need.
# Expects DS (the dataset dir, holding keys/) and W (the work dir).

# bench_bin TARGET...: the build tree the binaries come from, in BIN:
# BENCH_BIN_DIR as it is, else BUILD_DIR (default build-bench under ROOT,
# the checkout; configured when missing) with the TARGETs built.
bench_bin() {
  if [ -n "${BENCH_BIN_DIR:-}" ]; then
    BIN=$(cd "$BENCH_BIN_DIR" && pwd)
  else
    BIN=$ROOT/${BUILD_DIR:-build-bench}
    [ -f "$BIN/build.ninja" ] || cmake -S . -B "$BIN" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
    ninja -C "$BIN" "$@" >&2
  fi
}

# bench_config FILE DATA_DIR REPO_URL [BACKUP_YAML]: a node config for
# DATA_DIR whose repository is REPO_URL; the federation key comes from the
# dataset. BACKUP_YAML (already indented by two spaces) is appended to the
# backup section.
bench_config() {
  cat > "$1" <<YAML
node:
  id: bench-node
  data_dir: $2
  listen: 127.0.0.1:1
  commitment_interval: 20
federation:
  threshold: 1
  signers:
    - id: signer-01
      public_key_file: $DS/keys/signer-01.pub
signer:
  id: signer-01
  key_file: $DS/keys/signer-01.key
logging:
  audit_log: $W/audit.log
backup:
  repository: $3
  passphrase_file: $W/pass
${4:-}
YAML
}

# changed_bytes BASE CHURNED: bytes of CHURNED's files that are new or differ
# (size or mtime) from BASE's, i.e. what an incremental has to read.
changed_bytes() {
  python3 - "$1" "$2" <<'PY'
import os, sys
a, b = sys.argv[1:3]
n = 0
for f in os.listdir(b):
    sb = os.stat(os.path.join(b, f))
    try:
        sa = os.stat(os.path.join(a, f))
        if sa.st_size == sb.st_size and int(sa.st_mtime) == int(sb.st_mtime):
            continue
    except FileNotFoundError:
        pass
    n += sb.st_size
print(n)
PY
}

# apply_churn SRC DIR [MTIME]: make DIR equal to SRC, rewriting only the
# files that differ (RocksDB dirs are flat), as the node itself would have.
# MTIME "keep" (the default) copies SRC's mtimes; "fresh" gives rewritten
# files the current time, as files the node writes now would have.
apply_churn() {
  python3 - "$1" "$2" "${3:-keep}" <<'PY'
import os, shutil, sys
src, dst, mtime = sys.argv[1:4]
s, d = set(os.listdir(src)), set(os.listdir(dst))
for n in d - s:
    p = os.path.join(dst, n)
    shutil.rmtree(p) if os.path.isdir(p) else os.remove(p)
for n in s:
    a, b = os.path.join(src, n), os.path.join(dst, n)
    if n in d:
        sa, sb = os.stat(a), os.stat(b)
        if sa.st_size == sb.st_size and int(sa.st_mtime) == int(sb.st_mtime):
            continue
        os.remove(b)
    (shutil.copy2 if mtime == "keep" else shutil.copy)(a, b)
PY
}
