// Reading a certificate: docs/certificate.md section 2 ("Reading the document"), rules 1 to 5,
// in that order, for version 1; for version 2 the same rules against its schema
// (docs/certificate-v2.md section 2, "Reading": certificate-v2.schema.json, plus EIP-55
// members and depositor signer, and organization names of at most 128 UTF-8 bytes). Pure
// functions; a breach throws Stop (outcome "invalid" or "cannot_decide"), exactly as
// `notary verify` reads the same bytes.
import { keccak_256 } from '@noble/hashes/sha3.js';
import { LATER_THAN_UNICODE_14 } from './facts.js';

export class Stop extends Error {
  constructor(outcome, reason) { super(reason); this.outcome = outcome; }
}
export const invalid = (reason) => { throw new Stop('invalid', reason); };
export const cannotDecide = (reason) => { throw new Stop('cannot_decide', reason); };

export const MAX_BYTES = 1048576;
export const MAX_DEPTH = 64;
const MAX_SAFE = 2n ** 53n - 1n;
export const ENCODING = ['string', 'bytes32', 'bytes32', 'bytes32', 'string', 'bytes32'];
const utf8 = new TextEncoder();
export const toHex = (bytes) => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
export const fromHex = (h) => {
  const s = h.startsWith('0x') ? h.slice(2) : h;
  const out = new Uint8Array(s.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(s.slice(2 * i, 2 * i + 2), 16);
  return out;
};
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
/**
 * Bytes as text, as Python's bytes.decode('utf-8', 'surrogateescape') reads them: a byte that
 * is not part of valid UTF-8 becomes the lone surrogate U+DC00 + byte, so a member name on
 * chain that is not UTF-8 equals no certificate string (docs/certificate-v2.md, E3) and
 * pyRepr shows it as notary verify does. A BOM is kept, as Python keeps it.
 */
export function utf8Escaped(bytes) {
  try { return strictUtf8.decode(bytes); } catch (e) { /* some bytes are not UTF-8: below */ }
  let out = '';
  for (let i = 0; i < bytes.length;) {
    const b = bytes[i];
    const n = b < 0x80 ? 1 : b >= 0xc2 && b <= 0xdf ? 2 : b >= 0xe0 && b <= 0xef ? 3 : b >= 0xf0 && b <= 0xf4 ? 4 : 0;
    if (n > 0 && i + n <= bytes.length) {
      try { out += strictUtf8.decode(bytes.subarray(i, i + n)); i += n; continue; } catch (e) { /* escaped below */ }
    }
    out += String.fromCharCode(0xdc00 + b);
    i += 1;
  }
  return out;
}

// ---- rule 1: size and depth, on the bytes ----
export function depthOf(bytes) {
  let text = '';  // the bytes as latin-1: one character per byte
  for (let i = 0; i < bytes.length; i += 8192) text += String.fromCharCode(...bytes.subarray(i, i + 8192));
  const shape = text.split('\\\\').join('').split('\\"').join('')
    .replace(/[^"[\]{}]/g, '').replace(/"[^"]*"/g, '');
  let level = 0, deepest = 0;
  for (const ch of shape) {
    if (ch === '[' || ch === '{') deepest = Math.max(deepest, ++level);
    else if (ch === ']' || ch === '}') level--;
  }
  return deepest;
}

// ---- rule 2: strict JSON (RFC 8259), duplicate keys refused, numbers kept as written ----
class Num { constructor(lexeme) { this.lexeme = lexeme; } }
function parseJson(text) {
  let i = 0;
  const fail = (what) => invalid('not valid JSON: ' + what + ' at offset ' + i);
  const ws = () => { while (i < text.length && ' \t\n\r'.includes(text[i])) i++; };
  function string() {
    i++;
    let out = '';
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
      out += String.fromCharCode(parseInt(text.slice(i, i + 4), 16));
      i += 4;
    }
  }
  function value() {
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      const obj = Object.create(null);
      ws();
      if (text[i] === '}') { i++; return obj; }
      for (;;) {
        ws();
        if (text[i] !== '"') fail('expected a key');
        const key = string();
        if (Object.prototype.hasOwnProperty.call(obj, key)) invalid('duplicate key ' + JSON.stringify(key));
        ws();
        if (text[i++] !== ':') fail('expected :');
        obj[key] = value();
        ws();
        if (text[i] === ',') { i++; continue; }
        if (text[i] === '}') { i++; return obj; }
        fail('expected , or }');
      }
    }
    if (c === '[') {
      i++;
      const arr = [];
      ws();
      if (text[i] === ']') { i++; return arr; }
      for (;;) {
        arr.push(value());
        ws();
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
  const v = value();
  ws();
  if (i !== text.length) fail('extra text');
  return v;
}

export const isObj = (v) => v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Num);
const isInt = (v) => v instanceof Num && /^(0|[1-9][0-9]*)$/.test(v.lexeme);
const codePoints = (s) => [...s].length;
const integer = (v) => typeof v === 'number' && Number.isInteger(v);
const str = (v) => typeof v === 'string';

// ---- rule 3: numbers are integers written as digits, at most 2^53 - 1 ----
function numbersToIntegers(v) {
  if (v instanceof Num) {
    if (!isInt(v)) invalid('number ' + v.lexeme + ' is not an integer written in plain digits');
    if (BigInt(v.lexeme) > MAX_SAFE) invalid('number ' + v.lexeme + ' is larger than 2^53 - 1');
    return Number(v.lexeme);
  }
  if (Array.isArray(v)) return v.map(numbersToIntegers);
  if (isObj(v)) {
    const o = Object.create(null);
    for (const k of Object.keys(v)) o[k] = numbersToIntegers(v[k]);
    return o;
  }
  return v;
}

function scalarValues(v) {  // strings are Unicode text: no lone surrogates
  const check = (s) => {
    for (const ch of s) {
      const cp = ch.codePointAt(0);
      if (cp >= 0xd800 && cp <= 0xdfff) invalid('lone surrogate in a string');
    }
  };
  if (str(v)) check(v);
  else if (Array.isArray(v)) v.forEach(scalarValues);
  else if (isObj(v)) for (const k of Object.keys(v)) { check(k); scalarValues(v[k]); }
}

// ---- rule 4: the published JSON Schema (ECMA-262 patterns, lengths in code points) ----
const HEX32 = /^[0-9a-f]{64}$/, HEX32X = /^0x[0-9a-f]{64}$/, ADDRESS = /^0x[0-9a-fA-F]{40}$/;
const KEY = /^[a-z][a-z0-9_]{0,63}$/, UTC = /^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$/;
function exactKeys(o, where, required) {
  if (!isObj(o)) invalid(where + ' must be an object');
  for (const k of Object.keys(o)) if (!required.includes(k)) invalid('unknown field ' + where + '.' + k);
  for (const k of required) if (!(k in o)) invalid('missing ' + where + '.' + k);
}
export const VERSIONS = [1, 2];
function schema(c) {
  const v2 = c.version === 2;
  exactKeys(c, 'certificate', ['format', 'version', 'evidence', 'leaf', 'proof', 'anchor', 'verification']
    .concat(v2 ? ['depositor_signature'] : []));
  if (!VERSIONS.includes(c.version)) invalid('version must be 1 or 2');
  if (v2) depositorSignatureSchema(c.depositor_signature);
  const ev = c.evidence, lf = c.leaf, a = c.anchor, vf = c.verification;
  exactKeys(ev, 'evidence', ['sha256', 'sm3', 'metadata']);
  if (!str(ev.sha256) || !HEX32.test(ev.sha256)) invalid('evidence.sha256 must be 64 lower-case hex digits');
  if (ev.sm3 !== null && !(str(ev.sm3) && HEX32.test(ev.sm3))) invalid('evidence.sm3 must be 64 lower-case hex digits or null');
  if (!isObj(ev.metadata)) invalid('evidence.metadata must be an object');
  for (const [k, v] of Object.entries(ev.metadata)) {
    if (!KEY.test(k)) invalid('metadata key ' + JSON.stringify(k));
    const okString = (s) => str(s) && codePoints(s) <= 4096;
    const ok = okString(v) || (integer(v) && v >= 0) || (Array.isArray(v) && v.length <= 64 && v.every(okString));
    if (!ok) invalid('metadata ' + k + ': not a string, integer or list of strings within limits');
  }
  if ('name' in ev.metadata && !str(ev.metadata.name)) invalid('metadata name must be a string');
  if ('size' in ev.metadata && !integer(ev.metadata.size)) invalid('metadata size must be an integer');
  if ('media_type' in ev.metadata && !str(ev.metadata.media_type)) invalid('metadata media_type must be a string');
  exactKeys(lf, 'leaf', ['scheme', 'encoding', 'values', 'hash']);
  if (lf.scheme !== 'notary.evidence.v1') invalid('leaf.scheme must be notary.evidence.v1');
  if (!Array.isArray(lf.encoding) || JSON.stringify(lf.encoding) !== JSON.stringify(ENCODING)) invalid('leaf.encoding is not the version 1 encoding');
  const v = lf.values;
  if (!Array.isArray(v) || v.length !== 6) invalid('leaf.values must have 6 values');
  if (v[0] !== 'notary.evidence.v1') invalid('leaf value 1 must be notary.evidence.v1');
  for (const n of [1, 2, 3, 5]) if (!str(v[n]) || !HEX32X.test(v[n])) invalid('leaf value ' + (n + 1) + ' must be 0x and 64 lower-case hex digits');
  if (!str(v[4]) || codePoints(v[4]) < 1 || codePoints(v[4]) > 256) invalid('leaf value 5 (depositor) must be 1 to 256 characters');
  if (!str(lf.hash) || !HEX32X.test(lf.hash)) invalid('leaf.hash must be 0x and 64 lower-case hex digits');
  if (!Array.isArray(c.proof) || c.proof.length > 64 || !c.proof.every((p) => str(p) && HEX32X.test(p))) invalid('proof must be a list of 0x and 64 lower-case hex digits');
  exactKeys(a, 'anchor', ['chain_id', 'registry', 'registry_code_hash', 'root', 'sequence', 'leaf_count',
    'notary', 'manifest', 'tx_hash', 'block_number', 'block_hash', 'block_time', 'block_time_utc']
    .concat(v2 ? ['batch_time', 'endorsement'] : []));
  if (v2) endorsementSchema(a);
  for (const [k, min] of [['chain_id', 1], ['sequence', 1], ['leaf_count', 1], ['block_number', 0], ['block_time', 0]]) {
    if (!integer(a[k]) || a[k] < min) invalid('anchor.' + k + ' must be an integer >= ' + min);
  }
  for (const k of ['registry', 'notary']) if (!str(a[k]) || !ADDRESS.test(a[k])) invalid('anchor.' + k + ' must be an address');
  for (const k of ['registry_code_hash', 'root', 'tx_hash', 'block_hash']) if (!str(a[k]) || !HEX32X.test(a[k])) invalid('anchor.' + k + ' must be 0x and 64 lower-case hex digits');
  if (!str(a.manifest) || codePoints(a.manifest) > 256) invalid('anchor.manifest must be a string of at most 256 characters');
  if (!str(a.block_time_utc) || !UTC.test(a.block_time_utc)) invalid('anchor.block_time_utc must be YYYY-MM-DDThh:mm:ssZ');
  exactKeys(vf, 'verification', ['specification', 'steps']);
  if (!str(vf.specification) || !Array.isArray(vf.steps) || !vf.steps.every(str)) invalid('verification must hold a specification and steps');
}

// version 2's additions to `anchor` (certificate-v2.schema.json)
const SIGNATURE = /^0x[0-9a-f]{130}$/;
function endorsementSchema(a) {
  if (!integer(a.batch_time) || a.batch_time < 0) invalid('anchor.batch_time must be an integer >= 0');
  const en = a.endorsement;
  exactKeys(en, 'anchor.endorsement', ['threshold', 'endorsements']);
  if (!integer(en.threshold) || en.threshold < 1 || en.threshold > 65535) invalid('anchor.endorsement.threshold must be an integer from 1 to 65535');
  if (!Array.isArray(en.endorsements) || en.endorsements.length < 1 || en.endorsements.length > 64) invalid('anchor.endorsement.endorsements must hold 1 to 64 endorsements');
  en.endorsements.forEach((e, n) => {
    const where = 'anchor.endorsement.endorsements[' + n + ']';
    exactKeys(e, where, ['member', 'organization_id', 'organization', 'signature']);
    if (!str(e.member) || !ADDRESS.test(e.member)) invalid(where + '.member must be an address');
    if (!str(e.organization_id) || !HEX32X.test(e.organization_id)) invalid(where + '.organization_id must be 0x and 64 lower-case hex digits');
    if (!str(e.organization) || codePoints(e.organization) < 1 || codePoints(e.organization) > 128) invalid(where + '.organization must be 1 to 128 characters');
    if (!str(e.signature) || !SIGNATURE.test(e.signature)) invalid(where + '.signature must be 0x and 130 lower-case hex digits');
  });
}

// `depositor_signature`: null (the deposit was not signed), or the depositor key's signature
function depositorSignatureSchema(d) {
  if (d === null) return;
  exactKeys(d, 'depositor_signature', ['signer', 'organization_id', 'organization', 'signature']);
  if (!str(d.signer) || !ADDRESS.test(d.signer)) invalid('depositor_signature.signer must be an address');
  if (!str(d.organization_id) || !HEX32X.test(d.organization_id)) invalid('depositor_signature.organization_id must be 0x and 64 lower-case hex digits');
  if (!str(d.organization) || codePoints(d.organization) < 1 || codePoints(d.organization) > 128) invalid('depositor_signature.organization must be 1 to 128 characters');
  if (!str(d.signature) || !SIGNATURE.test(d.signature)) invalid('depositor_signature.signature must be 0x and 130 lower-case hex digits');
}

// ---- rule 5: beyond the schema ----
const NOT_PRINTABLE = /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}\p{Zs}]/u;
export const printable = (s) => [...s].every((ch) => {
  const cp = ch.codePointAt(0);
  if (cp === 0x20) return true;
  return !NOT_PRINTABLE.test(ch) && !LATER_THAN_UNICODE_14.some(([lo, hi]) => cp >= lo && cp <= hi);
});
/** A string as Python's repr() writes it, since `notary verify`'s reasons quote names so. */
export function pyRepr(text) {
  const quote = text.includes("'") && !text.includes('"') ? '"' : "'";
  const escaped = { '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t', [quote]: '\\' + quote };
  return quote + [...text].map((ch) => {
    if (escaped[ch]) return escaped[ch];
    if (printable(ch)) return ch;
    const cp = ch.codePointAt(0), hex = cp.toString(16);
    return cp < 0x100 ? '\\x' + hex.padStart(2, '0') : cp < 0x10000 ? '\\u' + hex.padStart(4, '0') : '\\U' + hex.padStart(8, '0');
  }).join('') + quote;
}
export function eip55(address) {
  const lower = address.slice(2).toLowerCase();
  const h = toHex(keccak_256(utf8.encode(lower)));
  return '0x' + [...lower].map((ch, n) => (parseInt(h[n], 16) >= 8 ? ch.toUpperCase() : ch)).join('');
}
export function canonical(value) {  // section 3: canonical metadata
  if (Array.isArray(value)) return '[' + value.map(canonical).join(',') + ']';
  if (isObj(value)) {
    const keys = Object.keys(value).sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
    return '{' + keys.map((k) => JSON.stringify(k) + ':' + canonical(value[k])).join(',') + '}';
  }
  return JSON.stringify(value);
}
export const utcText = (seconds) => {
  const date = new Date(seconds * 1000);
  return Number.isNaN(date.getTime()) ? '' : date.toISOString().replace(/\.000Z$/, 'Z');
};
function rules(c) {
  const ev = c.evidence, a = c.anchor, depositor = c.leaf.values[4];
  for (const [k, v] of Object.entries(ev.metadata)) {
    for (const s of Array.isArray(v) ? v : [v]) {
      if (str(s) && /[\u0000-\u0008\u000b-\u001f]/.test(s)) invalid('metadata ' + k + ' has a control character');
    }
  }
  if (utf8.encode(canonical(ev.metadata)).length > 16384) invalid('canonical metadata over 16384 bytes');
  if (!printable(depositor) || depositor.startsWith(' ') || depositor.endsWith(' ')) invalid('the depositor (leaf value 5) has a character that is not printable, or starts or ends with a space');
  const addresses = [['anchor.registry', a.registry], ['anchor.notary', a.notary]];
  if (c.version === 2) {
    a.endorsement.endorsements.forEach((e, n) => {
      const where = 'anchor.endorsement.endorsements[' + n + ']';
      addresses.push([where + '.member', e.member]);
      if (utf8.encode(e.organization).length > 128) invalid(where + '.organization is longer than 128 UTF-8 bytes: no member name on chain can be');
    });
    const d = c.depositor_signature;
    if (d !== null) {
      addresses.push(['depositor_signature.signer', d.signer]);
      if (utf8.encode(d.organization).length > 128) invalid('depositor_signature.organization is longer than 128 UTF-8 bytes: no member name on chain can be');
    }
  }
  for (const [where, address] of addresses) {
    const d = address.slice(2);
    if (d !== d.toLowerCase() && d !== d.toUpperCase() && eip55(address) !== address) invalid(where + ' has a wrong EIP-55 checksum');
  }
  if (utcText(a.block_time) !== a.block_time_utc) invalid('anchor.block_time_utc does not match anchor.block_time');
}

/** Section 6 step 1: the certificate's bytes -> the document, or Stop. */
export function readCertificate(bytes) {
  if (bytes.length > MAX_BYTES) cannotDecide('the certificate is larger than 1 MiB: not read');
  if (depthOf(bytes) > MAX_DEPTH) cannotDecide('the certificate is nested deeper than 64 levels: not read');
  let text;
  try { text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes); } catch (e) { invalid('malformed certificate: not UTF-8'); }
  try {
    const doc = parseJson(text);
    if (!isObj(doc)) invalid('not a JSON object');
    if (doc.format !== 'evidence-notary-certificate') invalid('not an evidence notary certificate (format)');
    if (isInt(doc.version) && BigInt(doc.version.lexeme) > 2n) {
      cannotDecide('certificate version ' + doc.version.lexeme + ' is newer than this verifier (it reads versions 1 and 2); use a newer verifier');
    }
    const c = numbersToIntegers(doc);
    scalarValues(c);
    schema(c);
    rules(c);
    return c;
  } catch (e) {
    if (e instanceof Stop && e.outcome === 'invalid') throw new Stop('invalid', 'malformed certificate: ' + e.message);
    throw e;
  }
}
