#!/usr/bin/env bash
# Sourced by the sandbox and end-to-end scripts: builds whatever of the local toolchain is missing
# (cached by version; seconds when nothing is), puts it on PATH, and sets up Pulumi to run fully
# offline: a local file backend, a passphrase secrets provider, no update checks and no plugin
# downloads, with the language host and providers taken from PATH.
#
# Needs: PULUMI_STATE_DIR (where the file backend and stack config files live).

TOOLCHAIN_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib.sh
source "$TOOLCHAIN_DIR/lib.sh"

: "${PULUMI_STATE_DIR:?PULUMI_STATE_DIR must name the directory for Pulumi state}"

tc_load_toolchain() {
  local dirs dir
  # Captured first: a failed build must stop the caller (set -e does not see into `< <(...)`).
  dirs=$("$TOOLCHAIN_DIR/build-pulumi.sh")
  while read -r dir; do PATH="$dir:$PATH"; done <<<"$dirs"
  "$TOOLCHAIN_DIR/build-cluster.sh" >/dev/null
  # shellcheck source=/dev/null
  source "$TC_ROOT/cluster.env"
  export PATH

  mkdir -p "$PULUMI_STATE_DIR/backend" "$PULUMI_STATE_DIR/home"
  export PULUMI_HOME="$PULUMI_STATE_DIR/home"
  export PULUMI_BACKEND_URL="file://$PULUMI_STATE_DIR/backend"
  # Throwaway local state only: this passphrase protects nothing outside this directory.
  export PULUMI_CONFIG_PASSPHRASE="${PULUMI_CONFIG_PASSPHRASE:-dot-ai-gateway-local}"
  export PULUMI_SKIP_UPDATE_CHECK=true
  export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
  export PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK=true
  unset PULUMI_IGNORE_AMBIENT_PLUGINS
}

# tc_local_project REPO : a copy of the Pulumi project under $PULUMI_STATE_DIR/project, refreshed
# from REPO on every call, so local stacks keep their config files (with their own encryption
# salt and test-only settings) there and never touch the repository's Pulumi.<stack>.yaml.
tc_local_project() {
  local repo=$1 project="$PULUMI_STATE_DIR/project"
  mkdir -p "$project"
  rm -rf "$project/components" "$project/stacks"
  cp -R "$repo/index.ts" "$repo/components" "$repo/stacks" "$repo/Pulumi.yaml" "$repo/package.json" \
    "$repo/tsconfig.json" "$project/"
  ln -sfn "$repo/node_modules" "$project/node_modules"
  printf '%s' "$project"
}

# tc_local_stack PROJECT STACK : selects (creating if needed) STACK with the repository's committed
# settings plus what a local control plane needs: the fixture chart, the CRD files built from Go
# modules, no waiting for controllers it does not run (a Gateway controller, cert-manager), and
# placeholder API keys stored as secrets.
tc_local_stack() {
  local project=$1 stack=$2 repo
  repo="$(cd "$TOOLCHAIN_DIR/.." && pwd)"
  [[ -f "$project/Pulumi.$stack.yaml" ]] || cp "$repo/Pulumi.$stack.yaml" "$project/Pulumi.$stack.yaml"
  pulumi -C "$project" stack select --create "$stack" >/dev/null
  local c=(pulumi -C "$project" config --stack "$stack")
  "${c[@]}" set dot-ai-gateway:chart "$repo/test/fixture-chart/dot-ai"
  "${c[@]}" set dot-ai-gateway:gatewayApiCrdsFile "$GATEWAY_API_CRDS_FILE"
  if [[ "$(sed -n 's/^ *dot-ai-gateway:mode: *//p' "$project/Pulumi.$stack.yaml")" == reference ]]; then
    "${c[@]}" set dot-ai-gateway:waitForGateway false
    "${c[@]}" set dot-ai-gateway:waitForCertificate false
  fi
  "${c[@]}" get dot-ai-gateway:anthropicApiKey >/dev/null 2>&1 ||
    "${c[@]}" set --secret dot-ai-gateway:anthropicApiKey "local-anthropic-key-not-real"
  "${c[@]}" get dot-ai-gateway:openaiApiKey >/dev/null 2>&1 ||
    "${c[@]}" set --secret dot-ai-gateway:openaiApiKey "local-openai-key-not-real"
}
