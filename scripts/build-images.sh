#!/usr/bin/env bash
# Builds the local test images; the builder ships with @elector/testing as `elector-build-images`.
exec bash "$(dirname "${BASH_SOURCE[0]}")/../packages/testing/images/build-images.sh" "$@"
