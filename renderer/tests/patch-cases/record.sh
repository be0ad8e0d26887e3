#!/usr/bin/env bash
# Records what `kubectl kustomize` (kustomize v5.5) prints for every patch
# case in this directory: expected.yaml on success, expected-error.txt (the
# error message) when kustomize fails. Run it from anywhere; it needs kubectl.
#
#   renderer/tests/patch-cases/record.sh            # every case
#   renderer/tests/patch-cases/record.sh smp-pod    # the named cases
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
command -v kubectl >/dev/null || { echo "record.sh: kubectl is not on PATH" >&2; exit 1; }
if [ "$#" -gt 0 ]; then cases=("$@"); else cases=(); for d in "$here"/*/; do cases+=("$(basename "$d")"); done; fi
for c in "${cases[@]}"; do
  dir="$here/$c"
  rm -f "$dir/expected.yaml" "$dir/expected-error.txt"
  if out="$(kubectl kustomize "$dir" 2>"$dir/.stderr")"; then
    printf '%s\n' "$out" >"$dir/expected.yaml"
  else
    # Keep only the message: kubectl prefixes "error: " and the paths are machine-specific.
    # Drop deprecation warnings and klog's timestamp prefix so that a re-run only
    # changes the file when the message changes.
    grep -v '^# Warning' "$dir/.stderr" \
      | sed -E -e "s#$dir/?##g" -e 's/^E[0-9]{4} [0-9:.]+ +[0-9]+ [a-z_]+\.go:[0-9]+\] "command failed" //' \
      >"$dir/expected-error.txt"
  fi
  rm -f "$dir/.stderr"
done
echo "recorded ${#cases[@]} cases"
