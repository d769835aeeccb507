#!/usr/bin/env bash
# Golden test of ailee-cli's surface: every command's --help text and the JSON
# error documents of a few bad invocations, compared with cli-golden.txt.
# A restructure of the CLI must leave this output unchanged; a deliberate
# change of the surface regenerates the file: cli_golden.sh CLI --update
set -euo pipefail
cli=$(realpath "$1")
golden=$(dirname "$0")/cli-golden.txt
out=$(mktemp); trap 'rm -f "$out"' EXIT

# The subcommand names listed in a help text's "Subcommands:" section.
subcommands_of() {
  awk '/^Subcommands:/{on=1; next} on && /^  [a-z]/{print $1}' <<<"$1"
}
walk() {
  local help; help=$("$cli" "$@" --help 2>&1) || true
  printf '=== ailee-cli %s --help\n%s\n' "$*" "${help//$cli/ailee-cli}" >>"$out"
  local sub; for sub in $(subcommands_of "$help"); do walk "$@" "$sub"; done
}
walk
tmp=$(mktemp -d); trap 'rm -rf "$out" "$tmp"' EXIT
json_case() {
  local rc=0 doc; doc=$(cd "$tmp" && AILEE_REPO_PASSPHRASE=x "$cli" --json "$@" 2>/dev/null) || rc=$?
  local args="$*"
  printf '=== ailee-cli --json %s\nexit %d\n%s\n' "${args//$tmp/TMP}" "$rc" "${doc//$tmp/TMP}" >>"$out"
}
json_case snapshots --repo "file://$tmp/missing"
json_case verify --repo "file://$tmp/missing"
json_case verify-state "$tmp/no-such-dir"
json_case verify-checkpoint "$tmp/no-such-dir"
json_case --config "$tmp/none.yaml" validate-config
json_case --config "$tmp/none.yaml" health-check
json_case keys verify --repo "file://$tmp/missing"
json_case logs restore --repo "file://$tmp/missing" latest "$tmp/out"

if [[ ${2:-} == --update ]]; then cp "$out" "$golden"; echo "updated $golden"; exit 0; fi
if ! diff -u "$golden" "$out"; then
  echo "ailee-cli's help or JSON output changed (see the diff above)." >&2
  echo "If the change is deliberate: bash tests/golden/cli_golden.sh build/src/cli/ailee-cli --update" >&2
  exit 1
fi
