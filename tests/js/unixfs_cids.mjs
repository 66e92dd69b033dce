// Reference CIDs from ipfs-unixfs-importer (what Helia uses), for cross-checks.
// Run with Node 22 and cwd = hardhat-free-devnet/ipfs (module resolution), script via -e.
// argv: JSON {"paths": ["file", ...], "chunkSize": n, "maxLinks": n}
// prints: JSON list of CIDs, one per case, imported with profile unixfs-v1-2025 and the
// given chunk size and fan-out.
import fs from 'node:fs'
import { importer } from 'ipfs-unixfs-importer'
import { fixedSize } from 'ipfs-unixfs-importer/chunker'
import { balanced } from 'ipfs-unixfs-importer/layout'

const input = JSON.parse(process.argv[process.argv.length - 1])
const discard = { put: async (cid) => cid }
const out = []
for (const path of input.paths) {
  const options = { profile: 'unixfs-v1-2025' }
  if (input.chunkSize) options.chunker = fixedSize({ chunkSize: input.chunkSize })
  if (input.maxLinks) options.layout = balanced({ maxChildrenPerNode: input.maxLinks })
  let cid
  for await (const entry of importer([{ content: fs.readFileSync(path) }], discard, options)) cid = entry.cid
  out.push(cid.toString())
}
process.stdout.write(JSON.stringify(out))
