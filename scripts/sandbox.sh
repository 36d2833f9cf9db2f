#!/usr/bin/env bash
# The embedded default: a throwaway local Kubernetes control plane with the real Pulumi engine and
# providers and the real controllers (Envoy Gateway, cert-manager), all built from Go modules on
# first use, and the program deployed onto it with the real dot-ai chart and its waits on.
#
#   scripts/sandbox.sh [up] [dev|prod] [CHART_VERSION] [--controller envoy-gateway|traefik]
#                                        build what is missing, start the control plane, pulumi up
#                                        (CHART_VERSION: one of test/charts, default 2.2.2; giving
#                                        another to a running stack upgrades it in place).
#                                        --controller: the Gateway implementation, Envoy Gateway by
#                                        default (control plane only: its proxies are fake pods) or
#                                        Traefik, whose data plane listens on 127.0.0.1:80/443 and
#                                        carries real requests to the dot-ai stand-in (test/standin);
#                                        kept by later runs until `down`
#   scripts/sandbox.sh mcp [dev|prod]    (Traefik) the official MCP client with the stack's mcpConfig,
#                                        through the Gateway: initialize, tools/list, a tool call
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
case "${1:-}" in up | down | status | mcp) cmd=$1 && shift ;; esac
controller="" positional=()
while (($# > 0)); do
  case $1 in
    --controller)
      controller=${2:-}
      shift 2 || true
      [[ "$controller" == envoy-gateway || "$controller" == traefik ]] || {
        say "--controller takes envoy-gateway or traefik, got '${controller}'"
        exit 2
      }
      ;;
    --controller=*)
      set -- --controller "${1#--controller=}" "${@:2}"
      ;;
    -*)
      say "unknown option '$1' (see the header of $0)"
      exit 2
      ;;
    *)
      positional+=("$1")
      shift
      ;;
  esac
done
stack="${positional[0]:-dev}"
[[ "$stack" == dev || "$stack" == prod ]] || {
  say "unknown stack '$stack': use dev or prod"
  exit 2
}
chart_version="${positional[1]:-${DOT_AI_GATEWAY_CHART_VERSION:-2.2.2}}"

# The Gateway implementation: the one asked for, else the running sandbox's, else Envoy Gateway.
# Switching needs a new cluster, and the stacks' state would still describe the old one.
running=""
if [[ -f "$DOT_AI_GATEWAY_CLUSTER_DIR/options" ]]; then
  running=$(grep -xE 'envoy-gateway|traefik' "$DOT_AI_GATEWAY_CLUSTER_DIR/options" || true)
fi
if [[ $cmd == up && -n "$controller" && -n "$running" && "$controller" != "$running" ]]; then
  say "the sandbox runs $running; to move it to $controller, stop it first (its stacks' state describes this cluster): npm run sandbox:down && npm run sandbox -- $stack --controller $controller"
  exit 2
fi
controller=${controller:-${running:-envoy-gateway}}
export DOT_AI_GATEWAY_CONTROLLERS="cert-manager,$controller"

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
  mcp)
    [[ "$running" == traefik && -f "$SANDBOX/env.sh" ]] || {
      say "the MCP check needs a sandbox on Traefik (the only data plane here): npm run sandbox -- $stack --controller traefik"
      exit 2
    }
    # shellcheck source=/dev/null
    source "$SANDBOX/env.sh"
    cd "$REPO"
    exec node -r ts-node/register/transpile-only scripts/mcp-check.ts "$stack"
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
  if [[ $controller == traefik ]]; then
    # Where the Gateways listen and the CA their certificates chain to; Node.js programs (doctor,
    # the MCP check) trust that CA through NODE_EXTRA_CA_CERTS, curl through --cacert.
    printf 'export DATA_PLANE_ADDRESS=%q LOCAL_CA_FILE=%q NODE_EXTRA_CA_CERTS=%q\n' "$DATA_PLANE_ADDRESS" "$LOCAL_CA_FILE" "$LOCAL_CA_FILE"
  fi
} >"$SANDBOX/env.sh"

if [[ "$stack" == prod ]]; then
  gateway_ns=gateway-system look_gateway="kubectl get gateway cluster-gateway -n gateway-system -o yaml   # status: Programmed, listeners, attachedRoutes"
  look_cert="kubectl get certificate wildcard -n gateway-system   # Ready, issued by the local CA"
else
  gateway_ns=dot-ai look_gateway="kubectl get gateway dot-ai-http -n dot-ai -o yaml   # the chart's Gateway, Programmed by $controller"
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
  ls $DOT_AI_GATEWAY_CLUSTER_DIR/logs/        # $controller.log, cert-manager.log, kube-*.log
TXT
  exit 1
fi
pulumi -C "$project" stack output --stack "$stack"

if [[ $controller == traefik ]]; then
  judged="Traefik, cert-manager" reach="Traefik's data plane listens on $DATA_PLANE_ADDRESS:80 and :443 and carries real
requests; behind dot-ai's Service answers the dot-ai stand-in (test/standin: it proves the path, not
dot-ai). No other address in the cluster is reachable"
else
  judged="Envoy Gateway, cert-manager" reach="no address in the cluster is reachable (for traffic through a Gateway, use
--controller traefik)"
fi
cat <<TXT

The $stack stack is deployed with the real dot-ai chart $chart_version on a local control plane, judged
by real controllers ($judged); the nodes are fake (kwok): pods become Ready
without running, and $reach. Look at it:
  source $SANDBOX/env.sh
  $look_gateway
  kubectl get httproute dot-ai -n dot-ai -o jsonpath='{range .status.parents[*]}{.controllerName}{": "}{range .conditions[*]}{.type}={.status} {end}{"\n"}{end}'
${look_cert:+  $look_cert
}  kubectl get deploy,statefulset,pvc,svc -n dot-ai
  helm list -n dot-ai
  $REPO/toolchain/cluster.sh status   # processes, logs, GatewayClass, issuers, volumes
  pulumi -C $project stack output mcpConfig --show-secrets --stack $stack
  pulumi -C $project preview --stack $stack --policy-pack $REPO/policy/analyzer   # the guardrails (policy/README.md)
TXT
if [[ $controller == traefik ]]; then
  url=$(pulumi -C "$project" stack output url --stack "$stack")
  host=${url#https://}
  pin="--cacert \$LOCAL_CA_FILE --resolve $host:443:$DATA_PLANE_ADDRESS"
  # The stack's own `verify.mcp` command (README), pinned to the data plane, reading this sandbox's stack.
  verify_mcp=$(pulumi -C "$project" stack output verify --json --stack "$stack" |
    node -e 'process.stdout.write(JSON.parse(require("fs").readFileSync(0, "utf8")).mcp)')
  verify_mcp=${verify_mcp/#curl /curl $pin }
  verify_mcp=${verify_mcp//pulumi stack output authToken --show-secrets/pulumi -C $project stack output authToken --show-secrets --stack $stack}
  cat <<TXT
Send traffic through the Gateway ($host pinned to $DATA_PLANE_ADDRESS, TLS verified with the local CA):
  curl $pin $url/healthz
  $verify_mcp
  curl -sS $pin -X POST $url   # 401: no token
  curl -sS -o /dev/null -w '%{http_code} %{redirect_url}\n' --resolve $host:80:$DATA_PLANE_ADDRESS "http://$host/any/path?q=1"   # 301 to https, path and query kept
  npm run sandbox:mcp -- $stack   # the official MCP client, with mcpConfig as given: initialize, tools/list, a call
  npm run doctor -- $stack --probe-address $DATA_PLANE_ADDRESS   # every check, and an MCP session through the Gateway
TXT
fi
cat <<TXT
Run again to reuse everything (\`npm run sandbox -- $stack <version>\` moves the stack to another
chart version of test/charts); stop it with: npm run sandbox:down
TXT
