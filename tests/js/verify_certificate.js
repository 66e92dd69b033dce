// An independent certificate verifier, written from docs/certificate.md (version 1) and
// docs/certificate-v2.md (version 2: endorsements and depositor signatures, secp256k1 from ethereum-cryptography) alone.
// It shares no code with the notary: its own strict JSON reader and hand-written schema
// checks (section 2), Node's crypto for SHA-256/SM3, @openzeppelin/merkle-tree for the leaf
// and proof, ethereum-cryptography's keccak for code hashes and EIP-55, fetch for JSON-RPC.
//   node verify_certificate.js CERT.json RPC_URL [FILE]
// With RPC_URL "offline", it stops after step 5 and reports "offline-valid".
// Prints {"outcome": "valid"|"invalid"|"cannot_decide", "reason": "..."}; exit 0/1/2.
'use strict';
const fs = require('fs');
const path = require('path');
const crypto = require('crypto');
const modules = process.env.NOTARY_NODE_MODULES || path.join(__dirname, '..', '..', 'hardhat-free-devnet', 'node_modules');
const { StandardMerkleTree } = require(path.join(modules, '@openzeppelin', 'merkle-tree'));
const { keccak256 } = require(path.join(modules, 'ethereum-cryptography', 'keccak.js'));

// Section 5: the published runtime code hash of EvidenceRegistry, frozen for version 1.
const PUBLISHED_CODE_HASHES = ['0x02b19567145d3003d2344fb0c416d000303fcccb1b04cc40f222ae210e60500e'];
// certificate-v2.md section 3: ConsortiumRegistry, frozen for version 2 (and only for it).
const PUBLISHED_CODE_HASHES_V2 = ['0xeca162cb62e308acb1f90a736ebfebb9b60eb018c454328db18eb3ae8e29e4c3',
  '0x9ca95464c1a72847eb55452da5d2ba0a6193aacdfb2399f146a5403c60eec049'];  // build 2 (DEPOSITOR), build 1
const { secp256k1 } = require(path.join(modules, 'ethereum-cryptography', 'secp256k1.js'));
const ANCHORED_TOPIC = '0xdba15e8a6db1ae8f249c554ac61c473d6a4b0942de98d344aa20a772c58dba4d';
const MAX_BYTES = 1048576, MAX_DEPTH = 64, MAX_SAFE = 2n ** 53n - 1n;
const ENCODING = ['string', 'bytes32', 'bytes32', 'bytes32', 'string', 'bytes32'];

const [certPath, rpc, filePath] = process.argv.slice(2);
class Verdict extends Error { constructor(outcome, reason) { super(reason); this.outcome = outcome; } }
const invalid = (reason) => { throw new Verdict('invalid', reason); };
const cannotDecide = (reason) => { throw new Verdict('cannot_decide', reason); };
const hex = (bytes) => '0x' + Buffer.from(bytes).toString('hex');

// ---- Section 2, rules 1 and 2: size, depth, strict JSON ----
function depthOf(bytes) {  // rule 1, exactly as section 2 says: on the bytes, before parsing
  const shape = bytes.toString('latin1').split('\\\\').join('').split('\\"').join('')
    .replace(/[^"[\]{}]/g, '').replace(/"[^"]*"/g, '');
  let level = 0, deepest = 0;
  for (const ch of shape) {
    if (ch === '[' || ch === '{') deepest = Math.max(deepest, ++level);
    else if (ch === ']' || ch === '}') level--;
  }
  return deepest;
}

class Num { constructor(lexeme) { this.lexeme = lexeme; } }
function parseJson(text) {  // RFC 8259, duplicate keys refused, numbers kept as lexemes
  let i = 0;
  const fail = (what) => invalid('not valid JSON: ' + what + ' at offset ' + i);
  const ws = () => { while (' \t\n\r'.includes(text[i]) && i < text.length) i++; };
  function value() {
    ws();
    const c = text[i];
    if (c === '{') {
      i++; const obj = Object.create(null); ws();
      if (text[i] === '}') { i++; return obj; }
      for (;;) {
        ws(); if (text[i] !== '"') fail('expected a key');
        const key = string();
        if (Object.prototype.hasOwnProperty.call(obj, key)) invalid('duplicate key ' + JSON.stringify(key));
        ws(); if (text[i++] !== ':') fail('expected :');
        obj[key] = value(); ws();
        if (text[i] === ',') { i++; continue; }
        if (text[i] === '}') { i++; return obj; }
        fail('expected , or }');
      }
    }
    if (c === '[') {
      i++; const arr = []; ws();
      if (text[i] === ']') { i++; return arr; }
      for (;;) {
        arr.push(value()); ws();
        if (text[i] === ',') { i++; continue; }
        if (text[i] === ']') { i++; return arr; }
        fail('expected , or ]');
      }
    }
    if (c === '"') return string();
    for (const [word, v] of [['true', true], ['false', false], ['null', null]]) {
      if (text.startsWith(word, i)) { i += word.length; return v; }
    }
    const m = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(text.slice(i, i + 400));
    if (!m || !m[0]) fail('unexpected character');
    i += m[0].length;
    return new Num(m[0]);
  }
  function string() {
    i++; let out = '';
    for (;;) {
      if (i >= text.length) fail('unterminated string');
      const c = text[i++];
      if (c === '"') return out;
      if (c.charCodeAt(0) < 0x20) fail('control character in a string');
      if (c !== '\\') { out += c; continue; }
      const e = text[i++];
      const simple = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' }[e];
      if (simple !== undefined) { out += simple; continue; }
      if (e !== 'u' || !/^[0-9a-fA-F]{4}$/.test(text.slice(i, i + 4))) fail('bad escape');
      out += String.fromCharCode(parseInt(text.slice(i, i + 4), 16)); i += 4;
    }
  }
  const v = value(); ws();
  if (i !== text.length) fail('extra text');
  return v;
}

// ---- rules 3 to 6 ----
const isObj = (v) => v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Num);
const isInt = (v) => v instanceof Num && /^(0|[1-9][0-9]*)$/.test(v.lexeme);
const codePoints = (s) => [...s].length;  // lengths count code points

function numbersToIntegers(v) {  // rule 3
  if (v instanceof Num) {
    if (!isInt(v)) invalid('number ' + v.lexeme + ' is not an integer written in plain digits');
    if (BigInt(v.lexeme) > MAX_SAFE) invalid('number ' + v.lexeme + ' is larger than 2^53 - 1');
    return Number(v.lexeme);
  }
  if (Array.isArray(v)) return v.map(numbersToIntegers);
  if (isObj(v)) { const o = Object.create(null); for (const k of Object.keys(v)) o[k] = numbersToIntegers(v[k]); return o; }
  return v;
}
function scalarValues(v) {  // rule 4: strings are Unicode scalar values (no lone surrogates)
  const check = (s) => { for (const ch of s) { const cp = ch.codePointAt(0); if (cp >= 0xd800 && cp <= 0xdfff) invalid('lone surrogate in a string'); } };
  if (typeof v === 'string') check(v);
  else if (Array.isArray(v)) v.forEach(scalarValues);
  else if (isObj(v)) for (const k of Object.keys(v)) { check(k); scalarValues(v[k]); }
}

// ECMA regexes exactly as in the schema (JavaScript is the schema's own dialect)
const HEX32 = /^[0-9a-f]{64}$/, HEX32X = /^0x[0-9a-f]{64}$/, ADDRESS = /^0x[0-9a-fA-F]{40}$/;
const KEY = /^[a-z][a-z0-9_]{0,63}$/, UTC = /^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$/;
const integer = (v) => typeof v === 'number' && Number.isInteger(v);
const str = (v) => typeof v === 'string';
function exactKeys(o, where, required) {
  if (!isObj(o)) invalid(where + ' must be an object');
  for (const k of Object.keys(o)) if (!required.includes(k)) invalid('unknown field ' + where + '.' + k);
  for (const k of required) if (!(k in o)) invalid('missing ' + where + '.' + k);
}
function schema(c) {  // rule 5: the published JSON Schema (v1 or v2), checked by hand
  const v2 = c.version === 2;
  exactKeys(c, 'certificate', ['format', 'version', 'evidence', 'leaf', 'proof', 'anchor', 'verification'].concat(v2 ? ['depositor_signature'] : []));
  if (c.version !== 1 && !v2) invalid('version must be 1 or 2');
  if (v2 && c.depositor_signature !== null) {
    const d = c.depositor_signature;
    exactKeys(d, 'depositor_signature', ['signer', 'organization_id', 'organization', 'signature']);
    if (!str(d.signer) || !ADDRESS.test(d.signer)) invalid('depositor_signature.signer must be an address');
    if (!str(d.organization_id) || !HEX32X.test(d.organization_id)) invalid('depositor_signature.organization_id');
    if (!str(d.organization) || codePoints(d.organization) < 1 || codePoints(d.organization) > 128) invalid('depositor_signature.organization');
    if (!str(d.signature) || !/^0x[0-9a-f]{130}$/.test(d.signature)) invalid('depositor_signature.signature');
  }
  const ev = c.evidence, lf = c.leaf, a = c.anchor, vf = c.verification;
  exactKeys(ev, 'evidence', ['sha256', 'sm3', 'metadata']);
  if (!str(ev.sha256) || !HEX32.test(ev.sha256)) invalid('evidence.sha256 must be 64 lower-case hex digits');
  if (ev.sm3 !== null && !(str(ev.sm3) && HEX32.test(ev.sm3))) invalid('evidence.sm3 must be 64 lower-case hex digits or null');
  if (!isObj(ev.metadata)) invalid('evidence.metadata must be an object');
  for (const [k, v] of Object.entries(ev.metadata)) {
    if (!KEY.test(k)) invalid('metadata key ' + k);
    const okString = (s) => str(s) && codePoints(s) <= 4096;
    const ok = okString(v) || (integer(v) && v >= 0) || (Array.isArray(v) && v.length <= 64 && v.every(okString));
    if (!ok) invalid('metadata ' + k + ': not a string, integer or list of strings within limits');
  }
  if ('name' in ev.metadata && !str(ev.metadata.name)) invalid('metadata name must be a string');
  if ('size' in ev.metadata && !integer(ev.metadata.size)) invalid('metadata size must be an integer');
  if ('media_type' in ev.metadata && !str(ev.metadata.media_type)) invalid('metadata media_type must be a string');
  exactKeys(lf, 'leaf', ['scheme', 'encoding', 'values', 'hash']);
  if (lf.scheme !== 'notary.evidence.v1') invalid('leaf.scheme');
  if (!Array.isArray(lf.encoding) || JSON.stringify(lf.encoding) !== JSON.stringify(ENCODING)) invalid('leaf.encoding');
  const v = lf.values;
  if (!Array.isArray(v) || v.length !== 6) invalid('leaf.values must have 6 values');
  if (v[0] !== 'notary.evidence.v1') invalid('leaf value 1');
  for (const n of [1, 2, 3, 5]) if (!str(v[n]) || !HEX32X.test(v[n])) invalid('leaf value ' + (n + 1));
  if (!str(v[4]) || codePoints(v[4]) < 1 || codePoints(v[4]) > 256) invalid('leaf value 5 (depositor) length');
  if (!str(lf.hash) || !HEX32X.test(lf.hash)) invalid('leaf.hash');
  if (!Array.isArray(c.proof) || c.proof.length > 64 || !c.proof.every((p) => str(p) && HEX32X.test(p))) invalid('proof');
  exactKeys(a, 'anchor', ['chain_id', 'registry', 'registry_code_hash', 'root', 'sequence', 'leaf_count',
    'notary', 'manifest', 'tx_hash', 'block_number', 'block_hash', 'block_time', 'block_time_utc'].concat(v2 ? ['batch_time', 'endorsement'] : []));
  if (v2) {
    if (!integer(a.batch_time) || a.batch_time < 0) invalid('anchor.batch_time must be an integer >= 0');
    exactKeys(a.endorsement, 'anchor.endorsement', ['threshold', 'endorsements']);
    const en = a.endorsement;
    if (!integer(en.threshold) || en.threshold < 1 || en.threshold > 65535) invalid('anchor.endorsement.threshold');
    if (!Array.isArray(en.endorsements) || en.endorsements.length < 1 || en.endorsements.length > 64) invalid('anchor.endorsement.endorsements: 1 to 64');
    en.endorsements.forEach((e, n) => {
      const where = 'anchor.endorsement.endorsements[' + n + ']';
      exactKeys(e, where, ['member', 'organization_id', 'organization', 'signature']);
      if (!str(e.member) || !ADDRESS.test(e.member)) invalid(where + '.member must be an address');
      if (!str(e.organization_id) || !HEX32X.test(e.organization_id)) invalid(where + '.organization_id');
      if (!str(e.organization) || codePoints(e.organization) < 1 || codePoints(e.organization) > 128) invalid(where + '.organization');
      if (!str(e.signature) || !/^0x[0-9a-f]{130}$/.test(e.signature)) invalid(where + '.signature');
    });
  }
  for (const [k, min] of [['chain_id', 1], ['sequence', 1], ['leaf_count', 1], ['block_number', 0], ['block_time', 0]]) {
    if (!integer(a[k]) || a[k] < min) invalid('anchor.' + k + ' must be an integer >= ' + min);
  }
  for (const k of ['registry', 'notary']) if (!str(a[k]) || !ADDRESS.test(a[k])) invalid('anchor.' + k + ' must be an address');
  for (const k of ['registry_code_hash', 'root', 'tx_hash', 'block_hash']) if (!str(a[k]) || !HEX32X.test(a[k])) invalid('anchor.' + k);
  if (!str(a.manifest) || codePoints(a.manifest) > 256) invalid('anchor.manifest');
  if (!str(a.block_time_utc) || !UTC.test(a.block_time_utc)) invalid('anchor.block_time_utc');
  exactKeys(vf, 'verification', ['specification', 'steps']);
  if (!str(vf.specification) || !Array.isArray(vf.steps) || !vf.steps.every(str)) invalid('verification');
}

// Appendix A: code points assigned after Unicode 14.0 (not printable for version 1).
const LATER = fs.readFileSync(path.join(__dirname, '..', '..', 'docs', 'certificate.md'), 'utf8')
  .split('```assigned-after-unicode-14')[1].split('```')[0].trim().split(/\s+/)
  .map((r) => r.split('-').map((x) => parseInt(x, 16))).map(([lo, hi]) => [lo, hi === undefined ? lo : hi]);
const NOT_PRINTABLE = /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}\p{Zs}]/u;
const printable = (s) => [...s].every((ch) => {
  const cp = ch.codePointAt(0);
  if (cp === 0x20) return true;
  return !NOT_PRINTABLE.test(ch) && !LATER.some(([lo, hi]) => cp >= lo && cp <= hi);
});
function eip55(address) {
  const lower = address.slice(2).toLowerCase();
  const h = Buffer.from(keccak256(Buffer.from(lower, 'ascii'))).toString('hex');
  return '0x' + [...lower].map((ch, n) => (parseInt(h[n], 16) >= 8 ? ch.toUpperCase() : ch)).join('');
}
function canonical(value) {  // section 3, canonical metadata
  if (Array.isArray(value)) return '[' + value.map(canonical).join(',') + ']';
  if (isObj(value)) return '{' + Object.keys(value).sort().map((k) => JSON.stringify(k) + ':' + canonical(value[k])).join(',') + '}';
  return JSON.stringify(value);
}
function rules(c) {  // rule 6: beyond the schema
  const ev = c.evidence, a = c.anchor, depositor = c.leaf.values[4];
  for (const [k, v] of Object.entries(ev.metadata)) {
    for (const s of Array.isArray(v) ? v : [v]) {
      if (str(s) && /[\u0000-\u0008\u000b-\u001f]/.test(s)) invalid('metadata ' + k + ' has a control character');
    }
    if (integer(v) && v > Number(MAX_SAFE)) invalid('metadata ' + k + ' too large');
  }
  if (Buffer.byteLength(canonical(ev.metadata), 'utf8') > 16384) invalid('canonical metadata over 16384 bytes');
  if (!printable(depositor) || depositor.startsWith(' ') || depositor.endsWith(' ')) invalid('depositor not printable');
  const addresses = [['anchor.registry', a.registry], ['anchor.notary', a.notary]];
  if (c.version === 2) {
    a.endorsement.endorsements.forEach((e, n) => {
      addresses.push(['anchor.endorsement.endorsements[' + n + '].member', e.member]);
      if (Buffer.byteLength(e.organization, 'utf8') > 128) invalid('an organization name over 128 UTF-8 bytes');
    });
    if (c.depositor_signature !== null) {
      addresses.push(['depositor_signature.signer', c.depositor_signature.signer]);
      if (Buffer.byteLength(c.depositor_signature.organization, 'utf8') > 128) invalid('an organization name over 128 UTF-8 bytes');
    }
  }
  for (const [k, addr] of addresses) {
    const d = addr.slice(2);
    if (d !== d.toLowerCase() && d !== d.toUpperCase() && eip55(addr) !== addr) invalid(k + ' has a wrong EIP-55 checksum');
  }
  const date = new Date(a.block_time * 1000);
  const utc = Number.isNaN(date.getTime()) ? '' : date.toISOString().replace(/\.000Z$/, 'Z');
  if (utc !== a.block_time_utc) invalid('anchor.block_time_utc does not match anchor.block_time');
}

function read(bytes) {  // section 6 step 1
  if (bytes.length > MAX_BYTES) cannotDecide('certificate larger than 1 MiB: not read');
  if (depthOf(bytes) > MAX_DEPTH) cannotDecide('certificate nested deeper than 64 levels: not read');
  let text;
  try { text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes); } catch (e) { invalid('not UTF-8'); }
  const doc = parseJson(text);
  if (!isObj(doc)) invalid('not a JSON object');
  if (doc.format !== 'evidence-notary-certificate') invalid('not an evidence notary certificate');
  if (isInt(doc.version) && BigInt(doc.version.lexeme) > 2n) cannotDecide('certificate version ' + doc.version.lexeme + ' is newer than this verifier');
  const c = numbersToIntegers(doc);
  scalarValues(c);
  schema(c);
  rules(c);
  return c;
}

// ---- JSON-RPC: every failure to get an answer is "cannot decide" ----
async function call(method, params) {
  let body;
  try {
    const res = await fetch(rpc, { method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }) });
    body = await res.json();
  } catch (e) { cannotDecide('cannot reach ' + rpc + ' (' + method + ')'); }
  if (body.error || !('result' in body)) cannotDecide(method + ' failed: ' + JSON.stringify(body.error));
  return body.result;
}
const word = (data, n) => data.slice(2 + 64 * n, 2 + 64 * (n + 1));
const uint = (w) => BigInt('0x' + (w || '0'));
const abiString = (data, offset) => {  // bytes of a string at byte offset `offset` of data
  const len = Number(uint(word(data, offset / 32)));
  return Buffer.from(data.slice(2 + 2 * (offset + 32), 2 + 2 * (offset + 32 + len)), 'hex');
};
const differ = (pairs, source) => {
  const wrong = pairs.filter(([, chain, stated]) => chain !== stated);
  if (wrong.length) invalid(wrong.map(([f, chain, stated]) => f + ' is ' + chain + ' ' + source + ', ' + stated + ' in the certificate').join('; '));
};

async function main() {
  const c = read(fs.readFileSync(certPath));
  const ev = c.evidence, leaf = c.leaf, a = c.anchor, v = leaf.values;
  // step 2
  if (filePath) {
    const data = fs.readFileSync(filePath);
    if (crypto.createHash('sha256').update(data).digest('hex') !== ev.sha256) invalid('file sha256');
    if (ev.sm3 !== null && crypto.createHash('sm3').update(data).digest('hex') !== ev.sm3) invalid('file sm3');
    if (integer(ev.metadata.size) && data.length !== ev.metadata.size) invalid('file size');
  }
  // step 3
  const zero = '0x' + '0'.repeat(64);
  if (v[1] !== '0x' + ev.sha256 || v[2] !== (ev.sm3 === null ? zero : '0x' + ev.sm3)) invalid('leaf content');
  const digest = crypto.createHash('sha256').update(Buffer.from(canonical(ev.metadata), 'utf8')).digest('hex');
  if (v[3] !== '0x' + digest) invalid('leaf metadata');
  // steps 4 and 5
  const leafHash = StandardMerkleTree.of([v], ENCODING).root;  // a one-leaf tree's root is the leaf hash
  if (leafHash !== leaf.hash) invalid('leaf hash');
  if (!StandardMerkleTree.verify(a.root, ENCODING, v, c.proof)) invalid('merkle proof');
  if (c.version === 2) endorsementsOffline(c);  // v2 steps E1, E2
  const signed = c.version === 2 && depositorOffline(c);  // v2 step D1
  if (rpc === 'offline') throw new Verdict('offline-valid', 'steps 1 to 5 passed');
  // step 6
  const chainId = BigInt(await call('eth_chainId', []));
  if (chainId !== BigInt(a.chain_id)) cannotDecide('the node serves chain ' + chainId + ', not ' + a.chain_id);
  const head = BigInt(await call('eth_blockNumber', []));  // a node behind the anchor cannot judge it
  if (head < BigInt(a.block_number)) cannotDecide('the node at ' + rpc + ' is at block ' + head + ", behind the anchor's block " + a.block_number + ': wait until it has synced, or ask another node');
  // step 7
  const code = await call('eth_getCode', [a.registry, 'latest']);
  const codeHash = hex(keccak256(Buffer.from(code.slice(2), 'hex')));
  const published = c.version === 2 ? PUBLISHED_CODE_HASHES_V2 : PUBLISHED_CODE_HASHES;
  if (!published.includes(codeHash)) invalid('the code at ' + a.registry + ' (hash ' + codeHash + ') is not the published ' + (c.version === 2 ? 'ConsortiumRegistry' : 'EvidenceRegistry') + ' build');
  if (a.registry_code_hash !== codeHash) invalid('anchor.registry_code_hash is not the registry code hash ' + codeHash);
  // step 8
  const rec = await call('eth_call', [{ to: a.registry, data: '0xcf4ff901' + a.root.slice(2) }, 'latest']);
  const base = Number(uint(word(rec, 0))) / 32;
  const seq = uint(word(rec, base));
  if (seq === 0n) invalid('root ' + a.root + ' was never anchored in ' + a.registry);
  const chainNotary = '0x' + word(rec, base + 4).slice(24);
  const manifest = abiString(rec, 32 * base + Number(uint(word(rec, base + 6))));
  differ([
    ['anchor.sequence', seq, BigInt(a.sequence)],
    ['anchor.block_number', uint(word(rec, base + 1)), BigInt(a.block_number)],
    ['anchor.block_time', uint(word(rec, base + 2)), BigInt(a.block_time)],
    ['anchor.leaf_count', uint(word(rec, base + 3)), BigInt(a.leaf_count)],
    ['anchor.notary', chainNotary, a.notary.toLowerCase()],
    ['anchor.manifest', manifest.toString('hex'), Buffer.from(a.manifest, 'utf8').toString('hex')],
  ], 'in the registry (anchorOf)');
  // step 9
  const block = await call('eth_getBlockByNumber', ['0x' + a.block_number.toString(16), false]);
  if (!block) cannotDecide('the node has no block ' + a.block_number);
  differ([['anchor.block_hash', block.hash, a.block_hash], ['anchor.block_time', BigInt(block.timestamp), BigInt(a.block_time)]], 'on the chain');
  // step 10
  const n = c.proof.length.toString(16).padStart(64, '0');
  const data = '0x0a02831c' + a.root.slice(2) + (96).toString(16).padStart(64, '0') + leaf.hash.slice(2) + n + c.proof.map((p) => p.slice(2)).join('');
  if (BigInt(await call('eth_call', [{ to: a.registry, data }, 'latest'])) !== BigInt(a.block_time)) invalid('contract verify');
  // step 11
  if (!block.transactions.map((t) => t.toLowerCase()).includes(a.tx_hash)) invalid('anchor.tx_hash is not a transaction of block ' + a.block_number);
  const receipt = await call('eth_getTransactionReceipt', [a.tx_hash]);
  if (!receipt) cannotDecide('the node has no receipt for ' + a.tx_hash);
  if (BigInt(receipt.status) !== 1n) invalid('the transaction reverted');
  differ([
    ['anchor.block_hash', receipt.blockHash, a.block_hash],
    ['anchor.block_number', BigInt(receipt.blockNumber), BigInt(a.block_number)],
    ['anchor.registry (to)', (receipt.to || '').toLowerCase(), a.registry.toLowerCase()],
  ], 'in the receipt');
  const logs = receipt.logs.filter((l) => l.address.toLowerCase() === a.registry.toLowerCase() &&
    l.topics[0] === ANCHORED_TOPIC && l.topics[1] === a.root);
  if (logs.length !== 1) invalid('no Anchored event for the root in the transaction');
  const log = logs[0];
  differ([
    ['anchor.sequence', uint(log.topics[2].slice(2)), BigInt(a.sequence)],
    ['anchor.notary', '0x' + log.topics[3].slice(26), a.notary.toLowerCase()],
    ['anchor.leaf_count', uint(word(log.data, 0)), BigInt(a.leaf_count)],
    ['anchor.block_time', uint(word(log.data, 1)), BigInt(a.block_time)],
    ['anchor.manifest', abiString(log.data, Number(uint(word(log.data, 3)))).toString('hex'), Buffer.from(a.manifest, 'utf8').toString('hex')],
  ], 'in the Anchored event');
  if (c.version === 2) {
    const { endorsement, members } = await endorsementsOnline(c, BigInt(log.logIndex));  // v2 steps E3 to E5
    const depositor = signed ? depositorOnline(c, members) : null;  // v2 step D2
    throw Object.assign(new Verdict('valid', 'existed no later than ' + a.block_time_utc), { endorsement, depositor });
  }
  throw new Verdict('valid', 'existed no later than ' + a.block_time_utc);
}

// ---- Version 2: endorsements (docs/certificate-v2.md section 4) ----
const kec = (buf) => Buffer.from(keccak256(buf));
const u256 = (n) => Buffer.from(BigInt(n).toString(16).padStart(64, '0'), 'hex');
const b32 = (h) => Buffer.from(h.slice(2).padStart(64, '0'), 'hex');
const DOMAIN_TYPEHASH = kec(Buffer.from('EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)'));
const ENDORSEMENT_TYPEHASH = kec(Buffer.from('Endorsement(bytes32 root,uint32 leafCount,string manifest,uint64 batchTime)'));
const HALF_N = secp256k1.CURVE.n / 2n;
const TOPIC = (sig) => hex(kec(Buffer.from(sig)));
const MEMBER_SET = TOPIC('MemberSet(address,uint8,bytes32,string,uint64)');
const MEMBER_REMOVED = TOPIC('MemberRemoved(address,uint64)');
const POLICY_SET = TOPIC('PolicySet(uint16,uint256,uint64)');

function endorsementDigest(a, batchTime, chainId) {
  const domain = kec(Buffer.concat([DOMAIN_TYPEHASH, kec(Buffer.from('NotaryConsortium')), kec(Buffer.from('1')),
    u256(chainId), b32(a.registry.toLowerCase())]));
  const struct = kec(Buffer.concat([ENDORSEMENT_TYPEHASH, b32(a.root), u256(a.leaf_count),
    kec(Buffer.from(a.manifest, 'utf8')), u256(batchTime)]));
  return kec(Buffer.concat([Buffer.from([0x19, 0x01]), domain, struct]));
}
function recoverSigner(digest, signature) {
  const raw = Buffer.from(signature.slice(2), 'hex');
  const s = BigInt('0x' + raw.subarray(32, 64).toString('hex')), v = raw[64];
  if (s > HALF_N || (v !== 27 && v !== 28)) return null;  // OpenZeppelin ECDSA refuses these
  try {
    const sig = secp256k1.Signature.fromCompact(raw.subarray(0, 64)).addRecoveryBit(v - 27);
    const pub = sig.recoverPublicKey(digest).toRawBytes(false);
    return hex(kec(Buffer.from(pub.subarray(1))).subarray(12));
  } catch (e) { return null; }
}
function endorsementsOffline(c) {
  const a = c.anchor, list = a.endorsement.endorsements;
  let previous = -1n;
  for (const e of list) {
    const n = BigInt(e.member);
    if (n === previous || list.filter((o) => BigInt(o.member) === n).length > 1) invalid('member ' + e.member + ' endorses twice');
    if (n < previous) invalid('endorsements are not in ascending order of member address');
    previous = n;
  }
  const digest = endorsementDigest(a, a.batch_time, a.chain_id);
  for (const e of list) {
    const signer = recoverSigner(digest, e.signature);
    if (signer !== e.member.toLowerCase()) invalid('the signature given for ' + e.member + ' recovers to ' + signer + ', not to that member, over this batch, chain and registry');
  }
}
async function endorsementsOnline(c, anchoredLogIndex) {
  const a = c.anchor, block = BigInt(a.block_number);
  const logs = await call('eth_getLogs', [{ address: a.registry, fromBlock: '0x0', toBlock: '0x' + block.toString(16),
    topics: [[MEMBER_SET, MEMBER_REMOVED, POLICY_SET]] }]);
  const before = logs.filter((l) => BigInt(l.blockNumber) < block || (BigInt(l.blockNumber) === block && BigInt(l.logIndex) < anchoredLogIndex))
    .sort((x, y) => (BigInt(x.blockNumber) === BigInt(y.blockNumber) ? Number(BigInt(x.logIndex) - BigInt(y.logIndex)) : Number(BigInt(x.blockNumber) - BigInt(y.blockNumber))));
  const members = new Map();
  let k = null;
  for (const l of before) {
    if (l.topics[0] === MEMBER_SET) {
      const name = abiString(l.data, Number(uint(word(l.data, 1)))).toString('utf8');
      members.set('0x' + l.topics[1].slice(26), { role: Number(uint(word(l.data, 0))), organization: l.topics[2], name });
    } else if (l.topics[0] === MEMBER_REMOVED) {
      members.delete('0x' + l.topics[1].slice(26));
    } else {
      k = Number(uint(word(l.data, 0)));
    }
  }
  if (k === null) cannotDecide('the node returns no configuration events of the registry: its logs are incomplete, ask another node');
  const endorsers = [...members.entries()].filter(([, m]) => m.role === 2);
  for (const e of a.endorsement.endorsements) {
    const m = members.get(e.member.toLowerCase());
    if (!m || m.role !== 2) invalid(e.member + ' was not an ENDORSER member when the batch was anchored in block ' + block);
    if (m.organization !== e.organization_id || m.name !== e.organization) invalid('the chain names member ' + e.member + ' otherwise (organization id or name)');
  }
  if (a.endorsement.threshold !== k) invalid('anchor.endorsement.threshold is ' + a.endorsement.threshold + ', the policy at the anchor required ' + k);
  if (a.endorsement.endorsements.length < k) invalid('fewer distinct endorsers than the policy required');
  const rec = await call('eth_call', [{ to: a.registry, data: '0x9ca566e3' + a.root.slice(2) }, 'latest']);
  const count = Number(uint(word(rec, 3)));
  const chainEndorsers = [...Array(count).keys()].map((n) => '0x' + word(rec, 4 + n).slice(24));
  differ([
    ['anchor.batch_time', uint(word(rec, 0)), BigInt(a.batch_time)],
    ['anchor.endorsement.threshold', uint(word(rec, 1)), BigInt(a.endorsement.threshold)],
    ['the endorsers', chainEndorsers.join(','), a.endorsement.endorsements.map((e) => e.member.toLowerCase()).join(',')],
  ], 'in the registry (endorsementOf)');
  return {
    endorsement: { endorsed_by: a.endorsement.endorsements.map((e) => e.member), endorsing_members: endorsers.length, threshold: k },
    members,
  };
}

// ---- Version 2: the depositor signature (docs/certificate-v2.md section 5, D1 and D2) ----
const DEPOSIT_TYPEHASH = kec(Buffer.from('Deposit(bytes32 sha256,bytes32 sm3,bytes32 metadataDigest,string depositor)'));
function depositorOffline(c) {  // D1; true when the deposit is signed
  const a = c.anchor, v = c.leaf.values, d = c.depositor_signature;
  const m = /^(.+);signer=(0x[0-9a-fA-F]{40})$/s.exec(v[4]);
  if (!m && d === null) return false;
  if (!m) invalid('depositor_signature is given but the leaf names no signer');
  if (d === null) invalid('the leaf names the signer ' + m[2] + ' but the certificate carries no depositor_signature');
  const [, identity, named] = m;
  const digits = named.slice(2);
  if (digits !== digits.toLowerCase() && digits !== digits.toUpperCase() && eip55(named) !== named) invalid('the signer in the leaf has a wrong EIP-55 checksum');
  if (named.toLowerCase() !== d.signer.toLowerCase()) invalid('depositor_signature.signer is not the signer the leaf names');
  if (d.organization_id !== hex(kec(Buffer.from(identity, 'utf8')))) invalid('depositor_signature.organization_id is not keccak256 of the depositor identity');
  const domain = kec(Buffer.concat([DOMAIN_TYPEHASH, kec(Buffer.from('NotaryConsortium')), kec(Buffer.from('1')),
    u256(a.chain_id), b32(a.registry.toLowerCase())]));
  const struct = kec(Buffer.concat([DEPOSIT_TYPEHASH, b32(v[1]), b32(v[2]), b32(v[3]), kec(Buffer.from(identity, 'utf8'))]));
  const signer = recoverSigner(kec(Buffer.concat([Buffer.from([0x19, 0x01]), domain, struct])), d.signature);
  if (signer !== named.toLowerCase()) invalid('the depositor signature recovers to ' + signer + ', not to ' + named + ', over this content, metadata and depositor');
  return true;
}
function depositorOnline(c, members) {  // D2, on the configuration replayed for E3
  const d = c.depositor_signature, m = members.get(d.signer.toLowerCase());
  if (!m || m.role !== 4) invalid('the depositor key ' + d.signer + ' was not a DEPOSITOR member when the batch was anchored in block ' + c.anchor.block_number);
  if (m.organization !== d.organization_id || m.name !== d.organization) invalid('the chain names depositor key ' + d.signer + ' otherwise (organization id or name)');
  return { signer: d.signer, organization: d.organization };
}

main().catch((e) => {
  const verdict = e instanceof Verdict ? e : new Verdict('cannot_decide', 'verifier error: ' + e.message);
  const out = { outcome: verdict.outcome, reason: verdict.message };
  if (verdict.endorsement) out.endorsement = verdict.endorsement;
  if (verdict.depositor !== undefined) out.depositor_signature = verdict.depositor;
  process.stdout.write(JSON.stringify(out) + '\n');
  process.exit({ valid: 0, 'offline-valid': 0, invalid: 1, cannot_decide: 2 }[verdict.outcome]);
});
