// An independent certificate verifier, written from docs/certificate.md alone.
// It shares no code with the notary: Node's crypto for SHA-256/SM3, @openzeppelin/merkle-tree
// for the leaf and proof, ethereum-cryptography's keccak for the code hash, fetch for JSON-RPC.
//   node verify_certificate.js CERT.json RPC_URL PUBLISHED_CODE_HASH [FILE]
// With RPC_URL "offline", it stops after step 5 and reports "offline-valid".
// It checks the document's shape only as far as the steps need it: it does not validate the
// JSON Schema (step 1), which the reference verifier does.
// Prints {"outcome": "valid"|"invalid"|"undecided", "reason": "..."}; exit 0/1/2 likewise.
'use strict';
const fs = require('fs');
const path = require('path');
const crypto = require('crypto');
const modules = process.env.NOTARY_NODE_MODULES || path.join(__dirname, '..', '..', 'hardhat-free-devnet', 'node_modules');
const { StandardMerkleTree } = require(path.join(modules, '@openzeppelin', 'merkle-tree'));
const { keccak256 } = require(path.join(modules, 'ethereum-cryptography', 'keccak.js'));

const [certPath, rpc, publishedCodeHash, filePath] = process.argv.slice(2);
const done = (outcome, reason) => {
  process.stdout.write(JSON.stringify({ outcome, reason }) + '\n');
  process.exit({ valid: 0, 'offline-valid': 0, invalid: 1, undecided: 2 }[outcome]);
};
const hex = (bytes) => '0x' + Buffer.from(bytes).toString('hex');
const ENCODING = ['string', 'bytes32', 'bytes32', 'bytes32', 'string', 'bytes32'];

function canonical(value) {  // section 3, canonical metadata
  if (Array.isArray(value)) return '[' + value.map(canonical).join(',') + ']';
  if (value !== null && typeof value === 'object') {
    const keys = Object.keys(value).sort();
    return '{' + keys.map(k => JSON.stringify(k) + ':' + canonical(value[k])).join(',') + '}';
  }
  return JSON.stringify(value);
}

async function call(method, params) {
  let res;
  try {
    res = await fetch(rpc, { method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }) });
  } catch (e) { done('undecided', 'cannot reach ' + rpc); }
  const body = await res.json();
  if (body.error) done('undecided', method + ': ' + body.error.message);
  return body.result;
}
const word = (data, i) => data.slice(2 + 64 * i, 2 + 64 * (i + 1));

async function main() {
  let c;
  try { c = JSON.parse(fs.readFileSync(certPath, 'utf8')); } catch (e) { done('invalid', 'not JSON'); }
  if (c === null || typeof c !== 'object' || c.format !== 'evidence-notary-certificate') done('invalid', 'not a certificate');
  if (Number.isInteger(c.version) && c.version > 1) done('undecided', 'unknown version ' + c.version);
  if (c.version !== 1 || !c.evidence || !c.leaf || !c.anchor || !Array.isArray(c.proof)) done('invalid', 'schema');
  const ev = c.evidence, leaf = c.leaf, a = c.anchor, v = leaf.values;
  if (!Array.isArray(v) || v.length !== 6 || v[0] !== 'notary.evidence.v1') done('invalid', 'leaf values');
  // step 2
  if (filePath) {
    const data = fs.readFileSync(filePath);
    if (crypto.createHash('sha256').update(data).digest('hex') !== ev.sha256) done('invalid', 'file sha256');
    if (ev.sm3 !== null && crypto.createHash('sm3').update(data).digest('hex') !== ev.sm3) done('invalid', 'file sm3');
    if (Number.isInteger(ev.metadata.size) && data.length !== ev.metadata.size) done('invalid', 'file size');
  }
  // step 3
  const zero = '0x' + '0'.repeat(64);
  if (v[1] !== '0x' + ev.sha256 || v[2] !== (ev.sm3 === null ? zero : '0x' + ev.sm3)) done('invalid', 'leaf content');
  const digest = crypto.createHash('sha256').update(Buffer.from(canonical(ev.metadata), 'utf8')).digest('hex');
  if (v[3] !== '0x' + digest) done('invalid', 'leaf metadata');
  // steps 4 and 5
  let leafHash, proofOk;
  try {
    proofOk = StandardMerkleTree.verify(a.root, ENCODING, v, c.proof);
    leafHash = StandardMerkleTree.of([v], ENCODING).root;  // a one-leaf tree's root is the leaf hash
  } catch (e) { done('invalid', 'leaf or proof malformed: ' + e.message); }
  if (leafHash !== leaf.hash) done('invalid', 'leaf hash');
  if (!proofOk) done('invalid', 'merkle proof');
  if (rpc === 'offline') done('offline-valid', 'steps 1 to 5 passed');
  // step 6
  if (parseInt(await call('eth_chainId', []), 16) !== a.chain_id) done('undecided', 'other chain');
  // step 7
  const code = await call('eth_getCode', [a.registry, 'latest']);
  const codeHash = hex(keccak256(Buffer.from(code.slice(2), 'hex')));
  if (codeHash !== a.registry_code_hash || codeHash !== publishedCodeHash) done('invalid', 'registry code');
  // step 8
  const rec = await call('eth_call', [{ to: a.registry, data: '0xcf4ff901' + a.root.slice(2) }, 'latest']);
  const seq = parseInt(word(rec, 1), 16);
  if (seq === 0) done('invalid', 'root not anchored');
  if (seq !== a.sequence || parseInt(word(rec, 2), 16) !== a.block_number ||
      parseInt(word(rec, 3), 16) !== a.block_time || parseInt(word(rec, 4), 16) !== a.leaf_count) done('invalid', 'anchor record');
  // step 9
  const block = await call('eth_getBlockByNumber', ['0x' + a.block_number.toString(16), false]);
  if (!block || block.hash !== a.block_hash || parseInt(block.timestamp, 16) !== a.block_time) done('invalid', 'block');
  // step 10
  const n = c.proof.length.toString(16).padStart(64, '0');
  const data = '0x0a02831c' + a.root.slice(2) + (96).toString(16).padStart(64, '0') + leaf.hash.slice(2) + n + c.proof.map(p => p.slice(2)).join('');
  if (parseInt((await call('eth_call', [{ to: a.registry, data }, 'latest'])).slice(2), 16) !== a.block_time) done('invalid', 'contract verify');
  // step 11
  const receipt = await call('eth_getTransactionReceipt', [a.tx_hash]);
  const topic = '0xdba15e8a6db1ae8f249c554ac61c473d6a4b0942de98d344aa20a772c58dba4d';
  const logged = receipt && receipt.status === '0x1' && receipt.blockHash === a.block_hash &&
    receipt.logs.some(l => l.address.toLowerCase() === a.registry.toLowerCase() && l.topics[0] === topic && l.topics[1] === a.root);
  if (!logged) done('invalid', 'transaction');
  done('valid', 'existed no later than ' + new Date(a.block_time * 1000).toISOString());
}
main();
