#!/usr/bin/env bash
# Builds the real container image (packaging/docker/Dockerfile) and smoke-tests it the way ECS
# runs it (tests/e2e/image_smoke.sh), on a machine with no Docker daemon, as CI is:
#   1. mmdebstrap makes the Debian 12 base (minbase, merged /usr, the slim image's dpkg
#      excludes and apt cleanup), cached as build/image/base-bookworm.tar, and imports it as
#      debian:bookworm-slim (and debian:bookworm for the build stage's FROM);
#   2. the CI build's own tree (packaging/docker/stage.sh: cmake --install, DESTDIR, /usr)
#      stands in for the build stage (`--build-context build=…`), so ferry is not compiled twice;
#   3. `buildah bud` builds the Dockerfile; podman runs the smoke test.
# Every store (containers storage, base tarball, temp files) lives under build/image/: nothing
# is cached outside the clone. Run by `scripts/dev.sh image` and at the end of `dev.sh test`.
# Prints "image: N passed, 0 failed" and the size and time; exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
BUILD=${FERRY_BUILD_DIR:-$ROOT/build}
OUT=$BUILD/image
JOBS=${JOBS:-$(nproc)}
start=$(date +%s)

# Only this stage needs them, so `dev.sh run` does not install them.
IMAGE_APT_PACKAGES=(mmdebstrap buildah podman runc)
missing=()
for p in "${IMAGE_APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "image.sh: installing ${missing[*]}"
  if [ "$(id -u)" = 0 ]; then sudo() { "$@"; }; fi
  sudo apt-get update -q
  DEBIAN_FRONTEND=noninteractive sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# Keep the tools' state inside the clone. vfs: no overlay or fuse needed; chroot isolation and
# runc: what works in this sandbox (crun does not); events to a file, not journald.
mkdir -p "$OUT/tmp"
cat > "$OUT/storage.conf" <<CONF
[storage]
driver = "vfs"
graphroot = "$OUT/storage"
runroot = "$OUT/run"
CONF
cat > "$OUT/containers.conf" <<CONF
[engine]
runtime = "runc"
events_logger = "file"
events_logfile_path = "$OUT/run/events.log"
cgroup_manager = "cgroupfs"
tmp_dir = "$OUT/run/libpod"
static_dir = "$OUT/storage/libpod"
volume_path = "$OUT/storage/volumes"
CONF
export CONTAINERS_STORAGE_CONF=$OUT/storage.conf CONTAINERS_CONF=$OUT/containers.conf
export BUILDAH_ISOLATION=chroot TMPDIR=$OUT/tmp

# --- 1. the base image ----------------------------------------------------------------
BASE_TAR=$OUT/base-bookworm.tar
if [ ! -s "$BASE_TAR" ]; then
  echo "image.sh: mmdebstrap bookworm (minbase) → $BASE_TAR"
  base_start=$(date +%s)
  # The machine's own apt sources when it has them (deb822), else mmdebstrap's defaults.
  mirror=()
  [ -f /etc/apt/sources.list.d/debian.sources ] && mirror=(/etc/apt/sources.list.d/debian.sources)
  # As debian:bookworm-slim is made: no docs but copyrights, man pages, info or locales from
  # dpkg, which does not fsync each file (force-unsafe-io: a crash means a rebuild anyway);
  # apt keeps no downloaded .debs, package caches or translations.
  mmdebstrap --quiet --variant=minbase --format=tar --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr \
    --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright' \
    --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/info/*' \
    --dpkgopt='path-exclude=/usr/share/groff/*' --dpkgopt='path-exclude=/usr/share/lintian/*' \
    --dpkgopt='path-exclude=/usr/share/locale/*' \
    --dpkgopt='force-unsafe-io' \
    --aptopt='Acquire::Languages "none"' --aptopt='Dir::Cache::pkgcache ""' \
    --aptopt='Dir::Cache::srcpkgcache ""' \
    --aptopt='DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb || true"; }' \
    --aptopt='APT::Install-Recommends "false"' \
    bookworm "$BASE_TAR.part" "${mirror[@]}" >"$OUT/base.log" 2>&1 ||
    { tail -30 "$OUT/base.log"; echo "image.sh: mmdebstrap failed"; exit 1; }
  mv "$BASE_TAR.part" "$BASE_TAR"
  echo "image.sh: base made in $(( $(date +%s) - base_start )) s, $(( $(stat -c %s "$BASE_TAR") / 1000000 )) MB"
fi
if [ ! -f "$OUT/base.imported" ] || [ "$BASE_TAR" -nt "$OUT/base.imported" ] ||
  ! podman image exists docker.io/library/debian:bookworm-slim; then
  podman import --quiet "$BASE_TAR" docker.io/library/debian:bookworm-slim >/dev/null
  touch "$OUT/base.imported"
fi
# The build stage's FROM must resolve too, although the build context below replaces it.
podman tag docker.io/library/debian:bookworm-slim docker.io/library/debian:bookworm

# --- 2. the install tree of this build -------------------------------------------------
if [ ! -f "$BUILD/build.ninja" ]; then
  cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo
fi
plugin_targets=()
for d in plugins/*/; do plugin_targets+=("ferry_plugin_$(basename "$d")"); done
cmake --build "$BUILD" -j "$JOBS" --target ferry "${plugin_targets[@]}"
rm -rf "$OUT/prebuilt"
sh packaging/docker/stage.sh "$BUILD" "$OUT/prebuilt/staging" >"$OUT/stage.log"

# --- 3. the image -----------------------------------------------------------------------
VERSION=$("$BUILD/bin/ferry" version | grep -o '[0-9][0-9.]*' | head -1)
IMAGE=ferry:$VERSION
build_start=$(date +%s)
# --layers: the runtime stage's package layer is reused while the Dockerfile keeps it.
buildah bud --quiet --layers --pull=never --format docker --build-context build="$OUT/prebuilt" \
  -f packaging/docker/Dockerfile -t "$IMAGE" . >"$OUT/build.log" 2>&1 ||
  { tail -30 "$OUT/build.log"; echo "image.sh: buildah bud failed"; exit 1; }
build_s=$(( $(date +%s) - build_start ))
# Earlier builds of the same tag are left untagged: drop them so the store does not grow.
podman image prune -f >/dev/null 2>&1 || true
size=$(podman image inspect --format '{{.Size}}' "$IMAGE")
echo "image.sh: built $IMAGE, $(( size / 1000000 )) MB, in ${build_s} s"

# --- 4. the smoke test -------------------------------------------------------------------
smoke_start=$(date +%s)
set +e
FERRY_IMAGE=$IMAGE FERRY_BIN=$BUILD/bin/ferry FERRY_SOURCE_DIR=$ROOT FERRY_BUILD_DIR=$BUILD \
  bash tests/e2e/image_smoke.sh 2>&1 | tee "$OUT/smoke.log"
rc=${PIPESTATUS[0]}
set -e
passed=$(grep -c '^ok: ' "$OUT/smoke.log" || true)
echo "image.sh: $IMAGE $(( size / 1000000 )) MB; smoke test $(( $(date +%s) - smoke_start )) s;" \
  "whole stage $(( $(date +%s) - start )) s"
if [ "$rc" != 0 ]; then
  echo "image: $passed passed, 1 failed"
  exit 1
fi
echo "image: $passed passed, 0 failed"
