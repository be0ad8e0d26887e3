#!/bin/sh
# Records what `kubectl kustomize` prints for each post-renderer case: the
# kustomization Flux's helm-controller generates for the HelmRelease's
# postRenderers[].kustomize (written out by hand in <case>/kustomization.yaml)
# over the chart output in helm-output.yaml.
set -eu
cd "$(dirname "$0")"
for dir in */; do
  case=${dir%/}
  tmp=$(mktemp -d)
  cp helm-output.yaml "$case/kustomization.yaml" "$tmp/"
  kubectl kustomize "$tmp" > "$case/expected.yaml"
  rm -rf "$tmp"
done
