#!/usr/bin/env bash
# Runs every example once on committed sample data; each ends in asserts on its own output.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=target/release/examples
run() {
  echo "--- example: $*"
  local t0
  t0=$(date +%s)
  "$@"
  echo "--- ok in $(($(date +%s) - t0)) s"
}
for ex in examples/*.rs; do
  name=$(basename "$ex" .rs)
  case "$name" in
    *) ;;
  esac
done
