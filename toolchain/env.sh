#!/usr/bin/env bash
# Sourced by the sandbox and end-to-end scripts: builds whatever of the local toolchain is missing
# (cached by version; seconds when nothing is), puts it on PATH, and sets up Pulumi to run fully
# offline: a local file backend, a passphrase secrets provider, no update checks and no plugin
# downloads, with the language host taken from PATH and the providers linked into PULUMI_HOME as
# installed plugins (so the engine does not warn about plugins found on PATH).
#
# Needs: PULUMI_STATE_DIR (where the file backend and stack config files live).

TOOLCHAIN_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib.sh
source "$TOOLCHAIN_DIR/lib.sh"

: "${PULUMI_STATE_DIR:?PULUMI_STATE_DIR must name the directory for Pulumi state}"

tc_load_toolchain() {
  local lines kind what name version binary
  # Captured first: a failed build must stop the caller (set -e does not see into `< <(...)`).
  lines=$("$TOOLCHAIN_DIR/build-pulumi.sh")
  "$TOOLCHAIN_DIR/build-cluster.sh" >/dev/null
  # shellcheck source=/dev/null
  source "$TC_ROOT/cluster.env"

  mkdir -p "$PULUMI_STATE_DIR/backend" "$PULUMI_STATE_DIR/home"
  export PULUMI_HOME="$PULUMI_STATE_DIR/home"
  while read -r kind what name version binary; do
    case $kind in
      path) PATH="$what:$PATH" ;;
      # What `pulumi plugin install --file` would lay out, with a link instead of a 100 MB copy.
      plugin)
        mkdir -p "$PULUMI_HOME/plugins/$what-$name-v$version"
        ln -sfn "$binary" "$PULUMI_HOME/plugins/$what-$name-v$version/pulumi-$what-$name"
        ;;
    esac
  done <<<"$lines"
  export PATH
  export PULUMI_BACKEND_URL="file://$PULUMI_STATE_DIR/backend"
  # Throwaway local state only: this passphrase protects nothing outside this directory.
  export PULUMI_CONFIG_PASSPHRASE="${PULUMI_CONFIG_PASSPHRASE:-dot-ai-gateway-local}"
  export PULUMI_SKIP_UPDATE_CHECK=true
  export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
  export PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK=true
  # Only the linked plugins: a provider someone has on PATH must not stand in for ours.
  export PULUMI_IGNORE_AMBIENT_PLUGINS=true
}

# tc_local_project REPO : a copy of the Pulumi project under $PULUMI_STATE_DIR/project, refreshed
# from REPO on every call, so local stacks keep their config files (with their own encryption
# salt and test-only settings) there and never touch the repository's Pulumi.<stack>.yaml.
tc_local_project() {
  local repo=$1 project="$PULUMI_STATE_DIR/project"
  mkdir -p "$project"
  rm -rf "$project/components" "$project/stacks" "$project/cluster"
  cp -R "$repo/index.ts" "$repo/components" "$repo/stacks" "$repo/cluster" "$repo/Pulumi.yaml" "$repo/package.json" \
    "$repo/tsconfig.json" "$project/"
  ln -sfn "$repo/node_modules" "$project/node_modules"
  printf '%s' "$project"
}

# The real dot-ai chart packages vendored as test assets (test/charts/README.md); local stacks
# deploy DOT_AI_GATEWAY_CHART_VERSION of them, the newest verified by default.
: "${DOT_AI_GATEWAY_CHART_VERSION:=2.2.2}"

# tc_chart_package VERSION : the path of the vendored real chart package of that version.
tc_chart_package() {
  local file
  file="$(cd "$TOOLCHAIN_DIR/.." && pwd)/test/charts/dot-ai-$1.tgz"
  [[ -f "$file" ]] || {
    echo "no vendored dot-ai chart $1 ($file); there are: $(cd "$TOOLCHAIN_DIR/../test/charts" && ls dot-ai-*.tgz | sed 's/^dot-ai-//; s/\.tgz$//' | paste -sd' ')" >&2
    return 1
  }
  printf '%s' "$file"
}

# tc_local_stack PROJECT STACK [CHART_VERSION] : selects (creating if needed) STACK with the
# repository's committed settings plus what the local control plane needs: the real dot-ai chart
# package (CHART_VERSION, default $DOT_AI_GATEWAY_CHART_VERSION), the Gateway API CRD file built
# from Go modules, the GatewayClass of the Gateway controller that `toolchain/cluster.sh up` runs
# (GATEWAY_CLASS_NAME from its env: `eg`, or `traefik`), the program's waits left on (the controllers run here),
# the stack's ClusterIssuer made by `toolchain/cluster.sh issuer` (a local CA in place of Let's
# Encrypt) whenever it serves HTTPS, and placeholder API keys stored as secrets.
# Needs the cluster's env (KUBECONFIG, GATEWAY_CLASS_NAME) in the environment.
tc_local_stack() {
  local project=$1 stack=$2 version=${3:-$DOT_AI_GATEWAY_CHART_VERSION} repo chart mode issuer
  repo="$(cd "$TOOLCHAIN_DIR/.." && pwd)"
  chart=$(tc_chart_package "$version") || return 1
  [[ -f "$project/Pulumi.$stack.yaml" ]] || cp "$repo/Pulumi.$stack.yaml" "$project/Pulumi.$stack.yaml"
  pulumi -C "$project" stack select --create "$stack" >/dev/null
  local c=(pulumi -C "$project" config --stack "$stack")
  "${c[@]}" set dot-ai-gateway:chart "$chart"
  "${c[@]}" set dot-ai-gateway:gatewayApiCrdsFile "$GATEWAY_API_CRDS_FILE"
  "${c[@]}" set dot-ai-gateway:gatewayClassName "${GATEWAY_CLASS_NAME:-eg}"
  # Earlier local stacks switched the waits off (no controllers ran then); with the controllers
  # running they are on. (Without one, a waitFor… false set by hand stays.)
  if [[ -n "${GATEWAY_CLASS_NAME:-}" ]]; then "${c[@]}" rm dot-ai-gateway:waitForGateway >/dev/null 2>&1 || true; fi
  if [[ ",${DOT_AI_GATEWAY_CONTROLLERS:-cert-manager,envoy-gateway}," == *,cert-manager,* ]]; then
    "${c[@]}" rm dot-ai-gateway:waitForCertificate >/dev/null 2>&1 || true
  fi
  mode=$("${c[@]}" get dot-ai-gateway:mode 2>/dev/null || true)
  # cluster.sh prints GATEWAY_CLASS_NAME only when it runs a Gateway controller.
  if [[ "$mode" == reference && -z "${GATEWAY_CLASS_NAME:-}" ]]; then
    echo "No Gateway controller runs here (DOT_AI_GATEWAY_CONTROLLERS=${DOT_AI_GATEWAY_CONTROLLERS:-}): nothing will set the shared Gateway Programmed, so pulumi up waits (waitTimeout, 10m) and fails; to deploy anyway: pulumi -C $project config set --stack $stack dot-ai-gateway:waitForGateway false" >&2
  fi
  # Both patterns serve HTTPS by default, each from a Certificate that the stack's ClusterIssuer issues.
  if [[ "$("${c[@]}" get dot-ai-gateway:https 2>/dev/null || echo true)" == true ]]; then
    issuer=$("${c[@]}" get dot-ai-gateway:clusterIssuer 2>/dev/null || echo letsencrypt-prod)
    if [[ ",${DOT_AI_GATEWAY_CONTROLLERS:-cert-manager,envoy-gateway}," == *,cert-manager,* ]]; then
      "$TOOLCHAIN_DIR/cluster.sh" issuer "$issuer"
    else
      echo "cert-manager does not run here (DOT_AI_GATEWAY_CONTROLLERS=$DOT_AI_GATEWAY_CONTROLLERS): no ClusterIssuer $issuer, so the Certificate never becomes Ready and pulumi up fails after waitTimeout; to deploy anyway: pulumi -C $project config set --stack $stack dot-ai-gateway:waitForCertificate false" >&2
    fi
  fi
  "${c[@]}" get dot-ai-gateway:anthropicApiKey >/dev/null 2>&1 ||
    "${c[@]}" set --secret dot-ai-gateway:anthropicApiKey "local-anthropic-key-not-real"
  "${c[@]}" get dot-ai-gateway:openaiApiKey >/dev/null 2>&1 ||
    "${c[@]}" set --secret dot-ai-gateway:openaiApiKey "local-openai-key-not-real"
}
