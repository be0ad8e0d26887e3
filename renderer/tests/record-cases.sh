#!/usr/bin/env bash
# Records what `kubectl kustomize` prints for every kustomize conformance case.
#
# usage: renderer/tests/record-cases.sh [--out DIR] [CASE_DIR...]
#
# With no CASE_DIR, every directory under renderer/tests/cases/ is recorded.
# A case that builds gets `expected.yaml` (kubectl's stdout, byte for byte);
# a case that fails gets `expected-error.txt` (kubectl's error message on one
# line, with the case's absolute path replaced by `<case>` so the recording
# does not depend on where the repository is checked out). The other file is
# removed, so a case has exactly one of the two.
#
# With --out DIR the files go to DIR/<case-name>/ instead of the case
# directories: the conformance test uses this to re-run kubectl live and
# compare with the committed recordings without touching them.
set -euo pipefail
export LC_ALL=C

here=$(cd "$(dirname "$0")" && pwd -P)
out=""
if [[ "${1:-}" == "--out" ]]; then
    [[ $# -ge 2 ]] || { echo "record-cases.sh: --out needs a directory" >&2; exit 2; }
    out=$2
    shift 2
fi
command -v kubectl >/dev/null || { echo "record-cases.sh: kubectl is not on PATH" >&2; exit 2; }

cases=("$@")
if [[ ${#cases[@]} -eq 0 ]]; then
    for d in "$here"/cases/*/; do
        cases+=("${d%/}")
    done
fi

# kubectl prints a failure as a klog line: `E... run.go:72] "command failed" err="..."`.
# Keep the quoted message, unescaped; fall back to the whole last line.
error_line() {
    perl -ne '
        if (/"command failed" err="(.*)"\s*$/) { $m = $1; $m =~ s/\\(.)/$1/g; $last = $m; }
        elsif (/^error: (.*)$/) { $last = $1; }
        elsif (/\S/ && !defined $last) { chomp; $fallback = $_; }
        END { print defined $last ? $last : $fallback, "\n"; }
    '
}

stdout=$(mktemp)
stderr=$(mktemp)
trap 'rm -f "$stdout" "$stderr"' EXIT
built=0
failed=0
for case in "${cases[@]}"; do
    case=$(cd "$case" && pwd -P)
    name=$(basename "$case")
    dest=$case
    if [[ -n "$out" ]]; then
        dest=$out/$name
        mkdir -p "$dest"
    fi
    if kubectl kustomize "$case" >"$stdout" 2>"$stderr"; then
        cp "$stdout" "$dest/expected.yaml"
        rm -f "$dest/expected-error.txt"
        built=$((built + 1))
    else
        error_line <"$stderr" | sed "s#$case#<case>#g" >"$dest/expected-error.txt"
        rm -f "$dest/expected.yaml"
        failed=$((failed + 1))
    fi
done
if [[ -z "$out" ]]; then
    kubectl version --client 2>/dev/null | grep -i kustomize >"$here/cases/RECORDED_WITH" || true
fi
echo "recorded ${#cases[@]} cases: $built built, $failed failed as expected-error.txt" >&2
