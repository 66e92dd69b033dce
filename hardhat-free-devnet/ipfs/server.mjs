// A private IPFS node for the devnet: Helia with a filesystem blockstore and datastore and
// no libp2p at all (nothing is announced, no bootstrap peers), behind an HTTP front that
// speaks the subset of the Kubo RPC API (/api/v0/...) the notary uses:
//   add, cat, pin/add, pin/rm, pin/ls, id, version, block/stat, dag/export (CAR).
// Everything lives under --repo, so a restart keeps every block and pin.
//
//   node server.mjs --repo DIR [--host 127.0.0.1] [--port 5001]
// Prints one JSON line {"ready": true, "api": "http://host:port"} once it listens.
// NOTARY_IPFS_TOKEN, when set, is required as `Authorization: Bearer <token>`.
import http from 'node:http'
import fs from 'node:fs'
import path from 'node:path'
import crypto from 'node:crypto'
import { parseArgs } from 'node:util'
import busboy from 'busboy'
import { createHeliaLight } from 'helia'
import { unixfs } from '@helia/unixfs'
import { car } from '@helia/car'
import { FsBlockstore } from 'blockstore-fs'
import { FsDatastore } from 'datastore-fs'
import { CID } from 'multiformats/cid'
import { importer } from 'ipfs-unixfs-importer'

const { values: args } = parseArgs({
  options: {
    repo: { type: 'string' },
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string', default: '5001' }
  }
})
if (!args.repo) {
  console.error('usage: server.mjs --repo DIR [--host H] [--port P]')
  process.exit(2)
}
const PROFILE = 'unixfs-v1-2025'
const VERSION = '0.1.0'
const token = process.env.NOTARY_IPFS_TOKEN || ''

fs.mkdirSync(args.repo, { recursive: true })
const identityFile = path.join(args.repo, 'identity.json')
if (!fs.existsSync(identityFile)) {
  fs.writeFileSync(identityFile, JSON.stringify({ id: 'helia-' + crypto.randomBytes(16).toString('hex') }))
}
const identity = JSON.parse(fs.readFileSync(identityFile, 'utf8'))

const helia = createHeliaLight({
  blockstore: new FsBlockstore(path.join(args.repo, 'blocks')),
  datastore: new FsDatastore(path.join(args.repo, 'datastore'))
})
await helia.start()
const ufs = unixfs(helia)
const cars = car(helia)

class ArgError extends Error {}

function cidArg (query) {
  const value = query.get('arg')
  if (!value) throw new ArgError('argument "cid" is required')
  try {
    return CID.parse(value.replace(/^\/ipfs\//, '').split('/')[0])
  } catch {
    throw new ArgError(`invalid path "${value}": invalid cid`)
  }
}

// Booleans as Kubo parses them (Go's strconv.ParseBool); a bare flag means true.
const TRUE = new Set(['', '1', 't', 'T', 'TRUE', 'true', 'True'])
const FALSE = new Set(['0', 'f', 'F', 'FALSE', 'false', 'False'])

function flag (query, name, fallback) {
  const value = query.get(name)
  if (value === null) return fallback
  if (TRUE.has(value)) return true
  if (FALSE.has(value)) return false
  throw new ArgError(`invalid boolean for ${name}: ${value}`)
}

// Importer options: the named profile, or Kubo's individual parameters.
function importOptions (query) {
  const profile = query.get('profile')
  if (profile) {
    if (profile !== PROFILE && profile !== 'unixfs-v0-2015') throw new ArgError(`unknown profile ${profile}`)
    return { profile }
  }
  const options = { cidVersion: Number(query.get('cid-version') ?? 0), rawLeaves: flag(query, 'raw-leaves', false) }
  const chunker = query.get('chunker')
  if (chunker) {
    const m = /^size-(\d+)$/.exec(chunker)
    if (!m) throw new ArgError(`unsupported chunker ${chunker}`)
    options.chunkSize = Number(m[1])
  }
  return options
}

function send (res, status, body) {
  res.writeHead(status, { 'content-type': 'application/json' })
  res.end(JSON.stringify(body) + '\n')
}

function fail (res, status, message) {
  if (res.headersSent) {
    res.destroy(new Error(message))
    return
  }
  send(res, status, { Message: message, Code: 0, Type: 'error' })
}

const discard = { put: async (cid) => cid } // for only-hash: compute, store nothing

class MissingError extends Error {}

// The root block must be here: this node never fetches from a network.
async function requireLocal (cid) {
  if (!(await helia.blockstore.has(cid))) throw new MissingError(`block ${cid} not found locally`)
}

async function blockBytes (cid) {
  await requireLocal(cid)
  const parts = []
  for await (const part of helia.blockstore.get(cid)) parts.push(part)
  return Buffer.concat(parts)
}

async function add (req, res, query) {
  const options = importOptions(query)
  const pin = flag(query, 'pin', true)
  const onlyHash = flag(query, 'only-hash', false)
  const results = []
  await new Promise((resolve, reject) => {
    const form = busboy({ headers: req.headers })
    const pending = []
    form.on('file', (_field, stream, info) => {
      const source = (async function * () { for await (const chunk of stream) yield chunk })()
      pending.push((async () => {
        let cid, size
        if (onlyHash) {
          for await (const entry of importer([{ content: source }], discard, options)) cid = entry.cid
          size = null
        } else {
          cid = await ufs.addByteStream(source, options)
          size = (await ufs.stat(cid)).size // file bytes (Kubo reports the DAG's cumulative size)
          if (pin && !(await helia.pins.isPinned(cid))) {
            for await (const _ of helia.pins.add(cid)) {} // eslint-disable-line no-unused-vars
          }
        }
        results.push({ Name: info.filename || cid.toString(), Hash: cid.toString(), Size: size === null ? '' : String(size) })
      })())
    })
    form.on('error', reject)
    form.on('close', () => Promise.all(pending).then(resolve, reject))
    req.pipe(form)
  })
  if (results.length === 0) throw new ArgError('file argument "path" is required')
  res.writeHead(200, { 'content-type': 'application/x-ndjson' })
  res.end(results.map((r) => JSON.stringify(r)).join('\n') + '\n')
}

async function stream (res, type, iterable) {
  let started = false
  for await (const chunk of iterable) {
    if (!started) {
      res.writeHead(200, { 'content-type': type })
      started = true
    }
    if (!res.write(chunk)) await new Promise((resolve) => res.once('drain', resolve))
  }
  if (!started) res.writeHead(200, { 'content-type': type })
  res.end()
}

const routes = {
  '/api/v0/version': async (req, res) => send(res, 200, { Version: VERSION, Commit: '', Repo: 'helia-fs', System: `node-${process.version}`, Golang: '' }),
  '/api/v0/id': async (req, res) => send(res, 200, { ID: identity.id, AgentVersion: `notary-devnet-ipfs/${VERSION} (helia)`, Addresses: [], Protocols: [], PublicKey: '' }),
  '/api/v0/add': add,
  '/api/v0/cat': async (req, res, query) => {
    const cid = cidArg(query)
    await requireLocal(cid) // missing root: an error now, not a hang
    const offset = query.get('offset') ? Number(query.get('offset')) : undefined
    const length = query.get('length') ? Number(query.get('length')) : undefined
    await stream(res, 'application/octet-stream', ufs.cat(cid, { offset, length, offline: true }))
  },
  '/api/v0/pin/add': async (req, res, query) => {
    const cid = cidArg(query)
    await requireLocal(cid)
    if (!(await helia.pins.isPinned(cid))) {
      for await (const _ of helia.pins.add(cid, { offline: true })) {} // eslint-disable-line no-unused-vars
    }
    send(res, 200, { Pins: [cid.toString()] })
  },
  '/api/v0/pin/rm': async (req, res, query) => {
    const cid = cidArg(query)
    if (!(await helia.pins.isPinned(cid))) throw new Error('not pinned or pinned indirectly')
    for await (const _ of helia.pins.rm(cid)) {} // eslint-disable-line no-unused-vars
    send(res, 200, { Pins: [cid.toString()] })
  },
  '/api/v0/pin/ls': async (req, res, query) => {
    const keys = {}
    if (query.get('arg')) {
      const cid = cidArg(query)
      if (!(await helia.pins.isPinned(cid))) throw new Error(`path '${cid}' is not pinned`)
      keys[cid.toString()] = { Type: 'recursive' }
    } else {
      for await (const pin of helia.pins.ls()) keys[pin.cid.toString()] = { Type: 'recursive' }
    }
    send(res, 200, { Keys: keys })
  },
  '/api/v0/block/stat': async (req, res, query) => {
    const cid = cidArg(query)
    send(res, 200, { Key: cid.toString(), Size: (await blockBytes(cid)).length })
  },
  '/api/v0/dag/export': async (req, res, query) => {
    const cid = cidArg(query)
    await requireLocal(cid)
    await stream(res, 'application/vnd.ipld.car', cars.export(cid, { offline: true }))
  }
}

const server = http.createServer(async (req, res) => {
  const url = new URL(req.url, 'http://localhost')
  const route = routes[url.pathname]
  if (!route) return fail(res, 404, '404 page not found')
  if (req.method !== 'POST') return fail(res, 405, `${req.method} not allowed: use POST`)
  if (token && req.headers.authorization !== `Bearer ${token}`) return fail(res, 401, 'unauthorized')
  try {
    await route(req, res, url.searchParams)
  } catch (err) {
    fail(res, err instanceof ArgError ? 400 : 500, String(err?.message ?? err))
  }
})

async function shutdown () {
  server.close()
  await helia.stop()
  process.exit(0)
}
process.on('SIGTERM', shutdown)
process.on('SIGINT', shutdown)

server.listen(Number(args.port), args.host, () => {
  const { port } = server.address()
  process.stdout.write(JSON.stringify({ ready: true, api: `http://${args.host}:${port}` }) + '\n')
})
