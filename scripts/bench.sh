#!/usr/bin/env bash
# Wall time of the program next to the upstream guide's manual path, on one local control plane
# with its real controllers (not a test: it prints figures). For each stack (default: dev and
# prod; `npm run bench -- dev` for one), with the real dot-ai chart package (test/charts,
# DOT_AI_GATEWAY_CHART_VERSION, default 2.2.2), each from an empty cluster:
#   pulumi up     : from empty, three times, taking turns with the manual path; the median (the CRD bundle, namespaces, token, Secret, release, in dev waited
#                   for until the chart's Gateway is Programmed; in prod also the Certificate, the
#                   shared Gateway and the ReferenceGrant, waited for until Ready and Programmed)
#   preview       : a no-op `pulumi preview` after the first up, the median of three after one
#                   untimed (the stack's state size too)
#   manual        : three times, the median: what the guide does by hand, with the very objects and values the program
#                   created (read back from the cluster and `helm get values`): kubectl apply of
#                   the bundle and the objects, `kubectl wait` for the Certificate Ready (dev's own,
#                   prod's shared) and in prod the Gateway Programmed (what the program waits for),
#                   then helm install --wait, in dev then `kubectl wait` for the chart's Gateway
#                   Programmed. (dev's port-80 redirect is left out: the manual side does less.)
# Then, per stack, where the time of one traced `pulumi up` and one traced no-op preview went
# (toolchain/bench/trace-summary over `pulumi --tracing`, with marks from scripts/bench-probe.js);
# tracing makes those runs slower than the timed ones. With DOT_AI_GATEWAY_BENCH_KEEP=DIR the traces
# and probes are kept in DIR (`trace-summary -calls DIR/dev-up-traced.trace` lists every provider
# call with its start and duration). Last (`multi-team`, part of the default),
# scripts/bench-multi-team.sh: how `pulumi up` grows from one to three app stacks on one platform.
# `floor` (part of the default): the least any Pulumi program costs here, on the same engine,
# providers, TypeScript loader and cluster (scripts/bench-floor): the provider and one Namespace,
# then the same with the Gateway API bundle's CRDs as plain resources, next to kubectl applying
# the bundle. What the goals leave for our own program is the difference.
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/dot-ai-gateway-bench.XXXXXX")"
export DOT_AI_GATEWAY_CLUSTER_DIR="$WORK/cluster"
export PULUMI_STATE_DIR="$WORK/pulumi"
trap '"$REPO/toolchain/cluster.sh" down >&2 || true; rm -rf "$WORK"' EXIT

requested=("$@")
((${#requested[@]} > 0)) || requested=(dev prod floor multi-team)
stacks=() multi_team=false floor=false
for bench in "${requested[@]}"; do
  case $bench in
    dev | prod) stacks+=("$bench") ;;
    floor) floor=true ;;
    multi-team) multi_team=true ;;
    *)
      echo "unknown bench '$bench': use dev, prod, floor and/or multi-team" >&2
      exit 2
      ;;
  esac
done
if ((${#stacks[@]} == 0)) && ! $floor; then exec bash "$REPO/scripts/bench-multi-team.sh"; fi

# shellcheck source=../toolchain/env.sh
source "$REPO/toolchain/env.sh"
tc_load_toolchain
# Cached by the hash of its source, like the rest of the toolchain by version.
summary_version=$(cat "$REPO"/toolchain/bench/trace-summary/{go.mod,go.sum,main.go} | sha256sum | cut -c1-12)
tc_go_build trace-summary "$summary_version" bench/trace-summary .
trace_summary="$(tc_prefix trace-summary "$summary_version")/bin/trace-summary"
cluster_env=$("$REPO/toolchain/cluster.sh" up)
eval "$cluster_env"
export KUBECONFIG
project=$(tc_local_project "$REPO")
chart=$(tc_chart_package "$DOT_AI_GATEWAY_CHART_VERSION")

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
say() { printf '[bench] %s\n' "$*" >&2; }
# run LOG CMD... : CMD with its output in LOG, shown only when it fails.
run() {
  local log=$1
  shift
  "$@" >"$log" 2>&1 || {
    cat "$log" >&2
    return 1
  }
}
# timed VAR LOG CMD... : VAR gets CMD's wall time in seconds.
timed() {
  local var=$1 t0
  shift
  t0=$(now)
  run "$@"
  printf -v "$var" '%s' "$(elapsed "$t0" "$(now)")"
}
# middle A B C : the median of three figures.
middle() { printf '%s\n' "$@" | sort -g | sed -n 2p; }
# median VAR LOG CMD... : VAR gets the median wall time of three runs of CMD, and `samples` all
# three. One sample of a no-op preview varies by a second or more with what the controllers are
# doing at that moment (the same program's preview took 1.2 s in one run and 3.0 s in the next);
# the median of three does not.
median() {
  local var=$1 log=$2 a b c
  shift 2
  timed a "$log" "$@"
  timed b "$log" "$@"
  timed c "$log" "$@"
  samples="$a $b $c"
  printf -v "$var" '%s' "$(middle "$a" "$b" "$c")"
}
# busy_percent : how busy the machine's CPUs were over the next second, in percent.
busy_percent() {
  local a b
  read -ra a < <(head -1 /proc/stat)
  sleep 1
  read -ra b < <(head -1 /proc/stat)
  # user nice system idle iowait irq softirq steal: busy is everything but idle and iowait.
  awk -v u="$((b[1] - a[1] + b[2] - a[2] + b[3] - a[3] + b[6] - a[6] + b[7] - a[7] + b[8] - a[8]))" \
    -v i="$((b[4] - a[4] + b[5] - a[5]))" 'BEGIN { printf "%d", (u + i) ? 100 * u / (u + i) : 0 }'
}
# settle : waits (up to a minute) until the machine is quiet: under 25 % busy for a second.
settle() {
  local deadline=$((SECONDS + 60))
  while ((SECONDS < deadline)) && (($(busy_percent) >= 25)); do :; done
}
# settled_median VAR LOG CMD... : `median` once the machine is quiet, after one untimed run. The
# no-op previews right after an `up` ran up to 2 s slower than those half a minute later on the
# same cluster (4.5 s, then 2.4 to 3.4 s: the controllers still busy with what the `up` created),
# and a no-op preview in CI meets a settled cluster. The floor's previews are measured the same way.
settled_median() {
  settle
  run "$2" "${@:3}"
  median "$@"
}
# traced NAME CMD... : CMD (a pulumi command) with tracing and the Node.js probe; prints its breakdown.
traced() {
  local name=$1
  shift
  DOT_AI_GATEWAY_BENCH_PROBE="$WORK/$name.probe" NODE_OPTIONS="--require $REPO/scripts/bench-probe.js" \
    run "$WORK/$name.log" "$@" --tracing "file:$WORK/$name.trace"
  "$trace_summary" "$WORK/$name.trace" "$WORK/$name.probe" >"$WORK/$name.summary"
  if [[ -n "${DOT_AI_GATEWAY_BENCH_KEEP:-}" ]]; then
    mkdir -p "$DOT_AI_GATEWAY_BENCH_KEEP"
    cp "$WORK/$name.trace" "$WORK/$name.probe" "$DOT_AI_GATEWAY_BENCH_KEEP/"
  fi
}

# Objects the program created that the manual path applies as they are: namespaces with their
# labels, the Secret, and in prod the Certificate, the shared Gateway and the ReferenceGrant.
capture_objects() {
  {
    if [[ "$1" == prod ]]; then
      kubectl get namespace gateway-system -o json
      kubectl get certificates.cert-manager.io,gateways.gateway.networking.k8s.io,referencegrants.gateway.networking.k8s.io \
        -n gateway-system -o json
    fi
    kubectl get namespace dot-ai -o json
    kubectl get secret dot-ai-secrets -n dot-ai -o json
    # dev serves HTTPS from a Certificate of its own (prod's is the shared Gateway's, above).
    if [[ "$1" == dev ]]; then kubectl get certificates.cert-manager.io -n dot-ai -o json; fi
  } | jq -s '{apiVersion: "v1", kind: "List", items: [.[] | (.items // [.])[] |
      del(.status, .metadata.uid, .metadata.resourceVersion, .metadata.creationTimestamp,
          .metadata.generation, .metadata.managedFields, .metadata.ownerReferences, .spec.finalizers,
          .metadata.annotations["kubectl.kubernetes.io/last-applied-configuration"])]}' >"$WORK/$1-objects.json"
}

# empty_cluster : removes what a stack or the manual path left, the retained bundle (its release,
# which pulumi destroy leaves in place, and its CRDs) included.
empty_cluster() {
  helm uninstall dot-ai -n dot-ai --wait >/dev/null 2>&1 || true
  helm uninstall dot-ai-gateway-crds -n kube-system --wait >/dev/null 2>&1 || true
  kubectl delete namespace dot-ai gateway-system --ignore-not-found --wait=true --timeout=180s >/dev/null
  delete_bundle
}

# delete_bundle : deletes the Gateway API CRDs, and with them every object of their kinds. Envoy
# Gateway puts a finalizer on its GatewayClass, and its supervisor (toolchain/cluster.sh) stops it
# when the CRDs go, sometimes before it has removed that finalizer: the CRD's deletion then waits
# for ever (seen once, the gatewayclasses CRD after 120 s). What is being deleted anyway has its
# finalizers dropped.
delete_bundle() {
  local start=$SECONDS
  kubectl delete -f "$GATEWAY_API_CRDS_FILE" --ignore-not-found --wait=false >/dev/null
  while kubectl get -f "$GATEWAY_API_CRDS_FILE" --ignore-not-found -o name 2>/dev/null |
    grep -q customresourcedefinition; do
    if ((SECONDS - start > 120)); then
      echo "the Gateway API CRDs are still there after 120 s" >&2
      return 1
    fi
    # Envoy Gateway removes its finalizer within a second when it runs.
    if ((SECONDS - start > 10)); then
      kubectl get gatewayclasses.gateway.networking.k8s.io -o name 2>/dev/null |
        xargs -r kubectl patch --type=merge -p '{"metadata":{"finalizers":null}}' >/dev/null 2>&1 || true
    fi
    sleep 0.5
  done
}

# manual_path STACK : what the guide does by hand, with the objects and values the program created.
manual_path() {
  kubectl apply --server-side -f "$GATEWAY_API_CRDS_FILE" >/dev/null
  kubectl apply --server-side -f "$WORK/$1-objects.json" >/dev/null
  if [[ "$1" == dev ]]; then
    kubectl wait --for=condition=Ready certificates.cert-manager.io --all -n dot-ai --timeout=10m >/dev/null
  fi
  if [[ "$1" == prod ]]; then
    kubectl wait --for=condition=Ready certificates.cert-manager.io --all -n gateway-system --timeout=10m >/dev/null
    kubectl wait --for=condition=Programmed gateways.gateway.networking.k8s.io --all -n gateway-system --timeout=10m >/dev/null
  fi
  helm install dot-ai "$chart" -n dot-ai --wait --timeout 10m -f "$WORK/$1-values.yaml" >/dev/null
  if [[ "$1" == dev ]]; then
    kubectl wait --for=condition=Programmed gateways.gateway.networking.k8s.io/dot-ai-http -n dot-ai --timeout=10m >/dev/null
  fi
}

declare -A up preview manual load state up_samples manual_samples
# The 1-minute load average when a timed run starts: other work on the machine slows every figure.
loadavg() { cut -d' ' -f1 /proc/loadavg; }
# The program's `up` and the manual path take turns, three times each, from an emptied cluster, and
# each figure is the median: the first `up` on a control plane just started ran 1.5 to 3 s slower
# than the later ones (its controllers still starting), so a single `up` measured first against a
# manual path measured last compared a cold cluster with a warm one.
for stack in "${stacks[@]}"; do
  tc_local_stack "$project" "$stack"
  p=(pulumi -C "$project" --stack "$stack")
  load[$stack]="$(loadavg)"
  for round in 1 2 3; do
    say "$stack: pulumi up from empty ($round of 3)"
    timed u "$WORK/$stack-up.log" "${p[@]}" up --yes --skip-preview --suppress-progress
    up_samples[$stack]+=" $u"
    say "$stack: up took $u s"
    if ((round == 1)); then
      state[$stack]=$("${p[@]}" stack export | wc -c)
      say "$stack: no-op pulumi preview"
      load[$stack]+="/$(loadavg)"
      settled_median "preview[$stack]" "$WORK/$stack-preview.log" "${p[@]}" preview --expect-no-changes --suppress-progress
      say "$stack: no-op preview took $samples s"
      say "$stack: traced no-op preview, for the breakdown"
      traced "$stack-preview-traced" "${p[@]}" preview --expect-no-changes --suppress-progress
      helm get values dot-ai -n dot-ai -o yaml >"$WORK/$stack-values.yaml"
      capture_objects "$stack"
    fi
    run "$WORK/$stack-destroy.log" "${p[@]}" destroy --yes --skip-preview --suppress-progress
    empty_cluster

    say "$stack: manual path (kubectl + helm), as in the upstream guide ($round of 3)"
    ((round == 1)) && load[$stack]+="/$(loadavg)"
    timed m "$WORK/$stack-manual.log" manual_path "$stack"
    manual_samples[$stack]+=" $m"
    say "$stack: manual path took $m s"
    empty_cluster
  done
  read -ra xs <<<"${up_samples[$stack]}"
  up[$stack]=$(middle "${xs[@]}")
  read -ra xs <<<"${manual_samples[$stack]}"
  manual[$stack]=$(middle "${xs[@]}")

  say "$stack: traced pulumi up from empty, for the breakdown"
  traced "$stack-up-traced" "${p[@]}" up --yes --skip-preview --suppress-progress
  run "$WORK/$stack-destroy2.log" "${p[@]}" destroy --yes --skip-preview --suppress-progress
  empty_cluster
done

if $floor; then
  # On the emptied cluster; the floor stack's CRDs are not retained, so its destroy removes them.
  floor_project="$PULUMI_STATE_DIR/bench-floor"
  mkdir -p "$floor_project"
  cp "$REPO"/scripts/bench-floor/{Pulumi.yaml,tsconfig.json,index.ts} "$floor_project/"
  ln -sfn "$REPO/node_modules" "$floor_project/node_modules"
  f=(pulumi -C "$floor_project" --stack floor)
  pulumi -C "$floor_project" stack select --create floor >/dev/null
  say "floor: provider and one Namespace"
  floor_load="$(loadavg)"
  timed floor_ns_up "$WORK/floor-up.log" "${f[@]}" up --yes --skip-preview --suppress-progress
  settled_median floor_ns_preview "$WORK/floor-preview.log" "${f[@]}" preview --expect-no-changes --suppress-progress
  say "floor: no-op preview took $samples s"
  say "floor: the same with the bundle's CRDs"
  "${f[@]}" config set crds true
  timed floor_crds_up "$WORK/floor-crds-up.log" "${f[@]}" up --yes --skip-preview --suppress-progress
  settled_median floor_crds_preview "$WORK/floor-crds-preview.log" "${f[@]}" preview --expect-no-changes --suppress-progress
  run "$WORK/floor-destroy.log" "${f[@]}" destroy --yes --skip-preview --suppress-progress
  empty_cluster
  say "floor: kubectl apply of the bundle"
  timed floor_kubectl "$WORK/floor-kubectl.log" kubectl apply --server-side -f "$GATEWAY_API_CRDS_FILE"
  empty_cluster
fi

if ((${#stacks[@]} > 0)); then
  printf '\nchart %s, one local control plane with Envoy Gateway and cert-manager, %s cores\n' \
    "$DOT_AI_GATEWAY_CHART_VERSION" "$(nproc)"
  # The goals: up within 1.5x the manual path; a no-op preview within the floor's (the provider and
  # one Namespace, measured in this run) + 1.0 s, and how far that is from 3 s.
  printf '%-6s %8s %6s %9s %9s %9s %13s %8s %9s  %s\n' stack "manual s" "up s" "up/manual" "preview s" \
    "floor s" "preview-floor" "-3 s" "state KB" "load at up/preview/manual"
  for stack in "${stacks[@]}"; do
    awk -v s="$stack" -v m="${manual[$stack]}" -v u="${up[$stack]}" -v p="${preview[$stack]}" -v l="${load[$stack]}" \
      -v f="${floor_ns_preview:-}" -v b="${state[$stack]}" 'BEGIN {
        ratio = sprintf("%.2f %s", u / m, u / m <= 1.5 ? "ok" : "OVER")
        if (f == "") { fl = "-"; over = "-" } else {
          fl = sprintf("%.1f", f); over = sprintf("%+.1f %s", p - f, p - f <= 1.0 ? "ok" : "OVER")
        }
        printf "%-6s %8.1f %6.1f %9s %9.1f %9s %13s %+8.1f %9.0f  %s\n", s, m, u, ratio, p, fl, over, p - 3, b / 1024, l
      }'
  done
  printf '(up and manual: medians of three, taking turns; no-op previews: medians of three)\n'
  for stack in "${stacks[@]}"; do
    printf '%-6s up:%s s; manual:%s s\n' "$stack" "${up_samples[$stack]}" "${manual_samples[$stack]}"
  done
  for stack in "${stacks[@]}"; do
    printf '\n%s: where one traced `pulumi up` from empty went\n' "$stack"
    cat "$WORK/$stack-up-traced.summary"
    printf '\n%s: where one traced no-op `pulumi preview` went\n' "$stack"
    cat "$WORK/$stack-preview-traced.summary"
  done
fi

if $floor; then
  printf '\nfloor: no program of ours, the same engine, providers, loader and cluster (load %s)\n' "$floor_load"
  printf '%-44s %10s %16s\n' program "up s" "no-op preview s"
  printf '%-44s %10.1f %16.1f\n' "the provider and one Namespace" "$floor_ns_up" "$floor_ns_preview"
  printf '%-44s %10.1f %16.1f\n' "the same with the bundle's CRDs" "$floor_crds_up" "$floor_crds_preview"
  printf '%-44s %10.1f\n' "kubectl apply --server-side of the bundle" "$floor_kubectl"
fi

if $multi_team; then
  # Its own control plane: one with Envoy Gateway runs on a machine at a time.
  "$REPO/toolchain/cluster.sh" down >&2
  printf '\n'
  bash "$REPO/scripts/bench-multi-team.sh"
fi
