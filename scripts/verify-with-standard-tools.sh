#!/usr/bin/env bash
# Check a certificate with standard tools only: sha256sum, curl, jq. No notary software.
#   scripts/verify-with-standard-tools.sh CERTIFICATE FILE RPC_URL
# Checks: the file's SHA-256; the chain id; that the registry holds the root with the
# stated block and time (eth_call anchorOf); the block hash and time; and the registry's
# own Merkle check of the proof (eth_call verify). What it cannot do without keccak256:
# recompute the leaf hash from the leaf values (use `notary verify` for that step).
# Exit 0: all checks passed. 1: a check failed. 2: usage or RPC error.
set -euo pipefail
[ $# -eq 3 ] || { echo "usage: $0 CERTIFICATE FILE RPC_URL" >&2; exit 2; }
CERT=$1 FILE=$2 RPC=$3
fail() { echo "FAIL: $*"; exit 1; }
ok() { echo "ok:   $*"; }
rpc() {
  curl -sf -H 'content-type: application/json' "$RPC" --data \
    "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"$1\",\"params\":$2}" | jq -r .result
}
word() { echo "${1:$((2 + 64 * $2)):64}"; }   # 32-byte word N of 0x-hex data

want=$(jq -r .evidence.sha256 "$CERT")
have=$(sha256sum "$FILE" | cut -d' ' -f1)
[ "$have" = "$want" ] || fail "sha256sum of the file is $have, the certificate says $want"
ok "sha256sum matches evidence.sha256"

chain=$(rpc eth_chainId '[]') || { echo "cannot reach $RPC" >&2; exit 2; }
[ "$((chain))" = "$(jq -r .anchor.chain_id "$CERT")" ] || { echo "node serves chain $((chain))" >&2; exit 2; }
ok "node serves chain $((chain))"

REG=$(jq -r .anchor.registry "$CERT"); ROOT=$(jq -r .anchor.root "$CERT")
out=$(rpc eth_call "[{\"to\":\"$REG\",\"data\":\"0xcf4ff901${ROOT#0x}\"},\"latest\"]")
[ -n "$out" ] && [ "$out" != null ] || fail "no answer from a registry at $REG"
seq=$((16#$(word "$out" 1))); number=$((16#$(word "$out" 2))); time=$((16#$(word "$out" 3)))
[ "$seq" -ne 0 ] || fail "root $ROOT was never anchored in $REG"
[ "$number" = "$(jq -r .anchor.block_number "$CERT")" ] || fail "anchored in block $number, not the stated one"
[ "$time" = "$(jq -r .anchor.block_time "$CERT")" ] || fail "anchored at time $time, not the stated one"
ok "root is anchor #$seq, block $number, time $time ($(date -u -d "@$time" +%FT%TZ))"

block=$(curl -sf -H 'content-type: application/json' "$RPC" --data \
  "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_getBlockByNumber\",\"params\":[\"$(printf 0x%x "$number")\",false]}")
[ "$(echo "$block" | jq -r .result.hash)" = "$(jq -r .anchor.block_hash "$CERT")" ] || fail "block $number has another hash"
[ "$(($(echo "$block" | jq -r .result.timestamp)))" = "$time" ] || fail "block $number has another time"
ok "block $number has the stated hash and time"

# verify(bytes32 root, bytes32[] proof, bytes32 leaf): head = root, offset 0x60, leaf; then the array
LEAF=$(jq -r .leaf.hash "$CERT"); n=$(jq '.proof | length' "$CERT")
data="0x0a02831c${ROOT#0x}$(printf %064x 96)${LEAF#0x}$(printf %064x "$n")$(jq -r '.proof[] | ltrimstr("0x")' "$CERT" | tr -d '\n')"
res=$(rpc eth_call "[{\"to\":\"$REG\",\"data\":\"$data\"},\"latest\"]")
[ "$((16#${res#0x}))" = "$time" ] || fail "the registry does not accept the leaf hash and proof"
ok "the registry's verify() accepts leaf.hash and the proof"
echo "All checks passed. Not checked here: that leaf.hash is keccak256 of the leaf values (needs keccak256)."
