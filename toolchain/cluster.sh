#!/usr/bin/env bash
# A throwaway local Kubernetes control plane for the project's tests and sandbox:
# etcd, kube-apiserver, kube-controller-manager, kube-scheduler and kwok (fake kubelets for one or
# more fake Nodes, so scheduled pods become Running and Ready), all built from Go modules by
# toolchain/build-cluster.sh, all listening on 127.0.0.1 only, on free ports picked at start;
# and on it the real controllers that judge the project's objects, as local processes talking to
# the API server on 127.0.0.1 with the cluster's kubeconfig:
#   cert-manager   our build of cert-manager's controller (Certificates; CA and SelfSigned issuers),
#                  after its CRDs; `issuer NAME` makes a CA ClusterIssuer for it.
#   envoy-gateway  Envoy Gateway's control plane (the Gateway API implementation), with the
#                  GatewayClass `eg`. The cluster does NOT install the Gateway API CRDs (the
#                  program does): a supervisor loop waits for them, applies the GatewayClass, runs
#                  the controller and restarts it when it exits or the CRDs are recreated, as a
#                  kubelet would restart its pod. Its Envoy proxies are pods on the fake nodes.
#   traefik        instead of envoy-gateway: Traefik, a Gateway API implementation whose data plane
#                  is its own process, with the GatewayClass `traefik`, under the same kind of
#                  supervisor. It listens on 127.0.0.1:80 and :443 (every Gateway's address) and
#                  sends traffic to a backend Service's ClusterIP; with it the Service range is
#                  127.96.0.0/16, and the dot-ai stand-in (test/standin) answers on each dot-ai
#                  Service's ClusterIP in place of the pods, which on fake nodes run nothing.
# and a default StorageClass `local` with pre-created hostPath PersistentVolumes (nothing writes
# to them: no container runs), which kube-controller-manager's PV controller binds; a small loop
# makes a Released one Available again.
#
#   toolchain/cluster.sh up       start it (builds the toolchain first if needed); prints the env.
#                                 When it is already up and healthy with the same controllers and
#                                 storage, only prints the env (otherwise it starts anew).
#   toolchain/cluster.sh down [--keep]
#                                 stop exactly the processes `up` started (controllers and loops
#                                 included); remove the state directory unless --keep (or
#                                 DOT_AI_GATEWAY_CLUSTER_KEEP=1).
#   toolchain/cluster.sh status   each component, its pid and port, /readyz, the nodes, the
#                                 GatewayClass and volumes; exit 0 when up and healthy, 1 otherwise.
#   toolchain/cluster.sh env      prints the env lines (exit 1 when there is no cluster).
#   toolchain/cluster.sh issuer NAME...
#                                 idempotently creates, for cert-manager, a SelfSigned ClusterIssuer
#                                 `dot-ai-gateway-local-selfsigned`, a CA Certificate (Secret
#                                 `dot-ai-gateway-local-ca` in namespace cert-manager) and a CA
#                                 ClusterIssuer NAME over it (e.g. letsencrypt-prod), and waits
#                                 until each NAME is Ready. Prints nothing on stdout.
#
# Environment:
#   DOT_AI_GATEWAY_CLUSTER_DIR      state directory (default $DOT_AI_GATEWAY_CACHE/cluster): pki/,
#                                   kubeconfig, logs/<component>.log, pids, ports.env, etcd data.
#   DOT_AI_GATEWAY_CLUSTER_TIMEOUT  seconds each startup wait may take (default 90).
#   DOT_AI_GATEWAY_CLUSTER_NODES    number of fake Nodes (default 1).
#   DOT_AI_GATEWAY_CONTROLLERS      comma list of cert-manager, envoy-gateway (default both), traefik
#                                   (in place of envoy-gateway), or `none` for a bare control plane.
#   DOT_AI_GATEWAY_CLUSTER_STORAGE  `local` (default: the StorageClass and volumes above) or `none`
#                                   (no StorageClass, no PersistentVolume).
#   DOT_AI_GATEWAY_CLUSTER_PVS      how many PersistentVolumes of 10Gi (default 8; the Qdrant of the
#                                   dot-ai charts claims one of 10Gi, ReadWriteOnce).
#   DOT_AI_GATEWAY_CLUSTER_ISSUERS  comma list of names `up` passes to `issuer` (default none).
# stdout carries only the env lines (`eval "$(toolchain/cluster.sh up)"` works); logs go to stderr:
#   export KUBECONFIG=<state dir>/kubeconfig
#   export GATEWAY_CLASS_NAME=eg          (with envoy-gateway; `traefik` with traefik)
#   export DATA_PLANE_ADDRESS=127.0.0.1   (with traefik: where every Gateway listens)
#   export LOCAL_CA_FILE=<state dir>/local-ca.crt   (with traefik: the CA of `issuer`'s issuers)
#   export STORAGE_CLASS_NAME=local       (with storage)
#
# envoy-gateway reads its xDS server certificate from the fixed paths /certs/{tls.crt,tls.key,ca.crt}
# (no flag or setting changes them out of tests). So that nothing is written to / of the machine, it
# runs in a private mount namespace (`unshare --mount`) chrooted into a tmpfs root that binds every
# entry of the real / and adds certs/ filled from the Secret `envoy-gateway certgen` made; the
# tmpfs disappears with the process. That needs root: without root, envoy-gateway is refused
# (DOT_AI_GATEWAY_CONTROLLERS=cert-manager works without). Its listeners (xDS :18000, admin
# :19000, metrics :19001, ...) are fixed ports, so one such cluster runs on a machine at a time:
# `up` refuses a second one (a lock its supervisor holds) and says which cluster has it. The same
# holds for traefik (127.0.0.1:80 and :443, which also take root); a cluster with envoy-gateway
# and one with traefik can run side by side.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

CLUSTER_DIR="${DOT_AI_GATEWAY_CLUSTER_DIR:-$DOT_AI_GATEWAY_CACHE/cluster}"
CLUSTER_DIR="${CLUSTER_DIR%/}"
TIMEOUT="${DOT_AI_GATEWAY_CLUSTER_TIMEOUT:-90}"
NODES="${DOT_AI_GATEWAY_CLUSTER_NODES:-1}"
KUBECONFIG_FILE="$CLUSTER_DIR/kubeconfig"
PIDS_FILE="$CLUSTER_DIR/pids"
PORTS_FILE="$CLUSTER_DIR/ports.env"
LOG_DIR="$CLUSTER_DIR/logs"
PKI="$CLUSTER_DIR/pki"
SERVICE_CIDR=10.96.0.0/16
SERVICE_API_IP=10.96.0.1
# Start order of the control plane; `down` stops what was recorded in the reverse order, the
# supervisor loops first.
COMPONENTS=(etcd kube-apiserver kube-controller-manager kube-scheduler kwok)
OPTIONS_FILE="$CLUSTER_DIR/options"
FIELD_MANAGER=dot-ai-gateway-cluster
CERT_MANAGER_NAMESPACE=cert-manager
EG_NAMESPACE=envoy-gateway-system
EG_CONTROLLER_NAME=gateway.envoyproxy.io/gatewayclass-controller
GATEWAY_CLASS_NAME=eg
GATEWAY_CLASSES_CRD=gatewayclasses.gateway.networking.k8s.io
REFERENCE_GRANTS_CRD=referencegrants.gateway.networking.k8s.io
STORAGE_CLASS_NAME=local
PV_SIZE=10Gi
PV_POOL_LABEL=dot-ai-gateway.local/volume-pool
CA_SECRET=dot-ai-gateway-local-ca
# The local CA's certificate, written when an issuer is made: what a client trusts to verify the
# certificates the stacks' ClusterIssuer issues.
LOCAL_CA_FILE="$CLUSTER_DIR/local-ca.crt"
SELFSIGNED_ISSUER=dot-ai-gateway-local-selfsigned
# The Gateway implementations a cluster can run (one at a time), each started by its supervisor
# (supervise_gateway) once the Gateway API CRDs exist.
GATEWAY_IMPLS=(envoy-gateway traefik)

log() { printf '[cluster %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() {
  log "ERROR: $*"
  exit 1
}

# --- processes --------------------------------------------------------------------------------

# The pids file has one line per started process: NAME PID BINARY STARTTIME (STARTTIME: field 22
# of /proc/PID/stat, so that a reused pid is never taken for ours). A name may have several lines
# (the supervisor records each run of envoy-gateway); the last one counts.
pid_of() { [[ -f "$PIDS_FILE" ]] && awk -v n="$1" '$1 == n { print $2 }' "$PIDS_FILE" | tail -n 1; }
exe_of() { [[ -f "$PIDS_FILE" ]] && awk -v n="$1" '$1 == n { print $3 }' "$PIDS_FILE" | tail -n 1; }
start_of() { [[ -f "$PIDS_FILE" ]] && awk -v n="$1" '$1 == n { print $4 }' "$PIDS_FILE" | tail -n 1; }
# recorded_names: every recorded name once, in the order first recorded.
recorded_names() { [[ -f "$PIDS_FILE" ]] && awk '!seen[$1]++ { print $1 }' "$PIDS_FILE"; }

# proc_start PID -> its start time in clock ticks since boot (empty when it is gone).
proc_start() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
  stat=${stat##*) }
  awk '{ print $20 }' <<<"$stat"
}

# is_ours PID EXE [STARTTIME]: the process is alive, still runs EXE and started when recorded.
is_ours() {
  local pid=$1 exe=$2 start=${3:-} actual
  [[ -n "$pid" && -n "$exe" ]] || return 1
  actual=$(readlink "/proc/$pid/exe" 2>/dev/null) || return 1
  [[ "$actual" == "$exe" || "$actual" == "$exe (deleted)" ]] || return 1
  [[ -z "$start" || "$(proc_start "$pid")" == "$start" ]]
}

component_alive() { is_ours "$(pid_of "$1")" "$(exe_of "$1")" "$(start_of "$1")"; }

# record NAME PID EXE: appends to the pids file (short appends do not interleave).
record() { printf '%s %s %s %s\n' "$1" "$2" "$3" "$(proc_start "$2")" >>"$PIDS_FILE"; }

# start NAME BINARY ARGS...: runs the binary in its own session (immune to the caller's terminal
# signals), stdin closed, output in logs/NAME.log, and records "NAME PID BINARY" in the pids file.
start() {
  local name=$1 bin
  bin=$(readlink -f "$2")
  shift 2
  [[ -x "$bin" ]] || die "$name: no binary $bin (run toolchain/build-cluster.sh)"
  # 9>&-: the children must not inherit the lock of this script.
  setsid "$bin" "$@" </dev/null >"$LOG_DIR/$name.log" 2>&1 9>&- &
  local pid=$!
  record "$name" "$pid" "$bin"
  # Not a job of this shell any more: no "Killed" notices when `fail` stops it.
  disown "$pid"
  # Until setsid has exec'd the binary, the pid runs bash or setsid; later checks rely on it.
  local deadline=$((SECONDS + 10))
  until is_ours "$pid" "$bin" "$(start_of "$name")"; do
    [[ -e "/proc/$pid" ]] || fail "$name" "exited at once"
    ((SECONDS < deadline)) || fail "$name" "pid $pid never ran $bin"
    sleep 0.05
  done
}

# fail NAME MESSAGE: reports which component failed with its log, stops what was started (the
# state directory stays for inspection) and exits.
fail() {
  local name=$1
  shift
  log "ERROR: $name: $*"
  if [[ -s "$LOG_DIR/$name.log" ]]; then
    log "$name log: $LOG_DIR/$name.log; its last lines:"
    tail -n 40 "$LOG_DIR/$name.log" >&2 || true
  else
    log "$name log: $LOG_DIR/$name.log (empty)"
  fi
  stop_all
  log "stopped the components; state and logs kept in $CLUSTER_DIR (remove with: $0 down)"
  exit 1
}

# stop_one NAME [group]: SIGTERM (to its whole process group with `group`: a supervisor loop and
# what it runs, in their own session) and, when it is still there after 15 s, SIGKILL.
stop_one() {
  local name=$1 target pid exe start deadline
  pid=$(pid_of "$name")
  exe=$(exe_of "$name")
  start=$(start_of "$name")
  is_ours "$pid" "$exe" "$start" || return 0
  target=$pid
  # A supervisor was started by setsid: its pid is its process group's id.
  [[ "${2:-}" == group ]] && target="-$pid"
  kill -TERM -- "$target" 2>/dev/null || true
  deadline=$((SECONDS + 15))
  while is_ours "$pid" "$exe" "$start" && ((SECONDS < deadline)); do sleep 0.1; done
  if is_ours "$pid" "$exe" "$start"; then
    log "$name (pid $pid) did not stop within 15 s of SIGTERM; SIGKILL"
    kill -KILL -- "$target" 2>/dev/null || true
    deadline=$((SECONDS + 5))
    while is_ours "$pid" "$exe" "$start" && ((SECONDS < deadline)); do sleep 0.1; done
  fi
}

# stop_all: stops every recorded component that is still ours: first the supervisor loops (so
# nothing restarts what is stopped next), then the rest in the reverse start order (the apiserver
# before etcd, so its graceful shutdown finds etcd).
stop_all() {
  [[ -f "$PIDS_FILE" ]] || return 0
  local names=() name i
  mapfile -t names < <(recorded_names)
  for name in "${names[@]}"; do
    [[ "$name" == *-supervisor || "$name" == pv-recycler ]] && stop_one "$name" group
  done
  for ((i = ${#names[@]} - 1; i >= 0; i--)); do stop_one "${names[i]}"; done
}

# remove_state: deletes the state directory, but only one that looks like ours.
remove_state() {
  [[ -e "$CLUSTER_DIR" ]] || return 0
  if [[ -n "$(ls -A "$CLUSTER_DIR")" && ! -f "$PIDS_FILE" && ! -f "$PORTS_FILE" ]]; then
    die "$CLUSTER_DIR is not empty and holds no cluster state (no pids, no ports.env): not removing it"
  fi
  rm -rf "$CLUSTER_DIR"
}

# --- waits ------------------------------------------------------------------------------------

# wait_for NAME DESCRIPTION CMD...: retries CMD until it succeeds, for at most $TIMEOUT s, failing
# early when the component's process has exited.
wait_for() {
  local name=$1 what=$2
  shift 2
  local deadline=$((SECONDS + TIMEOUT))
  until "$@" >/dev/null 2>&1; do
    component_alive "$name" || fail "$name" "exited while waiting for $what"
    ((SECONDS < deadline)) || fail "$name" "no $what within ${TIMEOUT} s"
    sleep 0.3
  done
}

# http_ok PORT PATH: a plain-HTTP GET on 127.0.0.1 answered 200 (bash only, no curl needed).
http_ok() {
  (
    exec 3<>"/dev/tcp/127.0.0.1/$1"
    printf 'GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' "$2" >&3
    IFS= read -r -t 5 status <&3
    [[ "$status" == *" 200 "* ]]
  ) 2>/dev/null
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# pick_port VAR: a port nothing listens on, below the ephemeral range, not picked before.
PICKED=" "
pick_port() {
  local p _
  for _ in $(seq 1 500); do
    p=$((20000 + RANDOM % 12000))
    [[ "$PICKED" == *" $p "* ]] && continue
    port_in_use "$p" && continue
    PICKED+="$p "
    printf -v "$1" '%s' "$p"
    return 0
  done
  die "found no free port on 127.0.0.1"
}

k() { "$KUBECTL" --kubeconfig "$KUBECONFIG_FILE" --cache-dir "$CLUSTER_DIR/.kube-cache" "$@"; }

is_gateway_impl() { [[ " ${GATEWAY_IMPLS[*]} " == *" $1 "* ]]; }

apiserver_ready() { [[ "$(k get --raw /readyz 2>/dev/null)" == ok ]]; }

# healthy: every long-running component recorded runs and the apiserver is ready (envoy-gateway
# and traefik themselves come and go with the Gateway API CRDs; their supervisor must run).
healthy() {
  [[ -f "$PIDS_FILE" && -f "$KUBECONFIG_FILE" ]] || return 1
  local name
  for name in "${COMPONENTS[@]}"; do component_alive "$name" || return 1; done
  while read -r name; do
    is_gateway_impl "$name" && continue
    component_alive "$name" || return 1
  done < <(recorded_names)
  apiserver_ready
}

# --- toolchain, certificates, kubeconfig -------------------------------------------------------

load_toolchain() {
  local env_file="$TC_ROOT/cluster.env"
  if [[ "${1:-}" == build ]]; then
    "$TOOLCHAIN_DIR/build-cluster.sh" >/dev/null
  fi
  [[ -f "$env_file" ]] || die "no $env_file: run toolchain/build-cluster.sh"
  # shellcheck disable=SC1090
  source "$env_file"
  KUBECTL="$KUBERNETES_BIN_DIR/kubectl"
  [[ -x "$KUBECTL" ]] || die "no $KUBECTL: run toolchain/build-cluster.sh"
}

# want_options: the controllers and storage asked for, checked and normalised, in WANT_CONTROLLERS
# (e.g. "cert-manager,envoy-gateway" or "none") and WANT_STORAGE.
want_options() {
  local spec=${DOT_AI_GATEWAY_CONTROLLERS:-cert-manager,envoy-gateway} c cm=0 eg=0 tr=0
  local list
  IFS=', ' read -r -a list <<<"$spec"
  for c in "${list[@]}"; do
    case $c in
      cert-manager) cm=1 ;;
      envoy-gateway) eg=1 ;;
      traefik) tr=1 ;;
      none | "") ;;
      *) die "DOT_AI_GATEWAY_CONTROLLERS: unknown controller '$c' (cert-manager, envoy-gateway, traefik or none)" ;;
    esac
  done
  # One Gateway implementation a cluster: the env names one GatewayClass for the stacks.
  ((eg && tr)) && die "DOT_AI_GATEWAY_CONTROLLERS: envoy-gateway and traefik together; a cluster runs one Gateway implementation (e.g. cert-manager,traefik)"
  WANT_CONTROLLERS=""
  ((cm)) && WANT_CONTROLLERS+=",cert-manager"
  ((eg)) && WANT_CONTROLLERS+=",envoy-gateway"
  ((tr)) && WANT_CONTROLLERS+=",traefik"
  WANT_CONTROLLERS=${WANT_CONTROLLERS#,}
  : "${WANT_CONTROLLERS:=none}"
  WANT_STORAGE=${DOT_AI_GATEWAY_CLUSTER_STORAGE:-local}
  [[ "$WANT_STORAGE" == local || "$WANT_STORAGE" == none ]] ||
    die "DOT_AI_GATEWAY_CLUSTER_STORAGE: '$WANT_STORAGE' is neither local nor none"
  PV_COUNT=${DOT_AI_GATEWAY_CLUSTER_PVS:-8}
  [[ "$PV_COUNT" =~ ^[0-9]+$ ]] || die "DOT_AI_GATEWAY_CLUSTER_PVS: '$PV_COUNT' is not a number"
  # With a data plane, Services get loopback ClusterIPs: Traefik dials a Service's ClusterIP
  # (nativeLBByDefault), where the dot-ai stand-in listens. The API server refuses loopback
  # addresses for endpoints (so pod IPs stay made up, and never dialled), not for Services.
  if [[ ",$WANT_CONTROLLERS," == *,traefik,* ]]; then
    SERVICE_CIDR=127.96.0.0/16 SERVICE_API_IP=127.96.0.1
  fi
}

# options_text: what the options file records, one word a line (compared on the next `up`).
options_text() {
  local c
  IFS=, read -r -a c <<<"$WANT_CONTROLLERS"
  printf '%s\n' "${c[@]}" "storage=$WANT_STORAGE" "pvs=$PV_COUNT"
}
# has_option WORD: the running cluster was started with WORD (envoy-gateway, storage=local, ...).
has_option() { [[ -f "$OPTIONS_FILE" ]] && grep -qxF -- "$1" "$OPTIONS_FILE"; }

OPENSSL_CNF='
[req]
distinguished_name = dn
prompt = no
[dn]
CN = unused
[ca_ext]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign, digitalSignature
subjectKeyIdentifier = hash
[serving_ext]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, DNS:kubernetes, DNS:kubernetes.default, DNS:kubernetes.default.svc, DNS:kubernetes.default.svc.cluster.local, IP:127.0.0.1, IP:SERVICE_API_IP
authorityKeyIdentifier = keyid
[client_ext]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
authorityKeyIdentifier = keyid
'

# make_pki: a CA; a serving certificate for 127.0.0.1/localhost/the kubernetes service (used by
# the apiserver, controller-manager and scheduler); the admin client certificate
# (O=system:masters); the service-account signing key pair; and a separate front-proxy CA with the
# apiserver's front-proxy client certificate (request-header authentication, which the
# controller-manager and scheduler look up for their own authentication).
make_pki() {
  command -v openssl >/dev/null || die "openssl is needed for the cluster certificates"
  mkdir -p "$PKI"
  local cnf="$PKI/openssl.cnf"
  printf '%s' "${OPENSSL_CNF//SERVICE_API_IP/$SERVICE_API_IP}" >"$cnf"
  ossl() { openssl "$@" 2>>"$PKI/openssl.log" || die "openssl $1 failed; see $PKI/openssl.log"; }
  # new_ca NAME CN
  new_ca() {
    ossl ecparam -name prime256v1 -genkey -noout -out "$PKI/$1.key"
    ossl req -config "$cnf" -x509 -new -key "$PKI/$1.key" -subj "/CN=$2" -days 3650 \
      -extensions ca_ext -out "$PKI/$1.crt"
  }
  # new_cert NAME CA SUBJECT EXTENSIONS
  new_cert() {
    ossl ecparam -name prime256v1 -genkey -noout -out "$PKI/$1.key"
    ossl req -config "$cnf" -new -key "$PKI/$1.key" -subj "$3" -out "$PKI/$1.csr"
    ossl x509 -req -in "$PKI/$1.csr" -CA "$PKI/$2.crt" -CAkey "$PKI/$2.key" \
      -set_serial "0x$(openssl rand -hex 16)" -days 3650 -extfile "$cnf" -extensions "$4" \
      -out "$PKI/$1.crt"
    rm -f "$PKI/$1.csr"
  }
  new_ca ca dot-ai-gateway-local-ca
  new_cert serving ca /CN=kube-apiserver serving_ext
  new_cert admin ca /O=system:masters/CN=dot-ai-gateway-admin client_ext
  new_ca front-proxy-ca dot-ai-gateway-local-front-proxy-ca
  new_cert front-proxy-client front-proxy-ca /CN=front-proxy-client client_ext
  ossl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$PKI/sa.key"
  ossl pkey -in "$PKI/sa.key" -pubout -out "$PKI/sa.pub"
  chmod 600 "$PKI"/*.key
}

write_kubeconfig() {
  local b64='base64 -w0'
  cat >"$KUBECONFIG_FILE" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: dot-ai-gateway-local
  cluster:
    server: https://127.0.0.1:$APISERVER_PORT
    certificate-authority-data: $($b64 <"$PKI/ca.crt")
users:
- name: dot-ai-gateway-admin
  user:
    client-certificate-data: $($b64 <"$PKI/admin.crt")
    client-key-data: $($b64 <"$PKI/admin.key")
contexts:
- name: dot-ai-gateway-local
  context:
    cluster: dot-ai-gateway-local
    user: dot-ai-gateway-admin
current-context: dot-ai-gateway-local
EOF
  chmod 600 "$KUBECONFIG_FILE"
}

node_manifests() {
  local i name
  for ((i = 0; i < NODES; i++)); do
    name="kwok-node-$i"
    cat <<EOF
---
apiVersion: v1
kind: Node
metadata:
  name: $name
  annotations:
    kwok.x-k8s.io/node: fake
    node.alpha.kubernetes.io/ttl: "0"
  labels:
    kubernetes.io/arch: amd64
    kubernetes.io/hostname: $name
    kubernetes.io/os: linux
    kubernetes.io/role: agent
    node-role.kubernetes.io/agent: ""
    type: kwok
status:
  allocatable: {cpu: "32", memory: 256Gi, pods: "110", ephemeral-storage: 1Ti}
  capacity: {cpu: "32", memory: 256Gi, pods: "110", ephemeral-storage: 1Ti}
  nodeInfo:
    architecture: amd64
    operatingSystem: linux
    kubeletVersion: fake
    kubeProxyVersion: fake
EOF
  done
}

print_env() {
  printf 'export KUBECONFIG=%q\n' "$KUBECONFIG_FILE"
  if has_option envoy-gateway; then printf 'export GATEWAY_CLASS_NAME=%s\n' "$GATEWAY_CLASS_NAME"; fi
  if has_option traefik; then
    printf 'export GATEWAY_CLASS_NAME=%s\n' "$TRAEFIK_CLASS_NAME"
    # Where a client reaches every Gateway of this cluster, and the CA its certificates chain to.
    printf 'export DATA_PLANE_ADDRESS=%s\n' "$DATA_PLANE_ADDRESS"
    printf 'export LOCAL_CA_FILE=%q\n' "$LOCAL_CA_FILE"
  fi
  if has_option storage=local; then printf 'export STORAGE_CLASS_NAME=%s\n' "$STORAGE_CLASS_NAME"; fi
  return 0
}

# --- storage -----------------------------------------------------------------------------------

# k_apply: server-side apply of the manifest on stdin, with this script's field manager.
k_apply() { k apply --server-side --force-conflicts --field-manager "$FIELD_MANAGER" -f - >/dev/null; }

storage_manifests() {
  cat <<EOF2
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: $STORAGE_CLASS_NAME
  annotations:
    storageclass.kubernetes.io/is-default-class: "true"
provisioner: kubernetes.io/no-provisioner
reclaimPolicy: Retain
volumeBindingMode: Immediate
EOF2
  local i
  for ((i = 0; i < PV_COUNT; i++)); do
    cat <<EOF2
---
apiVersion: v1
kind: PersistentVolume
metadata:
  name: local-pv-$i
  labels:
    $PV_POOL_LABEL: "$STORAGE_CLASS_NAME"
spec:
  storageClassName: $STORAGE_CLASS_NAME
  capacity:
    storage: $PV_SIZE
  accessModes: [ReadWriteOnce]
  persistentVolumeReclaimPolicy: Retain
  hostPath:
    path: $CLUSTER_DIR/volumes/local-pv-$i
    type: DirectoryOrCreate
EOF2
  done
}

# setup_storage: the default StorageClass and the PersistentVolumes (empty directories in the state
# directory: no container runs on the fake nodes, so nothing ever writes to them), and the loop
# that makes a Released one reusable.
setup_storage() {
  local i out
  for ((i = 0; i < PV_COUNT; i++)); do mkdir -p "$CLUSTER_DIR/volumes/local-pv-$i"; done
  out=$(storage_manifests | k_apply 2>&1) || fail kube-apiserver "creating the StorageClass and volumes failed: $out"
  export DOT_AI_GATEWAY_CLUSTER_DIR="$CLUSTER_DIR"
  start pv-recycler "$(command -v bash)" "$TOOLCHAIN_DIR/cluster.sh" __pv-recycler
}

# pv_recycler (the `pv-recycler` process): with the Retain policy a volume whose claim is deleted
# (a destroyed stack) stays Released and is never bound again; there is no provisioner or recycler
# pod here to do better (a Recycle pod would never complete on a fake node). So, as an
# administrator would, it removes the claimRef of every Released volume of the pool, which makes it
# Available. Event-driven: a kubectl watch, restarted when it ends.
pv_recycler() {
  # A loop that must outlive any failed command: errors are handled where they matter.
  set +e +o pipefail
  load_toolchain
  log "pv-recycler: making Released volumes labelled $PV_POOL_LABEL Available again"
  local name phase
  while true; do
    while read -r name phase; do
      [[ "$phase" == Released ]] || continue
      if k patch pv "$name" --type json -p '[{"op":"remove","path":"/spec/claimRef"}]' >/dev/null 2>&1; then
        log "pv-recycler: $name was Released; its claimRef removed, so it is Available again"
      fi
    done < <(k get pv -l "$PV_POOL_LABEL" --watch \
      -o 'jsonpath={.metadata.name}{" "}{.status.phase}{"\n"}' 2>&1)
    sleep 2
  done
}

# --- cert-manager ------------------------------------------------------------------------------

setup_cert_manager() {
  local out
  [[ -x "${CERT_MANAGER_CONTROLLER_BIN:-}" ]] || die "no cert-manager controller binary: run toolchain/build-cluster.sh"
  log "cert-manager: CRDs, then its controller"
  out=$({ printf 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: %s\n---\n' "$CERT_MANAGER_NAMESPACE"
    cat "$CERT_MANAGER_CRDS_FILE"; } | k_apply 2>&1) || fail kube-apiserver "applying the cert-manager CRDs failed: $out"
  wait_for kube-apiserver "established cert-manager CRDs" \
    k wait --for condition=Established --timeout 5s -f "$CERT_MANAGER_CRDS_FILE"
  start cert-manager "$CERT_MANAGER_CONTROLLER_BIN" --kubeconfig "$KUBECONFIG_FILE" \
    --cluster-resource-namespace "$CERT_MANAGER_NAMESPACE"
  wait_for cert-manager "its controllers running" grep -q 'running [0-9]* controllers' "$LOG_DIR/cert-manager.log"
}

# issuer_manifests NAME...: a self-signed root, the CA Certificate it issues and, over the CA's
# Secret, a CA ClusterIssuer for each NAME.
issuer_manifests() {
  cat <<EOF2
apiVersion: cert-manager.io/v1
kind: ClusterIssuer
metadata:
  name: $SELFSIGNED_ISSUER
spec:
  selfSigned: {}
---
apiVersion: cert-manager.io/v1
kind: Certificate
metadata:
  name: $CA_SECRET
  namespace: $CERT_MANAGER_NAMESPACE
spec:
  isCA: true
  commonName: dot-ai-gateway local CA
  secretName: $CA_SECRET
  duration: 87600h
  privateKey:
    algorithm: ECDSA
    size: 256
  issuerRef:
    group: cert-manager.io
    kind: ClusterIssuer
    name: $SELFSIGNED_ISSUER
EOF2
  local name
  for name in "$@"; do
    cat <<EOF2
---
apiVersion: cert-manager.io/v1
kind: ClusterIssuer
metadata:
  name: $name
spec:
  ca:
    secretName: $CA_SECRET
EOF2
  done
}

# ensure_issuers NAME...: applies issuer_manifests and waits for each NAME to be Ready. A failure
# here stops nothing (the cluster stays up for inspection).
ensure_issuers() {
  local name out deadline
  (($# > 0)) || return 0
  component_alive cert-manager || die "cert-manager is not running in $CLUSTER_DIR (DOT_AI_GATEWAY_CONTROLLERS must include it)"
  out=$(issuer_manifests "$@" | k_apply 2>&1) || die "creating the issuers failed: $out"
  deadline=$((SECONDS + TIMEOUT))
  for name in "$@"; do
    until k wait --for condition=Ready --timeout 5s "clusterissuer/$name" >/dev/null 2>&1; do
      component_alive cert-manager || die "cert-manager exited (log: $LOG_DIR/cert-manager.log)"
      ((SECONDS < deadline)) || die "ClusterIssuer $name not Ready within $TIMEOUT s: $(k get clusterissuer "$name" \
        -o 'jsonpath={.status.conditions}' 2>&1); CA Certificate: $(k get certificate "$CA_SECRET" \
        --namespace "$CERT_MANAGER_NAMESPACE" -o 'jsonpath={.status.conditions}' 2>&1); log: $LOG_DIR/cert-manager.log"
      sleep 0.3
    done
  done
  k get secret "$CA_SECRET" --namespace "$CERT_MANAGER_NAMESPACE" -o 'jsonpath={.data.tls\.crt}' | base64 -d >"$LOCAL_CA_FILE.tmp" &&
    [[ -s "$LOCAL_CA_FILE.tmp" ]] && mv "$LOCAL_CA_FILE.tmp" "$LOCAL_CA_FILE" ||
    die "could not read the local CA's certificate from the Secret $CERT_MANAGER_NAMESPACE/$CA_SECRET"
  log "ClusterIssuer(s) $* Ready (CA: Secret $CERT_MANAGER_NAMESPACE/$CA_SECRET, its certificate in $LOCAL_CA_FILE)"
}

# --- Envoy Gateway -----------------------------------------------------------------------------

EG_DIR_NAME=envoy-gateway

# The EnvoyProxy the GatewayClass points at: a ClusterIP Service for each Gateway's proxies, whose
# cluster IP is then the Gateway's address (with the default LoadBalancer type the address would
# wait for a load-balancer controller, which this cluster has not got).
eg_class_manifests() {
  cat <<EOF2
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: EnvoyProxy
metadata:
  name: $GATEWAY_CLASS_NAME-clusterip
  namespace: $EG_NAMESPACE
spec:
  provider:
    type: Kubernetes
    kubernetes:
      envoyService:
        type: ClusterIP
EOF2
  [[ "${1:-}" == with-class ]] || return 0
  cat <<EOF2
---
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata:
  name: $GATEWAY_CLASS_NAME
spec:
  controllerName: $EG_CONTROLLER_NAME
  parametersRef:
    group: gateway.envoyproxy.io
    kind: EnvoyProxy
    name: $GATEWAY_CLASS_NAME-clusterip
    namespace: $EG_NAMESPACE
EOF2
}

# envoy-gateway and traefik listen on fixed ports, so one of each runs per machine: its supervisor
# holds a lock (flock, gateway_lock) for as long as it runs, and writes its cluster directory next
# to it. fixed_ports_free IMPL PORTS: dies, naming the cluster that has them, when another holds it.
fixed_ports_free() {
  local lock_file
  lock_file=$(gateway_lock "$1")
  # (Held by this very cluster's supervisor when it is up already.)
  if command -v flock >/dev/null && [[ "$(cat "$lock_file.owner" 2>/dev/null)" != "$CLUSTER_DIR" ]] &&
    ! (flock -n 8) 8>>"$lock_file"; then
    die "$1 of another cluster runs on this machine ($(cat "$lock_file.owner" 2>/dev/null || echo unknown)); its listeners ($2) are fixed ports, so one cluster with $1 runs at a time. Stop that one (DOT_AI_GATEWAY_CLUSTER_DIR=<its dir> $0 down), or start this one with DOT_AI_GATEWAY_CONTROLLERS=cert-manager (or none)."
  fi
}

# eg_preflight: what envoy-gateway needs of this machine, checked before anything starts.
eg_preflight() {
  fixed_ports_free envoy-gateway ":18000, :19001, :8081, ..."
  if [[ $EUID -ne 0 ]]; then
    die "envoy-gateway needs root here: it reads its certificate from /certs/ only, and cluster.sh gives it that directory in a private mount namespace (unshare --mount + chroot), which takes root, rather than writing to / of this machine. Run as root, or set DOT_AI_GATEWAY_CONTROLLERS=cert-manager (or none)."
  fi
  command -v unshare >/dev/null && command -v chroot >/dev/null && command -v base64 >/dev/null ||
    die "envoy-gateway needs unshare (util-linux), chroot and base64 (coreutils)"
}

setup_envoy_gateway() {
  local out dir="$CLUSTER_DIR/$EG_DIR_NAME"
  [[ -x "${ENVOY_GATEWAY_BIN:-}" ]] || fail kube-apiserver "no envoy-gateway binary: run toolchain/build-cluster.sh"
  log "envoy-gateway: its CRDs, the EnvoyProxy for the GatewayClass $GATEWAY_CLASS_NAME, certificates, then its supervisor"
  mkdir -p "$dir/root"
  out=$({ printf 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: %s\n---\n' "$EG_NAMESPACE"
    cat "$ENVOY_GATEWAY_CRDS_FILE"; } | k_apply 2>&1) || fail kube-apiserver "applying the Envoy Gateway CRDs failed: $out"
  wait_for kube-apiserver "established Envoy Gateway CRDs" \
    k wait --for condition=Established --timeout 5s -f "$ENVOY_GATEWAY_CRDS_FILE"
  out=$(eg_class_manifests | k_apply 2>&1) || fail kube-apiserver "creating the EnvoyProxy failed: $out"
  # certgen makes the Secrets of its control plane and proxies (CA, server and client certificates)
  # and then fails at patching a webhook configuration that only its Helm chart creates: the
  # Secrets are what counts.
  KUBECONFIG="$KUBECONFIG_FILE" ENVOY_GATEWAY_NAMESPACE="$EG_NAMESPACE" \
    "$ENVOY_GATEWAY_BIN" certgen >"$LOG_DIR/envoy-gateway-certgen.log" 2>&1 || true
  k get secret envoy-gateway --namespace "$EG_NAMESPACE" >/dev/null 2>&1 ||
    fail envoy-gateway-certgen "envoy-gateway certgen made no Secret $EG_NAMESPACE/envoy-gateway"
  cat >"$dir/config.yaml" <<EOF2
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: EnvoyGateway
gateway:
  controllerName: $EG_CONTROLLER_NAME
provider:
  type: Kubernetes
  kubernetes:
    # One instance at a time (its supervisor sees to that): a restart need not wait for the
    # previous instance's lease to expire.
    leaderElection:
      disable: true
    # A pod-mutating webhook that only a chart install registers.
    proxyTopologyInjector:
      disabled: true
logging:
  level:
    default: info
EOF2
  export DOT_AI_GATEWAY_CLUSTER_DIR="$CLUSTER_DIR"
  start envoy-gateway-supervisor "$(command -v bash)" "$TOOLCHAIN_DIR/cluster.sh" __supervise-envoy-gateway
}

# --- Traefik: a Gateway API implementation with its own data plane, and the dot-ai stand-in -------

TRAEFIK_DIR_NAME=traefik
TRAEFIK_CLASS_NAME=traefik
TRAEFIK_CONTROLLER_NAME=traefik.io/gateway-controller
# Where its data plane listens, and so every Gateway's address (statusAddress): a listener's port
# maps to the entryPoint whose address ends in :<port>; 80 and 443 are what the program's Gateways use.
DATA_PLANE_ADDRESS=127.0.0.1
REPO_DIR="$(cd "$TOOLCHAIN_DIR/.." && pwd)"

traefik_class_manifest() {
  cat <<EOF2
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata:
  name: $TRAEFIK_CLASS_NAME
spec:
  controllerName: $TRAEFIK_CONTROLLER_NAME
EOF2
}

# traefik_preflight: what traefik and the stand-in need of this machine, checked before anything starts.
traefik_preflight() {
  fixed_ports_free traefik "$DATA_PLANE_ADDRESS:80, $DATA_PLANE_ADDRESS:443"
  if [[ $EUID -ne 0 ]]; then
    die "traefik needs root here: its data plane listens on $DATA_PLANE_ADDRESS:80 and :443, the ports the program's Gateways name. Run as root, or set DOT_AI_GATEWAY_CONTROLLERS=cert-manager,envoy-gateway."
  fi
  # Another server on those ports (not a cluster of ours: that is the lock above).
  if [[ "$(cat "$(gateway_lock traefik).owner" 2>/dev/null)" != "$CLUSTER_DIR" ]]; then
    local port
    for port in 80 443; do
      port_in_use "$port" && die "something already listens on $DATA_PLANE_ADDRESS:$port (ss -ltnp 'sport = :$port'); traefik's data plane needs it"
    done
  fi
  command -v node >/dev/null && [[ -f "$REPO_DIR/node_modules/ts-node/register/transpile-only.js" ]] ||
    die "the dot-ai stand-in runs on Node.js with the project's packages: run npm ci in $REPO_DIR first"
}

# setup_traefik: its static configuration, its supervisor (which starts it once the program has
# installed the Gateway API CRDs) and the dot-ai stand-in, which answers on dot-ai's Services
# where pods of a real node would (test/standin/README.md).
setup_traefik() {
  local dir="$CLUSTER_DIR/$TRAEFIK_DIR_NAME"
  [[ -x "${TRAEFIK_BIN:-}" ]] || fail kube-apiserver "no traefik binary: run toolchain/build-cluster.sh"
  log "traefik: the GatewayClass $TRAEFIK_CLASS_NAME once the Gateway API CRDs exist, its data plane on $DATA_PLANE_ADDRESS:80 and :443; the dot-ai stand-in"
  mkdir -p "$dir"
  pick_port TRAEFIK_PING_PORT
  printf 'TRAEFIK_PING_PORT=%s\n' "$TRAEFIK_PING_PORT" >>"$PORTS_FILE"
  cat >"$dir/traefik.yaml" <<EOF2
# Written by toolchain/cluster.sh. Traefik's defaults otherwise (timeouts included): what a user
# of its Gateway API provider gets.
global:
  # Both would call out to the internet.
  checkNewVersion: false
  sendAnonymousUsage: false
log:
  level: INFO
accessLog:
  filePath: $LOG_DIR/traefik-access.log
entryPoints:
  web:
    address: "$DATA_PLANE_ADDRESS:80"
  websecure:
    address: "$DATA_PLANE_ADDRESS:443"
  ping:
    address: "127.0.0.1:$TRAEFIK_PING_PORT"
ping:
  entryPoint: ping
providers:
  kubernetesGateway:
    # Backends are dialled at their Service's ClusterIP (loopback here), never at pod IPs, which
    # on the fake nodes are made up.
    nativeLBByDefault: true
    # What the Gateways report as their address: where this data plane listens.
    statusAddress:
      ip: "$DATA_PLANE_ADDRESS"
EOF2
  export DOT_AI_GATEWAY_CLUSTER_DIR="$CLUSTER_DIR"
  start traefik-supervisor "$(command -v bash)" "$TOOLCHAIN_DIR/cluster.sh" __supervise-traefik
  KUBECONFIG="$KUBECONFIG_FILE" TS_NODE_PROJECT="$REPO_DIR/tsconfig.json" start dot-ai-standin "$(command -v node)" \
    -r "$REPO_DIR/node_modules/ts-node/register/transpile-only" "$REPO_DIR/test/standin/main.ts"
  wait_for dot-ai-standin "its first read of the cluster" grep -q 'started;' "$LOG_DIR/dot-ai-standin.log"
}

# Run inside `unshare --mount --propagation private` (so none of its mounts is seen outside and all
# vanish with it): a tmpfs as the new root, every entry of the real / bound into it (symlinks
# copied), plus certs/ with the three files of the Secret envoy-gateway; then chroot into it and
# exec envoy-gateway, which sees the machine's files at their usual paths and its /certs.
# Arguments: ROOT KUBECTL KUBECONFIG NAMESPACE COMMAND...
# shellcheck disable=SC2016 # expanded by the bash that runs it
EG_MOUNTNS_SCRIPT='
set -euo pipefail
root=$1 kubectl=$2 kubeconfig=$3 ns=$4
shift 4
mount -t tmpfs -o mode=0755,size=4m dot-ai-gateway-envoy-gateway-root "$root"
for e in /*; do
  n=${e#/}
  [[ "$n" == certs ]] && continue
  if [[ -L "$e" ]]; then ln -s "$(readlink "$e")" "$root/$n"
  elif [[ -d "$e" ]]; then mkdir "$root/$n" && mount --rbind "$e" "$root/$n"
  else : >"$root/$n" && mount --bind "$e" "$root/$n"; fi
done
mkdir -m 0700 "$root/certs"
for key in ca.crt tls.crt tls.key; do
  "$kubectl" --kubeconfig "$kubeconfig" get secret envoy-gateway --namespace "$ns" \
    -o "jsonpath={.data.${key//./\\.}}" | base64 -d >"$root/certs/$key"
  [[ -s "$root/certs/$key" ]] || { echo "no $key in the Secret $ns/envoy-gateway" >&2; exit 1; }
done
exec chroot "$root" "$@"
'

# gatewayclasses_crd: the uid of the gatewayclasses CRD when it and the referencegrants one (the
# first kind envoy-gateway looks up at start) are Established, else nothing.
gatewayclasses_crd() {
  k get crd "$GATEWAY_CLASSES_CRD" "$REFERENCE_GRANTS_CRD" -o 'jsonpath={range .items[*]}{.metadata.name}{" "}{.metadata.uid}{" "}{.status.conditions[?(@.type=="Established")].status}{"\n"}{end}' 2>/dev/null |
    awk -v gc="$GATEWAY_CLASSES_CRD" '$3 == "True" { n++; if ($1 == gc) uid = $2 } END { if (n == 2) print uid }'
}

# nap SECONDS: a sleep that a trapped signal interrupts.
nap() {
  sleep "$1" &
  wait $! || true
}

# supervise_gateway IMPL (the `IMPL-supervisor` process; IMPL is envoy-gateway or traefik), as a
# kubelet restarting a pod: envoy-gateway exits at once when the Gateway API CRDs are missing
# ("failed to determine if *v1beta1.ReferenceGrant is namespaced"), and traefik's informers wait
# for them with client-go's backoff (up to 30 s late); the program installs them, at any time. So:
# wait (polling every half second) for the gatewayclasses CRD to be Established, apply the
# GatewayClass, run the controller; restart it after a short backoff when it exits, and at once
# when that CRD is deleted or recreated (a stack destroyed and deployed again); re-apply a deleted
# GatewayClass.
supervise_gateway() {
  # A loop that must outlive any failed command: errors are handled where they matter.
  set +e +o pipefail
  local impl=$1
  load_toolchain
  local child="" stopping=0 backoff=1 replaced=0 uid now ran tick status exe deadline out
  local lock_file class_name binary_name
  lock_file=$(gateway_lock "$impl")
  class_name=$(gateway_class_of "$impl")
  trap 'stopping=1; [[ -n "$child" ]] && kill -TERM "$child" 2>/dev/null' TERM INT
  if command -v flock >/dev/null; then
    exec 8>>"$lock_file"
    if ! flock -n 8; then
      log "supervisor: $impl of another cluster runs ($(cat "$lock_file.owner" 2>/dev/null)): not starting one here (fixed ports)"
      exit 1
    fi
    printf '%s\n' "$CLUSTER_DIR" >"$lock_file.owner"
  fi
  log "supervisor: waiting for the CRD $GATEWAY_CLASSES_CRD (the Gateway API is installed by the program)"
  while ((!stopping)); do
    uid=$(gatewayclasses_crd)
    if [[ -z "$uid" ]]; then
      nap 0.5
      continue
    fi
    if ! out=$(gateway_class_manifests "$impl" | k_apply 2>&1); then
      log "supervisor: applying the GatewayClass $class_name failed (retrying): $out"
      nap 1
      continue
    fi
    log "supervisor: Gateway API CRDs present (gatewayclasses uid $uid): starting $impl"
    printf '[cluster %s] ---- %s started by its supervisor ----\n' "$(date +%H:%M:%S)" "$impl" >>"$LOG_DIR/$impl.log"
    run_gateway "$impl" >>"$LOG_DIR/$impl.log" 2>&1 &
    child=$!
    ran=$SECONDS
    # Record it once it runs the controller's binary (its /proc/PID/exe as seen from here).
    binary_name=$(basename "$(gateway_binary "$impl")")
    deadline=$((SECONDS + 20))
    while kill -0 "$child" 2>/dev/null && ((SECONDS < deadline)); do
      exe=$(readlink "/proc/$child/exe" 2>/dev/null) || break
      if [[ "$exe" == */"$binary_name" ]]; then
        record "$impl" "$child" "$exe"
        break
      fi
      sleep 0.05
    done
    tick=0
    while ((!stopping)) && kill -0 "$child" 2>/dev/null; do
      nap 1
      ((stopping)) && break
      now=$(gatewayclasses_crd)
      if [[ "$now" != "$uid" ]]; then
        log "supervisor: the CRD $GATEWAY_CLASSES_CRD was deleted or recreated: stopping $impl"
        kill -TERM "$child" 2>/dev/null || true
        replaced=1
        break
      fi
      if ((++tick % 5 == 0)) && ! k get gatewayclass "$class_name" >/dev/null 2>&1; then
        log "supervisor: the GatewayClass $class_name is gone: applying it again"
        gateway_class_manifests "$impl" | k_apply 2>&1 || true
      fi
    done
    # Its exit (SIGKILL when it does not stop within 10 s of SIGTERM).
    deadline=$((SECONDS + 10))
    while kill -0 "$child" 2>/dev/null && ((SECONDS < deadline)); do nap 0.2; done
    kill -KILL "$child" 2>/dev/null || true
    status=0
    wait "$child" 2>/dev/null || status=$?
    child=""
    ((stopping)) && break
    # Stopped on purpose, for CRDs deleted or replaced: started again as soon as they are back, as
    # a Gateway controller that never stopped would serve them. (A backoff here, grown by every
    # stack destroyed and deployed again, delayed the Gateway's Programmed by up to 8 s at random.)
    if ((replaced)); then
      replaced=0
      backoff=1
      continue
    fi
    if ((SECONDS - ran >= 60)); then backoff=1; fi
    log "supervisor: $impl exited (status $status) after $((SECONDS - ran)) s; next start in $backoff s (its log: $LOG_DIR/$impl.log)"
    nap "$backoff"
    backoff=$((backoff < 8 ? backoff * 2 : 8))
  done
  log "supervisor: stopped"
}

# What the supervisor needs of each of GATEWAY_IMPLS.
gateway_lock() { printf '%s/%s.lock' "$DOT_AI_GATEWAY_CACHE" "$1"; }
gateway_class_of() { case $1 in envoy-gateway) echo "$GATEWAY_CLASS_NAME" ;; traefik) echo "$TRAEFIK_CLASS_NAME" ;; esac; }
gateway_binary() { case $1 in envoy-gateway) echo "$ENVOY_GATEWAY_BIN" ;; traefik) echo "$TRAEFIK_BIN" ;; esac; }
gateway_class_manifests() { case $1 in envoy-gateway) eg_class_manifests with-class ;; traefik) traefik_class_manifest ;; esac; }
# run_gateway IMPL: runs the controller in the foreground (the supervisor backgrounds it).
run_gateway() {
  case $1 in
    envoy-gateway)
      KUBECONFIG="$KUBECONFIG_FILE" ENVOY_GATEWAY_NAMESPACE="$EG_NAMESPACE" \
        exec unshare --mount --propagation private -- bash -c "$EG_MOUNTNS_SCRIPT" envoy-gateway-mountns \
        "$CLUSTER_DIR/$EG_DIR_NAME/root" "$KUBECTL" "$KUBECONFIG_FILE" "$EG_NAMESPACE" \
        "$ENVOY_GATEWAY_BIN" server --config-path "$CLUSTER_DIR/$EG_DIR_NAME/config.yaml"
      ;;
    traefik)
      KUBECONFIG="$KUBECONFIG_FILE" exec "$TRAEFIK_BIN" --configFile="$CLUSTER_DIR/$TRAEFIK_DIR_NAME/traefik.yaml"
      ;;
  esac
}

# --- commands ---------------------------------------------------------------------------------

lock() {
  mkdir -p "$(dirname "$CLUSTER_DIR")"
  if command -v flock >/dev/null; then
    exec 9>"$CLUSTER_DIR.lock"
    flock -w 300 9 || die "another $0 holds $CLUSTER_DIR.lock"
  fi
}

cmd_up() {
  local t0=$SECONDS
  lock
  want_options
  if [[ ",$WANT_CONTROLLERS," == *,envoy-gateway,* ]]; then eg_preflight; fi
  if [[ ",$WANT_CONTROLLERS," == *,traefik,* ]]; then traefik_preflight; fi
  local issuers=()
  IFS=', ' read -r -a issuers <<<"${DOT_AI_GATEWAY_CLUSTER_ISSUERS:-}"
  if [[ -f "$PIDS_FILE" ]]; then
    load_toolchain
    if [[ "$(options_text)" != "$(cat "$OPTIONS_FILE" 2>/dev/null)" ]]; then
      log "the cluster in $CLUSTER_DIR runs with other controllers or storage ($(paste -sd' ' "$OPTIONS_FILE" 2>/dev/null)): stopping it and starting anew with $(options_text | paste -sd' ')"
      stop_all
    elif healthy; then
      log "already up and healthy ($CLUSTER_DIR)"
      ensure_issuers "${issuers[@]}"
      print_env
      return 0
    else
      log "a previous cluster in $CLUSTER_DIR is not healthy: stopping what is left of it and starting anew"
      stop_all
    fi
  fi
  remove_state
  load_toolchain build
  mkdir -p "$CLUSTER_DIR" "$LOG_DIR"
  : >"$PIDS_FILE"
  options_text >"$OPTIONS_FILE"

  pick_port ETCD_CLIENT_PORT
  pick_port ETCD_PEER_PORT
  pick_port APISERVER_PORT
  pick_port CONTROLLER_MANAGER_PORT
  pick_port SCHEDULER_PORT
  cat >"$PORTS_FILE" <<EOF
ETCD_CLIENT_PORT=$ETCD_CLIENT_PORT
ETCD_PEER_PORT=$ETCD_PEER_PORT
APISERVER_PORT=$APISERVER_PORT
CONTROLLER_MANAGER_PORT=$CONTROLLER_MANAGER_PORT
SCHEDULER_PORT=$SCHEDULER_PORT
EOF
  make_pki
  write_kubeconfig

  log "starting etcd on 127.0.0.1:$ETCD_CLIENT_PORT"
  local etcd_client="http://127.0.0.1:$ETCD_CLIENT_PORT" etcd_peer="http://127.0.0.1:$ETCD_PEER_PORT"
  # A throwaway single member: no fsync, data in the state directory.
  start etcd "$ETCD_BIN_DIR/etcd" --name default --data-dir "$CLUSTER_DIR/etcd" \
    --listen-client-urls "$etcd_client" --advertise-client-urls "$etcd_client" \
    --listen-peer-urls "$etcd_peer" --initial-advertise-peer-urls "$etcd_peer" \
    --initial-cluster "default=$etcd_peer" --initial-cluster-state new \
    --unsafe-no-fsync --log-level warn
  wait_for etcd "/health on 127.0.0.1:$ETCD_CLIENT_PORT" http_ok "$ETCD_CLIENT_PORT" /health

  log "starting kube-apiserver on 127.0.0.1:$APISERVER_PORT"
  # --endpoint-reconciler-type=none: the "kubernetes" Service may not have endpoints on a loopback
  # address, and nothing here needs them. (With it the apiserver logs a spurious "Found stale data,
  # removed previous endpoints" error at start.)
  start kube-apiserver "$KUBERNETES_BIN_DIR/kube-apiserver" \
    --etcd-servers "$etcd_client" \
    --bind-address 127.0.0.1 --advertise-address 127.0.0.1 --secure-port "$APISERVER_PORT" \
    --cert-dir "$PKI" --tls-cert-file "$PKI/serving.crt" --tls-private-key-file "$PKI/serving.key" \
    --client-ca-file "$PKI/ca.crt" \
    --requestheader-client-ca-file "$PKI/front-proxy-ca.crt" \
    --requestheader-allowed-names front-proxy-client \
    --requestheader-username-headers X-Remote-User --requestheader-group-headers X-Remote-Group \
    --requestheader-extra-headers-prefix X-Remote-Extra- \
    --proxy-client-cert-file "$PKI/front-proxy-client.crt" \
    --proxy-client-key-file "$PKI/front-proxy-client.key" \
    --service-account-issuer https://kubernetes.default.svc.cluster.local \
    --service-account-key-file "$PKI/sa.pub" --service-account-signing-key-file "$PKI/sa.key" \
    --service-cluster-ip-range "$SERVICE_CIDR" \
    --authorization-mode Node,RBAC \
    --endpoint-reconciler-type none \
    --allow-privileged=true --profiling=false
  wait_for kube-apiserver "/readyz" apiserver_ready

  log "starting kube-controller-manager (:$CONTROLLER_MANAGER_PORT), kube-scheduler (:$SCHEDULER_PORT), kwok"
  local common=(--kubeconfig "$KUBECONFIG_FILE" --authentication-kubeconfig "$KUBECONFIG_FILE"
    --authorization-kubeconfig "$KUBECONFIG_FILE" --bind-address 127.0.0.1
    --tls-cert-file "$PKI/serving.crt" --tls-private-key-file "$PKI/serving.key" --leader-elect=false)
  # The service-account token controller needs the signing key and the CA for the tokens' secrets;
  # the root CA is also what the kube-root-ca.crt ConfigMaps of every namespace carry.
  start kube-controller-manager "$KUBERNETES_BIN_DIR/kube-controller-manager" "${common[@]}" \
    --secure-port "$CONTROLLER_MANAGER_PORT" \
    --service-account-private-key-file "$PKI/sa.key" --root-ca-file "$PKI/ca.crt" \
    --cluster-signing-cert-file "$PKI/ca.crt" --cluster-signing-key-file "$PKI/ca.key" \
    --use-service-account-credentials=false --service-cluster-ip-range "$SERVICE_CIDR" \
    --profiling=false
  start kube-scheduler "$KUBERNETES_BIN_DIR/kube-scheduler" "${common[@]}" \
    --secure-port "$SCHEDULER_PORT"
  # kwok plays the kubelet of the Nodes annotated kwok.x-k8s.io/node=fake only; pod and node IPs
  # are fake values in its status, nothing connects to them. Its own (empty) configuration file, so
  # it reads no ~/.kwok/kwok.yaml of the user; its default node and pod stages apply.
  : >"$CLUSTER_DIR/kwok.yaml"
  start kwok "$KWOK_BIN_DIR/kwok" --kubeconfig "$KUBECONFIG_FILE" \
    --manage-all-nodes=false --manage-nodes-with-annotation-selector kwok.x-k8s.io/node=fake \
    --node-ip 127.0.0.1 --node-lease-duration-seconds 40 \
    --config "$CLUSTER_DIR/kwok.yaml"
  wait_for kube-controller-manager "/healthz on 127.0.0.1:$CONTROLLER_MANAGER_PORT" \
    k get --raw /healthz --server "https://127.0.0.1:$CONTROLLER_MANAGER_PORT"
  wait_for kube-scheduler "/healthz on 127.0.0.1:$SCHEDULER_PORT" \
    k get --raw /healthz --server "https://127.0.0.1:$SCHEDULER_PORT"

  local out
  out=$(node_manifests | k apply -f - 2>&1) || fail kwok "creating the fake Nodes failed: $out"
  local i
  for ((i = 0; i < NODES; i++)); do
    wait_for kwok "Ready node kwok-node-$i" \
      k wait --for=condition=Ready "node/kwok-node-$i" --timeout=5s
  done
  # Pods of the default service account need it (ServiceAccount admission).
  wait_for kube-controller-manager "the ServiceAccount default/default" \
    k get serviceaccount default --namespace default

  if [[ "$WANT_STORAGE" == local ]]; then setup_storage; fi
  if has_option cert-manager; then setup_cert_manager; fi
  if has_option envoy-gateway; then setup_envoy_gateway; fi
  if has_option traefik; then setup_traefik; fi
  ensure_issuers "${issuers[@]}"

  print_env >"$CLUSTER_DIR/env"
  log "up in $((SECONDS - t0)) s: $NODES fake node(s), controllers: $WANT_CONTROLLERS, storage: $WANT_STORAGE; state in $CLUSTER_DIR"
  print_env
}

cmd_down() {
  local keep=${DOT_AI_GATEWAY_CLUSTER_KEEP:-0}
  [[ "${1:-}" == --keep ]] && keep=1
  lock
  if [[ ! -d "$CLUSTER_DIR" ]]; then
    log "no cluster in $CLUSTER_DIR"
    return 0
  fi
  stop_all
  local name
  while read -r name; do
    component_alive "$name" && die "$name (pid $(pid_of "$name")) is still running"
  done < <(recorded_names)
  if ((keep)); then
    log "stopped; state kept in $CLUSTER_DIR"
  else
    remove_state
    log "stopped; removed $CLUSTER_DIR"
  fi
}

cmd_status() {
  if [[ ! -f "$PIDS_FILE" ]]; then
    echo "no cluster in $CLUSTER_DIR"
    return 1
  fi
  load_toolchain
  [[ -f "$PORTS_FILE" ]] && sed 's/^/  /' "$PORTS_FILE"
  [[ -f "$OPTIONS_FILE" ]] && echo "  options: $(paste -sd' ' "$OPTIONS_FILE")"
  local name ok=0
  while read -r name; do
    if component_alive "$name"; then
      printf '  %-24s running (pid %s)  log %s\n' "$name" "$(pid_of "$name")" "$LOG_DIR/$name.log"
    elif is_gateway_impl "$name"; then
      # Its supervisor starts it once the Gateway API CRDs exist, and restarts it.
      printf '  %-24s not running now (see %s-supervisor)  log %s\n' "$name" "$name" "$LOG_DIR/$name.log"
    else
      printf '  %-24s NOT RUNNING  log %s\n' "$name" "$LOG_DIR/$name.log"
      ok=1
    fi
  done < <(recorded_names)
  local impl
  for impl in "${GATEWAY_IMPLS[@]}"; do
    if has_option "$impl" && ! grep -q "^$impl " "$PIDS_FILE"; then
      printf '  %-24s not started yet: waiting for the CRD %s  log %s\n' "$impl" "$GATEWAY_CLASSES_CRD" "$LOG_DIR/$impl.log"
    fi
  done
  if apiserver_ready; then
    echo "  /readyz: ok"
    k get nodes 2>&1 | sed 's/^/  /'
    if has_option envoy-gateway; then
      k get gatewayclass "$GATEWAY_CLASS_NAME" 2>&1 | sed 's/^/  /'
    fi
    if has_option traefik; then
      k get gatewayclass "$TRAEFIK_CLASS_NAME" 2>&1 | sed 's/^/  /'
      echo "  dot-ai stand-in, its last events (log $LOG_DIR/dot-ai-standin.log):"
      grep -E '\] (serving|stopped|not serving) ' "$LOG_DIR/dot-ai-standin.log" 2>/dev/null | tail -n 3 | sed 's/^/    /' || true
    fi
    if has_option cert-manager; then
      k get clusterissuers 2>&1 | sed 's/^/  /'
    fi
    if has_option storage=local; then
      echo "  PersistentVolumes of StorageClass $STORAGE_CLASS_NAME: $(k get pv -l "$PV_POOL_LABEL" \
        -o 'jsonpath={range .items[*]}{.status.phase}{"\n"}{end}' 2>/dev/null | sort | uniq -c |
        awk '{ printf "%s%s %s", sep, $1, $2; sep = ", " }')"
    fi
  else
    echo "  /readyz: not ready"
    ok=1
  fi
  print_env | sed 's/^/  /'
  return "$ok"
}

cmd_env() {
  [[ -f "$KUBECONFIG_FILE" ]] || die "no cluster in $CLUSTER_DIR (run: $0 up)"
  print_env
}

cmd_issuer() {
  (($# > 0)) || die "usage: $0 issuer NAME..."
  [[ -f "$PIDS_FILE" && -f "$KUBECONFIG_FILE" ]] || die "no cluster in $CLUSTER_DIR (run: $0 up)"
  load_toolchain
  ensure_issuers "$@"
}

case "${1:-}" in
  up) cmd_up ;;
  down) cmd_down "${2:-}" ;;
  status) cmd_status ;;
  env) cmd_env ;;
  issuer)
    shift
    cmd_issuer "$@"
    ;;
  # The loops `up` starts as processes of their own (not for direct use).
  __supervise-envoy-gateway) supervise_gateway envoy-gateway ;;
  __supervise-traefik) supervise_gateway traefik ;;
  __pv-recycler) pv_recycler ;;
  *)
    echo "usage: $0 up|down [--keep]|status|env|issuer NAME..." >&2
    exit 2
    ;;
esac
