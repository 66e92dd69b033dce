// What an endorser and a depositor sign and who signed it (docs/certificate-v2.md sections 4
// and 4b), written out by hand so a court's expert can follow it: EIP-712 typed-data hashing
// of the Endorsement and Deposit structs under the NotaryConsortium domain, and secp256k1
// public-key recovery (ecrecover).
// keccak256 is @noble/hashes', the curve arithmetic @noble/curves'; nothing else.
import { keccak_256 } from '@noble/hashes/sha3.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { fromHex, toHex } from './read.js';

const utf8 = new TextEncoder();
const keccak = (bytes) => keccak_256(bytes);
const keccakText = (text) => keccak(utf8.encode(text));
function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}
/** abi.encode of one value: a 32-byte word, big-endian, left-padded with zeros. */
function word(value) {
  const w = new Uint8Array(32);
  if (typeof value === 'string') {  // 0x-hex: bytes32, or an address (20 bytes, left-padded)
    const bytes = fromHex(value);
    w.set(bytes, 32 - bytes.length);
    return w;
  }
  let v = BigInt(value);
  for (let i = 31; i >= 0; i--) { w[i] = Number(v & 0xffn); v >>= 8n; }
  return w;
}

export const DOMAIN_TYPEHASH = keccakText('EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)');
export const ENDORSEMENT_TYPEHASH = keccakText('Endorsement(bytes32 root,uint32 leafCount,string manifest,uint64 batchTime)');

/** keccak256(abi.encode(domain type, keccak("NotaryConsortium"), keccak("1"), chainId, registry)) */
export const domainSeparator = (chainId, registry) => keccak(concat(
  DOMAIN_TYPEHASH, keccakText('NotaryConsortium'), keccakText('1'), word(chainId), word(registry)));

/** keccak256(abi.encode(Endorsement type, root, leafCount, keccak(manifest), batchTime)) */
export const structHash = (anchor, batchTime) => keccak(concat(
  ENDORSEMENT_TYPEHASH, word(anchor.root), word(anchor.leaf_count), keccakText(anchor.manifest), word(batchTime)));

/** The digest every endorser of this anchor signed: keccak256(0x19 0x01 ‖ domain ‖ struct). */
export const endorsementDigest = (anchor) => keccak(concat(
  new Uint8Array([0x19, 0x01]), domainSeparator(anchor.chain_id, anchor.registry), structHash(anchor, anchor.batch_time)));

export const DEPOSIT_TYPEHASH = keccakText('Deposit(bytes32 sha256,bytes32 sm3,bytes32 metadataDigest,string depositor)');

/**
 * The digest a depositor key signed (section 4b): keccak256(0x19 0x01 ‖ domain ‖
 * keccak256(abi.encode(Deposit type, sha256, sm3, metadata digest, keccak(identity)))), with
 * `values` the leaf's values (2 sha256, 3 sm3 or zero, 4 metadata digest) and `identity` the
 * leaf's depositor before ';signer='.
 */
export const depositDigest = (anchor, values, identity) => keccak(concat(
  new Uint8Array([0x19, 0x01]), domainSeparator(anchor.chain_id, anchor.registry),
  keccak(concat(DEPOSIT_TYPEHASH, word(values[1]), word(values[2]), word(values[3]), keccakText(identity)))));

/** secp256k1's n / 2: a larger s is the malleable twin of a signature (EIP-2), refused. */
export const HALF_N = 0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0n;

/**
 * The address (0x + 40 lower-case hex) whose key made the 65-byte signature r ‖ s ‖ v over
 * `digest`, as OpenZeppelin's ECDSA.recover: v 27 or 28 and s at most n/2, else it throws
 * NotAccepted (saying which, in `notary verify`'s words: v first); a signature no key made
 * (r off the curve...) throws an Error.
 */
export class NotAccepted extends Error {}
export function recoverSigner(digest, signatureHex) {
  const raw = fromHex(signatureHex);
  const s = BigInt('0x' + toHex(raw.subarray(32, 64))), v = raw[64];
  if (v !== 27 && v !== 28) throw new NotAccepted("a signature's v must be 27 or 28");
  if (s > HALF_N) throw new NotAccepted("a signature's s must be at most n/2 (the malleable twin is refused)");
  const key = secp256k1.Signature.fromBytes(raw.subarray(0, 64), 'compact').addRecoveryBit(v - 27)
    .recoverPublicKey(digest).toBytes(false);  // 0x04 ‖ x ‖ y
  return '0x' + toHex(keccak(key.subarray(1)).subarray(12));
}
