#!/usr/bin/env bash
# Build the frozen AutoDevAI app with PyInstaller.
#
#   packaging/build.sh             one folder:  dist/autodevai/autodevai   (ship the whole dist/autodevai/ folder)
#   packaging/build.sh --onefile   one file:    dist/onefile/autodevai     (unpacks to a temp dir at every start)
#   packaging/build.sh --fresh-venv [--onefile]
#                                  build from a new venv in build/venv with the project installed from this tree
#
# Python: $PYTHON if set, else the active venv ($VIRTUAL_ENV), else the repo's .venv, else a new build/venv.
# PyInstaller is pip-installed into that environment if it is missing. Prints the build time and the size.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

onefile=0
fresh=0
for arg in "$@"; do
    case "$arg" in
        --onefile) onefile=1 ;;
        --fresh-venv) fresh=1 ;;
        -h | --help)
            sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'
            exit 0
            ;;
        *)
            echo "build.sh: unknown option $arg (try --help)" >&2
            exit 2
            ;;
    esac
done

make_venv() {
    local venv="$ROOT/build/venv"
    if [[ ! -x "$venv/bin/python" ]]; then
        echo "==> creating $venv" >&2
        python3 -m venv "$venv"
        "$venv/bin/python" -m pip install --quiet --upgrade pip
    fi
    echo "==> installing the project into $venv" >&2
    "$venv/bin/python" -m pip install --quiet "$ROOT"
    PY="$venv/bin/python"
}

if [[ $fresh == 1 ]]; then
    make_venv
elif [[ -n "${PYTHON:-}" ]]; then
    PY="$PYTHON"
elif [[ -n "${VIRTUAL_ENV:-}" && -x "$VIRTUAL_ENV/bin/python" ]]; then
    PY="$VIRTUAL_ENV/bin/python"
elif [[ -x "$ROOT/.venv/bin/python" ]]; then
    PY="$ROOT/.venv/bin/python"
else
    make_venv
fi

if ! "$PY" -c "import autodevai" 2>/dev/null; then
    echo "==> $PY cannot import autodevai; installing the project (pip install -e .)" >&2
    "$PY" -m pip install --quiet -e "$ROOT"
fi
if ! "$PY" -c "import PyInstaller" 2>/dev/null; then
    echo "==> installing PyInstaller into $("$PY" -c 'import sys; print(sys.prefix)')" >&2
    "$PY" -m pip install --quiet "pyinstaller>=6.10"
fi

# Qt's X11 platform plugin needs these system libraries. PyInstaller bundles the ones this machine has; any that
# are missing here must then be on the user's machine (Debian/Ubuntu package names in packaging/NOTES.md).
if [[ "$(uname -s)" == Linux ]] && command -v ldconfig >/dev/null; then
    missing=()
    for lib in libxcb-cursor.so.0 libxcb-icccm.so.4 libxcb-keysyms.so.1 libxcb-image.so.0 \
        libxcb-render-util.so.0 libxkbcommon-x11.so.0; do
        ldconfig -p | grep -q "$lib" || missing+=("$lib")
    done
    if [[ ${#missing[@]} -gt 0 ]]; then
        echo "==> note: ${missing[*]} not installed here, so not bundled: the window then needs them on the" \
            "user's machine (headless verbs and QT_QPA_PLATFORM=offscreen work without them)" >&2
    fi
fi

if [[ $onefile == 1 ]]; then
    distpath="$ROOT/dist/onefile"
    workpath="$ROOT/build/pyinstaller-onefile"
    target="$distpath/autodevai"
    spec_args=(-- --onefile)
else
    distpath="$ROOT/dist"
    workpath="$ROOT/build/pyinstaller"
    target="$distpath/autodevai"
    spec_args=()
fi

mode=$([[ $onefile == 1 ]] && echo one-file || echo one-folder)
echo "==> PyInstaller $("$PY" -m PyInstaller --version) on $("$PY" --version), $mode" >&2
start=$(date +%s.%N)
"$PY" -m PyInstaller --noconfirm --clean --log-level WARN \
    --distpath "$distpath" --workpath "$workpath" \
    "$ROOT/packaging/autodevai.spec" "${spec_args[@]}"
end=$(date +%s.%N)

seconds=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.0f", b - a }')
size=$(du -sh "$target" | cut -f1)
echo "built $target in ${seconds} s; size ${size}"
# For packaging/smoke.sh (and CI logs): the numbers of the last build, machine-readable.
printf 'build_seconds=%s\nsize=%s\ntarget=%s\n' "$seconds" "$size" "$target" >"$workpath/last-build.txt"
