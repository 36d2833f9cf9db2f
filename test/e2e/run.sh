#!/usr/bin/env bash
# End-to-end tests: the real Pulumi engine and providers apply the program, with the real dot-ai
# chart packages of test/charts, to a real (local, throwaway) API server on which real controllers
# run (Envoy Gateway and cert-manager, see toolchain/cluster.sh), and the tests assert on what the
# API server holds and on what those controllers wrote into the objects' status. Everything runs
# on 127.0.0.1 with state in a temporary directory that is removed afterwards.
#
#   npm run test:e2e [-- MOCHA_OPTIONS]       e.g. npm run test:e2e -- --grep "chart 2.2.2"
#
# Envoy Gateway listens on fixed ports: no other sandbox or end-to-end run may be up at the time.
# So the suites that need no Envoy Gateway (SIDE_SUITES) run, when the whole suite runs (no mocha
# options), on a second control plane with cert-manager only, at the same time as the others:
# they spend most of their time waiting (timeouts that must expire, the engine's start-up), and
# the machine has cores to spare then. Their output comes as one block when they are done.
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/dot-ai-gateway-e2e.XXXXXX")"
export DOT_AI_GATEWAY_CLUSTER_DIR="$WORK/cluster"
export PULUMI_STATE_DIR="$WORK/pulumi"

SIDE_SUITES=(test/e2e/failures.e2e.ts test/e2e/faults.e2e.ts test/e2e/policy.e2e.ts)

# logs_of CLUSTER_DIR: the tail of each control plane and controller log, for a failed run.
logs_of() {
  echo "[e2e] control plane and controller logs were in $1/logs:" >&2
  tail -n 20 "$1"/logs/*.log 2>/dev/null >&2 || true
}

cleanup() {
  local rc=$?
  if ((rc != 0)); then logs_of "$DOT_AI_GATEWAY_CLUSTER_DIR"; fi
  if [[ -n "${side_pid:-}" ]] && kill -0 "$side_pid" 2>/dev/null; then
    # The side lane runs in a process group of its own (set -m): its mocha and Pulumi CLIs too.
    kill -- "-$side_pid" 2>/dev/null || true
    wait "$side_pid" 2>/dev/null || true
  fi
  if [[ -d "$WORK/side/cluster" ]]; then DOT_AI_GATEWAY_CLUSTER_DIR="$WORK/side/cluster" "$REPO/toolchain/cluster.sh" down >&2 || true; fi
  "$REPO/toolchain/cluster.sh" down >&2 || true
  rm -rf "$WORK"
  exit $rc
}
trap cleanup EXIT

# shellcheck source=../../toolchain/env.sh
source "$REPO/toolchain/env.sh"
start=$SECONDS
tc_load_toolchain
echo "[e2e] toolchain ready in $((SECONDS - start)) s" >&2
cd "$REPO"
E2E_CHARTS_DIR="$REPO/test/charts"
export E2E_CHARTS_DIR

# side_lane: SIDE_SUITES on a control plane, state and project of their own; prints their output
# as one block when they end, and exits with mocha's status.
side_lane() {
  # Nothing of the first control plane's: its env names its kubeconfig and Envoy Gateway's class.
  unset KUBECONFIG GATEWAY_CLASS_NAME STORAGE_CLASS_NAME E2E_PROJECT
  export DOT_AI_GATEWAY_CLUSTER_DIR="$WORK/side/cluster" PULUMI_STATE_DIR="$WORK/side/pulumi"
  export DOT_AI_GATEWAY_CONTROLLERS=cert-manager
  local log="$WORK/side/mocha.log" rc=0 t0=$SECONDS
  mkdir -p "$WORK/side"
  {
    local cluster_env
    tc_load_toolchain &&
      cluster_env=$("$REPO/toolchain/cluster.sh" up) &&
      eval "$cluster_env" &&
      E2E_PROJECT="$(tc_local_project "$REPO")" &&
      export E2E_PROJECT KUBECONFIG &&
      npx mocha --config test/e2e/.mocharc.json "${SIDE_SUITES[@]}"
  } >"$log" 2>&1 || rc=$?
  {
    echo "[e2e side] ${SIDE_SUITES[*]} on a second control plane (cert-manager only), $((SECONDS - t0)) s:"
    sed 's/^/  | /' "$log"
    if ((rc != 0)); then logs_of "$DOT_AI_GATEWAY_CLUSTER_DIR"; fi
  } >&2
  return $rc
}

# The default cluster: Envoy Gateway (GatewayClass eg), cert-manager, a default StorageClass.
cluster_env=$("$REPO/toolchain/cluster.sh" up)
eval "$cluster_env"
echo "[e2e] control plane and controllers up at $((SECONDS - start)) s" >&2

mapfile -t suites < <(ls test/e2e/*.e2e.ts)
if (($# == 0)); then
  mapfile -t suites < <(printf '%s\n' "${suites[@]}" | grep -vxF -f <(printf '%s\n' "${SIDE_SUITES[@]}"))
  # Started once the first control plane listens: each picks free ports when it starts, and two
  # starting together could pick the same one.
  set -m # the side lane gets a process group of its own, which cleanup can stop as a whole
  side_lane &
  side_pid=$!
  set +m
fi

E2E_PROJECT="$(tc_local_project "$REPO")"
export E2E_PROJECT KUBECONFIG GATEWAY_CLASS_NAME
for stack in dev prod; do tc_local_stack "$E2E_PROJECT" "$stack"; done

mocha_start=$SECONDS
main_rc=0
npx mocha --config test/e2e/.mocharc.json "${suites[@]}" "$@" || main_rc=$?
side_rc=0
if [[ -n "${side_pid:-}" ]]; then
  wait "$side_pid" || side_rc=$?
  side_pid=""
fi
if ((main_rc != 0 || side_rc != 0)); then
  echo "[e2e] failed: main lane exit $main_rc, side lane exit $side_rc" >&2
  exit 1
fi
echo "[e2e] tests passed in $((SECONDS - mocha_start)) s; $((SECONDS - start)) s in all" >&2
