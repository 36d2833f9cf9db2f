#!/usr/bin/env bash
# A throwaway local Kubernetes control plane for the project's tests and sandbox:
# etcd, kube-apiserver, kube-controller-manager, kube-scheduler and kwok (fake kubelets for one or
# more fake Nodes, so scheduled pods become Running and Ready), all built from Go modules by
# toolchain/build-cluster.sh, all listening on 127.0.0.1 only, on free ports picked at start.
#
#   toolchain/cluster.sh up       start it (builds the toolchain first if needed); prints the env.
#                                 When it is already up and healthy, only prints the env.
#   toolchain/cluster.sh down [--keep]
#                                 stop exactly the processes `up` started; remove the state
#                                 directory unless --keep (or DOT_AI_GATEWAY_CLUSTER_KEEP=1).
#   toolchain/cluster.sh status   each component, its pid and port, /readyz and the nodes;
#                                 exit 0 when up and healthy, 1 otherwise.
#   toolchain/cluster.sh env      prints `export KUBECONFIG=...` (exit 1 when there is no cluster).
#
# Environment:
#   DOT_AI_GATEWAY_CLUSTER_DIR      state directory (default $DOT_AI_GATEWAY_CACHE/cluster): pki/,
#                                   kubeconfig, logs/<component>.log, pids, ports.env, etcd data.
#   DOT_AI_GATEWAY_CLUSTER_TIMEOUT  seconds each startup wait may take (default 90).
#   DOT_AI_GATEWAY_CLUSTER_NODES    number of fake Nodes (default 1).
# stdout carries only the env lines (`eval "$(toolchain/cluster.sh up)"` works); logs go to stderr.
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
# Start order; `down` stops in the reverse order.
COMPONENTS=(etcd kube-apiserver kube-controller-manager kube-scheduler kwok)

log() { printf '[cluster %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() {
  log "ERROR: $*"
  exit 1
}

# --- processes --------------------------------------------------------------------------------

# pid_of NAME -> the recorded pid of a component (empty if none).
pid_of() { [[ -f "$PIDS_FILE" ]] && awk -v n="$1" '$1 == n { print $2 }' "$PIDS_FILE" | tail -n 1; }
# exe_of NAME -> the recorded binary of a component.
exe_of() { [[ -f "$PIDS_FILE" ]] && awk -v n="$1" '$1 == n { print $3 }' "$PIDS_FILE" | tail -n 1; }

# is_ours PID EXE: the process is alive and still runs EXE (so a reused pid is never touched).
is_ours() {
  local pid=$1 exe=$2 actual
  [[ -n "$pid" && -n "$exe" ]] || return 1
  actual=$(readlink "/proc/$pid/exe" 2>/dev/null) || return 1
  [[ "$actual" == "$exe" || "$actual" == "$exe (deleted)" ]]
}

component_alive() { is_ours "$(pid_of "$1")" "$(exe_of "$1")"; }

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
  printf '%s %s %s\n' "$name" "$pid" "$bin" >>"$PIDS_FILE"
  # Not a job of this shell any more: no "Killed" notices when `fail` stops it.
  disown "$pid"
  # Until setsid has exec'd the binary, the pid runs bash or setsid; later checks rely on it.
  local deadline=$((SECONDS + 10))
  until is_ours "$pid" "$bin"; do
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

# stop_all: stops every recorded component that is still ours, in the reverse start order (the
# apiserver before etcd, so its graceful shutdown finds etcd), each with SIGTERM and, when it is
# still there after 15 s, SIGKILL.
stop_all() {
  [[ -f "$PIDS_FILE" ]] || return 0
  local i name pid exe deadline
  for ((i = ${#COMPONENTS[@]} - 1; i >= 0; i--)); do
    name=${COMPONENTS[i]}
    pid=$(pid_of "$name")
    exe=$(exe_of "$name")
    is_ours "$pid" "$exe" || continue
    kill -TERM "$pid" 2>/dev/null || true
    deadline=$((SECONDS + 15))
    while is_ours "$pid" "$exe" && ((SECONDS < deadline)); do sleep 0.1; done
    if is_ours "$pid" "$exe"; then
      log "$name (pid $pid) did not stop within 15 s of SIGTERM; SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      deadline=$((SECONDS + 5))
      while is_ours "$pid" "$exe" && ((SECONDS < deadline)); do sleep 0.1; done
    fi
  done
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

apiserver_ready() { [[ "$(k get --raw /readyz 2>/dev/null)" == ok ]]; }

# healthy: every component runs and the apiserver is ready.
healthy() {
  [[ -f "$PIDS_FILE" && -f "$KUBECONFIG_FILE" ]] || return 1
  local name
  for name in "${COMPONENTS[@]}"; do component_alive "$name" || return 1; done
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

print_env() { printf 'export KUBECONFIG=%q\n' "$KUBECONFIG_FILE"; }

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
  if [[ -f "$PIDS_FILE" ]]; then
    load_toolchain
    if healthy; then
      log "already up and healthy ($CLUSTER_DIR)"
      print_env
      return 0
    fi
    log "a previous cluster in $CLUSTER_DIR is not healthy: stopping what is left of it and starting anew"
    stop_all
  fi
  remove_state
  load_toolchain build
  mkdir -p "$CLUSTER_DIR" "$LOG_DIR"
  : >"$PIDS_FILE"

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

  print_env >"$CLUSTER_DIR/env"
  log "up in $((SECONDS - t0)) s: $NODES fake node(s); state in $CLUSTER_DIR"
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
  for name in "${COMPONENTS[@]}"; do
    component_alive "$name" && die "$name (pid $(pid_of "$name")) is still running"
  done
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
  local name ok=0
  for name in "${COMPONENTS[@]}"; do
    if component_alive "$name"; then
      printf '  %-24s running (pid %s)  log %s\n' "$name" "$(pid_of "$name")" "$LOG_DIR/$name.log"
    else
      printf '  %-24s NOT RUNNING  log %s\n' "$name" "$LOG_DIR/$name.log"
      ok=1
    fi
  done
  if apiserver_ready; then
    echo "  /readyz: ok"
    k get nodes 2>&1 | sed 's/^/  /'
  else
    echo "  /readyz: not ready"
    ok=1
  fi
  echo "  $(print_env)"
  return "$ok"
}

cmd_env() {
  [[ -f "$KUBECONFIG_FILE" ]] || die "no cluster in $CLUSTER_DIR (run: $0 up)"
  print_env
}

case "${1:-}" in
  up) cmd_up ;;
  down) cmd_down "${2:-}" ;;
  status) cmd_status ;;
  env) cmd_env ;;
  *)
    echo "usage: $0 up|down [--keep]|status|env" >&2
    exit 2
    ;;
esac
