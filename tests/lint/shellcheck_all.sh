#!/usr/bin/env bash
# Every shell script the project ships or runs (scripts/, bench/, tests/, the
# package's maintainer scripts) passes shellcheck at warning level: a quoting
# slip in a recovery script is found here, not at 3 a.m.
#   bash tests/lint/shellcheck_all.sh SOURCE_DIR
set -euo pipefail
cd "${1:?usage: shellcheck_all.sh SOURCE_DIR}"
command -v shellcheck >/dev/null || { echo "shellcheck not found: install it (scripts/install-deps.sh)" >&2; exit 1; }
mapfile -t files < <(find scripts bench tests .ci -type f \( -name '*.sh' -o -name run \) | sort)
files+=(packaging/debian/postinst packaging/debian/postrm packaging/debian/prerm)
shellcheck -S warning "${files[@]}"
echo "shellcheck: ${#files[@]} scripts clean"
