#!/usr/bin/env bash
# End-to-end tests: the real Pulumi engine and providers apply the program to a real (local,
# throwaway) API server, and the tests assert on what the API server holds. Everything runs on
# 127.0.0.1 with state in a temporary directory that is removed afterwards.
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/dot-ai-gateway-e2e.XXXXXX")"
export DOT_AI_GATEWAY_CLUSTER_DIR="$WORK/cluster"
export PULUMI_STATE_DIR="$WORK/pulumi"

cleanup() {
  local rc=$?
  if ((rc != 0)); then
    echo "[e2e] failed; control plane logs were in $DOT_AI_GATEWAY_CLUSTER_DIR/logs:" >&2
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
cluster_env=$("$REPO/toolchain/cluster.sh" up)
eval "$cluster_env"
kubectl apply --server-side -f "$CERT_MANAGER_CRDS_FILE" >/dev/null

E2E_PROJECT="$(tc_local_project "$REPO")"
export E2E_PROJECT KUBECONFIG
for stack in dev prod; do tc_local_stack "$E2E_PROJECT" "$stack"; done

cd "$REPO"
npx mocha --config test/e2e/.mocharc.json
