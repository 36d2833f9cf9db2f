#!/usr/bin/env bash
# Builds the throwaway local Kubernetes control plane that toolchain/cluster.sh runs, from Go
# modules through the Go module proxy, pinned in toolchain/versions.env and the go.mod/go.sum of
# toolchain/cluster/<name>/:
#   kube-apiserver, kube-controller-manager, kube-scheduler, kubectl (one `go build`),
#   etcd, kwok (fake kubelets), helm v3,
# the controllers cluster.sh runs on it (toolchain/controllers/<name>/):
#   envoy-gateway (Envoy Gateway's control plane, the Gateway API implementation),
#   cert-manager-controller (our main over cert-manager's controller library: Certificates, CA and
#   SelfSigned issuers),
#   traefik (Traefik v3, built by toolchain/build-traefik.sh, which says how and why),
# and the CRD manifests:
#   Gateway API standard channel bundle (its CRDs plus, from v1.5.0, the safe-upgrades
#   ValidatingAdmissionPolicy and binding; one multi-document file), for GATEWAY_API_VERSION and
#   the older GATEWAY_API_LEGACY_VERSION,
#   cert-manager CRDs (Certificate, Issuer, ... rendered from cert-manager's Helm chart),
#   Envoy Gateway's own CRDs (EnvoyProxy, its policies; not the Gateway API ones).
# Everything lands in $DOT_AI_GATEWAY_CACHE/toolchain/<component>-<version>/ and is reused on the
# next run (seconds). At the end it writes $DOT_AI_GATEWAY_CACHE/toolchain/cluster.env:
#   export PATH=<the bin directories>:$PATH
#   export GATEWAY_API_CRDS_FILE=... GATEWAY_API_VERSION=... GATEWAY_API_LEGACY_CRDS_FILE=...
#   export GATEWAY_API_LEGACY_VERSION=... CERT_MANAGER_CRDS_FILE=... ENVOY_GATEWAY_CRDS_FILE=...
#   export ENVOY_GATEWAY_BIN=... CERT_MANAGER_CONTROLLER_BIN=... TRAEFIK_BIN=...
# and prints the bin directories on stdout, one per line (logs go to stderr).
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

if ! command -v go >/dev/null && [[ -x /usr/local/go/bin/go ]]; then
  export PATH="/usr/local/go/bin:$PATH"
fi
command -v go >/dev/null || tc_die "go is not on PATH (needs Go >= 1.24)"
command -v openssl >/dev/null || tc_log "warning: openssl is missing; toolchain/cluster.sh needs it for the cluster certificates"

# Static binaries, as the upstream release builds of these tools are.
export CGO_ENABLED=0
CLUSTER_ENV_FILE="$TC_ROOT/cluster.env"

# check_pin MODULE_DIR MODULE VERSION: the go.mod of toolchain/MODULE_DIR requires MODULE at VERSION.
check_pin() {
  local dir=$1 module=$2 version=$3 found
  found=$(awk -v m="$module" '$1 == m && $2 ~ /^v/ { print $2; exit }
    $1 == "require" && $2 == m { print $3; exit }' "$TOOLCHAIN_DIR/$dir/go.mod")
  [[ "$found" == "$version" ]] ||
    tc_die "toolchain/$dir/go.mod requires $module ${found:-(nothing)}, versions.env says $version; run: (cd toolchain/$dir && go get $module@$version && go mod tidy)"
}


# --- kube-apiserver, kube-controller-manager, kube-scheduler, kubectl -------------------------
check_pin cluster/kubernetes k8s.io/kubernetes "$KUBERNETES_VERSION"
staging_version="v0.${KUBERNETES_VERSION#v1.}"
if bad=$(awk -v want="$staging_version" '$2 == "=>" && $1 ~ /^k8s\.io\// && $4 != want' \
  "$TOOLCHAIN_DIR/cluster/kubernetes/go.mod") && [[ -n "$bad" ]]; then
  tc_die "toolchain/cluster/kubernetes/go.mod: staging replacements not at $staging_version: $bad"
fi
if ! tc_is_built kubernetes "$KUBERNETES_VERSION"; then
  kube_minor=${KUBERNETES_VERSION#v1.}
  kube_minor=${kube_minor%%.*}
  # What hack/lib/version.sh sets, so clients see e.g. v1.34.2; the build date is the release
  # commit's time (from the module proxy), which keeps the build reproducible.
  kube_build_date=$(cd "$TOOLCHAIN_DIR/cluster/kubernetes" &&
    go list -m -f '{{.Time.UTC.Format "2006-01-02T15:04:05Z"}}' k8s.io/kubernetes)
  kube_ldflags="-s -w"
  for pkg in k8s.io/client-go/pkg/version k8s.io/component-base/version; do
    kube_ldflags+=" -X $pkg.gitVersion=$KUBERNETES_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$kube_minor"
    kube_ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=$kube_build_date"
  done
  # The tags of the upstream release build (hack/lib/golang.sh); one build, so the four binaries
  # share the compilation of their common packages.
  tc_go_build kubernetes "$KUBERNETES_VERSION" cluster/kubernetes \
    -tags selinux,notest,grpcnotrace -ldflags "$kube_ldflags" \
    k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
    k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kubectl
else
  tc_log "kubernetes $KUBERNETES_VERSION: cached in $(tc_prefix kubernetes "$KUBERNETES_VERSION")"
fi

# --- etcd -------------------------------------------------------------------------------------
check_pin cluster/etcd go.etcd.io/etcd/server/v3 "$ETCD_VERSION"
# The main package is the module root go.etcd.io/etcd/server/v3, which go build would name
# "server": the second -o names the binary etcd.
tc_go_build etcd "$ETCD_VERSION" cluster/etcd -ldflags "-s -w" \
  -o "$(tc_prefix etcd "$ETCD_VERSION")/bin/etcd" go.etcd.io/etcd/server/v3

# --- kwok -------------------------------------------------------------------------------------
check_pin cluster/kwok sigs.k8s.io/kwok "$KWOK_VERSION"
tc_go_build kwok "$KWOK_VERSION" cluster/kwok \
  -ldflags "-s -w -X sigs.k8s.io/kwok/pkg/consts.Version=${KWOK_VERSION#v}" sigs.k8s.io/kwok/cmd/kwok

# --- helm -------------------------------------------------------------------------------------
check_pin cluster/helm helm.sh/helm/v3 "$HELM_VERSION"
if ! tc_is_built helm "$HELM_VERSION"; then
  # As helm's Makefile: the version, and the Kubernetes version its client libraries target
  # (the default of .Capabilities.KubeVersion, which charts' kubeVersion constraints check).
  client_go=$(cd "$TOOLCHAIN_DIR/cluster/helm" && go list -m -f '{{.Version}}' k8s.io/client-go)
  k8s_minor=${client_go#v0.}
  k8s_minor=${k8s_minor%%.*}
  helm_ldflags="-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION"
  helm_ldflags+=" -X helm.sh/helm/v3/internal/version.gitTreeState=clean"
  for pkg in helm.sh/helm/v3/pkg/lint/rules helm.sh/helm/v3/pkg/chartutil; do
    helm_ldflags+=" -X $pkg.k8sVersionMajor=1 -X $pkg.k8sVersionMinor=$k8s_minor"
  done
  tc_go_build helm "$HELM_VERSION" cluster/helm -ldflags "$helm_ldflags" helm.sh/helm/v3/cmd/helm
else
  tc_log "helm $HELM_VERSION: cached in $(tc_prefix helm "$HELM_VERSION")"
fi
HELM_BIN="$(tc_prefix helm "$HELM_VERSION")/bin/helm"

# --- Gateway API standard channel bundles ---------------------------------------------------
# gateway_api_bundle VERSION SUM -> prints the bundle file: every config/crd/standard/*.yaml of the
# module, which from v1.5.0 includes the safe-upgrades ValidatingAdmissionPolicy and its binding
# (they make the API server refuse Gateway API CRDs of an older bundle-version), concatenated.
gateway_api_bundle() {
  local version=$1 sum=$2 prefix file src f n kinds
  prefix=$(tc_prefix gateway-api-crds "$version")
  file="$prefix/standard-crds.yaml"
  if tc_is_built gateway-api-crds "$version"; then
    tc_log "gateway-api-crds $version: cached in $prefix"
    printf '%s\n' "$file"
    return 0
  fi
  src=$(tc_module_download sigs.k8s.io/gateway-api "$version" "$sum")
  mkdir -p "$prefix"
  {
    printf '# Gateway API %s standard channel: config/crd/standard/*.yaml of the Go module\n' "$version"
    printf '# sigs.k8s.io/gateway-api@%s (%s), concatenated by toolchain/build-cluster.sh.\n' "$version" "$sum"
    for f in "$src"/config/crd/standard/*.yaml; do
      printf -- '---\n'
      # The files start with "---" or not; drop a leading one so the documents stay single.
      sed -e '1{/^---[[:space:]]*$/d}' "$f"
    done
  } >"$file.tmp"
  n=$(grep -c '^kind: CustomResourceDefinition' "$file.tmp")
  ((n >= 5)) || tc_die "Gateway API $version: expected at least 5 CRDs in $src/config/crd/standard, found $n"
  kinds=$(grep '^kind: ' "$file.tmp" | sort | uniq -c | awk '{ printf "%s%s %s", sep, $1, $3; sep = ", " }')
  mv "$file.tmp" "$file"
  tc_mark_built gateway-api-crds "$version"
  tc_log "gateway-api-crds $version: $kinds in $file"
  printf '%s\n' "$file"
}
GATEWAY_API_CRDS_FILE=$(gateway_api_bundle "$GATEWAY_API_VERSION" "$GATEWAY_API_MODULE_SUM")
GATEWAY_API_LEGACY_CRDS_FILE=$(gateway_api_bundle "$GATEWAY_API_LEGACY_VERSION" "$GATEWAY_API_LEGACY_MODULE_SUM")

# --- cert-manager CRDs ------------------------------------------------------------------------
# The module's deploy/crds/*.yaml are plain controller-gen output, marked "reference only, might be
# incomplete"; what cert-manager releases (cert-manager.crds.yaml) is its Helm chart's CRD
# templates rendered with crds.enabled=true. The chart's version fields are left for the release
# tool to fill in, so: copy the chart, fill those in, render with the helm above.
cert_prefix=$(tc_prefix cert-manager-crds "$CERT_MANAGER_VERSION")
CERT_MANAGER_CRDS_FILE="$cert_prefix/cert-manager.crds.yaml"
if ! tc_is_built cert-manager-crds "$CERT_MANAGER_VERSION"; then
  src=$(tc_module_download github.com/cert-manager/cert-manager "$CERT_MANAGER_VERSION" "$CERT_MANAGER_MODULE_SUM")
  mkdir -p "$cert_prefix"
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  cp -r "$src/deploy/charts/cert-manager" "$work/cert-manager"
  chmod -R u+w "$work/cert-manager"
  # Chart.template.yaml up to v1.19; from v1.20 a Chart.yaml with version v0.0.0 for the tool to set.
  chart_meta="$work/cert-manager/Chart.template.yaml"
  [[ -f "$chart_meta" ]] || chart_meta="$work/cert-manager/Chart.yaml"
  sed -e "s/^version: .*/version: $CERT_MANAGER_VERSION/" -e "s/^appVersion: .*/appVersion: $CERT_MANAGER_VERSION/" \
    -e 's/{{IS_PRERELEASE}}/false/' "$chart_meta" >"$work/Chart.yaml"
  mv "$work/Chart.yaml" "$work/cert-manager/Chart.yaml"
  show_only=()
  for t in "$work"/cert-manager/templates/crd-*.yaml; do show_only+=(--show-only "templates/${t##*/}"); done
  ((${#show_only[@]} > 0)) || tc_die "cert-manager $CERT_MANAGER_VERSION: no templates/crd-*.yaml in its chart"
  {
    printf '# cert-manager %s CRDs: the CRD templates of deploy/charts/cert-manager of the Go module\n' "$CERT_MANAGER_VERSION"
    printf '# github.com/cert-manager/cert-manager@%s (%s), rendered by helm %s\n' "$CERT_MANAGER_VERSION" "$CERT_MANAGER_MODULE_SUM" "$HELM_VERSION"
    printf '# with crds.enabled=true (toolchain/build-cluster.sh).\n'
    HELM_CACHE_HOME="$work/h/cache" HELM_CONFIG_HOME="$work/h/config" HELM_DATA_HOME="$work/h/data" \
      "$HELM_BIN" template cert-manager "$work/cert-manager" --namespace cert-manager \
      --set crds.enabled=true "${show_only[@]}"
  } >"$CERT_MANAGER_CRDS_FILE.tmp" || tc_die "helm template of the cert-manager chart failed"
  grep -q '^  name: "certificates.cert-manager.io"\|^  name: certificates.cert-manager.io' "$CERT_MANAGER_CRDS_FILE.tmp" ||
    tc_die "cert-manager CRDs: no certificates.cert-manager.io CRD in the rendered chart"
  grep -q '{{' "$CERT_MANAGER_CRDS_FILE.tmp" && tc_die "cert-manager CRDs: unrendered template left"
  n=$(grep -c '^kind: CustomResourceDefinition' "$CERT_MANAGER_CRDS_FILE.tmp")
  mv "$CERT_MANAGER_CRDS_FILE.tmp" "$CERT_MANAGER_CRDS_FILE"
  rm -rf "$work"
  trap - EXIT
  tc_mark_built cert-manager-crds "$CERT_MANAGER_VERSION"
  tc_log "cert-manager-crds $CERT_MANAGER_VERSION: $n CRDs in $CERT_MANAGER_CRDS_FILE"
else
  tc_log "cert-manager-crds $CERT_MANAGER_VERSION: cached in $cert_prefix"
fi

# --- Envoy Gateway: its control plane and its own CRDs --------------------------------------
check_pin controllers/envoy-gateway github.com/envoyproxy/gateway "$ENVOY_GATEWAY_VERSION"
# The version its `version` command and the objects it creates report (upstream's Makefile sets it).
tc_go_build envoy-gateway "$ENVOY_GATEWAY_VERSION" controllers/envoy-gateway -ldflags \
  "-s -w -X github.com/envoyproxy/gateway/internal/cmd/version.envoyGatewayVersion=$ENVOY_GATEWAY_VERSION" \
  github.com/envoyproxy/gateway/cmd/envoy-gateway
ENVOY_GATEWAY_BIN="$(tc_prefix envoy-gateway "$ENVOY_GATEWAY_VERSION")/bin/envoy-gateway"
eg_crds_prefix=$(tc_prefix envoy-gateway-crds "$ENVOY_GATEWAY_VERSION")
ENVOY_GATEWAY_CRDS_FILE="$eg_crds_prefix/envoy-gateway-crds.yaml"
if ! tc_is_built envoy-gateway-crds "$ENVOY_GATEWAY_VERSION"; then
  # The module as the go.sum of toolchain/controllers/envoy-gateway pins it; its Helm chart's
  # generated CRDs (the Gateway API ones next to them are not used: cluster.sh installs none).
  json=$(cd "$TOOLCHAIN_DIR/controllers/envoy-gateway" && go mod download -json github.com/envoyproxy/gateway) ||
    tc_die "go mod download github.com/envoyproxy/gateway failed: $json"
  src=$(sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p' <<<"$json")
  [[ -d "$src/charts/gateway-helm/charts/crds/crds/generated" ]] ||
    tc_die "envoy-gateway $ENVOY_GATEWAY_VERSION: no charts/gateway-helm/charts/crds/crds/generated in $src"
  mkdir -p "$eg_crds_prefix"
  {
    printf '# Envoy Gateway %s CRDs: charts/gateway-helm/charts/crds/crds/generated/*.yaml of the Go\n' "$ENVOY_GATEWAY_VERSION"
    printf '# module github.com/envoyproxy/gateway@%s, concatenated by toolchain/build-cluster.sh.\n' "$ENVOY_GATEWAY_VERSION"
    for f in "$src"/charts/gateway-helm/charts/crds/crds/generated/*.yaml; do
      printf -- '---\n'
      sed -e '1{/^---[[:space:]]*$/d}' "$f"
    done
  } >"$ENVOY_GATEWAY_CRDS_FILE.tmp"
  grep -q '^  name: envoyproxies.gateway.envoyproxy.io' "$ENVOY_GATEWAY_CRDS_FILE.tmp" ||
    tc_die "envoy-gateway $ENVOY_GATEWAY_VERSION: no envoyproxies.gateway.envoyproxy.io CRD in $src"
  n=$(grep -c '^kind: CustomResourceDefinition' "$ENVOY_GATEWAY_CRDS_FILE.tmp")
  mv "$ENVOY_GATEWAY_CRDS_FILE.tmp" "$ENVOY_GATEWAY_CRDS_FILE"
  tc_mark_built envoy-gateway-crds "$ENVOY_GATEWAY_VERSION"
  tc_log "envoy-gateway-crds $ENVOY_GATEWAY_VERSION: $n CRDs in $ENVOY_GATEWAY_CRDS_FILE"
else
  tc_log "envoy-gateway-crds $ENVOY_GATEWAY_VERSION: cached in $eg_crds_prefix"
fi

# --- cert-manager controller: our main over the release's library -------------------------------
check_pin controllers/cert-manager github.com/cert-manager/cert-manager "$CERT_MANAGER_VERSION"
# Our own source is part of what is built, so its hash is part of the cache key: an edit to
# main.go builds anew, while the upstream part comes from Go's build cache.
cm_src_hash=$(cd "$TOOLCHAIN_DIR/controllers/cert-manager" && cat go.mod go.sum ./*.go | sha256sum | cut -c1-12)
cm_version="$CERT_MANAGER_VERSION-$cm_src_hash"
tc_go_build cert-manager-controller "$cm_version" controllers/cert-manager -ldflags "-s -w" \
  -o "$(tc_prefix cert-manager-controller "$cm_version")/bin/cert-manager-controller" .
CERT_MANAGER_CONTROLLER_BIN="$(tc_prefix cert-manager-controller "$cm_version")/bin/cert-manager-controller"

# --- Traefik ------------------------------------------------------------------------------------
# A script of its own: Traefik builds only inside a copy of its own module source, with
# workarounds generated there, and that script's hash is part of its cache key. About 15 minutes
# on 2 cores when not cached; it prints the binary's path.
TRAEFIK_BIN=$("$TOOLCHAIN_DIR/build-traefik.sh")

# --- the result -------------------------------------------------------------------------------
bin_dirs=(
  "$(tc_prefix kubernetes "$KUBERNETES_VERSION")/bin"
  "$(tc_prefix etcd "$ETCD_VERSION")/bin"
  "$(tc_prefix kwok "$KWOK_VERSION")/bin"
  "$(tc_prefix helm "$HELM_VERSION")/bin"
)
for b in kubernetes/kube-apiserver kubernetes/kube-controller-manager kubernetes/kube-scheduler \
  kubernetes/kubectl etcd/etcd kwok/kwok helm/helm; do
  dir=${bin_dirs[0]}
  case $b in etcd/*) dir=${bin_dirs[1]} ;; kwok/*) dir=${bin_dirs[2]} ;; helm/*) dir=${bin_dirs[3]} ;; esac
  [[ -x "$dir/${b#*/}" ]] || tc_die "missing $dir/${b#*/} (remove $(dirname "$dir") and rerun)"
done
for b in "$ENVOY_GATEWAY_BIN" "$CERT_MANAGER_CONTROLLER_BIN" "$TRAEFIK_BIN"; do
  [[ -x "$b" ]] || tc_die "missing $b (remove $(dirname "$(dirname "$b")") and rerun)"
done
path_value=$(IFS=:; printf '%s' "${bin_dirs[*]}")
{
  printf '# Written by toolchain/build-cluster.sh: the local control plane toolchain. Source it.\n'
  # shellcheck disable=SC2016 # $PATH is expanded when the file is sourced
  printf 'export PATH="%s:$PATH"\n' "$path_value"
  printf 'export KUBERNETES_BIN_DIR="%s"\n' "${bin_dirs[0]}"
  printf 'export ETCD_BIN_DIR="%s"\n' "${bin_dirs[1]}"
  printf 'export KWOK_BIN_DIR="%s"\n' "${bin_dirs[2]}"
  printf 'export HELM_BIN_DIR="%s"\n' "${bin_dirs[3]}"
  printf 'export GATEWAY_API_CRDS_FILE="%s"\n' "$GATEWAY_API_CRDS_FILE"
  printf 'export GATEWAY_API_VERSION="%s"\n' "$GATEWAY_API_VERSION"
  printf 'export GATEWAY_API_LEGACY_CRDS_FILE="%s"\n' "$GATEWAY_API_LEGACY_CRDS_FILE"
  printf 'export GATEWAY_API_LEGACY_VERSION="%s"\n' "$GATEWAY_API_LEGACY_VERSION"
  printf 'export CERT_MANAGER_CRDS_FILE="%s"\n' "$CERT_MANAGER_CRDS_FILE"
  printf 'export ENVOY_GATEWAY_CRDS_FILE="%s"\n' "$ENVOY_GATEWAY_CRDS_FILE"
  printf 'export ENVOY_GATEWAY_BIN="%s"\n' "$ENVOY_GATEWAY_BIN"
  printf 'export CERT_MANAGER_CONTROLLER_BIN="%s"\n' "$CERT_MANAGER_CONTROLLER_BIN"
  printf 'export TRAEFIK_BIN="%s"\n' "$TRAEFIK_BIN"
} >"$CLUSTER_ENV_FILE.tmp"
mv "$CLUSTER_ENV_FILE.tmp" "$CLUSTER_ENV_FILE"
tc_log "control plane toolchain ready; environment in $CLUSTER_ENV_FILE"
printf '%s\n' "${bin_dirs[@]}"
