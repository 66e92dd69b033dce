// Version 2's depositor signature steps (docs/certificate-v2.md section 5): D1 offline, after
// E1 and E2; D2 against the node, after E3 to E5. Check names, outcomes and reasons are
// `notary verify`'s (notary/verify/depositor.py). The leaf's depositor names its signer
// ("<identity>;signer=<address>") exactly when the certificate carries depositor_signature;
// then the key's EIP-712 Deposit signature of the leaf's hashes, metadata digest and identity
// must recover to it (D1), and the registry's events, replayed by E3 up to the anchor's own
// Anchored log, must make it a DEPOSITOR of that organization id and name (D2). So who
// deposited rests on the depositor's own key and the consortium's record of whose key it is,
// not on the operator's word. An unsigned deposit passes both untouched: its rows say so.
import { keccak_256 } from '@noble/hashes/sha3.js';
import { eip55, pyRepr, toHex } from './read.js';
import { NotAccepted, depositDigest, recoverSigner } from './eip712.js';

export const CHECK = 'depositor signature';
export const MEMBER_CHECK = 'depositor key registered';
const DEPOSITOR = 4;
const ROLES = ['NONE', 'NOTARY', 'ENDORSER', 'OBSERVER', 'DEPOSITOR'];  // the contract's enum Role
const utf8 = new TextEncoder();

/** (identity, signer as written) of a leaf's depositor; signer null when it names none: the
 * last ';signer=' followed by 0x and exactly 40 hex digits, at the end (notary/core/depositor.py). */
export function splitDepositor(depositor) {
  const m = /^([\s\S]+);signer=(0x[0-9a-fA-F]{40})$/.exec(depositor);
  return m ? [m[1], m[2]] : [depositor, null];
}

/** D1: the leaf names the signer iff there is a signature; it is that key's, of this leaf. */
function signature(run, c) {
  const [identity, named] = splitDepositor(c.leaf.values[4]);
  const d = c.depositor_signature;
  if (named === null && d === null) {
    // D1 and D2 do nothing: the rows say why they stay empty (not in run.checks, as the CLI)
    const detail = 'the deposit carries no depositor signature: the depositor is the notary\'s word';
    run.note({ name: CHECK, status: 'unsigned', detail });
    run.note({ name: MEMBER_CHECK, status: 'unsigned', detail });
    return;
  }
  if (named === null) {
    run.check(CHECK, false, '', "the certificate carries a depositor_signature, but the leaf's depositor names no " +
      "signer (';signer=<address>'): the anchored leaf does not commit to that signature");
  }
  if (d === null) {
    run.check(CHECK, false, '', "the leaf's depositor names the signer " + named + ', but the certificate carries no depositor_signature');
  }
  const digits = named.slice(2);
  if (digits !== digits.toLowerCase() && digits !== digits.toUpperCase() && eip55(named) !== named) {
    run.check(CHECK, false, '', "the signer in the leaf's depositor " + named + ' has mixed case but a wrong EIP-55 checksum');
  }
  const signer = eip55(named);
  run.check(CHECK, BigInt(d.signer) === BigInt(signer), '', 'depositor_signature.signer is ' + d.signer + ', the leaf names ' + signer);
  const expectedId = '0x' + toHex(keccak_256(utf8.encode(identity)));
  run.check(CHECK, d.organization_id === expectedId, '', 'depositor_signature.organization_id is ' + d.organization_id +
    ', but the organization of depositor ' + pyRepr(identity) + ' is keccak256 of it, ' + expectedId);
  const a = c.anchor;
  let recovered;
  try {
    recovered = eip55(recoverSigner(depositDigest(a, c.leaf.values, identity), d.signature));
  } catch (err) {
    run.check(CHECK, false, '', 'the depositor signature is not valid: ' +
      (err instanceof NotAccepted ? err.message : 'not a valid signature: ' + err.message));
  }
  const where = ' ' + pyRepr(identity) + ' on chain ' + a.chain_id + ', registry ' + a.registry;
  run.check(CHECK, recovered === signer,
    'signed by ' + signer + ' over this content, metadata and depositor ' + pyRepr(identity) + ' (chain ' + a.chain_id + ', registry ' + a.registry + ')',
    'the depositor signature recovers to ' + recovered + ', not to ' + signer + ": it is not that key's signature of this content, metadata and depositor" + where);
}

/** D2: on E3's replay (ctx.configuration), the signer was a DEPOSITOR of that organization. */
function registered(run, c, ctx) {
  const d = c.depositor_signature, a = c.anchor;
  if (d === null) { ctx.depositor = null; return; }
  const signer = eip55(d.signer.toLowerCase());
  const held = ctx.configuration.members.get(signer.toLowerCase());
  if (!held || held.role !== DEPOSITOR) {
    const removed = ctx.configuration.removed.get(signer.toLowerCase());
    const why = held ? 'it was a member with role ' + (ROLES[held.role] || held.role)
      : removed !== undefined ? 'it stopped being one in block ' + removed : 'it was never one before the anchor';
    run.check(MEMBER_CHECK, false, '', 'the depositor key ' + signer + ' was not a DEPOSITOR member of the registry when the batch was anchored in block ' +
      a.block_number + ': ' + why);
  }
  const wrong = [];
  if (held.organization !== d.organization_id) wrong.push('organization id ' + held.organization + ', not ' + d.organization_id + " (it is another organization's key)");
  if (held.name !== d.organization) wrong.push('name ' + pyRepr(held.name) + ', not ' + pyRepr(d.organization));
  run.check(MEMBER_CHECK, wrong.length === 0, signer + ' was a DEPOSITOR key of ' + d.organization + ' at block ' + a.block_number,
    'on chain, depositor key ' + signer + ' has ' + wrong.join(' and '));
  ctx.depositor = { signer, organization: d.organization, organization_id: d.organization_id, block: a.block_number };
}

/** Offline, after endorsement.OFFLINE: (run, certificate). */
export const OFFLINE = [signature];
/** Online, after endorsement.ONLINE: (run, certificate, ctx). Leaves `ctx.depositor`, the
 * verdict's facts.depositor_signature (as `notary verify --json`; null when unsigned). */
export const ONLINE = [registered];
