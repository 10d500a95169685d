#!/bin/sh
# Assembles the runtime tree of the container image — what /app holds — from a built checkout:
#   scripts/assemble-runtime.sh <built-checkout> <destination>
# Production dependencies only, installed from the lock file. The Dockerfile RUNs this script, and
# test/integration/container-image.test.ts runs it too, so a runtime dependency that is only a dev dependency,
# or a file the image forgets to copy, fails CI even though no Docker engine is available there.
set -eu
src=$1
dest=$2
if [ ! -f "$src/dist/cli.js" ]; then
  echo "assemble-runtime: $src/dist/cli.js is missing: build first (npm run build)" >&2
  exit 1
fi
mkdir -p "$dest"
cp "$src/package.json" "$src/package-lock.json" "$dest/"
# What the program reads at run time: the code, the launcher, the templates, the checks and default configs,
# and the health-check script the image's HEALTHCHECK runs.
for item in dist bin templates config scripts; do
  rm -rf "${dest:?}/$item"
  cp -R "$src/$item" "$dest/$item"
done
cd "$dest"
# --ignore-scripts: the `prepare` script builds from src/, which the runtime does not have; dist/ is already built.
npm ci --omit=dev --ignore-scripts --no-audit --no-fund
