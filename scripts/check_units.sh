#!/usr/bin/env bash
# The systemd units in deploy/ parse and name programs that exist (systemd-analyze verify).
# CI has no systemd running, so this checks the files, not a boot: each unit is copied under
# an instance name with its programs pointed at what this machine has (the release binary
# for jiesu, pg_autoctl where it is installed).
# Usage: scripts/check_units.sh /path/to/release/jiesu
set -euo pipefail
bin="${1:?the jiesu binary}"
cd "$(dirname "$0")/.."
command -v systemd-analyze >/dev/null || { echo "systemd-analyze is missing: skipped"; exit 0; }
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
autoctl=$(command -v pg_autoctl || echo /bin/true)
sed "s#/usr/local/bin/jiesu#$bin#g" deploy/jiesu@.service > "$dir/jiesu@1.service"
sed "s#/usr/bin/pg_autoctl#$autoctl#g" deploy/pgautofailover@.service > "$dir/pgautofailover@node1.service"
out=$(cd "$dir" && systemd-analyze verify --man=no ./jiesu@1.service ./pgautofailover@node1.service 2>&1 || true)
# Lines about other units on this machine (its own /lib/systemd) are not ours.
ours=$(printf '%s\n' "$out" | grep -E 'jiesu@|pgautofailover@' || true)
if [ -n "$ours" ]; then
  printf '%s\n' "$ours"
  echo "the systemd units in deploy/ do not verify"
  exit 1
fi
echo "deploy/jiesu@.service and deploy/pgautofailover@.service verify"
