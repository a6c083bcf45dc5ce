#!/usr/bin/env bash
# Packaging (issue 7), everything that can be checked without a Docker engine or systemd
# running: the install tree (`cmake --install`, the layout the Dockerfile copies), the
# installed binary finding its plugins, the systemd unit (systemd-analyze verify), the .deb
# (cpack -G DEB; dpkg-deb -c/-I/-x; lintian), the Dockerfile's runtime libraries against the .deb's
# shared-library dependencies, and the ECS task definition example.
source "$(dirname "$0")/lib.sh"
: "${FERRY_BUILD_DIR:?FERRY_BUILD_DIR must point at the build directory}"
SRC=$FERRY_SOURCE_DIR
# The installed binary must find its plugins by itself, not through the test's variable.
unset FERRY_PLUGIN_DIR
PLUGINS=$(cd "$FERRY_BUILD_DIR/lib/ferry/plugins" && ls *.so)
[ -n "$PLUGINS" ] || fail "no plugins built in $FERRY_BUILD_DIR/lib/ferry/plugins"

cat > "$WORK/all-plugins.yaml" <<'YAML'
inputs:
  - type: stdin
outputs:
  - type: datadog
    api_key: ${DD_API_KEY}
  - type: stdout
  - type: file
    path: /tmp/ferry-packaging-test.jsonl
  - type: null
YAML
validate_with() { # BINARY → runs validate on the config above, prints output
  DD_API_KEY=k "$1" validate -c "$WORK/all-plugins.yaml" 2>&1
}

# --- 1. cmake --install into a staging prefix -----------------------------------------
STAGE=$WORK/stage
cmake --install "$FERRY_BUILD_DIR" --prefix "$STAGE" >"$WORK/install.log" 2>&1 ||
  fail "cmake --install failed: $(tail -5 "$WORK/install.log")"
for f in bin/ferry etc/ferry/ferry.yaml etc/default/ferry lib/systemd/system/ferry.service \
  share/doc/ferry/README.md share/doc/ferry/copyright share/doc/ferry/examples/ec2-host.yaml \
  share/doc/ferry/examples/firelens-datadog-firehose.yaml; do
  [ -e "$STAGE/$f" ] || fail "install tree lacks $f: $(cd "$STAGE" && find . -type f | sort)"
done
[ -x "$STAGE/bin/ferry" ] || fail "bin/ferry is not executable"
for p in $PLUGINS; do [ -f "$STAGE/lib/ferry/plugins/$p" ] || fail "install tree lacks lib/ferry/plugins/$p"; done
cmp -s "$STAGE/etc/ferry/ferry.yaml" "$SRC/config/ec2-host.yaml" || fail "etc/ferry/ferry.yaml is not config/ec2-host.yaml"
outside=$(grep -v "^$STAGE/" "$FERRY_BUILD_DIR/install_manifest.txt" || true)
[ -z "$outside" ] || fail "install with --prefix wrote outside the prefix: $outside"
pass "cmake --install: bin/ferry, $(echo $PLUGINS | wc -w) plugins, etc/ferry/ferry.yaml, unit, docs"

out=$(validate_with "$STAGE/bin/ferry") || fail "installed ferry cannot validate with its plugins: $out"
pass "the installed binary finds lib/ferry/plugins beside it"
# And the check can fail: a binary without plugins beside it refuses the same config.
mkdir -p "$WORK/lonely/bin"
cp "$STAGE/bin/ferry" "$WORK/lonely/bin/"
rc=0
out=$(validate_with "$WORK/lonely/bin/ferry") || rc=$?
[ "$rc" = 1 ] || fail "a ferry without plugins validated a datadog config (exit $rc): $out"
grep -q datadog <<<"$out" || fail "missing plugin error does not name it: $out"
pass "without its plugin directory the same binary names the missing plugin"

# --- 2. DESTDIR + prefix /usr: the real layout (Dockerfile, .deb) ---------------------
ROOT=$WORK/root
DESTDIR=$ROOT cmake --install "$FERRY_BUILD_DIR" --prefix /usr >"$WORK/install2.log" 2>&1 ||
  fail "DESTDIR install failed: $(tail -5 "$WORK/install2.log")"
for f in usr/bin/ferry etc/ferry/ferry.yaml etc/default/ferry usr/lib/systemd/system/ferry.service; do
  [ -e "$ROOT/$f" ] || fail "DESTDIR layout lacks /$f"
done
[ ! -e "$ROOT/usr/etc" ] || fail "prefix /usr must install config to /etc, not /usr/etc"
[ "$(stat -c %a "$ROOT/etc/default/ferry")" = 640 ] || fail "/etc/default/ferry (secrets) is not 0640"
out=$(validate_with "$ROOT/usr/bin/ferry") || fail "/usr/bin/ferry cannot find /usr/lib/ferry/plugins: $out"
pass "DESTDIR=… --prefix /usr: /usr/bin, /usr/lib/ferry/plugins, /etc/ferry, /usr/lib/systemd/system"

# --- 3. the systemd unit -------------------------------------------------------------
UNIT=$SRC/packaging/systemd/ferry.service
for line in Type=notify 'ExecReload=/bin/kill -HUP $MAINPID' StateDirectory=ferry ProtectSystem=strict \
  NoNewPrivileges=yes ReadWritePaths=/var/lib/ferry User=ferry SupplementaryGroups=adm \
  'ExecStart=/usr/bin/ferry run -c /etc/ferry/ferry.yaml'; do
  grep -qxF "$line" "$UNIT" || fail "ferry.service lacks '$line'"
done
stop=$(sed -n 's/^TimeoutStopSec=\([0-9]*\)s$/\1/p' "$UNIT")
grace=$(sed -n 's/^ *grace_period: *\([0-9]*\)s.*/\1/p' "$SRC/config/ec2-host.yaml")
[ -n "$stop" ] && [ -n "$grace" ] && [ "$stop" -gt "$grace" ] ||
  fail "TimeoutStopSec (${stop}s) must exceed the config's grace_period (${grace}s)"
if command -v systemd-analyze >/dev/null; then
  # verify checks that ExecStart exists: point it at the staged binary.
  sed "s#/usr/bin/ferry#$ROOT/usr/bin/ferry#" "$UNIT" >"$WORK/ferry.service"
  # It exits 0 even on unknown keys or bad values; any output at all is a finding.
  verify=$(systemd-analyze verify "$WORK/ferry.service" 2>&1 || echo "exit status $?")
  [ -z "$verify" ] || fail "systemd-analyze verify: $verify"
  # Prove the verifier would see a mistake.
  sed 's/^ProtectSystem=strict/ProtectSystm=strict/' "$WORK/ferry.service" >"$WORK/broken.service"
  [ -n "$(systemd-analyze verify "$WORK/broken.service" 2>&1)" ] || fail "systemd-analyze verify misses a typo"
  pass "ferry.service passes systemd-analyze verify; TimeoutStopSec ${stop}s > grace ${grace}s"
else
  echo "note: systemd-analyze not installed (apt package systemd): content checks only"
  pass "ferry.service content checks; TimeoutStopSec ${stop}s > grace ${grace}s"
fi

# --- 4. the .deb ------------------------------------------------------------------------
PKG=$WORK/pkg
(cd "$FERRY_BUILD_DIR" && cpack -G DEB -B "$PKG") >"$WORK/cpack.log" 2>&1 || fail "cpack failed: $(tail -20 "$WORK/cpack.log")"
DEB=$(ls "$PKG"/ferry_*.deb 2>/dev/null | head -1)
[ -n "$DEB" ] || fail "no ferry_*.deb in $PKG: $(ls "$PKG")"
dpkg-deb -c "$DEB" | awk '{print $NF}' | sed 's#^\./#/#' >"$WORK/contents"
for f in /usr/bin/ferry /etc/ferry/ferry.yaml /etc/default/ferry /usr/lib/systemd/system/ferry.service \
  /usr/share/doc/ferry/copyright /usr/share/doc/ferry/examples/firelens-datadog-s3.yaml; do
  grep -qxF "$f" "$WORK/contents" || fail ".deb lacks $f: $(cat "$WORK/contents")"
done
for p in $PLUGINS; do grep -qxF "/usr/lib/ferry/plugins/$p" "$WORK/contents" || fail ".deb lacks plugin $p"; done
grep -q '^/usr/etc' "$WORK/contents" && fail ".deb installs under /usr/etc"
grep -q "$FERRY_BUILD_DIR\|/_CPack_Packages" "$WORK/contents" && fail ".deb contains build paths"
dpkg-deb -I "$DEB" >"$WORK/info"
grep -q '^ Package: ferry$' "$WORK/info" || fail "dpkg-deb -I: no 'Package: ferry': $(cat "$WORK/info")"
grep -q "^ Version: $("$STAGE/bin/ferry" version | grep -o '[0-9][0-9.]*' | head -1)" "$WORK/info" ||
  fail "package version differs from ferry version: $(grep Version "$WORK/info")"
grep -q '^ Architecture: ' "$WORK/info" || fail "no Architecture"
for s in conffiles postinst prerm postrm; do grep -qw "$s" "$WORK/info" || fail "control archive lacks $s"; done
DEPENDS=$(dpkg-deb -f "$DEB" Depends)
for d in libcurl4 ca-certificates passwd; do grep -qw "$d" <<<"$DEPENDS" || fail "Depends lacks $d: $DEPENDS"; done
dpkg-deb -e "$DEB" "$WORK/control"
[ "$(cat "$WORK/control/conffiles")" = "$(printf '/etc/ferry/ferry.yaml\n/etc/default/ferry')" ] ||
  fail "conffiles: $(cat "$WORK/control/conffiles")"
for s in postinst prerm postrm; do
  [ -x "$WORK/control/$s" ] || fail "$s is not executable"
  sh -n "$WORK/control/$s" || fail "$s has a syntax error"
done
grep -q 'useradd --system' "$WORK/control/postinst" && grep -q 'adm' "$WORK/control/postinst" ||
  fail "postinst does not create the ferry user in group adm"
pass ".deb $(basename "$DEB"): binary, plugins, unit, conffiles /etc/ferry/ferry.yaml and /etc/default/ferry; Depends: $DEPENDS"

# lintian, Debian's package checker: no error or warning beyond the overrides the package
# carries (packaging/debian/lintian-overrides, each with its reason).
command -v lintian >/dev/null || fail "lintian missing (Debian package lintian; scripts/dev.sh installs it)"
grep -qxF /usr/share/lintian/overrides/ferry "$WORK/contents" || fail ".deb lacks its lintian overrides"
rc=0
lintian --fail-on error,warning "$DEB" >"$WORK/lintian.txt" 2>&1 || rc=$?
[ "$rc" = 0 ] || fail "lintian (exit $rc): $(grep -v '^running with root' "$WORK/lintian.txt")"
pass "lintian: no errors or warnings ($(lintian --show-overrides "$DEB" 2>/dev/null | grep -c '^O:') overridden with reasons)"

# Unpacked as in a container-less chroot, the packaged (stripped) binary still runs and
# finds its plugins.
dpkg-deb -x "$DEB" "$WORK/debroot"
"$WORK/debroot/usr/bin/ferry" version >/dev/null || fail "packaged ferry does not run"
out=$(validate_with "$WORK/debroot/usr/bin/ferry") || fail "packaged ferry cannot load its plugins: $out"
[ -f "$WORK/debroot/usr/lib/systemd/system/ferry.service" ] || fail "unit file missing after dpkg-deb -x"
pass "dpkg-deb -x: the packaged binary runs and loads its plugins; unit file in place"

# dpkg itself registers the package and its conffiles in an empty root (no scripts run on
# --unpack, so no chroot tools are needed there).
DROOT=$WORK/dpkgroot
mkdir -p "$DROOT/var/lib/dpkg/info" "$DROOT/var/lib/dpkg/updates"
touch "$DROOT/var/lib/dpkg/status"
if dpkg --root="$DROOT" --force-depends --force-not-root --force-script-chrootless --unpack "$DEB" >"$WORK/dpkg.log" 2>&1; then
  status=$(dpkg --root="$DROOT" -s ferry 2>&1)
  grep -q '^Conffiles:' <<<"$status" && grep -q '/etc/ferry/ferry.yaml' <<<"$status" ||
    fail "dpkg did not register the conffiles: $status"
  [ -f "$DROOT/usr/lib/systemd/system/ferry.service" ] || fail "dpkg --root: unit file not in place"
  pass "dpkg --root --unpack: installed, conffiles registered, unit file in place"
else
  echo "note: dpkg --root --unpack not possible here: $(tail -2 "$WORK/dpkg.log")"
fi

# --- 5. the Dockerfile ----------------------------------------------------------------
DF=$SRC/packaging/docker/Dockerfile
[ "$(grep -c '^FROM ' "$DF")" = 2 ] || fail "Dockerfile is not two-stage"
grep -q '^FROM debian:\${DEBIAN_RELEASE} AS build' "$DF" && grep -q '^ARG DEBIAN_RELEASE=bookworm' "$DF" ||
  fail "build stage is not Debian 12"
grep -q '^FROM debian:\${DEBIAN_RELEASE}-slim$' "$DF" || fail "runtime stage is not Debian slim"
grep -q '^USER ferry$' "$DF" || fail "runtime user is not the non-root ferry"
grep -qF 'ENTRYPOINT ["/usr/local/bin/ferry-entrypoint"]' "$DF" || fail "the entrypoint script is not the entrypoint"
grep -qF 'COPY packaging/docker/entrypoint.sh /usr/local/bin/ferry-entrypoint' "$DF" || fail "entrypoint script not copied"
grep -q 'sh packaging/docker/stage.sh /build /staging' "$DF" &&
  grep -q 'cmake --install "$build" --prefix /usr --strip' "$SRC/packaging/docker/stage.sh" ||
  fail "the image is not built from cmake --install (packaging/docker/stage.sh)"
# stage.sh's tree (the build stage's, or CI's for scripts/image.sh): the FireLens config as
# /etc/ferry/ferry.yaml, no host pieces.
sh "$SRC/packaging/docker/stage.sh" "$FERRY_BUILD_DIR" "$WORK/staging" >"$WORK/stage.log" 2>&1 ||
  fail "stage.sh failed: $(tail -5 "$WORK/stage.log")"
[ -x "$WORK/staging/usr/bin/ferry" ] || fail "stage.sh: no /usr/bin/ferry"
cmp -s "$WORK/staging/etc/ferry/ferry.yaml" "$SRC/config/firelens-datadog-firehose.yaml" ||
  fail "stage.sh: /etc/ferry/ferry.yaml is not the FireLens config"
[ ! -e "$WORK/staging/usr/lib/systemd" ] && [ ! -e "$WORK/staging/etc/default" ] ||
  fail "stage.sh left the systemd unit or /etc/default in the image tree"
# The build context is the repository root: the build trees and node_modules stay out of it.
for x in .git 'build*/' '**/node_modules'; do
  grep -qxF "$x" "$SRC/.dockerignore" || fail ".dockerignore does not exclude $x"
done
for src in $(sed -n 's/^COPY \([^-][^ ]*\) .*/\1/p' "$DF"); do
  for f in $src; do [ -e "$SRC/$f" ] || fail "Dockerfile copies $f, which does not exist"; done
done
# The runtime stage must install every shared library package ferry and the plugins need
# (from the .deb's dpkg-shlibdeps result; libc, libstdc++ and libgcc are in every image).
if [ -f "$FERRY_BUILD_DIR/CPackConfig.cmake" ] && grep -q 'CPACK_DEBIAN_PACKAGE_SHLIBDEPS "ON"' "$FERRY_BUILD_DIR/CPackConfig.cmake"; then
  runtime=$(sed -n '/-slim$/,$p' "$DF")
  for dep in $(tr ',' '\n' <<<"$DEPENDS" | sed 's/(.*//; s/|.*//; s/ //g'); do
    case "$dep" in libc6 | libstdc++6 | libgcc-s1 | ca-certificates | passwd) continue ;; esac
    grep -qw -- "$dep" <<<"$runtime" || fail "the runtime image does not install $dep (a dependency of ferry)"
  done
  pass "Dockerfile: two stages, Debian 12 slim runtime with every needed library, non-root, ferry as entrypoint"
else
  pass "Dockerfile: two stages, Debian 12 slim runtime, non-root, ferry as entrypoint (no dpkg-shlibdeps: libraries unchecked)"
fi

# --- 6. the ECS task definition example ------------------------------------------------
TD=$SRC/packaging/ecs/task-definition.json
PYTHON=$(command -v /usr/bin/python3 || command -v python3)
# Prints the log router's environment as NAME=VALUE lines, secrets as NAME=<secret>, after
# checking the FireLens shape; exits non-zero with the reason otherwise.
cat >"$WORK/check_td.py" <<'PY'
import json, re, sys
td = json.load(open(sys.argv[1]))  # not valid JSON → traceback, exit 1
defs = td["containerDefinitions"]
def need(cond, why):
    if not cond:
        sys.exit("task-definition.json: " + why)
routers = [c for c in defs if c.get("firelensConfiguration", {}).get("type") == "fluentbit"]
need(len(routers) == 1, "no single log router with firelensConfiguration type fluentbit")
r = routers[0]
need("ferry" in r.get("image", ""), "the log router does not run the ferry image")
need(any(c.get("logConfiguration", {}).get("logDriver") == "awsfirelens" for c in defs),
     "no app container with logDriver awsfirelens")
secrets = {x["name"]: x["valueFrom"] for x in r.get("secrets", [])}
need(re.match(r"^arn:aws:(secretsmanager|ssm):", secrets.get("DD_API_KEY", "")),
     "DD_API_KEY does not come from Secrets Manager or SSM")
env = {x["name"]: x["value"] for x in r.get("environment", [])}
for v in ["DD_SERVICE", "DD_SOURCE", "DD_TAGS", "DELIVERY_STREAM", "AWS_REGION"]:
    need(v in env, "the log router's environment lacks " + v)
need("127.0.0.1:2020/health" in " ".join(r.get("healthCheck", {}).get("command", [])),
     "no container health check on /health")
need(r.get("stopTimeout", 30) > 25, "stopTimeout must exceed the 25 s grace period")
for k, v in env.items():
    print(f"{k}={v}")
for k in secrets:
    print(f"{k}=<secret>")
PY
"$PYTHON" "$WORK/check_td.py" "$TD" >"$WORK/td_env" 2>"$WORK/td_err" || fail "$(tail -1 "$WORK/td_err")"
# Every variable the baked config requires is provided.
for v in $(grep -o '\${[A-Z_]*:?' "$SRC/config/firelens-datadog-firehose.yaml" | tr -d '${:?'); do
  grep -q "^$v=" "$WORK/td_env" || fail "the baked config requires $v, which the task definition does not set"
done
grep -q '127.0.0.1:2020' "$SRC/config/firelens-datadog-firehose.yaml" || fail "the baked config does not listen where the health check asks"
pass "task-definition.json: FireLens router on ferry, awsfirelens app, DD_API_KEY secret, env, /health check"

# The baked config validates with exactly the task definition's environment (a dummy key
# for the secret), when its plugins are built.
if [ -f "$STAGE/lib/ferry/plugins/firehose.so" ]; then
  mapfile -t envs < <(sed 's/=<secret>$/=dummy/' "$WORK/td_env")
  out=$(env -i PATH="$PATH" "${envs[@]}" "$STAGE/bin/ferry" validate \
    -c "$SRC/config/firelens-datadog-firehose.yaml" 2>&1) || fail "baked config with the task definition's env: $out"
  pass "the baked config validates with the task definition's environment"
else
  echo "SKIP: firehose plugin not built yet: baked config not validated against the task definition"
fi
