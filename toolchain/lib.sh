#!/usr/bin/env bash
# Shared helpers for the toolchain build scripts. Sourced, never executed.
#
# Everything is built from Go modules through the Go module proxy, pinned to exact versions
# (toolchain/versions.env), and installed into a cache outside the repository, one directory per
# component and version, so a second run reuses it and a version bump builds next to the old one.

set -euo pipefail

TOOLCHAIN_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=versions.env
source "$TOOLCHAIN_DIR/versions.env"

: "${DOT_AI_GATEWAY_CACHE:=${XDG_CACHE_HOME:-$HOME/.cache}/dot-ai-gateway}"
export DOT_AI_GATEWAY_CACHE
TC_ROOT="$DOT_AI_GATEWAY_CACHE/toolchain"
TC_LOGS="$DOT_AI_GATEWAY_CACHE/logs"
mkdir -p "$TC_ROOT" "$TC_LOGS"

tc_log() { printf '[toolchain %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
tc_die() {
  tc_log "ERROR: $*"
  exit 1
}

# tc_prefix COMPONENT VERSION -> the install directory of that component version.
tc_prefix() { printf '%s/%s-%s' "$TC_ROOT" "$1" "$2"; }

# tc_is_built COMPONENT VERSION -> success when a previous build completed.
tc_is_built() { [[ -f "$(tc_prefix "$1" "$2")/.complete" ]]; }

# tc_mark_built COMPONENT VERSION
tc_mark_built() { date -u +%FT%TZ >"$(tc_prefix "$1" "$2")/.complete"; }

# tc_run_logged LABEL LOGFILE CMD... : runs CMD with its output in LOGFILE, printing a heartbeat
# (elapsed time and how many log lines so far) every 30 s, so a long build is never silent.
# On failure it prints the tail of the log and where the whole log is.
tc_run_logged() {
  local label=$1 logfile=$2
  shift 2
  local start=$SECONDS
  "$@" >"$logfile" 2>&1 &
  local pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    sleep 5
    if (((SECONDS - start) % 30 < 5)) && kill -0 "$pid" 2>/dev/null; then
      tc_log "$label: still running ($((SECONDS - start)) s, $(wc -l <"$logfile") log lines)"
    fi
  done
  if ! wait "$pid"; then
    tail -n 30 "$logfile" >&2 || true
    tc_die "$label failed after $((SECONDS - start)) s; whole log: $logfile"
  fi
  tc_log "$label: done in $((SECONDS - start)) s"
}

# tc_go_build COMPONENT VERSION MODULE_DIR [go build args...] : builds the Go module in
# toolchain/MODULE_DIR (its own go.mod pins the upstream versions) into $(tc_prefix)/bin,
# unless that version is already built.
tc_go_build() {
  local component=$1 version=$2 module_dir=$3
  shift 3
  if tc_is_built "$component" "$version"; then
    tc_log "$component $version: cached in $(tc_prefix "$component" "$version")"
    return 0
  fi
  local prefix
  prefix="$(tc_prefix "$component" "$version")"
  mkdir -p "$prefix/bin"
  tc_log "$component $version: building (first build takes minutes; log in $TC_LOGS/$component.log)"
  (cd "$TOOLCHAIN_DIR/$module_dir" && tc_run_logged "$component $version" "$TC_LOGS/$component.log" \
    go build -v -trimpath -o "$prefix/bin/" "$@")
  tc_mark_built "$component" "$version"
}

# tc_module_download MODULE VERSION SUM -> prints the extracted module directory, after checking the
# module zip against the pinned h1: hash (go.sum style), outside any module (the cache has no
# go.mod), so that nothing but that hash pins it.
tc_module_download() {
  local module=$1 version=$2 sum=$3 json dir got
  json=$(cd "$TC_ROOT" && GOFLAGS=-mod=mod go mod download -json "$module@$version") ||
    tc_die "go mod download $module@$version failed: $json"
  dir=$(sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p' <<<"$json")
  got=$(sed -n 's/^[[:space:]]*"Sum": "\(.*\)",$/\1/p' <<<"$json")
  [[ "$got" == "$sum" ]] || tc_die "$module@$version: module hash $got, expected $sum (pinned)"
  [[ -d "$dir" ]] || tc_die "$module@$version: no module directory in: $json"
  printf '%s\n' "$dir"
}
