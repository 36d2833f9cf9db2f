#!/usr/bin/env bash
# The embedded default: a throwaway local Kubernetes control plane with the real Pulumi engine and
# providers and the real controllers (Envoy Gateway, cert-manager), all built from Go modules on
# first use, and the program deployed onto it with the real dot-ai chart and its waits on.
#
#   scripts/sandbox.sh [up] [dev|prod] [CHART_VERSION]
#                                        build what is missing, start the control plane, pulumi up
#                                        (CHART_VERSION: one of test/charts, default 2.2.2; giving
#                                        another to a running stack upgrades it in place)
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
chart_version="${2:-${DOT_AI_GATEWAY_CHART_VERSION:-2.2.2}}"

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
export KUBECONFIG
say "control plane up (KUBECONFIG=$KUBECONFIG; controllers: ${DOT_AI_GATEWAY_CONTROLLERS:-cert-manager,envoy-gateway})"

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
tc_local_stack "$project" "$stack" "$chart_version"

# Everything a shell needs to look at the sandbox with the same tools (written before `up`, so it
# is there to look at a failed run too).
{
  printf 'export KUBECONFIG=%q\n' "$KUBECONFIG"
  printf 'export PATH=%q\n' "$PATH"
  printf 'export PULUMI_HOME=%q PULUMI_BACKEND_URL=%q PULUMI_CONFIG_PASSPHRASE=%q\n' "$PULUMI_HOME" "$PULUMI_BACKEND_URL" "$PULUMI_CONFIG_PASSPHRASE"
  printf 'export PULUMI_SKIP_UPDATE_CHECK=true PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true\n'
  # The project copy that holds the sandbox's stack config: `npm run doctor -- <stack>` reads it.
  printf 'export DOT_AI_GATEWAY_PROJECT=%q\n' "$project"
  # The sandbox's control plane, for toolchain/cluster.sh status (it defaults to another directory).
  printf 'export DOT_AI_GATEWAY_CLUSTER_DIR=%q\n' "$DOT_AI_GATEWAY_CLUSTER_DIR"
} >"$SANDBOX/env.sh"

if [[ "$stack" == prod ]]; then
  gateway_ns=gateway-system look_gateway="kubectl get gateway cluster-gateway -n gateway-system -o yaml   # status: Programmed, listeners, attachedRoutes"
  look_cert="kubectl get certificate wildcard -n gateway-system   # Ready, issued by the local CA"
else
  gateway_ns=dot-ai look_gateway="kubectl get gateway dot-ai-http -n dot-ai -o yaml   # the chart's Gateway, Programmed by Envoy Gateway"
  look_cert="kubectl get certificate dot-ai-tls -n dot-ai   # Ready, issued by the local CA"
fi
say "pulumi up of stack '$stack', chart $chart_version (log also in $PULUMI_STATE_DIR/up-$stack.log)"
if ! pulumi -C "$project" up --yes --stack "$stack" --suppress-progress 2>&1 | tee "$PULUMI_STATE_DIR/up-$stack.log"; then
  cat >&2 <<TXT

[sandbox] pulumi up failed (log: $PULUMI_STATE_DIR/up-$stack.log). To look at why:
  source $SANDBOX/env.sh
  $REPO/toolchain/cluster.sh status          # the control plane and the controllers
  kubectl get gateway,httproute -A; kubectl describe gateway -n $gateway_ns
  kubectl get certificate,clusterissuer -A; kubectl get pvc,pods -n dot-ai
  ls $DOT_AI_GATEWAY_CLUSTER_DIR/logs/        # envoy-gateway.log, cert-manager.log, kube-*.log
TXT
  exit 1
fi
pulumi -C "$project" stack output --stack "$stack"

cat <<TXT

The $stack stack is deployed with the real dot-ai chart $chart_version on a local control plane, judged
by real controllers (Envoy Gateway, cert-manager); the nodes are fake (kwok): pods become Ready
without running, and no address in the cluster is reachable. Look at it:
  source $SANDBOX/env.sh
  $look_gateway
  kubectl get httproute dot-ai -n dot-ai -o jsonpath='{range .status.parents[*]}{.controllerName}{": "}{range .conditions[*]}{.type}={.status} {end}{"\n"}{end}'
${look_cert:+  $look_cert
}  kubectl get deploy,statefulset,pvc,svc -n dot-ai
  helm list -n dot-ai
  $REPO/toolchain/cluster.sh status   # processes, logs, GatewayClass, issuers, volumes
  pulumi -C $project stack output mcpConfig --show-secrets --stack $stack
  pulumi -C $project preview --stack $stack --policy-pack $REPO/policy/analyzer   # the guardrails (policy/README.md)
Run again to reuse everything (\`npm run sandbox -- $stack <version>\` moves the stack to another
chart version of test/charts); stop it with: npm run sandbox:down
TXT
