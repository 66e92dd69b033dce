// Version 2's endorsement steps (docs/certificate-v2.md section 5): E1 and E2 offline, right
// after step 5; E3 to E5 against the node, after step 11. Check names, outcomes and reasons
// are `notary verify`'s (notary/verify/endorsement.py). Each step is one function in OFFLINE
// or ONLINE, run in order by verify.js; another version 2 check is one more function in the
// right list and one more label in text.js, as depositor.js (D1, D2) is. E3 leaves its
// replay of the registry's configuration in `ctx.configuration` for D2.
import { keccak_256 } from '@noble/hashes/sha3.js';
import { eip55, fromHex, pyRepr, toHex, utf8Escaped } from './read.js';
import { abiStringHex, getLogsInWindows, uint, word } from './chain.js';
import { CONFIG_EVENT_SIGNATURES } from './facts.js';
import { NotAccepted, endorsementDigest, recoverSigner } from './eip712.js';

const utf8 = new TextEncoder();
const topic = (signature) => '0x' + toHex(keccak_256(utf8.encode(signature)));
const MEMBER_SET = topic(CONFIG_EVENT_SIGNATURES.MemberSet);
const MEMBER_REMOVED = topic(CONFIG_EVENT_SIGNATURES.MemberRemoved);
const POLICY_SET = topic(CONFIG_EVENT_SIGNATURES.PolicySet);
const ENDORSER = 2;  // MemberSet role: 1 NOTARY, 2 ENDORSER, 3 OBSERVER, 4 DEPOSITOR
const ENDORSEMENT_OF = '0x9ca566e3';  // endorsementOf(bytes32)

const checksum = (address) => eip55(address.toLowerCase());
const entries = (c) => c.anchor.endorsement.endorsements;

/** E1: the members are distinct and ascending as numbers (each counts once). */
function distinct(run, c) {
  const list = entries(c);
  let problem = '', previous = -1n;
  for (let i = 0; i < list.length && !problem; i++) {
    const n = BigInt(list[i].member);
    if (n === previous || list.slice(0, i).some((o) => BigInt(o.member) === n)) {
      problem = 'member ' + checksum(list[i].member) + ' endorses twice (anchor.endorsement.endorsements[' + i + ']): each member counts once';
    } else if (n < previous) {
      problem = 'anchor.endorsement.endorsements are not in ascending order of member address, as the registry records them';
    }
    previous = n;
  }
  run.check('endorsers distinct', !problem, list.length + ' distinct endorsing members', problem);
}

/** E2: each signature, over this batch under this chain's and registry's domain, is its member's. */
function signatures(run, c) {
  const a = c.anchor, digest = endorsementDigest(a);
  for (const e of entries(c)) {
    const member = checksum(e.member);
    let signer;
    try {
      signer = recoverSigner(digest, e.signature);
    } catch (err) {
      run.check('endorsement signatures', false, '', err instanceof NotAccepted
        ? 'the signature of ' + member + ' is not in the form the registry accepts (low s, v 27 or 28: OpenZeppelin ECDSA)'
        : 'the signature of ' + member + ' is not valid: ' + err.message);
    }
    if (signer !== e.member.toLowerCase()) {
      run.check('endorsement signatures', false, '',
        'the signature given for ' + member + ' (' + e.organization + ') recovers to ' + checksum(signer) +
        ": it is not that member's endorsement of this batch (root, leaf count, manifest, batch time) on chain " +
        a.chain_id + ', registry ' + a.registry);
    }
  }
  run.add({ name: 'endorsement signatures', status: 'pass',
    detail: 'each of the ' + entries(c).length + " signatures is its member's, over this batch on chain " + a.chain_id + ', registry ' + a.registry });
}

/**
 * The members and policy in force for the anchor: the registry's MemberSet, MemberRemoved and
 * PolicySet logs before its own Anchored log, in chain order, replayed. Also every account
 * that stopped being an ENDORSER before then, with the block where it last did (`left`), and
 * every account removed before then, with the block of its last removal (`removed`).
 */
async function configurationBefore(ctx, a) {
  const block = BigInt(a.block_number), index = BigInt(ctx.anchoredLog.logIndex);
  const registry = a.registry.toLowerCase();
  const logs = await getLogsInWindows(ctx.call, { address: a.registry, topics: [[MEMBER_SET, MEMBER_REMOVED, POLICY_SET]] }, block);
  const members = new Map(), left = new Map(), removed = new Map();
  let threshold = null, nonce = null;
  for (const log of logs) {
    const at = BigInt(log.blockNumber);
    if (at > block || (at === block && BigInt(log.logIndex) >= index)) break;
    if (String(log.address).toLowerCase() !== registry || log.removed) continue;
    const kind = log.topics[0];
    if (kind === MEMBER_SET || kind === MEMBER_REMOVED) {
      const account = '0x' + log.topics[1].slice(26).toLowerCase();
      const was = members.get(account);
      if (was && was.role === ENDORSER) left.set(account, at);
      if (kind === MEMBER_SET) {
        const name = utf8Escaped(fromHex(abiStringHex(log.data, Number(uint(word(log.data, 1))))));
        const role = Number(uint(word(log.data, 0)));
        members.set(account, { role, organization: log.topics[2].toLowerCase(), name });
        if (role === ENDORSER) left.delete(account);
      } else {
        members.delete(account);
        removed.set(account, at);
      }
    } else if (kind === POLICY_SET) {
      threshold = Number(uint(word(log.data, 0)));
      nonce = uint(log.topics[1].slice(2));
    }
  }
  return { members, left, removed, threshold, nonce };
}

/** E3: each endorser was an ENDORSER of that organization id and name at the anchor. */
async function members(run, c, ctx) {
  const a = c.anchor;
  const config = await configurationBefore(ctx, a);
  ctx.configuration = config;
  if (config.threshold === null) {
    // The published code emits PolicySet when deployed: none means the node's logs are
    // incomplete (pruned, not indexed), not that the certificate lies.
    run.cannotDecide('endorsers were members', 'the node at ' + ctx.rpcUrl + ' returns no configuration events of ' + a.registry +
      ' up to block ' + a.block_number + ', although the published ConsortiumRegistry emits them when deployed: its logs are incomplete, ask another node');
  }
  const endorsers = [...config.members.entries()].filter(([, m]) => m.role === ENDORSER);
  for (const e of entries(c)) {
    const member = checksum(e.member), held = config.members.get(e.member.toLowerCase());
    let problem = '';
    if (!held || held.role !== ENDORSER) {
      const since = config.left.get(e.member.toLowerCase());
      const why = since !== undefined ? 'it stopped being one in block ' + since : 'it was never one before the anchor';
      problem = member + ' (' + e.organization + ') was not an ENDORSER member of the registry when the batch was anchored in block ' + a.block_number + ': ' + why;
    } else {
      const wrong = [];
      if (held.organization !== e.organization_id) wrong.push('organization id ' + held.organization + ', not ' + e.organization_id);
      if (held.name !== e.organization) wrong.push('organization name ' + pyRepr(held.name) + ', not ' + pyRepr(e.organization));
      if (wrong.length) problem = 'on chain, member ' + member + ' has ' + wrong.join(' and ');
    }
    if (problem) run.check('endorsers were members', false, '', problem);
  }
  run.add({ name: 'endorsers were members', status: 'pass',
    detail: entries(c).length + ' ENDORSER members at block ' + a.block_number + ' (' + endorsers.length + ' endorsing members then, configuration ' + config.nonce + ')' });
  ctx.endorsement = {
    endorsed_by: entries(c).map((e) => ({ member: checksum(e.member), organization: e.organization, organization_id: e.organization_id })),
    endorsers: entries(c).length,
    endorsing_members: endorsers.length,
    threshold: config.threshold,
    block: a.block_number,
  };
}

/** E4: the certificate's threshold is the policy's k then, and it has at least k endorsers. */
function policy(run, c, ctx) {
  const a = c.anchor, k = ctx.endorsement.threshold, stated = a.endorsement.threshold, count = entries(c).length;
  run.check('endorsement policy', stated === k, 'the policy at block ' + a.block_number + ' required ' + k,
    'anchor.endorsement.threshold is ' + stated + ', but the policy in force at block ' + a.block_number + ' required ' + k + ' endorsements');
  run.check('endorsement quorum', count >= k, count + ' distinct endorsers >= ' + k,
    'only ' + count + ' distinct endorsers, the policy at block ' + a.block_number + ' required ' + k);
}

/** E5: endorsementOf(root), at "latest", records the same batch time, k and endorsers. */
async function recorded(run, c, ctx) {
  const a = c.anchor;
  const rec = await ctx.call('eth_call', [{ to: a.registry, data: ENDORSEMENT_OF + a.root.slice(2) }, 'latest']);
  const base = Number(uint(word(rec, 2))) / 32, n = Number(uint(word(rec, base)));
  const chain = [...Array(n).keys()].map((i) => checksum('0x' + word(rec, base + 1 + i).slice(24)));
  const batchTime = uint(word(rec, 0)), k = uint(word(rec, 1));
  run.compare('recorded endorsement', 'the registry recorded these ' + n + ' endorsers, k = ' + k + ' and batch time ' + batchTime, 'in the registry (endorsementOf)', [
    ['anchor.batch_time', batchTime, BigInt(a.batch_time)],
    ['anchor.endorsement.threshold', k, BigInt(a.endorsement.threshold)],
    ['the endorsers', chain.join(', '), entries(c).map((e) => checksum(e.member)).join(', ')],
  ]);
}

/** Offline steps, run after step 5 with (run, certificate). */
export const OFFLINE = [distinct, signatures];
/** Steps against the node, run after step 11 with (run, certificate, ctx): ctx has `call`,
 * `rpcUrl` and `anchoredLog` (step 11's Anchored log); E3 leaves `ctx.endorsement`, the
 * verdict's facts.endorsement (as `notary verify --json`), and `ctx.configuration`, its
 * replay (members by lower-case account, removed, threshold). */
export const ONLINE = [members, policy, recorded];
