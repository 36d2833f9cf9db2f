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
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/dot-ai-gateway-e2e.XXXXXX")"
export DOT_AI_GATEWAY_CLUSTER_DIR="$WORK/cluster"
export PULUMI_STATE_DIR="$WORK/pulumi"

cleanup() {
  local rc=$?
  if ((rc != 0)); then
    echo "[e2e] failed; control plane and controller logs were in $DOT_AI_GATEWAY_CLUSTER_DIR/logs:" >&2
    tail -n 20 "$DOT_AI_GATEWAY_CLUSTER_DIR"/logs/*.log 2>/dev/null >&2 || true
  fi
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
# The default cluster: Envoy Gateway (GatewayClass eg), cert-manager, a default StorageClass.
cluster_env=$("$REPO/toolchain/cluster.sh" up)
eval "$cluster_env"
echo "[e2e] control plane and controllers up at $((SECONDS - start)) s" >&2

E2E_PROJECT="$(tc_local_project "$REPO")"
E2E_CHARTS_DIR="$REPO/test/charts"
export E2E_PROJECT E2E_CHARTS_DIR KUBECONFIG GATEWAY_CLASS_NAME
for stack in dev prod; do tc_local_stack "$E2E_PROJECT" "$stack"; done


cd "$REPO"
mocha_start=$SECONDS
npx mocha --config test/e2e/.mocharc.json "$@"
echo "[e2e] tests passed in $((SECONDS - mocha_start)) s; $((SECONDS - start)) s in all" >&2
