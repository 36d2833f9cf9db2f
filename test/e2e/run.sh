#!/usr/bin/env bash
# End-to-end tests: the real Pulumi engine and providers apply the program, with the real dot-ai
# chart packages of test/charts, to a real (local, throwaway) API server on which real controllers
# run (Envoy Gateway or Traefik, and cert-manager, see toolchain/cluster.sh), and the tests assert
# on what the API server holds, on what those controllers wrote into the objects' status and, on
# Traefik, on what crosses its data plane. Everything runs on 127.0.0.1 with state in a temporary
# directory that is removed afterwards.
#
#   npm run test:e2e [-- MOCHA_OPTIONS]        e.g. npm run test:e2e -- --grep "chart 2.2.2"
#   npm run test:e2e:data-plane [-- MOCHA_OPTIONS]   the data-plane suites only, on Traefik
#
# Three groups of suites, each on a control plane of its own (Envoy Gateway and Traefik listen on
# fixed ports, so one cluster of each per machine):
#   main        Envoy Gateway + cert-manager: everything but the two groups below;
#   side        cert-manager only: the suites that need no Gateway controller (SIDE_SUITES);
#   data plane  Traefik + cert-manager, with the dot-ai stand-in: DATA_PLANE_SUITES.
# When the whole suite runs (no mocha options), side and then data plane run one after the other
# beside main, at the same time: they spend most of their time waiting (timeouts that must expire,
# the engine's start-up, a held stream), and the machine has cores to spare then. Their output
# comes as one block each when they end. With mocha options, only main runs, everything but the
# data-plane suites on its one control plane, as before.
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/dot-ai-gateway-e2e.XXXXXX")"
export DOT_AI_GATEWAY_CLUSTER_DIR="$WORK/cluster"
export PULUMI_STATE_DIR="$WORK/pulumi"

SIDE_SUITES=(test/e2e/failures.e2e.ts test/e2e/faults.e2e.ts test/e2e/policy.e2e.ts)
DATA_PLANE_SUITES=(test/e2e/data-plane.e2e.ts)

only_data_plane=0
if [[ "${1:-}" == --data-plane ]]; then
  only_data_plane=1
  shift
fi

# logs_of CLUSTER_DIR: the tail of each control plane and controller log, for a failed run.
logs_of() {
  echo "[e2e] control plane and controller logs were in $1/logs:" >&2
  tail -n 20 "$1"/logs/*.log 2>/dev/null >&2 || true
}

cleanup() {
  local rc=$?
  if ((rc != 0)) && [[ -d "$DOT_AI_GATEWAY_CLUSTER_DIR" ]]; then logs_of "$DOT_AI_GATEWAY_CLUSTER_DIR"; fi
  if [[ -n "${lanes_pid:-}" ]] && kill -0 "$lanes_pid" 2>/dev/null; then
    # The other lanes run in a process group of their own (set -m): their mocha and Pulumi CLIs too.
    kill -- "-$lanes_pid" 2>/dev/null || true
    wait "$lanes_pid" 2>/dev/null || true
  fi
  local dir
  for dir in "$WORK/side/cluster" "$WORK/data-plane/cluster"; do
    if [[ -d "$dir" ]]; then DOT_AI_GATEWAY_CLUSTER_DIR="$dir" "$REPO/toolchain/cluster.sh" down >&2 || true; fi
  done
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

# lane NAME CONTROLLERS STACKS SUITES...: SUITES on a control plane of their own with CONTROLLERS,
# state and project of their own, the local stacks dev and prod made first when STACKS is `stacks`;
# prints their output as one block when they end, and returns mocha's status.
lane() {
  local name=$1 controllers=$2 stacks=$3
  shift 3
  (
    # Nothing of another control plane's: its env names its kubeconfig and Gateway class.
    unset KUBECONFIG GATEWAY_CLASS_NAME STORAGE_CLASS_NAME E2E_PROJECT DATA_PLANE_ADDRESS LOCAL_CA_FILE
    export DOT_AI_GATEWAY_CLUSTER_DIR="$WORK/$name/cluster" PULUMI_STATE_DIR="$WORK/$name/pulumi"
    export DOT_AI_GATEWAY_CONTROLLERS=$controllers
    local log="$WORK/$name/mocha.log" rc=0 t0=$SECONDS cluster_env stack
    mkdir -p "$WORK/$name"
    {
      tc_load_toolchain &&
        cluster_env=$("$REPO/toolchain/cluster.sh" up) &&
        eval "$cluster_env" &&
        E2E_PROJECT="$(tc_local_project "$REPO")" &&
        export E2E_PROJECT KUBECONFIG GATEWAY_CLASS_NAME DATA_PLANE_ADDRESS LOCAL_CA_FILE &&
        if [[ $stacks == stacks ]]; then for stack in dev prod; do tc_local_stack "$E2E_PROJECT" "$stack"; done; fi &&
        npx mocha --config test/e2e/.mocharc.json "$@"
    } >"$log" 2>&1 || rc=$?
    {
      echo "[e2e $name] $* on a control plane with $controllers, $((SECONDS - t0)) s:"
      sed 's/^/  | /' "$log"
      if ((rc != 0)); then logs_of "$DOT_AI_GATEWAY_CLUSTER_DIR"; fi
    } >&2
    if ((rc == 0)); then "$REPO/toolchain/cluster.sh" down >/dev/null 2>&1 || true; fi
    return $rc
  )
}

if ((only_data_plane)); then
  lane data-plane cert-manager,traefik stacks "${DATA_PLANE_SUITES[@]}" "$@" || {
    echo "[e2e] failed: data-plane lane" >&2
    exit 1
  }
  echo "[e2e] data-plane tests passed; $((SECONDS - start)) s in all" >&2
  exit 0
fi

# The default cluster: Envoy Gateway (GatewayClass eg), cert-manager, a default StorageClass.
cluster_env=$("$REPO/toolchain/cluster.sh" up)
eval "$cluster_env"
echo "[e2e] control plane and controllers up at $((SECONDS - start)) s" >&2

mapfile -t suites < <(ls test/e2e/*.e2e.ts | grep -vxF -f <(printf '%s\n' "${DATA_PLANE_SUITES[@]}"))
if (($# == 0)); then
  mapfile -t suites < <(printf '%s\n' "${suites[@]}" | grep -vxF -f <(printf '%s\n' "${SIDE_SUITES[@]}"))
  # Started once the first control plane listens: each picks free ports when it starts, and two
  # starting together could pick the same one. Side first, then data plane: both lanes together
  # beside main would leave the main lane too little of the 2 cores.
  set -m # the lanes get a process group of their own, which cleanup can stop as a whole
  (
    side_rc=0 data_rc=0
    lane side cert-manager none "${SIDE_SUITES[@]}" || side_rc=$?
    lane data-plane cert-manager,traefik stacks "${DATA_PLANE_SUITES[@]}" || data_rc=$?
    echo "[e2e] side lane exit $side_rc, data-plane lane exit $data_rc" >&2
    ((side_rc == 0 && data_rc == 0))
  ) &
  lanes_pid=$!
  set +m
fi

E2E_PROJECT="$(tc_local_project "$REPO")"
export E2E_PROJECT KUBECONFIG GATEWAY_CLASS_NAME
for stack in dev prod; do tc_local_stack "$E2E_PROJECT" "$stack"; done

mocha_start=$SECONDS
main_rc=0
npx mocha --config test/e2e/.mocharc.json "${suites[@]}" "$@" || main_rc=$?
lanes_rc=0
if [[ -n "${lanes_pid:-}" ]]; then
  wait "$lanes_pid" || lanes_rc=$?
  lanes_pid=""
fi
if ((main_rc != 0 || lanes_rc != 0)); then
  echo "[e2e] failed: main lane exit $main_rc, other lanes exit $lanes_rc" >&2
  exit 1
fi
echo "[e2e] tests passed in $((SECONDS - mocha_start)) s; $((SECONDS - start)) s in all" >&2
