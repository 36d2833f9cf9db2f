#!/usr/bin/env bash
# How `pulumi up` time grows with the number of app stacks on one platform stack (not a test: it
# prints figures). One local control plane with its real controllers (Envoy Gateway, cert-manager),
# the real dot-ai chart package (test/charts, DOT_AI_GATEWAY_CHART_VERSION, default 2.2.2):
#   platform up            : role platform from empty (CRDs, namespace, Certificate, Gateway; waits on)
#   app up #1, #2, #3      : role app stacks one after another, each with the previous ones attached
#   app preview, no change : a no-op preview of app #1 with three apps attached (StackReference read)
#   3 app ups in parallel  : the three app stacks destroyed, then brought up at the same time
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/dot-ai-gateway-bench-mt.XXXXXX")"
export DOT_AI_GATEWAY_CLUSTER_DIR="$WORK/cluster"
export PULUMI_STATE_DIR="$WORK/pulumi"
trap '"$REPO/toolchain/cluster.sh" down >&2 || true; rm -rf "$WORK"' EXIT

# shellcheck source=../toolchain/env.sh
source "$REPO/toolchain/env.sh"
tc_load_toolchain
cluster_env=$("$REPO/toolchain/cluster.sh" up)
eval "$cluster_env"
export KUBECONFIG
project=$(tc_local_project "$REPO")
chart=$(tc_chart_package "$DOT_AI_GATEWAY_CHART_VERSION")
"$REPO/toolchain/cluster.sh" issuer letsencrypt-prod >&2

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
say() { printf '[bench] %s\n' "$*" >&2; }
p() { pulumi -C "$project" --non-interactive "$@"; }
# quiet STACK LOG ARGS... : a pulumi command whose output is shown only when it fails.
quiet() {
  local stack=$1 log=$2
  shift 2
  p "$@" --stack "$stack" >"$log" 2>&1 || {
    cat "$log" >&2
    return 1
  }
}
# stack_config STACK KEY=VALUE... : a new stack with these settings.
stack_config() {
  local stack=$1 kv
  shift
  p stack init "$stack" >/dev/null
  for kv in "$@"; do p config set --plaintext "dot-ai-gateway:${kv%%=*}" "${kv#*=}" --stack "$stack"; done
}

stack_config platform role=platform domain=example.com "gatewayClassName=${GATEWAY_CLASS_NAME:-eg}" \
  "gatewayApiCrdsFile=$GATEWAY_API_CRDS_FILE" clusterIssuer=letsencrypt-prod
TEAMS=(a b c)
for t in "${TEAMS[@]}"; do
  stack_config "team-$t" role=app platformStack=organization/dot-ai-gateway/platform \
    "hostname=team-$t.example.com" "namespace=team-$t" "releaseName=dot-ai-$t" "chart=$chart"
  p config set --secret dot-ai-gateway:anthropicApiKey local-anthropic-key-not-real --stack "team-$t"
  p config set --secret dot-ai-gateway:openaiApiKey local-openai-key-not-real --stack "team-$t"
done

up() { quiet "$1" "$WORK/$1-up.log" up --yes --skip-preview --suppress-progress; }
down() { quiet "$1" "$WORK/$1-destroy.log" destroy --yes --skip-preview --suppress-progress; }

say "platform up"
t0=$(now)
up platform
platform_up=$(elapsed "$t0" "$(now)")

declare -a app_up
for i in "${!TEAMS[@]}"; do
  say "app up #$((i + 1)) (team-${TEAMS[i]})"
  t0=$(now)
  up "team-${TEAMS[i]}"
  app_up[i]=$(elapsed "$t0" "$(now)")
done

say "no-op preview of team-a"
t0=$(now)
quiet team-a "$WORK/preview.log" preview --expect-no-changes --suppress-progress
preview=$(elapsed "$t0" "$(now)")

say "destroy the app stacks, then up all three at once"
for t in "${TEAMS[@]}"; do down "team-$t"; done
for t in "${TEAMS[@]}"; do kubectl wait --for=delete "namespace/team-$t" --timeout=120s >/dev/null 2>&1 || true; done
t0=$(now)
pids=()
for t in "${TEAMS[@]}"; do
  up "team-$t" &
  pids+=($!)
done
for pid in "${pids[@]}"; do wait "$pid"; done
parallel=$(elapsed "$t0" "$(now)")
attached=$(kubectl get gateway cluster-gateway -n gateway-system -o jsonpath='{.status.listeners[*].attachedRoutes}')

printf '\n%-58s %8s\n' "one platform, app stacks of chart $DOT_AI_GATEWAY_CHART_VERSION, one local control plane" "seconds"
printf '%-58s %8s\n' "platform up from empty (Gateway Programmed, cert Ready)" "$platform_up"
for i in "${!TEAMS[@]}"; do
  printf '%-58s %8s\n' "app up #$((i + 1)) ($i already attached)" "${app_up[i]}"
done
printf '%-58s %8s\n' "app preview, no changes (3 attached)" "$preview"
printf '%-58s %8s\n' "3 app ups in parallel (wall time)" "$parallel"
awk -v a="${app_up[0]}" -v c="${app_up[2]}" -v s="$(printf '%s+' "${app_up[@]}")0" -v q="$parallel" 'BEGIN {
  split(s, x, "+"); t = 0; for (i in x) t += x[i]
  printf "app up #3 / #1: %.2f; 3 apps one after another %.1f s, in parallel %.1f s\n", c / a, t, q }'
echo "attachedRoutes per listener after the parallel ups: $attached"
