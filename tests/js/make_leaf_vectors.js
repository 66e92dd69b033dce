// Generates tests/vectors/leaf-v1.json: expected canonical metadata, metadata digests and
// leaf hashes computed from docs/certificate.md by JavaScript (Node crypto and
// @openzeppelin/merkle-tree), independently of the Python code. Run once; the output is
// committed and must keep passing forever.
'use strict';
const path = require('path');
const crypto = require('crypto');
const modules = process.env.NOTARY_NODE_MODULES || path.join(__dirname, '..', '..', 'hardhat-free-devnet', 'node_modules');
const { StandardMerkleTree } = require(path.join(modules, '@openzeppelin', 'merkle-tree'));
const ENCODING = ['string', 'bytes32', 'bytes32', 'bytes32', 'string', 'bytes32'];
function canonical(value) {
  if (Array.isArray(value)) return '[' + value.map(canonical).join(',') + ']';
  if (value !== null && typeof value === 'object') {
    return '{' + Object.keys(value).sort().map(k => JSON.stringify(k) + ':' + canonical(value[k])).join(',') + '}';
  }
  return JSON.stringify(value);
}
const rep = (byte) => '0x' + byte.repeat(32);
const cases = [
  { metadata: { name: 'a.png', size: 3, media_type: 'image/png' }, depositor: 'acme', sha256: rep('11'), sm3: rep('22'), salt: rep('33') },
  { metadata: { name: '童装设计-春季.png', size: 1048576, media_type: 'image/png', title: '小熊连衣裙', tags: ['童装', '2026春'] },
    depositor: '杭州童装工作室', sha256: rep('ab'), sm3: rep('00'), salt: rep('cd') },
  { metadata: { description: 'line1\nline2\t"q" \\ end', z_last: 9007199254740991, a_first: '' }, depositor: 'did:example:123', sha256: rep('01'), sm3: rep('fe'), salt: rep('7f') },
  { metadata: {}, depositor: 'x', sha256: rep('ff'), sm3: rep('ee'), salt: rep('00') },
];
const out = cases.map(c => {
  const text = canonical(c.metadata);
  const digest = '0x' + crypto.createHash('sha256').update(Buffer.from(text, 'utf8')).digest('hex');
  const values = ['notary.evidence.v1', c.sha256, c.sm3, digest, c.depositor, c.salt];
  return { ...c, canonical: text, metadata_digest: digest, values, leaf_hash: StandardMerkleTree.of([values], ENCODING).root };
});
process.stdout.write(JSON.stringify({ encoding: ENCODING, cases: out }, null, 2) + '\n');
