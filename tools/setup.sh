# setup.sh - sourced by tools/run and tools/test: install what is missing,
# then configure and build. Safe to run from any directory.
set -euo pipefail
SW_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export SW_ROOT

SW_PKGS="build-essential cmake ninja-build pkg-config libcjson-dev libsqlite3-dev libcriterion-dev \
libsdl2-dev libsdl2-ttf-dev libsdl2-image-dev xvfb xauth fonts-dejavu-core clang libclang-rt-14-dev \
sqlite3 valgrind hyperfine python3"

sw_say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

sw_install() {
    local missing=()
    for p in $SW_PKGS; do
        dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null | grep -q '^ii' || missing+=("$p")
    done
    if [ ${#missing[@]} -eq 0 ]; then
        sw_say "packages: all present"
        return
    fi
    sw_say "packages: installing ${missing[*]}"
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get update -qq
    $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" </dev/null >/dev/null
}

# sw_build DIR [cmake args...]: configure (once) and build into DIR.
sw_build() {
    local dir="$1"; shift
    sw_say "build: $dir $*"
    cmake -S "$SW_ROOT" -B "$dir" -G Ninja "$@" >/dev/null
    cmake --build "$dir" -- -j"$(nproc)" | grep -vE '^\[[0-9]+/[0-9]+\] (Building|Linking)' || true
    test -x "$dir/swarmlet"
}
