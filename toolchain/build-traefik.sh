#!/usr/bin/env bash
# Builds Traefik (github.com/traefik/traefik/v3, ./cmd/traefik) at TRAEFIK_VERSION from Go modules
# through the Go module proxy, and prints the path of the binary on stdout (logs go to stderr).
# toolchain/build-cluster.sh runs it; it can also run alone. Cached in
# $DOT_AI_GATEWAY_CACHE/toolchain/traefik-<version>-<hash>/bin/traefik, where the hash covers this
# script and the TRAEFIK_* pins of versions.env, since the workarounds below are generated here.
#
# Traefik builds from its module with four workarounds. Without 2 to 4, `go build ./cmd/traefik` in
# its module fails on the missing directory of 2 and on 403s from the proxy for 3 and 4:
#  1. It is built inside its own module source (a copy of the module, made writable), not as a
#     dependency of a go.mod of ours: only the main module's replace and exclude lines apply, and
#     Traefik needs its own (the forks of go-http-auth and gorilla/mux, the tencentcloud exclude,
#     and the two replacements below).
#  2. Its go.mod replaces github.com/traefik/traefik/dynamic/ext with the directory
#     ./pkg/config/dynamic/ext, a nested module (a directory with its own go.mod). Module zips
#     leave nested modules out, and the proxy serves that module under neither name, so the
#     directory is missing. We generate it (see generate_nested_modules).
#  3. Its go.mod replaces github.com/abbot/go-http-auth with the fork github.com/containous/go-http-auth
#     at a pseudo-version (commit b975dcaa8c48, taken in v3.7.11) that the proxy refuses. We
#     take TRAEFIK_GO_HTTP_AUTH_VERSION, the commit Traefik used up to v3.7.10, pinned with its
#     hashes.
#  4. go-acme/lego's DNS providers package registers every provider, and six of them need SDK
#     modules the proxy refuses (TRAEFIK_LEGO_DROPPED_DNS_PROVIDERS below). We build against a
#     copy of lego without them: asking Traefik for one of those DNS challenge providers gives
#     "unrecognized DNS provider", and all other ACME use is unaffected.
# The dashboard's web UI is not part of the module (webui/static holds only a placeholder; a
# release build makes it with yarn first), so /dashboard/ serves no pages. The API, the ping
# endpoint and the proxy are complete.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

if ! command -v go >/dev/null && [[ -x /usr/local/go/bin/go ]]; then
  export PATH="/usr/local/go/bin:$PATH"
fi
command -v go >/dev/null || tc_die "go is not on PATH"

# lego's DNS providers whose SDKs the module proxy refuses (403 "not available"), with the SDK
# module that lego v5.4.1 needs for each:
#   edgedns      github.com/akamai/AkamaiOPEN-edgegrid-golang/v13 v13.4.0
#   huaweicloud  github.com/huaweicloud/huaweicloud-sdk-go-v3 v0.1.213
#   oraclecloud  github.com/nrdcg/oci-go-sdk/{common,dns}/v1065 v1065.124.0
#   sakuracloud  github.com/sacloud/sacloud-sdk-go v0.1.0
#   ucloud       github.com/ucloud/ucloud-sdk-go v0.22.116
#   yandexcloud  github.com/yandex-cloud/go-sdk/services/dns v0.0.94
TRAEFIK_LEGO_DROPPED_DNS_PROVIDERS=(edgedns huaweicloud oraclecloud sakuracloud ucloud yandexcloud)

# The cache key: an edit of this script or of a TRAEFIK_* pin builds anew (Go's build cache keeps
# that rebuild short when the sources are the same).
traefik_hash=$({
  cat "${BASH_SOURCE[0]}"
  printf '%s\n' "$TRAEFIK_VERSION" "$TRAEFIK_MODULE_SUM" "$TRAEFIK_LEGO_VERSION" \
    "$TRAEFIK_GO_HTTP_AUTH_VERSION" "$TRAEFIK_GO_HTTP_AUTH_SUM" "$TRAEFIK_GO_HTTP_AUTH_GOMOD_SUM"
} | sha256sum | cut -c1-12)
traefik_key="$TRAEFIK_VERSION-$traefik_hash"
prefix=$(tc_prefix traefik "$traefik_key")
bin="$prefix/bin/traefik"
if tc_is_built traefik "$traefik_key"; then
  tc_log "traefik $traefik_key: cached in $prefix"
  printf '%s\n' "$bin"
  exit 0
fi

# generate_nested_modules DIR: for each directory that DIR/go.mod replaces a module with and that
# the module zip left out (a nested module), writes the smallest module that lets Traefik build:
# a go.mod naming the replaced module, and one file declaring, as an empty struct, each exported
# name that Traefik's code uses from it. In Traefik this is pkg/config/dynamic/ext, the hook where
# other builds of Traefik add fields to its dynamic HTTP configuration and routers; in the open
# source release its types (ext.HTTP, ext.Router, embedded in dynamic.HTTPConfiguration and
# dynamic.Router) are empty structs, which is also what Traefik's generated deepcopy code assumes
# (it copies them by plain assignment, `out.HTTP = in.HTTP`). Were one of the names not a type,
# or used with fields, the build would fail on it rather than go wrong quietly.
generate_nested_modules() {
  local dir=$1 old new target pkg names go_line
  go_line=$(grep -m1 '^go ' "$dir/go.mod")
  # `go mod edit -json` lists each replacement as "Old": {"Path": ...}, "New": {"Path": ...}.
  while read -r old new; do
    [[ "$new" == ./* ]] || continue
    target="$dir/${new#./}"
    [[ -d "$target" ]] && continue
    pkg=${old##*/}
    names=$(grep -rlF --include='*.go' "\"$old\"" "$dir" | grep -v '_test\.go$' |
      xargs -r grep -ohE "\\b$pkg\\.[A-Z][A-Za-z0-9_]*" | sed "s/^$pkg\\.//" | sort -u) || true
    [[ -n "$names" ]] || tc_die "traefik: $old (=> $new) is missing and nothing uses it"
    mkdir -p "$target"
    printf 'module %s\n\n%s\n' "$old" "$go_line" >"$target/go.mod"
    {
      printf '// Generated by toolchain/build-traefik.sh: the nested module the module zip leaves out.\n'
      printf 'package %s\n' "$pkg"
      # shellcheck disable=SC2086 # one declaration per name
      printf '\ntype %s struct{}\n' $names
    } >"$target/$pkg.go"
    tc_log "traefik: generated $new ($old) with empty structs ${names//$'\n'/, }"
  done < <(cd "$dir" && go mod edit -json | tr -d '\n\t ' | grep -oE '"Old":\{"Path":"[^"]+"[^}]*\},"New":\{"Path":"[^"]+"' |
    sed -E 's/^"Old":\{"Path":"([^"]+)".*"New":\{"Path":"([^"]+)"$/\1 \2/')
}

# strip_lego_dns_providers DIR: removes the dropped providers' packages from the lego copy in DIR
# and their import and case lines from the providers registry (providers/dns/zz_gen_dns_providers.go,
# generated by lego: one import line per provider, and `case "name"[, "alias"]:` followed by
# `return name.NewDNSProvider()`). Fails when the file is not laid out that way.
strip_lego_dns_providers() {
  local dir=$1 registry p
  registry="$dir/providers/dns/zz_gen_dns_providers.go"
  [[ -f "$registry" ]] || tc_die "traefik: lego has no $registry"
  for p in "${TRAEFIK_LEGO_DROPPED_DNS_PROVIDERS[@]}"; do
    [[ -d "$dir/providers/dns/$p" ]] || tc_die "traefik: lego has no DNS provider $p to drop"
    rm -rf "${dir:?}/providers/dns/$p"
  done
  awk -v drop="${TRAEFIK_LEGO_DROPPED_DNS_PROVIDERS[*]}" '
    BEGIN { n = split(drop, d, " "); for (i = 1; i <= n; i++) dropped[d[i]] = 1 }
    /^\t"github\.com\/go-acme\/lego\/v5\/providers\/dns\/[a-z0-9]+"$/ {
      p = $0; sub(/^.*\//, "", p); sub(/"$/, "", p)
      if (p in dropped) { seen[p]++; next }
    }
    held != "" {
      line = held; held = ""
      if ($0 ~ /^\t\treturn [a-z0-9]+\.NewDNSProvider\(\)$/) {
        p = $0; sub(/^\t\treturn /, "", p); sub(/\..*$/, "", p)
        if (p in dropped) { seen[p]++; next }
      }
      print line
    }
    /^\tcase / { held = $0; next }
    { print }
    END {
      if (held != "") print held
      for (p in dropped) if (seen[p] != 2) { print "no import and case for " p > "/dev/stderr"; exit 1 }
    }' "$registry" >"$registry.new" || tc_die "traefik: cannot drop the DNS providers from $registry"
  mv "$registry.new" "$registry"
  if grep -nwE "($(IFS='|'; printf '%s' "${TRAEFIK_LEGO_DROPPED_DNS_PROVIDERS[*]}"))\." "$registry" >&2; then
    tc_die "traefik: $registry still uses a dropped DNS provider"
  fi
}

tc_log "traefik $traefik_key: building (first build takes about 15 min; log in $TC_LOGS/traefik.log)"
# The work directory is in the cache (the copies and Go's temporary files are large), one fixed
# name so a failed build's leftovers go at the next build; removed after success.
work="$TC_ROOT/traefik.work"
rm -rf "$work"
mkdir -p "$work/tmp" "$prefix/bin"

# 1. Traefik's module source, checked against the pinned hash, as a writable copy.
src=$(tc_module_download github.com/traefik/traefik/v3 "$TRAEFIK_VERSION" "$TRAEFIK_MODULE_SUM")
[[ -f "$src/go.mod" ]] || tc_die "traefik: no go.mod in $src"
cp -r "$src" "$work/traefik"
chmod -R u+w "$work/traefik"
mod="$work/traefik"

# 2. The nested module pkg/config/dynamic/ext.
generate_nested_modules "$mod"
[[ -f "$mod/pkg/config/dynamic/ext/go.mod" ]] || tc_die "traefik: no pkg/config/dynamic/ext generated"

# 3. go-http-auth at a commit the proxy serves, with its pinned hashes in go.sum (the module graph
# needs the go.mod, the build the zip; go verifies both against these lines).
grep -qE '^[[:space:]]*github\.com/abbot/go-http-auth => github\.com/containous/go-http-auth v' "$mod/go.mod" ||
  tc_die "traefik $TRAEFIK_VERSION: its go.mod no longer replaces github.com/abbot/go-http-auth with github.com/containous/go-http-auth; check TRAEFIK_GO_HTTP_AUTH_VERSION"
(cd "$mod" && go mod edit -replace "github.com/abbot/go-http-auth=github.com/containous/go-http-auth@$TRAEFIK_GO_HTTP_AUTH_VERSION")
printf 'github.com/containous/go-http-auth %s %s\ngithub.com/containous/go-http-auth %s/go.mod %s\n' \
  "$TRAEFIK_GO_HTTP_AUTH_VERSION" "$TRAEFIK_GO_HTTP_AUTH_SUM" \
  "$TRAEFIK_GO_HTTP_AUTH_VERSION" "$TRAEFIK_GO_HTTP_AUTH_GOMOD_SUM" >>"$mod/go.sum"

# 4. lego at the version Traefik requires, checked against Traefik's own go.sum, without the
# dropped DNS providers, put in through a directory replacement.
lego_required=$(cd "$mod" && go mod edit -json | tr -d '\n\t ' |
  grep -oE '"Path":"github.com/go-acme/lego/v5","Version":"[^"]+"' | sed -E 's/.*"Version":"([^"]+)"$/\1/')
[[ "$lego_required" == "$TRAEFIK_LEGO_VERSION" ]] ||
  tc_die "traefik $TRAEFIK_VERSION requires github.com/go-acme/lego/v5 ${lego_required:-(nothing)}, versions.env says TRAEFIK_LEGO_VERSION=$TRAEFIK_LEGO_VERSION"
lego_sum=$(awk -v v="$TRAEFIK_LEGO_VERSION" '$1 == "github.com/go-acme/lego/v5" && $2 == v { print $3 }' "$mod/go.sum")
[[ -n "$lego_sum" ]] || tc_die "traefik: its go.sum has no hash of github.com/go-acme/lego/v5 $TRAEFIK_LEGO_VERSION"
cp -r "$(tc_module_download github.com/go-acme/lego/v5 "$TRAEFIK_LEGO_VERSION" "$lego_sum")" "$work/lego"
chmod -R u+w "$work/lego"
strip_lego_dns_providers "$work/lego"
(cd "$mod" && go mod edit -replace "github.com/go-acme/lego/v5=../lego")

# The build, as Traefik's release (.goreleaser.yml.tmpl): static, -trimpath, the version, the
# codename of the release workflow and, for a reproducible build, the release commit's time as
# the build date (from the module proxy's .info, which `go list -m` reads).
codename=$(sed -n 's/^[[:space:]]*CODENAME:[[:space:]]*\([A-Za-z0-9_-]*\).*/\1/p' "$mod/.github/workflows/release.yaml" 2>/dev/null | head -n1)
build_date=$(cd "$TC_ROOT" && GOFLAGS=-mod=mod go list -m -f '{{.Time.UTC.Format "2006-01-02T15:04:05Z"}}' \
  "github.com/traefik/traefik/v3@$TRAEFIK_VERSION")
ldflags="-s -w"
ldflags+=" -X github.com/traefik/traefik/v3/pkg/version.Version=$TRAEFIK_VERSION"
ldflags+=" -X github.com/traefik/traefik/v3/pkg/version.Codename=${codename:-cheddar}"
ldflags+=" -X github.com/traefik/traefik/v3/pkg/version.BuildDate=$build_date"
# Go's own temporary files go into the work directory too.
(
  cd "$mod"
  export CGO_ENABLED=0 GOTMPDIR="$work/tmp"
  tc_run_logged "traefik $TRAEFIK_VERSION" "$TC_LOGS/traefik.log" go build -v -trimpath -ldflags "$ldflags" -o "$bin" ./cmd/traefik
)

version_out=$("$bin" version) || tc_die "traefik: '$bin version' failed"
grep -qE "^Version:[[:space:]]+$TRAEFIK_VERSION\$" <<<"$version_out" ||
  tc_die "traefik: '$bin version' does not report $TRAEFIK_VERSION: $version_out"
rm -rf "$work"
tc_mark_built traefik "$traefik_key"
tc_log "traefik $traefik_key: $(du -h "$bin" | cut -f1) in $bin"
printf '%s\n' "$bin"
