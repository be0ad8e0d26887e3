#!/bin/sh
# Records what `kubectl kustomize` prints for each Flux Kustomization case:
# <case>/app is the directory at the Flux Kustomization's spec.path
# (<case>/ks.yaml), and <case>/kustomization.yaml is, written out by hand,
# the kustomization Flux's generator leaves in it (generated when the
# directory has none, with targetNamespace, namePrefix, nameSuffix, patches,
# images, components and the legacy patches written in), which replaces the
# directory's own for the build.
set -eu
cd "$(dirname "$0")"
for dir in */; do
  case=${dir%/}
  tmp=$(mktemp -d)
  cp -R "$case/." "$tmp/"
  cp "$case/kustomization.yaml" "$tmp/app/kustomization.yaml"
  kubectl kustomize "$tmp/app" > "$case/expected.yaml"
  rm -rf "$tmp"
done
