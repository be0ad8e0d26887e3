#!/usr/bin/env bash
# Records what `kubectl kustomize` prints for every kustomize conformance case.
#
# usage: renderer/tests/record-cases.sh [--out DIR] [CASE_DIR...]
#
# A case holding a file `build-dir` builds the subdirectory it names (one
# line, relative to the case) instead of the case itself.
#
# With no CASE_DIR, every directory under renderer/tests/cases/ is recorded.
# A case that builds gets `expected.yaml` (kubectl's stdout, byte for byte);
# a case that fails gets `expected-error.txt` (kubectl's error message, with
# the case's absolute path replaced by `<case>` and Go heap addresses masked,
# so the recording depends neither on the checkout location nor on the run).
# The other file is removed, so a case has exactly one of the two.
#
# KUSTOMIZE_FLAGS adds flags to every kubectl call (word-split), e.g. the
# helmCharts corpus records with
#   PATH=tests/kustomize-helm:$PATH KUSTOMIZE_FLAGS="--enable-helm --helm-command helm-shim"
# (kustomize's temp directory in messages becomes `<tmp>`).
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

# kubectl prints a failure as a klog line, `E... run.go:72] "command failed" err="..."`
# with the message quoted, or, when the message spans lines, as `err=<` followed
# by the message's lines indented by a tab and a closing ` >`. Keep the message,
# unquoted. kustomize panics on a few inputs (two objects left with one
# identity by a patch): then the message is the `panic:` line. Otherwise fall
# back to the last non-empty line.
error_message() {
    perl -ne '
        if ($block) {
            if (/^ >$/) { $block = 0; next; }
            s/^\t//; $msg .= $_; next;
        }
        if (/"command failed" err="(.*)"\s*$/) { $msg = $1; $msg =~ s/\\(.)/$1/g; $msg .= "\n"; }
        elsif (/"command failed" err=<$/) { $block = 1; $msg = ""; }
        elsif (/^error: (.*)$/) { $msg = "$1\n"; }
        elsif (/^panic: (.*)$/ && !defined $msg) { $msg = "$1\n"; }
        elsif (/\S/) { $fallback = $_; }
        END { print defined $msg ? $msg : $fallback; }
    '
}

# Makes a message independent of the checkout location and of the Go
# process: the case's absolute path becomes `<case>`, the directory holding
# the case (reached by a `../` that leaves it) `<case>/..`, heap addresses
# `0xADDR`.
normalise() {
    sed -e "s#$1#<case>#g" -e "s#$(dirname "$1")/#<case>/../#g" \
        -e 's/0xc[0-9a-f]\{6,\}/0xADDR/g' \
        -e 's#/[^ ]*/kustomize-helm-[0-9]*/#<tmp>/#g'
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
    # A `build-dir` file names the subdirectory of the case to build.
    target=$case
    if [[ -f "$case/build-dir" ]]; then
        target=$case/$(tr -d '\n' <"$case/build-dir")
    fi
    # shellcheck disable=SC2086
    if kubectl kustomize ${KUSTOMIZE_FLAGS:-} "$target" >"$stdout" 2>"$stderr"; then
        cp "$stdout" "$dest/expected.yaml"
        rm -f "$dest/expected-error.txt"
        built=$((built + 1))
    else
        error_message <"$stderr" | normalise "$case" >"$dest/expected-error.txt"
        rm -f "$dest/expected.yaml"
        failed=$((failed + 1))
    fi
done
if [[ -z "$out" ]]; then
    kubectl version --client 2>/dev/null | grep -i kustomize >"$here/cases/RECORDED_WITH" || true
fi
echo "recorded ${#cases[@]} cases: $built built, $failed failed as expected-error.txt" >&2
