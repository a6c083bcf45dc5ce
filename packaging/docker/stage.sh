#!/bin/sh
# stage.sh BUILD_DIR STAGING_DIR: lays out in STAGING_DIR the tree the image's runtime stage
# copies to /: `cmake --install` of BUILD_DIR with DESTDIR and prefix /usr, stripped, exactly
# as the .deb installs it, with the FireLens config as /etc/ferry/ferry.yaml. The host pieces
# (systemd unit, the unit's environment file) have no use in a container. One script for the
# Dockerfile's build stage and for scripts/image.sh, which hands a CI build's tree to the
# image build (--build-context build=…) instead of compiling ferry a second time.
set -eu
[ "$#" -eq 2 ] || { echo "usage: stage.sh BUILD_DIR STAGING_DIR" >&2; exit 2; }
build=$1 staging=$2
src=$(cd "$(dirname "$0")/../.." && pwd)
DESTDIR=$staging cmake --install "$build" --prefix /usr --strip
cp "$src/config/firelens-datadog-firehose.yaml" "$staging/etc/ferry/ferry.yaml"
rm -rf "$staging/usr/lib/systemd" "$staging/etc/default"
