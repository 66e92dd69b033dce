// The procedure of docs/certificate.md section 6, steps 1 to 11, in order; the first failure
// decides. Version 2 (docs/certificate-v2.md section 5) checks step 7 against its own
// published builds and adds the endorsement steps (endorsement.js) and the depositor
// signature steps (depositor.js): E1, E2, D1 after step 5, E3 to E5, D2 after step 11. The
// check names are `notary verify`'s (notary/verify/certificate.py, endorsement.py and
// depositor.py), so the page, the CLI and its --json output name each step alike.
import { sha256 } from '@noble/hashes/sha2.js';
import { keccak_256 } from '@noble/hashes/sha3.js';
import { Stop, canonical, fromHex, readCertificate, toHex, utcText } from './read.js';
import { rpcClient, word, uint, abiStringHex } from './chain.js';
import { ANCHORED_SIGNATURE, PUBLISHED_CODE_HASHES, PUBLISHED_CODE_HASHES_V2 } from './facts.js';
import * as endorsement from './endorsement.js';
import * as depositor from './depositor.js';

const utf8 = new TextEncoder();
const hex0x = (bytes) => '0x' + toHex(bytes);
const keccakHex = (bytes) => hex0x(keccak_256(bytes));
const ANCHORED_TOPIC = keccakHex(utf8.encode(ANCHORED_SIGNATURE));
const ZERO = '0x' + '0'.repeat(64);
export const EMPTY_CODE_HASH = keccakHex(new Uint8Array(0));

// What each certificate version checks beyond version 1's steps: the registry build step 7
// accepts (only that version's published code), and the steps added offline (after step 5)
// and online (after step 11), in order.
const VERSIONS = {
  1: { build: 'EvidenceRegistry', published: PUBLISHED_CODE_HASHES, offline: [], online: [] },
  2: {
    build: 'ConsortiumRegistry',
    published: PUBLISHED_CODE_HASHES_V2,
    offline: [...endorsement.OFFLINE, ...depositor.OFFLINE],
    online: [...endorsement.ONLINE, ...depositor.ONLINE],
  },
};

function abiEncodeLeaf(values) {  // abi.encode(string, bytes32, bytes32, bytes32, string, bytes32)
  const words = [];
  const tails = [];
  let tailOffset = 6 * 32;
  const pad = (bytes) => { const n = Math.ceil(bytes.length / 32) * 32; const out = new Uint8Array(n); out.set(bytes); return out; };
  const uintWord = (n) => { const w = new Uint8Array(32); let v = BigInt(n); for (let i = 31; i >= 0; i--) { w[i] = Number(v & 0xffn); v >>= 8n; } return w; };
  values.forEach((v, n) => {
    if (n === 0 || n === 4) {
      const bytes = utf8.encode(v);
      words.push(uintWord(tailOffset));
      const tail = [uintWord(bytes.length), pad(bytes)];
      tails.push(...tail);
      tailOffset += 32 + Math.ceil(bytes.length / 32) * 32;
    } else {
      words.push(fromHex(v));
    }
  });
  const parts = [...words, ...tails];
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}
export const leafHash = (values) => keccakHex(keccak_256(abiEncodeLeaf(values)));
function processProof(leaf, proof) {  // OpenZeppelin MerkleProof.processProof, sorted pairs
  let node = leaf;
  for (const p of proof) {
    const [x, y] = node < p ? [node, p] : [p, node];  // same-length lower-case hex: string order = numeric order
    const pair = new Uint8Array(64);
    pair.set(fromHex(x), 0);
    pair.set(fromHex(y), 32);
    node = keccakHex(pair);
  }
  return node;
}

class Run {
  constructor(onCheck) { this.checks = []; this.onCheck = onCheck; }
  add(check) { this.checks.push(check); this.onCheck(check); }
  check(name, passed, ok, failed) {
    this.add({ name, status: passed ? 'pass' : 'fail', detail: passed ? ok : failed });
    if (!passed) throw new Stop('invalid', failed);
  }
  compare(name, ok, source, pairs) {
    const show = (v) => (typeof v === 'string' ? "'" + v + "'" : String(v));
    const wrong = pairs.filter(([, chain, stated]) => chain !== stated)
      .map(([field, chain, stated]) => field + ' is ' + show(chain) + ' ' + source + ', ' + show(stated) + ' in the certificate');
    this.check(name, wrong.length === 0, ok, wrong.join('; '));
  }
  note(check) { this.onCheck(check); }  // shown on the page, not a check of the verdict
  cannotDecide(name, reason) {
    this.add({ name, status: 'unknown', detail: reason });
    throw new Stop('cannot_decide', reason);
  }
}

function offline(run, c, digest) {
  const ev = c.evidence, v = c.leaf.values;
  if (digest) {
    run.check('file sha256', digest.sha256 === ev.sha256, 'SHA-256 of the file is ' + digest.sha256,
      "the file's SHA-256 " + digest.sha256 + ' differs from evidence.sha256 ' + ev.sha256 + ': this is not the deposited file, or it was changed');
    if (ev.sm3 !== null) {
      run.check('file sm3', digest.sm3 === ev.sm3, 'SM3 of the file is ' + digest.sm3,
        "the file's SM3 " + digest.sm3 + ' differs from evidence.sm3 ' + ev.sm3);
    }
    const declared = ev.metadata.size;
    if (Number.isInteger(declared)) {
      run.check('file size', digest.size === declared, digest.size + ' bytes',
        'the file has ' + digest.size + ' bytes, evidence.metadata.size says ' + declared);
    }
  }
  run.check('leaf content', v[1] === '0x' + ev.sha256 && v[2] === (ev.sm3 === null ? ZERO : '0x' + ev.sm3),
    'the leaf commits to the evidence hashes',
    'leaf values 2 and 3 are not evidence.sha256 and evidence.sm3: the leaf does not commit to these hashes');
  const digestHex = '0x' + toHex(sha256(utf8.encode(canonical(ev.metadata))));
  run.check('leaf metadata', v[3] === digestHex, 'the leaf commits to the evidence metadata',
    'leaf value 4 is not the digest of evidence.metadata (the metadata was altered)');
  const computed = leafHash(v);
  run.check('leaf hash', computed === c.leaf.hash, 'leaf hash ' + computed,
    'the leaf values hash to ' + computed + ', not to leaf.hash ' + c.leaf.hash);
  const root = processProof(computed, c.proof);
  run.check('merkle proof', root === c.anchor.root, 'the proof leads to root ' + root,
    'the proof leads to ' + root + ', not to anchor.root ' + c.anchor.root);
}

async function online(run, c, rpcUrl) {
  const a = c.anchor, { build, published } = VERSIONS[c.version];
  const call = rpcClient(rpcUrl);
  // step 6: the node serves this chain and has reached the anchor's block
  const chainId = BigInt(await call('eth_chainId', []));
  if (chainId !== BigInt(a.chain_id)) {
    run.cannotDecide('chain id', 'the node at ' + rpcUrl + ' serves chain ' + chainId + '; the certificate is for chain ' + a.chain_id + ': use a node of that chain');
  }
  run.add({ name: 'chain id', status: 'pass', detail: 'node serves chain ' + chainId });
  const head = BigInt(await call('eth_blockNumber', []));
  if (head < BigInt(a.block_number)) {
    run.cannotDecide('node synced', 'the node at ' + rpcUrl + ' is at block ' + head + ", behind the anchor's block " + a.block_number + ': wait until it has synced, or ask another node');
  }
  run.add({ name: 'node synced', status: 'pass', detail: 'the node is at block ' + head + ', the anchor in ' + a.block_number });
  // step 7: the code at the registry address is the published build
  const code = await call('eth_getCode', [a.registry, 'latest']);
  const codeHash = keccakHex(fromHex(code));
  run.check('registry code', published.includes(codeHash),
    'the code at ' + a.registry + ' is the published ' + build + ' build (' + codeHash + ')',
    'the code at ' + a.registry + ' (hash ' + codeHash + ') is not the published ' + build + ' build (published: ' + [...published].sort().join(', ') + ')');
  run.check('registry code hash field', a.registry_code_hash === codeHash, 'anchor.registry_code_hash names that build',
    'anchor.registry_code_hash is ' + a.registry_code_hash + ", but the registry's code hash is " + codeHash + ' (the published build)');
  // step 8: anchorOf(root)
  const rec = await call('eth_call', [{ to: a.registry, data: '0xcf4ff901' + a.root.slice(2) }, 'latest']);
  const base = Number(uint(word(rec, 0))) / 32;
  const seq = uint(word(rec, base));
  run.check('root anchored', seq !== 0n, 'root is anchor #' + seq, 'root ' + a.root + ' was never anchored in the registry ' + a.registry);
  const recordBlock = uint(word(rec, base + 1)), recordTime = uint(word(rec, base + 2));
  run.compare('anchor record', 'anchored in block ' + recordBlock + ' at ' + utcText(Number(recordTime)), 'in the registry (anchorOf)', [
    ['anchor.sequence', seq, BigInt(a.sequence)],
    ['anchor.block_number', recordBlock, BigInt(a.block_number)],
    ['anchor.block_time', recordTime, BigInt(a.block_time)],
    ['anchor.leaf_count', uint(word(rec, base + 3)), BigInt(a.leaf_count)],
    ['anchor.notary', '0x' + word(rec, base + 4).slice(24), a.notary.toLowerCase()],
    ['anchor.manifest (UTF-8, hex)', abiStringHex(rec, 32 * base + Number(uint(word(rec, base + 6)))), toHex(utf8.encode(a.manifest))],
  ]);
  // step 9: the block
  const block = await call('eth_getBlockByNumber', ['0x' + a.block_number.toString(16), false]);
  if (!block) {
    run.cannotDecide('block', 'the node has no block ' + a.block_number + ', although its registry says the root was anchored in it: the node answers inconsistently, ask another node');
  }
  run.compare('block', 'block ' + a.block_number + ' has the stated hash and time', 'for block ' + a.block_number + ' on the chain', [
    ['anchor.block_hash', String(block.hash).toLowerCase(), a.block_hash],
    ['anchor.block_time', BigInt(block.timestamp), BigInt(a.block_time)],
  ]);
  // step 10: the contract's own proof check
  const n = c.proof.length.toString(16).padStart(64, '0');
  const data = '0x0a02831c' + a.root.slice(2) + (96).toString(16).padStart(64, '0') + c.leaf.hash.slice(2) + n + c.proof.map((p) => p.slice(2)).join('');
  const onChain = BigInt(await call('eth_call', [{ to: a.registry, data }, 'latest']));
  run.check('contract verify', onChain === BigInt(a.block_time), 'the registry contract accepts the proof',
    "the registry contract's verify(root, proof, leaf) does not accept the leaf and proof");
  // step 11: the transaction
  run.check('transaction in block', block.transactions.map((t) => String(t).toLowerCase()).includes(a.tx_hash),
    'transaction ' + a.tx_hash + ' is in block ' + a.block_number,
    'anchor.tx_hash ' + a.tx_hash + ' is not a transaction of block ' + a.block_number + ', where the registry says this root was anchored: the certificate names a transaction that did not anchor it');
  const receipt = await call('eth_getTransactionReceipt', [a.tx_hash]);
  if (!receipt) {
    run.cannotDecide('transaction receipt', 'the node lists transaction ' + a.tx_hash + ' in block ' + a.block_number + ' but serves no receipt for it (pruned transaction index?): ask another node');
  }
  run.check('transaction status', BigInt(receipt.status) === 1n, 'the transaction succeeded',
    'transaction ' + a.tx_hash + ' reverted (receipt status ' + BigInt(receipt.status) + ')');
  run.compare('transaction receipt', 'the transaction is in the stated block and was sent to the registry', 'in the receipt', [
    ['anchor.block_hash', String(receipt.blockHash).toLowerCase(), a.block_hash],
    ['anchor.block_number', BigInt(receipt.blockNumber), BigInt(a.block_number)],
    ['anchor.registry (to)', String(receipt.to).toLowerCase(), a.registry.toLowerCase()],
  ]);
  const events = receipt.logs.filter((l) => String(l.address).toLowerCase() === a.registry.toLowerCase() &&
    l.topics[0] === ANCHORED_TOPIC && l.topics[1] === a.root);
  run.check('anchored event', events.length === 1, 'the transaction emitted the registry\'s Anchored event for this root',
    'transaction ' + a.tx_hash + ' emitted no Anchored event of the registry for root ' + a.root);
  const log = events[0];
  run.compare('event fields', 'the Anchored event carries the certificate\'s anchor', 'in the Anchored event', [
    ['anchor.sequence', uint(log.topics[2].slice(2)), BigInt(a.sequence)],
    ['anchor.leaf_count', uint(word(log.data, 0)), BigInt(a.leaf_count)],
    ['anchor.block_time', uint(word(log.data, 1)), BigInt(a.block_time)],
    ['anchor.notary', '0x' + log.topics[3].slice(26), a.notary.toLowerCase()],
    ['anchor.manifest (UTF-8, hex)', abiStringHex(log.data, Number(uint(word(log.data, 3)))), toHex(utf8.encode(a.manifest))],
  ]);
  return { call, rpcUrl, anchoredLog: log };
}

function valid(c, digest, checks, ctx) {
  const a = c.anchor, ev = c.evidence;
  const when = utcText(a.block_time).replace('T', ' ').replace('Z', ' UTC');
  const name = typeof ev.metadata.name === 'string' ? ev.metadata.name : '(no name)';
  const subject = digest ? 'this file (' + name + ')' : 'content with SHA-256 ' + ev.sha256;
  return {
    outcome: 'valid',
    reason: subject + ' existed, unchanged, no later than ' + when,
    checks,
    facts: {
      when, when_beijing: utcText(a.block_time + 8 * 3600).replace('T', ' ').replace('Z', ''), chain_id: a.chain_id, block_number: a.block_number, registry: a.registry, notary: a.notary,
      depositor: c.leaf.values[4], name, sha256: ev.sha256, sm3: ev.sm3, file_checked: Boolean(digest),
      development_chain: a.chain_id === 31337,
      ...(ctx.endorsement ? { endorsement: ctx.endorsement, depositor_signature: ctx.depositor } : {}),
    },
  };
}

/**
 * Verify certificate bytes (and the file's digest, or null) against the node at rpcUrl.
 * `onCheck(check)` is called as each check completes. Resolves to
 * {outcome: 'valid'|'invalid'|'cannot_decide', reason, checks, facts?}.
 */
export async function verifyCertificate(bytes, digest, rpcUrl, onCheck = () => {}) {
  const run = new Run(onCheck);
  let c;
  try {
    c = readCertificate(bytes);
    run.add({ name: 'certificate', status: 'pass', detail: 'the certificate follows the version ' + c.version + ' format', version: c.version });
  } catch (e) {
    if (!(e instanceof Stop)) throw e;
    run.add({ name: 'certificate', status: e.outcome === 'invalid' ? 'fail' : 'unknown', detail: e.message });
    return { outcome: e.outcome, reason: e.message, checks: run.checks };
  }
  const steps = VERSIONS[c.version];
  try {
    offline(run, c, digest);
    for (const step of steps.offline) step(run, c);
  } catch (e) {
    if (e instanceof Stop) return { outcome: e.outcome, reason: e.message, checks: run.checks, certificate: c };
    throw e;
  }
  let ctx;
  try {
    ctx = await online(run, c, rpcUrl);
    for (const step of steps.online) await step(run, c, ctx);
  } catch (e) {
    if (e instanceof Stop) return { outcome: e.outcome, reason: e.message, checks: run.checks, certificate: c };
    // an answer of the wrong shape (a missing field, not hex): the node failed to answer
    const reason = 'the node at ' + rpcUrl + ' gave an answer this verifier cannot read (' + e.message + '); ask another node of chain ' + c.anchor.chain_id;
    run.add({ name: 'node answer', status: 'unknown', detail: reason });
    return { outcome: 'cannot_decide', reason, checks: run.checks, certificate: c };
  }
  return { ...valid(c, digest, run.checks, ctx), certificate: c };
}
