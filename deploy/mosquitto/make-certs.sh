#!/bin/sh
# Certificates for the Lingtan MQTT broker with openssl: one CA, the broker's server
# certificate, and one client certificate per edge (and per hub replica, if wanted).
#
#   make-certs.sh ca     DIR                     DIR/ca.key, DIR/ca.crt (10 years)
#   make-certs.sh server DIR NAME [SAN ...]      DIR/server.key, DIR/server.crt (825 days)
#                                                SANs: DNS names or IP addresses; NAME is one
#   make-certs.sh client DIR USER                DIR/USER.key, DIR/USER.crt (825 days)
#
# USER is the MQTT user name the certificate stands for, the certificate's CN: on the
# mTLS listener (mosquitto.conf, use_identity_as_username) mosquitto takes the CN as the
# user name, so the ACL block `vpp hub edge add EDGE --tenant T` prints for `edge-EDGE`
# confines a certificate made with `make-certs.sh client DIR edge-EDGE` to that edge's
# topics, exactly as it confines the password user (an edge id already registered in
# another tenant gets the user `edge-T.EDGE`: use the name `edge add` prints).
#
# Keys are EC P-256, unencrypted, mode 0600: keep ca.key offline (only `client` and
# `server` need it); give each site only its own USER.key, USER.crt and ca.crt. Days can
# be changed with DAYS=... in the environment. To withdraw a certificate, revoke it with
# `openssl ca` into a CRL and set `crlfile` in mosquitto.conf (see docs/operations.md).
set -eu

usage() {
  sed -n '2,12p' "$0" >&2
  exit 2
}

[ $# -ge 2 ] || usage
command -v openssl >/dev/null 2>&1 || { echo "openssl is missing (apt-get install openssl)" >&2; exit 1; }
cmd=$1
dir=$2
shift 2
mkdir -p "$dir"
umask 077

case "$cmd" in
  ca)
    [ -e "$dir/ca.key" ] && { echo "$dir/ca.key exists: not overwriting a CA" >&2; exit 1; }
    openssl ecparam -name prime256v1 -genkey -noout -out "$dir/ca.key"
    openssl req -x509 -new -sha256 -key "$dir/ca.key" -days "${DAYS:-3650}" \
      -subj "/O=Lingtan VPP/CN=Lingtan MQTT CA" \
      -addext "basicConstraints=critical,CA:TRUE" \
      -addext "keyUsage=critical,keyCertSign,cRLSign" \
      -out "$dir/ca.crt"
    chmod 0644 "$dir/ca.crt"
    echo "$dir/ca.crt"
    ;;
  server|client)
    [ $# -ge 1 ] || usage
    name=$1
    shift
    case "$name" in
      *[!A-Za-z0-9_.-]*|"") echo "invalid name '$name': use A-Z a-z 0-9 _ . -" >&2; exit 2 ;;
    esac
    [ -e "$dir/ca.key" ] || { echo "no CA in $dir: run '$0 ca $dir' first" >&2; exit 1; }
    if [ "$cmd" = server ]; then
      base=server
      sans=""
      for san in "$name" "$@"; do
        case "$san" in
          *[!0-9.]*) case "$san" in *:*) kind=IP ;; *) kind=DNS ;; esac ;;
          *) kind=IP ;;
        esac
        sans="${sans:+$sans,}$kind:$san"
      done
      ext="basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth
subjectAltName=$sans"
    else
      base=$name
      ext="basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=clientAuth"
    fi
    extfile=$(mktemp)
    trap 'rm -f "$extfile" "$dir/$base.csr"' EXIT
    printf '%s\n' "$ext" > "$extfile"
    openssl ecparam -name prime256v1 -genkey -noout -out "$dir/$base.key"
    openssl req -new -sha256 -key "$dir/$base.key" -subj "/O=Lingtan VPP/CN=$name" \
      -out "$dir/$base.csr"
    openssl x509 -req -sha256 -in "$dir/$base.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" \
      -CAcreateserial -days "${DAYS:-825}" -extfile "$extfile" -out "$dir/$base.crt" 2>/dev/null
    chmod 0644 "$dir/$base.crt"
    echo "$dir/$base.crt"
    ;;
  *)
    usage
    ;;
esac
