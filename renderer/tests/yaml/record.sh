#!/bin/sh
# Records what `kubectl kustomize` prints for each YAML case, as the baseline
# of renderer/tests/yaml_cases.rs.
#
# Each cases/NAME.yaml becomes the single resource of a temporary
# kustomization. The output goes to cases/NAME.out; when kustomize rejects the
# input, its error message goes to cases/NAME.err instead.
#
# Usage: renderer/tests/yaml/record.sh [NAME.yaml...]   (default: all cases)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
cd "$here/cases"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf 'resources:\n- resource.yaml\n' >"$tmp/kustomization.yaml"
if [ $# -eq 0 ]; then set -- *.yaml; fi
for case in "$@"; do
    name=${case%.yaml}
    cp "$case" "$tmp/resource.yaml"
    rm -f "$name.out" "$name.err"
    if kubectl kustomize "$tmp" >"$tmp/out" 2>"$tmp/err"; then
        mv "$tmp/out" "$name.out"
    else
        # The temp dir's name varies between runs: keep the message stable.
        sed "s|$tmp/||g" "$tmp/err" >"$name.err"
    fi
done
