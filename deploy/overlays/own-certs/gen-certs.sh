#!/bin/sh
# Writes ca.crt, tls.crt and tls.key next to this script: a private CA (10 years) and a server
# certificate it signs (1 year) for the Service kjournal in namespace kjournal, the name the
# kube-apiserver's aggregator connects to. Needs openssl 1.1.1 or later. Refuses to overwrite.
#   NAMESPACE=... SERVICE=... DAYS=... ./gen-certs.sh
set -eu
cd "$(dirname "$0")"
ns=${NAMESPACE:-kjournal}
svc=${SERVICE:-kjournal}
days=${DAYS:-365}
for f in ca.crt tls.crt tls.key; do
  if [ -e "$f" ]; then echo "gen-certs.sh: $f exists; remove ca.crt tls.crt tls.key first" >&2; exit 1; fi
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 3650 \
  -subj "/CN=kjournal-ca" -keyout "$tmp/ca.key" -out ca.crt \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
  -subj "/CN=$svc.$ns.svc" -keyout tls.key -out "$tmp/tls.csr" 2>/dev/null
printf 'subjectAltName=DNS:%s.%s.svc,DNS:%s.%s.svc.cluster.local\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature\nbasicConstraints=critical,CA:FALSE\n' \
  "$svc" "$ns" "$svc" "$ns" > "$tmp/ext"
openssl x509 -req -in "$tmp/tls.csr" -CA ca.crt -CAkey "$tmp/ca.key" -CAcreateserial \
  -CAserial "$tmp/ca.srl" -days "$days" -extfile "$tmp/ext" -out tls.crt 2>/dev/null
chmod 600 tls.key
echo "gen-certs.sh: wrote ca.crt, tls.crt, tls.key for $svc.$ns.svc (the CA key was not kept)"
