// Independent Merkle implementation for cross-checks: @openzeppelin/merkle-tree.
// stdin:  {"encoding": [...types], "values": [[...leaf values], ...]}
// stdout: {"root": "0x..", "leafHashes": [...], "proofs": [[...], ...]} in input order,
//         plus "verified": true when every proof verifies with StandardMerkleTree.verify.
'use strict';
const path = require('path');
const fs = require('fs');
const modules = process.env.NOTARY_NODE_MODULES || path.join(__dirname, '..', '..', 'hardhat-free-devnet', 'node_modules');
const { StandardMerkleTree } = require(path.join(modules, '@openzeppelin', 'merkle-tree'));

const input = JSON.parse(fs.readFileSync(0, 'utf8'));
const tree = StandardMerkleTree.of(input.values, input.encoding);
const proofs = input.values.map((_, i) => tree.getProof(i));
const verified = input.values.every((v, i) =>
  StandardMerkleTree.verify(tree.root, input.encoding, v, proofs[i]));
const leafHashes = input.values.map(v => tree.leafHash(v));
process.stdout.write(JSON.stringify({ root: tree.root, leafHashes, proofs, verified }));
