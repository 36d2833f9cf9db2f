#!/usr/bin/env bash
# Wall time of the program next to the upstream guide's manual path, on one local control plane
# (with its real controllers) in one run (not a test: it prints figures). For the dev stack
# (creation pattern), the real dot-ai chart package (test/charts, DOT_AI_GATEWAY_CHART_VERSION,
# default 2.2.2), each from an empty cluster:
#   pulumi : pulumi up from empty (CRDs, namespace, token, Secret, release), then a no-op preview
#   manual : kubectl apply of the same Gateway API bundle, namespace and Secret, then helm install
#            --wait of the same chart package with exactly the values the program gave it (read
#            back with `helm get values`). In dev the program waits for nothing beyond what Helm's
#            --wait waits for (the chart's Gateway is not awaited), so neither does the manual path.
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/dot-ai-gateway-bench.XXXXXX")"
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
tc_local_stack "$project" dev
chart=$(tc_chart_package "$DOT_AI_GATEWAY_CHART_VERSION")

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
say() { printf '[bench] %s\n' "$*" >&2; }

say "pulumi up from empty"
t0=$(now)
pulumi -C "$project" up --yes --skip-preview --suppress-progress --stack dev >"$WORK/up.log" 2>&1 || {
  cat "$WORK/up.log" >&2
  exit 1
}
t1=$(now)
up=$(elapsed "$t0" "$t1")
say "no-op pulumi preview"
t0=$(now)
pulumi -C "$project" preview --expect-no-changes --suppress-progress --stack dev >"$WORK/preview.log" 2>&1 || {
  cat "$WORK/preview.log" >&2
  exit 1
}
t1=$(now)
preview=$(elapsed "$t0" "$t1")

say "the values the program gave the chart, for the manual path"
helm get values dot-ai -n dot-ai -o yaml >"$WORK/values.yaml"
say "pulumi destroy, and the retained Gateway API bundle removed, for an empty cluster again"
pulumi -C "$project" destroy --yes --skip-preview --suppress-progress --stack dev >"$WORK/destroy.log" 2>&1 || {
  cat "$WORK/destroy.log" >&2
  exit 1
}
kubectl wait --for=delete namespace/dot-ai --timeout=120s >/dev/null 2>&1 || true
kubectl delete -f "$GATEWAY_API_CRDS_FILE" --ignore-not-found --wait=true --timeout=120s >/dev/null

say "manual path (kubectl + helm), as in the upstream guide"
t0=$(now)
kubectl apply --server-side -f "$GATEWAY_API_CRDS_FILE" >/dev/null
kubectl create namespace dot-ai >/dev/null
kubectl create secret generic dot-ai-secrets -n dot-ai --from-literal=auth-token="$(head -c 36 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 48)" \
  --from-literal=anthropic-api-key=local-anthropic-key-not-real --from-literal=openai-api-key=local-openai-key-not-real >/dev/null
helm install dot-ai "$chart" -n dot-ai --wait --timeout 10m -f "$WORK/values.yaml" >/dev/null
t1=$(now)
manual=$(elapsed "$t0" "$t1")
say "manual path: $manual s"

printf '\n%-40s %8s\n' "dev stack, chart $DOT_AI_GATEWAY_CHART_VERSION, one local control plane" "seconds"
printf '%-40s %8s\n' "manual path (kubectl apply + helm install)" "$manual"
printf '%-40s %8s\n' "pulumi up from empty" "$up"
printf '%-40s %8s\n' "pulumi preview, no changes" "$preview"
awk -v u="$up" -v m="$manual" -v p="$preview" 'BEGIN { printf "ratio pulumi up / manual: %.2f; no-op preview / manual: %.2f\n", u / m, p / m }'
