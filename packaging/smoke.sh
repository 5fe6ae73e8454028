#!/usr/bin/env bash
# Smoke-test the frozen AutoDevAI app the way a new user meets it: no network, no keyring, no API key.
#
#   packaging/smoke.sh              test dist/autodevai/autodevai (one folder); build it first if missing or stale
#   packaging/smoke.sh --onefile    test dist/onefile/autodevai (one file) instead
#   packaging/smoke.sh --rebuild    build even if the binary is up to date
#
# Each check runs the built binary with temporary config/data dirs, keyring.backends.fail.Keyring, an empty
# tiktoken cache dir, proxies that lead nowhere and, where `unshare -n` is allowed, inside a network namespace
# that has only loopback (the auto-started simulator listens there). Prints a summary; exits 1 if a check failed.
# Optional checks, listed as SKIPPED when their tool is missing: the window on xcb (Xvfb), bundle-only files (strace).
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT" || exit 1

onefile=0
rebuild=0
for arg in "$@"; do
    case "$arg" in
        --onefile) onefile=1 ;;
        --rebuild) rebuild=1 ;;
        -h | --help)
            sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'
            exit 0
            ;;
        *)
            echo "smoke.sh: unknown option $arg (try --help)" >&2
            exit 2
            ;;
    esac
done

if [[ $onefile == 1 ]]; then
    BIN="$ROOT/dist/onefile/autodevai"
    DIST="$BIN"
    BUILD_ARGS=(--onefile)
    LAST_BUILD="$ROOT/build/pyinstaller-onefile/last-build.txt"
else
    BIN="$ROOT/dist/autodevai/autodevai"
    DIST="$ROOT/dist/autodevai"
    BUILD_ARGS=()
    LAST_BUILD="$ROOT/build/pyinstaller/last-build.txt"
fi

# ---- build, or reuse an up-to-date build ---------------------------------------------------------------------
stale=""
if [[ -x "$BIN" ]]; then
    stale=$(find "$ROOT/autodevai" "$ROOT/packaging/autodevai.spec" "$ROOT/resources" -newer "$BIN" -type f \
        -not -path '*/__pycache__/*' -print -quit)
fi
if [[ $rebuild == 1 || ! -x "$BIN" || -n "$stale" ]]; then
    [[ -n "$stale" ]] && echo "==> $BIN is older than ${stale#"$ROOT"/}: rebuilding"
    if ! "$ROOT/packaging/build.sh" "${BUILD_ARGS[@]}"; then
        echo "smoke: the build failed" >&2
        exit 1
    fi
    build_note="built now"
else
    build_note="reused the existing build"
fi
build_seconds=$(sed -n 's/^build_seconds=//p' "$LAST_BUILD" 2>/dev/null)
build_seconds=${build_seconds:-unknown}
dist_size=$(du -sh "$DIST" | cut -f1)
dist_files=$(find "$DIST" -type f | wc -l)

# ---- an environment with nothing to lean on -------------------------------------------------------------------
TMP=$(mktemp -d -t autodevai-smoke.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
mkdir -p "$TMP/tiktoken-cache"
DEAD_PROXY=http://127.0.0.1:9 # the discard port: nothing listens, every proxied connection is refused
NO_PROXY_HOSTS=127.0.0.1,localhost,::1
ENV=(
    env -u DISPLAY -u WAYLAND_DISPLAY -u OPENROUTER_API_KEY -u OPENAI_API_KEY -u PYTHONPATH -u PYTHONHOME
    AUTODEVAI_CONFIG_DIR="$TMP/config" AUTODEVAI_DATA_DIR="$TMP/data"
    PYTHON_KEYRING_BACKEND=keyring.backends.fail.Keyring
    TIKTOKEN_CACHE_DIR="$TMP/tiktoken-cache"
    HTTPS_PROXY="$DEAD_PROXY" HTTP_PROXY="$DEAD_PROXY" ALL_PROXY="$DEAD_PROXY"
    https_proxy="$DEAD_PROXY" http_proxy="$DEAD_PROXY" all_proxy="$DEAD_PROXY"
    NO_PROXY="$NO_PROXY_HOSTS" no_proxy="$NO_PROXY_HOSTS"
)
# A network namespace with only loopback (root: unshare -n; otherwise a user namespace: unshare -rn).
NET=()
network="no network: dead proxies only (unshare -n not permitted here)"
for flags in -n -rn; do
    if unshare "$flags" sh -c 'ip link set lo up' 2>/dev/null; then
        NET=(unshare "$flags" -- sh -c 'ip link set lo up && exec "$@"' sh)
        network="no network: own network namespace with only loopback (unshare $flags) and dead proxies"
        break
    fi
done

# ---- checks ---------------------------------------------------------------------------------------------------
names=()
results=()
times=()

now_us() { echo "${EPOCHREALTIME/./}"; }
ms_since() { echo $((($(now_us) - $1) / 1000)); }

# check NAME LOGFILE EXPECTED-REGEX... -- COMMAND...: run, then require exit 0 and every regex in the output.
check() {
    local name=$1 log=$2
    shift 2
    local patterns=()
    while [[ $1 != -- ]]; do
        patterns+=("$1")
        shift
    done
    shift
    local t0 rc missing=""
    t0=$(now_us)
    timeout 120 "${ENV[@]}" "${NET[@]}" "$@" >"$log" 2>&1
    rc=$?
    local ms
    ms=$(ms_since "$t0")
    for pattern in "${patterns[@]}"; do
        grep -Eq -- "$pattern" "$log" || missing+=" '$pattern'"
    done
    names+=("$name")
    times+=("$ms ms")
    if [[ $rc == 0 && -z "$missing" ]]; then
        results+=("PASS")
    else
        results+=("FAIL (exit $rc${missing:+; missing$missing})")
    fi
    echo "---- $name: exit $rc in $ms ms"
    sed 's/^/    /' "$log"
}

echo "==> checking $BIN ($network)"

check "version" "$TMP/version.log" '^autodevai [0-9]' -- "$BIN" --version

check "test (self-test, simulator round trip)" "$TMP/test.log" \
    'ok +sim: round trip' 'all checks passed' 'using the built-in simulator' -- "$BIN" test

check "run \"What is 2+2?\"" "$TMP/run.log" \
    '\b4\b' 'using the built-in simulator' -- "$BIN" run "What is 2+2?"

CONTEXT_FILE="$TMP/context-sample.txt"
for i in $(seq 1 200); do
    echo "Line $i: the quick brown fox jumps over the lazy dog; tokens are counted offline."
done >"$CONTEXT_FILE"
check "context <file> --model openai/gpt-4o" "$TMP/context.log" \
    'encoding o200k_base \(exact\)' 'tokens +[0-9,]+ of a 128K window' -- \
    "$BIN" context "$CONTEXT_FILE" --model openai/gpt-4o

# The window, opened and closed (AUTODEVAI_GUI_SMOKE=1); each output line stamped with ms since launch.
# gui_check NAME LOG ENV-ASSIGNMENT...
gui_check() {
    local name=$1 log=$2
    shift 2
    local t0 ms rc shown ready
    t0=$(now_us)
    {
        timeout 120 "${ENV[@]}" "$@" AUTODEVAI_GUI_SMOKE=1 "${NET[@]}" "$BIN" 2>&1
        echo "exit=$?"
    } | while IFS= read -r line; do printf '%6d ms  %s\n' "$(ms_since "$t0")" "$line"; done >"$log"
    ms=$(ms_since "$t0")
    rc=$(sed -n 's/.*ms  exit=//p' "$log")
    shown=$(awk '/window shown: True/ { print $1; exit }' "$log")
    ready=$(awk '/engine ready/ { print $1; exit }' "$log")
    names+=("$name")
    times+=("$ms ms")
    if [[ $rc == 0 && -n "$shown" && -n "$ready" ]]; then
        results+=("PASS (window shown at ${shown} ms, engine ready at ${ready} ms)")
    else
        results+=("FAIL (exit ${rc:-?}; window shown: ${shown:-no}; engine ready: ${ready:-no})")
    fi
    echo "---- $name: exit ${rc:-?} in $ms ms"
    sed 's/^/    /' "$log"
}

gui_check "window (offscreen, AUTODEVAI_GUI_SMOKE=1)" "$TMP/gui.log" QT_QPA_PLATFORM=offscreen

# skip NAME REASON: a check this machine cannot run, listed in the summary (not counted as a failure).
skip() {
    names+=("$1")
    times+=("-")
    results+=("SKIPPED ($2)")
    echo "---- $1: skipped, $2"
}

# The same on the X11 (xcb) platform, when Xvfb is installed: proves the bundled xcb plugin loads. It needs the
# libxcb-* libraries (bundled when the build machine had them, else the host's; packaging/NOTES.md lists them).
xcb_name="window (xcb on Xvfb, AUTODEVAI_GUI_SMOKE=1)"
if command -v Xvfb >/dev/null; then
    Xvfb -displayfd 3 -screen 0 1280x800x24 -nolisten tcp 3>"$TMP/display" 2>"$TMP/xvfb.log" &
    xvfb_pid=$!
    trap 'kill "$xvfb_pid" 2>/dev/null; rm -rf "$TMP"' EXIT
    for _ in $(seq 50); do
        [[ -s "$TMP/display" ]] && break
        sleep 0.1
    done
    if [[ -s "$TMP/display" ]]; then
        gui_check "$xcb_name" "$TMP/gui-xcb.log" QT_QPA_PLATFORM=xcb DISPLAY=":$(head -1 "$TMP/display")"
    else
        skip "$xcb_name" "Xvfb did not start: $(tail -1 "$TMP/xvfb.log")"
    fi
    kill "$xvfb_pid" 2>/dev/null
    wait "$xvfb_pid" 2>/dev/null
else
    skip "$xcb_name" "Xvfb is not installed: apt-get install xvfb"
fi

# Proof that the frozen app reads its data from the bundle, not from this source tree or a venv.
if command -v strace >/dev/null; then
    trace="$TMP/strace.log"
    t0=$(now_us)
    timeout 120 "${ENV[@]}" strace -f -qq -e trace=openat -o "$trace" "$BIN" context "$CONTEXT_FILE" \
        --model openai/gpt-4o >/dev/null 2>&1
    rc=$?
    ms=$(ms_since "$t0")
    opened=$(grep -v ENOENT "$trace" | grep -o '"[^"]*"' | tr -d '"')
    outside=$(grep -E "^($ROOT/autodevai/|$ROOT/\.venv/|$ROOT/build/venv/)" <<<"$opened" | head -3)
    bundled=$(grep -E '/autodevai/data/tiktoken/o200k_base\.tiktoken$' <<<"$opened" | head -1)
    names+=("bundle only (strace: files the app opened)")
    times+=("$ms ms")
    if [[ $rc == 0 && -z "$outside" && -n "$bundled" && "$bundled" != "$ROOT/autodevai/"* ]]; then
        results+=("PASS (o200k_base read from ${bundled%/autodevai/data/*}; nothing from the source tree)")
    else
        results+=("FAIL (exit $rc; opened outside the bundle: ${outside:-none}; tiktoken file: ${bundled:-not read})")
    fi
else
    skip "bundle only (strace: files the app opened)" "strace is not installed: apt-get install strace"
fi

# ---- summary --------------------------------------------------------------------------------------------------
failed=0
passed=0
skipped=0
echo
echo "==================== AutoDevAI smoke summary ===================="
echo "binary      $BIN ($([[ $onefile == 1 ]] && echo one-file || echo one-folder))"
echo "build       ${build_seconds} s ($build_note)"
echo "dist size   $dist_size ($dist_files files)"
echo "network     $network"
for i in "${!names[@]}"; do
    printf '%-44s %-9s %s\n' "${names[$i]}" "${times[$i]}" "${results[$i]}"
    case ${results[$i]} in
        PASS*) passed=$((passed + 1)) ;;
        SKIPPED*) skipped=$((skipped + 1)) ;;
        *) failed=$((failed + 1)) ;;
    esac
done
echo "================================================================="
if [[ $failed -gt 0 ]]; then
    echo "$failed check(s) failed"
    exit 1
fi
echo "all checks passed ($passed passed, $skipped skipped)"
