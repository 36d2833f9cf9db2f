#!/usr/bin/env bash
# Builds the throwaway local Kubernetes control plane that toolchain/cluster.sh runs, from Go
# modules through the Go module proxy, pinned in toolchain/versions.env and the go.mod/go.sum of
# toolchain/cluster/<name>/:
#   kube-apiserver, kube-controller-manager, kube-scheduler, kubectl (one `go build`),
#   etcd, kwok (fake kubelets), helm v3,
# and the CRD manifests the project's tests apply:
#   Gateway API standard channel CRDs (one multi-document file),
#   cert-manager CRDs (Certificate, Issuer, ... rendered from cert-manager's Helm chart).
# Everything lands in $DOT_AI_GATEWAY_CACHE/toolchain/<component>-<version>/ and is reused on the
# next run (seconds). At the end it writes $DOT_AI_GATEWAY_CACHE/toolchain/cluster.env:
#   export PATH=<the bin directories>:$PATH
#   export GATEWAY_API_CRDS_FILE=... CERT_MANAGER_CRDS_FILE=...
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

# module_download MODULE VERSION SUM -> prints the extracted module directory, after checking the
# module zip against the pinned h1: hash.
module_download() {
  local module=$1 version=$2 sum=$3 json dir got
  # Outside any module (the cache has no go.mod), so go.sum of the project plays no part.
  json=$(cd "$TC_ROOT" && GOFLAGS=-mod=mod go mod download -json "$module@$version") ||
    tc_die "go mod download $module@$version failed: $json"
  dir=$(sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p' <<<"$json")
  got=$(sed -n 's/^[[:space:]]*"Sum": "\(.*\)",$/\1/p' <<<"$json")
  [[ "$got" == "$sum" ]] || tc_die "$module@$version: module hash $got, versions.env pins $sum"
  [[ -d "$dir" ]] || tc_die "$module@$version: no module directory in: $json"
  printf '%s\n' "$dir"
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

# --- Gateway API standard channel CRDs --------------------------------------------------------
gateway_prefix=$(tc_prefix gateway-api-crds "$GATEWAY_API_VERSION")
GATEWAY_API_CRDS_FILE="$gateway_prefix/standard-crds.yaml"
if ! tc_is_built gateway-api-crds "$GATEWAY_API_VERSION"; then
  src=$(module_download sigs.k8s.io/gateway-api "$GATEWAY_API_VERSION" "$GATEWAY_API_MODULE_SUM")
  mkdir -p "$gateway_prefix"
  {
    printf '# Gateway API %s standard channel CRDs: config/crd/standard/*.yaml of the Go module\n' "$GATEWAY_API_VERSION"
    printf '# sigs.k8s.io/gateway-api@%s (%s), concatenated by toolchain/build-cluster.sh.\n' "$GATEWAY_API_VERSION" "$GATEWAY_API_MODULE_SUM"
    for f in "$src"/config/crd/standard/*.yaml; do
      printf -- '---\n'
      # The files start with "---" or not; drop a leading one so the documents stay single.
      sed -e '1{/^---[[:space:]]*$/d}' "$f"
    done
  } >"$GATEWAY_API_CRDS_FILE.tmp"
  n=$(grep -c '^kind: CustomResourceDefinition' "$GATEWAY_API_CRDS_FILE.tmp")
  ((n >= 5)) || tc_die "Gateway API CRDs: expected at least 5 CRDs in $src/config/crd/standard, found $n"
  mv "$GATEWAY_API_CRDS_FILE.tmp" "$GATEWAY_API_CRDS_FILE"
  tc_mark_built gateway-api-crds "$GATEWAY_API_VERSION"
  tc_log "gateway-api-crds $GATEWAY_API_VERSION: $n CRDs in $GATEWAY_API_CRDS_FILE"
else
  tc_log "gateway-api-crds $GATEWAY_API_VERSION: cached in $gateway_prefix"
fi

# --- cert-manager CRDs ------------------------------------------------------------------------
# The module's deploy/crds/*.yaml are plain controller-gen output, marked "reference only, might be
# incomplete"; what cert-manager releases (cert-manager.crds.yaml) is its Helm chart's CRD
# templates rendered with crds.enabled=true. The chart ships Chart.template.yaml, whose version
# fields the release tool fills in, so: copy the chart, fill those in, render with the helm above.
cert_prefix=$(tc_prefix cert-manager-crds "$CERT_MANAGER_VERSION")
CERT_MANAGER_CRDS_FILE="$cert_prefix/cert-manager.crds.yaml"
if ! tc_is_built cert-manager-crds "$CERT_MANAGER_VERSION"; then
  src=$(module_download github.com/cert-manager/cert-manager "$CERT_MANAGER_VERSION" "$CERT_MANAGER_MODULE_SUM")
  mkdir -p "$cert_prefix"
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  cp -r "$src/deploy/charts/cert-manager" "$work/cert-manager"
  chmod -R u+w "$work/cert-manager"
  sed -e "s/^version: .*/version: $CERT_MANAGER_VERSION/" -e "s/^appVersion: .*/appVersion: $CERT_MANAGER_VERSION/" \
    -e 's/{{IS_PRERELEASE}}/false/' "$work/cert-manager/Chart.template.yaml" >"$work/cert-manager/Chart.yaml"
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
  printf 'export CERT_MANAGER_CRDS_FILE="%s"\n' "$CERT_MANAGER_CRDS_FILE"
} >"$CLUSTER_ENV_FILE.tmp"
mv "$CLUSTER_ENV_FILE.tmp" "$CLUSTER_ENV_FILE"
tc_log "control plane toolchain ready; environment in $CLUSTER_ENV_FILE"
printf '%s\n' "${bin_dirs[@]}"
