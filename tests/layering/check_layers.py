#!/usr/bin/env python3
"""Checks the layering of src/ (and tools/) from the code's own #include lines.

usage: check_layers.py ROOT          exit 0 when every include points down,
                                     1 listing every violation (file:line)
       check_layers.py --self-test   plants each kind of violation in a
                                     scratch tree and fails unless all are caught

The rules are docs/architecture.md's table, kept here as data (LAYERS):
  - a file in src/<layer>/ includes only its own layer and the layers listed
    for it (the same edges as the ailee_<layer> libraries' DEPS in CMake);
  - above node/, only node/client.h (the ailee_node_client library) is
    visible, and node/client.* itself uses base/ alone;
  - state/internal/ is included from state/ only, rocksdb/ only from state/
    sources (never from a public state/*.h header), sodium.h only in crypto/;
  - a folder under src/ (or tools/) missing from LAYERS is an error: a new
    layer is placed in the table before it is built.
"""
import os
import re
import sys
import tempfile

BELOW_OPS = ["base", "crypto", "storage", "config", "audit", "state", "keys", "repo", "archive", "node"]
LAYERS = {
    "base": [],
    "crypto": ["base"],
    "storage": ["base"],
    "config": ["crypto", "base"],
    "audit": ["storage", "crypto", "base"],
    "state": ["crypto", "base"],
    "keys": ["crypto", "base"],
    "repo": ["state", "storage", "crypto", "base"],  # state: the block archive stores blocks in state's encoding
    "archive": ["crypto", "base"],
    "node": ["state", "config", "keys", "audit", "crypto", "base"],  # audit: operator overrides are recorded
    "ops": BELOW_OPS,
    "tools": BELOW_OPS,  # tools/loadgen: load generation through the node's API
    "cli": BELOW_OPS + ["ops", "tools"],
}
NODE_CLIENT_FILES = ("src/node/client.h", "src/node/client.cc", "src/node/health_checks.h", "src/node/health_checks.cc")
NODE_CLIENT_HEADERS = ("node/client.h", "node/health_checks.h")
SOURCE_SUFFIXES = (".h", ".cc", ".hpp", ".cpp")
INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]')


def layer_of(rel):
    """'src/repo/backup.cc' -> 'repo'; 'tools/loadgen/x.cc' -> 'tools'; else None."""
    parts = rel.split("/")
    if parts[0] == "src" and len(parts) > 2:
        return parts[1]
    if parts[0] == "tools" and len(parts) > 1:
        return "tools"
    return None


def problems_in(rel, lines):
    layer = layer_of(rel)
    if layer is None:
        return []
    if layer not in LAYERS:
        return [f"{rel}: folder {layer}/ is in no layer: add it to LAYERS in tests/layering/check_layers.py "
                "and to docs/architecture.md"]
    out = []
    allowed = set(LAYERS[layer]) | {layer}
    if rel in NODE_CLIENT_FILES:
        allowed = {"node", "base"}
    for number, line in enumerate(lines, 1):
        m = INCLUDE.match(line)
        if not m:
            continue
        bracket, path = m.groups()
        where = f"{rel}:{number}: {line.strip()}"
        top = path.split("/")[0]
        if bracket == "<":
            if path.startswith("rocksdb/") and not (layer == "state" and not re.fullmatch(r"src/state/[^/]+\.h", rel)):
                out.append(f"{where}: RocksDB is sealed in state/ (sources and state/internal/ only)")
            elif path == "sodium.h" and layer != "crypto":
                out.append(f"{where}: libsodium is used through crypto/ only")
            continue
        if "/" not in path:
            continue  # a header of the same folder
        if top not in LAYERS:
            continue  # not one of ours (a test helper, a third-party header in quotes)
        if top not in allowed:
            out.append(f"{where}: {layer}/ may include only {', '.join(sorted(allowed))}")
        elif path.startswith("state/internal/") and layer != "state":
            out.append(f"{where}: state/internal/ is private to state/")
        elif top == "node" and layer != "node" and path not in NODE_CLIENT_HEADERS:
            out.append(f"{where}: above node/ only {' and '.join(NODE_CLIENT_HEADERS)} (ailee_node_client) are visible")
    return out


def check(root):
    found = []
    for top in ("src", "tools"):
        for folder, _, files in os.walk(os.path.join(root, top)):
            for name in sorted(files):
                if not name.endswith(SOURCE_SUFFIXES):
                    continue
                path = os.path.join(folder, name)
                rel = os.path.relpath(path, root).replace(os.sep, "/")
                with open(path, encoding="utf-8", errors="replace") as f:
                    found += problems_in(rel, f.read().splitlines())
    return found


def self_test():
    # Each planted file must be reported; the clean ones must not be.
    planted = {
        "src/base/bad.cc": '#include "repo/blob.h"\n',
        "src/state/bad.cc": '#include "repo/snapshot.h"\n',
        "src/repo/bad.cc": '#include "ops/checkpoint.h"\n',
        "src/repo/bad2.cc": '  #  include "cli/command.h"\n',
        "src/ops/bad.cc": '#include "node/node.h"\n',
        "src/cli/bad.cc": '#include "state/internal/rocks.h"\n',
        "src/node/client.cc": '#include "state/state_db.h"\n',
        "src/state/bad.h": "#include <rocksdb/db.h>\n",
        "src/repo/bad3.cc": "#include <rocksdb/db.h>\n",
        "src/keys/bad.cc": "#include <sodium.h>\n",
        "src/newlayer/x.cc": '#include "base/status.h"\n',
        "tools/loadgen/bad.cc": '#include "cli/command.h"\n',
    }
    clean = {
        "src/repo/good.cc": '#include "repo/ids.h"\n#include "storage/object_store.h"\n#include "pack.h"\n'
                            "#include <zstd.h>\n",
        "src/state/internal/good.cc": "#include <rocksdb/db.h>\n#include \"state/internal/rocks.h\"\n",
        "src/state/good.cc": "#include <rocksdb/db.h>\n",
        "src/ops/good.cc": '#include "node/client.h"\n#include "repo/backup.h"\n#include "archive/tar.h"\n',
        "src/cli/good.cc": '#include "ops/state/backup.h"\n#include "tools/loadgen/loadgen.h"\n',
        "tools/loadgen/good.cc": '#include "node/client.h"\n#include "state/transaction.h"\n',
        "src/crypto/good.cc": "#include <sodium.h>\n",
    }
    with tempfile.TemporaryDirectory(prefix="ailee-layering-") as root:
        for rel, text in {**planted, **clean}.items():
            os.makedirs(os.path.dirname(os.path.join(root, rel)), exist_ok=True)
            with open(os.path.join(root, rel), "w") as f:
                f.write(text)
        found = check(root)
    failures = [f"not caught: {rel}" for rel in planted if not any(p.startswith(rel + ":") for p in found)]
    failures += [f"false alarm: {p}" for p in found if any(p.startswith(rel + ":") for rel in clean)]
    for line in failures:
        print(line)
    print(f"self-test: {len(planted)} planted violations, {len(found)} reported, {len(failures)} wrong")
    return 1 if failures else 0


def main(argv):
    if argv[1:] == ["--self-test"]:
        return self_test()
    if len(argv) != 2:
        print(__doc__)
        return 2
    found = check(argv[1])
    for line in found:
        print(line)
    if found:
        print(f"{len(found)} layering violation(s): see docs/architecture.md for who may include whom")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
