#!/usr/bin/env bash
# Builds the Pulumi toolchain the project deploys with, from Go modules through the Go module
# proxy, pinned in toolchain/versions.env (Pulumi section) and toolchain/pulumi/<name>/go.mod:
#   pulumi                       the CLI/engine            (toolchain/pulumi/cli)
#   pulumi-language-nodejs       the Node.js language host (toolchain/pulumi/language-nodejs)
#   pulumi-resource-kubernetes   the Kubernetes provider   (toolchain/pulumi/provider-kubernetes)
#   pulumi-resource-random       a test stand-in written by this project (toolchain/pulumi/provider-random-standin):
#                                github.com/pulumi/pulumi-random is not served by the module proxy.
#
# Usage: toolchain/build-pulumi.sh
# Progress goes to stderr; at the end stdout gets what toolchain/env.sh sets up, one per line:
#   path DIR                            the CLI's bin directory, for PATH (it also holds the Node.js
#                                       language host, a link, and the dynamic provider plugin);
#   plugin KIND NAME VERSION BINARY     a provider to install into PULUMI_HOME under the version the
#                                       npm SDK asks for, e.g. plugin resource kubernetes 4.24.1 ...
# Providers are installed (as links) rather than put on PATH: the engine prints "warning: using
# pulumi-resource-<name> from $PATH at ..." for every provider it takes from PATH, on every run.
# Idempotent: a component already built at its pinned version is not built again.
# The first build takes a while (the CLI is large); each build's output is in $TC_LOGS/<component>.log.

set -euo pipefail
# shellcheck source=lib.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"

export CGO_ENABLED=0
# The modules are built inside this repository's work tree: no VCS stamping (faster, and the
# binaries do not depend on the state of the work tree).
export GOFLAGS=-buildvcs=false

# require_pin MODULE_DIR MODULE VERSION : the go.mod of toolchain/MODULE_DIR must require MODULE at
# exactly VERSION, so versions.env and the go.mod pins cannot drift apart silently.
require_pin() {
  local module=$2 version=$3 gomod="$TOOLCHAIN_DIR/$1/go.mod"
  if ! awk -v m="$module" -v v="$version" '
      { sub(/^require[ \t]+/, ""); sub(/^[ \t]+/, "") }
      $1 == m && $2 == v { found = 1 }
      END { exit !found }' "$gomod"; then
    tc_die "$gomod does not require $module $version as toolchain/versions.env says; make them agree (then run go mod tidy there)"
  fi
}

# require_npm PACKAGE VERSION : package-lock.json must pin PACKAGE at VERSION, the plugin version
# its SDK asks the engine for, so the providers built here are the ones the program expects.
require_npm() {
  local locked
  locked=$(node -e 'const l = require(process.argv[1]); const p = l.packages["node_modules/" + process.argv[2]]; console.log(p ? p.version : "")' \
    "$TOOLCHAIN_DIR/../package-lock.json" "$1")
  [[ "$locked" == "$2" ]] ||
    tc_die "package-lock.json pins $1 at '${locked:-nothing}' but toolchain/versions.env builds its provider for $2; make them agree"
}

require_npm @pulumi/kubernetes "$PULUMI_KUBERNETES_NPM_VERSION"
require_npm @pulumi/random "$PULUMI_RANDOM_STANDIN_VERSION"
require_pin pulumi/cli github.com/pulumi/pulumi/pkg/v3 "v$PULUMI_VERSION"
require_pin pulumi/language-nodejs github.com/pulumi/pulumi/sdk/v3 "v$PULUMI_LANGUAGE_NODEJS_VERSION"
require_pin pulumi/provider-kubernetes github.com/pulumi/pulumi-kubernetes/provider/v4 "$PULUMI_KUBERNETES_MODULE_VERSION"

# --- pulumi: the upstream main package, built by path; the version is what `pulumi version` prints.
tc_go_build pulumi "$PULUMI_VERSION" pulumi/cli \
  -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$PULUMI_VERSION" \
  github.com/pulumi/pulumi/pkg/v3/cmd/pulumi

# --- pulumi-language-nodejs: the upstream main package of sdk/v3, built by path.
tc_go_build pulumi-language-nodejs "$PULUMI_LANGUAGE_NODEJS_VERSION" pulumi/language-nodejs \
  -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$PULUMI_LANGUAGE_NODEJS_VERSION" \
  github.com/pulumi/pulumi/sdk/v3/nodejs/cmd/pulumi-language-nodejs

# Language hosts are "bundled" plugins: the engine expects them next to the pulumi binary and
# warns ("using pulumi-language-nodejs from $PATH ...") on every run when it finds one elsewhere.
# So the CLI's bin directory gets a link to the language host, as in an upstream release archive.
cli_bin="$(tc_prefix pulumi "$PULUMI_VERSION")/bin"
nodejs_bin="$(tc_prefix pulumi-language-nodejs "$PULUMI_LANGUAGE_NODEJS_VERSION")/bin"
ln -sfn "$nodejs_bin/pulumi-language-nodejs" "$cli_bin/pulumi-language-nodejs"
# Likewise the plugin that runs Node.js dynamic providers (pulumi.dynamic.Resource): a two-line
# shell script of sdk/v3 (nodejs/dist/) that the release archive ships next to pulumi; it runs
# @pulumi/pulumi/cmd/dynamic-provider from the program's node_modules. Copied from the module cache
# (sdk/v3 at the CLI's version, already in toolchain/pulumi/cli/go.sum).
if [[ ! -x "$cli_bin/pulumi-resource-pulumi-nodejs" ]]; then
  sdk_dir="$(cd "$TOOLCHAIN_DIR/pulumi/cli" && go mod download github.com/pulumi/pulumi/sdk/v3 &&
    go list -m -f '{{.Dir}}' github.com/pulumi/pulumi/sdk/v3)" ||
    tc_die "pulumi: cannot download github.com/pulumi/pulumi/sdk/v3 (module of toolchain/pulumi/cli)"
  [[ -f "$sdk_dir/nodejs/dist/pulumi-resource-pulumi-nodejs" ]] ||
    tc_die "pulumi: no nodejs/dist/pulumi-resource-pulumi-nodejs in github.com/pulumi/pulumi/sdk/v3 ($sdk_dir)"
  install -m 0755 "$sdk_dir/nodejs/dist/pulumi-resource-pulumi-nodejs" "$cli_bin/pulumi-resource-pulumi-nodejs"
fi

# --- pulumi-resource-kubernetes: toolchain/pulumi/provider-kubernetes/main.go restates the
# upstream main, which embeds schema-embed.json and terraform-mapping-embed.json. The module zip
# has their committed inputs (schema.json, terraform-mapping.json) and upstream's generator
# (generate.go, `//go:build ignore`), not the outputs. As upstream's build does, run that
# generator, unmodified from the module cache, on copies of those inputs with VERSION set, in the
# module directory, then build. The copies and outputs are .gitignore'd build files.
k8s_dir="$TOOLCHAIN_DIR/pulumi/provider-kubernetes"
k8s_module=github.com/pulumi/pulumi-kubernetes/provider/v4
if ! tc_is_built pulumi-resource-kubernetes "$PULUMI_KUBERNETES_VERSION"; then
  tc_log "pulumi-resource-kubernetes $PULUMI_KUBERNETES_VERSION: generating the embedded schema (log in $TC_LOGS/pulumi-resource-kubernetes-schema.log)"
  (
    cd "$k8s_dir"
    go mod download "$k8s_module" || tc_die "pulumi-resource-kubernetes: cannot download $k8s_module $PULUMI_KUBERNETES_MODULE_VERSION"
    src="$(go list -m -f '{{.Dir}}' "$k8s_module")/cmd/pulumi-resource-kubernetes"
    [[ -f "$src/generate.go" && -f "$src/schema.json" && -f "$src/terraform-mapping.json" ]] ||
      tc_die "pulumi-resource-kubernetes: $src lacks generate.go, schema.json or terraform-mapping.json"
    rm -f schema.json terraform-mapping.json schema-embed.json terraform-mapping-embed.json
    cp "$src/schema.json" "$src/terraform-mapping.json" .
    chmod u+w schema.json terraform-mapping.json # the module cache is read-only
    VERSION="$PULUMI_KUBERNETES_VERSION" tc_run_logged "pulumi-resource-kubernetes schema" \
      "$TC_LOGS/pulumi-resource-kubernetes-schema.log" go run "$src/generate.go"
  )
fi
tc_go_build pulumi-resource-kubernetes "$PULUMI_KUBERNETES_VERSION" pulumi/provider-kubernetes \
  -ldflags "-s -w -X github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version.Version=$PULUMI_KUBERNETES_VERSION" \
  .

# --- pulumi-resource-random: our stand-in (see its README), never used for real clusters.
tc_go_build pulumi-resource-random-standin "$PULUMI_RANDOM_STANDIN_VERSION" pulumi/provider-random-standin \
  -ldflags "-s -w -X main.version=$PULUMI_RANDOM_STANDIN_VERSION" -o "$(tc_prefix pulumi-resource-random-standin "$PULUMI_RANDOM_STANDIN_VERSION")/bin/pulumi-resource-random" .
random_bin="$(tc_prefix pulumi-resource-random-standin "$PULUMI_RANDOM_STANDIN_VERSION")/bin"

for bin in "$random_bin/pulumi-resource-random" "$cli_bin/pulumi" "$cli_bin/pulumi-language-nodejs" "$cli_bin/pulumi-resource-pulumi-nodejs" \
  "$(tc_prefix pulumi-resource-kubernetes "$PULUMI_KUBERNETES_VERSION")/bin/pulumi-resource-kubernetes"; do
  [[ -x "$bin" ]] || tc_die "$bin is missing although its build is marked complete; delete $(dirname "$(dirname "$bin")") and run again"
done

tc_log "pulumi toolchain ready: pulumi v$PULUMI_VERSION, pulumi-language-nodejs v$PULUMI_LANGUAGE_NODEJS_VERSION, pulumi-resource-kubernetes $PULUMI_KUBERNETES_VERSION (pair with npm @pulumi/kubernetes@$PULUMI_KUBERNETES_NPM_VERSION)"
# Not $nodejs_bin: the language host must be found in the CLI's directory (see above), and with
# its own directory on PATH ahead of the CLI's the engine would warn about it.
printf 'path %s\n' "$cli_bin"
printf 'plugin resource kubernetes %s %s\n' "$PULUMI_KUBERNETES_NPM_VERSION" \
  "$(tc_prefix pulumi-resource-kubernetes "$PULUMI_KUBERNETES_VERSION")/bin/pulumi-resource-kubernetes"
printf 'plugin resource random %s %s\n' "$PULUMI_RANDOM_STANDIN_VERSION" "$random_bin/pulumi-resource-random"
