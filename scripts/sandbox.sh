#!/usr/bin/env bash
# The embedded default: a throwaway local Kubernetes control plane with the real Pulumi engine and
# providers (all built from Go modules on first use), and the program deployed onto it.
#
#   scripts/sandbox.sh [up] [dev|prod]   build what is missing, start the control plane, pulumi up
#   scripts/sandbox.sh down              destroy nothing, just stop the control plane and remove its state
#   scripts/sandbox.sh status            what is running
#
# State lives in $DOT_AI_GATEWAY_CACHE/sandbox (default ~/.cache/dot-ai-gateway/sandbox).
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
: "${DOT_AI_GATEWAY_CACHE:=${XDG_CACHE_HOME:-$HOME/.cache}/dot-ai-gateway}"
SANDBOX="$DOT_AI_GATEWAY_CACHE/sandbox"
export DOT_AI_GATEWAY_CLUSTER_DIR="$SANDBOX/cluster"
export PULUMI_STATE_DIR="$SANDBOX/pulumi"

say() { printf '[sandbox] %s\n' "$*" >&2; }

cmd=up
case "${1:-}" in up | down | status) cmd=$1 && shift ;; esac
stack="${1:-dev}"
[[ "$stack" == dev || "$stack" == prod ]] || {
  say "unknown stack '$stack': use dev or prod"
  exit 2
}

case $cmd in
  down)
    "$REPO/toolchain/cluster.sh" down
    rm -rf "$SANDBOX"
    say "stopped; state removed ($SANDBOX)"
    exit 0
    ;;
  status)
    exec "$REPO/toolchain/cluster.sh" status
    ;;
esac

# shellcheck source=../toolchain/env.sh
source "$REPO/toolchain/env.sh"
[[ -d "$REPO/node_modules" ]] || (cd "$REPO" && npm ci --no-audit --no-fund)
tc_load_toolchain
cluster_env=$("$REPO/toolchain/cluster.sh" up)
eval "$cluster_env"
say "control plane up (KUBECONFIG=$KUBECONFIG)"
# cert-manager itself does not run here, but its Certificate kind must exist for prod's Certificate.
kubectl apply --server-side -f "$CERT_MANAGER_CRDS_FILE" >/dev/null

project=$(tc_local_project "$REPO")
# Both stacks deploy dot-ai into the same namespace, so only one of them is up at a time.
other=$([[ "$stack" == dev ]] && echo prod || echo dev)
other_resources=$(pulumi -C "$project" stack ls --json |
  node -e 'const s = JSON.parse(require("fs").readFileSync(0, "utf8")).find((x) => x.name === process.argv[1]); console.log(s?.resourceCount ?? 0)' "$other")
if ((other_resources > 0)); then
  say "destroying the $other stack first (both use the dot-ai namespace)"
  pulumi -C "$project" destroy --yes --skip-preview --suppress-progress --stack "$other" >"$PULUMI_STATE_DIR/destroy-$other.log" 2>&1 ||
    { cat "$PULUMI_STATE_DIR/destroy-$other.log" >&2; exit 1; }
fi
tc_local_stack "$project" "$stack"
say "pulumi up of stack '$stack' (log also in $PULUMI_STATE_DIR/up-$stack.log)"
pulumi -C "$project" up --yes --stack "$stack" --suppress-progress 2>&1 | tee "$PULUMI_STATE_DIR/up-$stack.log"
pulumi -C "$project" stack output --stack "$stack"

# Everything a shell needs to look at the sandbox with the same tools.
{
  printf 'export KUBECONFIG=%q\n' "$KUBECONFIG"
  printf 'export PATH=%q\n' "$PATH"
  printf 'export PULUMI_HOME=%q PULUMI_BACKEND_URL=%q PULUMI_CONFIG_PASSPHRASE=%q\n' "$PULUMI_HOME" "$PULUMI_BACKEND_URL" "$PULUMI_CONFIG_PASSPHRASE"
  printf 'export PULUMI_SKIP_UPDATE_CHECK=true PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true\n'
} >"$SANDBOX/env.sh"

cat <<TXT

The $stack stack is deployed on a local control plane (fake nodes: pods become Ready without running).
Look at it:
  source $SANDBOX/env.sh
  kubectl get gateway,httproute,referencegrant -A
  kubectl get deploy,svc,secret -n dot-ai
  helm list -n dot-ai
  pulumi -C $project stack output mcpConfig --show-secrets --stack $stack
Run again to reuse everything; stop it with: npm run sandbox:down
TXT
