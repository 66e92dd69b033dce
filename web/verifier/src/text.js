// Every label on the page, in Chinese and English. The check names are `notary verify`'s.
// CHECKS are version 1's steps, in order; checksFor(version) adds version 2's (E1, E2, D1
// after the Merkle proof, E3 to E5, D2 after the Anchored event: docs/certificate-v2.md
// section 5).
import { splitDepositor } from './depositor.js';
export const CHECKS = [
  ['certificate', '证书格式', 'Certificate format (docs/certificate.md section 2)'],
  ['file sha256', '文件 SHA-256', 'File SHA-256'],
  ['file sm3', '文件 SM3', 'File SM3'],
  ['file size', '文件大小', 'File size'],
  ['leaf content', '叶子包含证据哈希', 'Leaf commits to the hashes'],
  ['leaf metadata', '叶子包含元数据摘要', 'Leaf commits to the metadata'],
  ['leaf hash', '叶子哈希', 'Leaf hash'],
  ['merkle proof', '默克尔证明', 'Merkle proof leads to the root'],
  ['chain id', '链标识', 'Chain id of the node'],
  ['node synced', '节点已同步到锚定区块', 'Node has reached the anchor block'],
  ['registry code', '登记合约代码为公布版本', 'Registry code is the published build'],
  ['registry code hash field', '证书所载合约代码哈希', 'Certificate names that code hash'],
  ['root anchored', '默克尔根已上链', 'Root anchored in the registry'],
  ['anchor record', '链上锚定记录一致', 'Anchor record matches'],
  ['block', '区块哈希与时间一致', 'Block hash and time match'],
  ['contract verify', '合约验证证明', 'Registry contract accepts the proof'],
  ['transaction in block', '交易在该区块中', 'Transaction is in the block'],
  ['transaction status', '交易成功', 'Transaction succeeded'],
  ['transaction receipt', '交易回执一致', 'Transaction receipt matches'],
  ['anchored event', '锚定事件存在', 'Anchored event emitted'],
  ['event fields', '锚定事件字段一致', 'Anchored event fields match'],
  ['node answer', '节点应答', 'Node answer'],
];
export const FILE_CHECKS = ['file sha256', 'file sm3', 'file size'];
export const V2_OFFLINE_CHECKS = [
  ['endorsers distinct', '背书成员不重复', 'Endorsers are distinct (each counts once)'],
  ['endorsement signatures', '背书签名（EIP-712）属于各成员', "Endorsement signatures (EIP-712) are the members' own"],
  ['depositor signature', '存证人签名（EIP-712）属于叶子所载密钥', "Depositor signature (EIP-712) is the key's the leaf names"],
];
export const V2_ONLINE_CHECKS = [
  ['endorsers were members', '锚定时均为背书成员', 'Endorsers were members when anchored'],
  ['endorsement policy', '背书门槛为当时策略', 'Threshold is the policy then in force'],
  ['endorsement quorum', '背书数量达到门槛', 'Enough endorsements (quorum)'],
  ['recorded endorsement', '链上背书记录一致', 'Endorsement recorded in the registry matches'],
  ['depositor key registered', '锚定时存证人密钥已登记（DEPOSITOR）', 'Depositor key was registered (DEPOSITOR) when anchored'],
];
/** The checks a certificate of `version` goes through, in order (with 'node answer' last). */
export function checksFor(version) {
  if (version !== 2) return CHECKS;
  const out = [];
  for (const row of CHECKS) {
    if (row[0] === 'node answer') out.push(...V2_ONLINE_CHECKS);
    out.push(row);
    if (row[0] === 'merkle proof') out.push(...V2_OFFLINE_CHECKS);
  }
  return out;
}

export const STATUS = {
  pass: ['通过', 'pass'],
  fail: ['不通过', 'FAIL'],
  unknown: ['无法判定', 'cannot decide'],
  pending: ['待检查', 'pending'],
  skipped: ['未检查', 'not reached'],
  nofile: ['未提供文件', 'no file given'],
  unsigned: ['存证未签名', 'deposit not signed'],
};

export const OUTCOME = {
  valid: ['有效', 'VALID', '证书、文件与区块链相互一致。', 'The certificate, the file and the chain agree.'],
  invalid: ['无效', 'INVALID', '证书、文件与区块链相互矛盾：见下方未通过的检查项。', 'The certificate, the file and the chain contradict each other: see the failed check below.'],
  cannot_decide: ['无法判定', 'CANNOT DECIDE', '本次检查无法作出判断（节点无法访问、属于其他链、尚未同步，或证书版本较新）。换一个节点或稍后再试。', 'This run could not judge (the node is unreachable, serves another chain, has not synced, or the certificate is newer). Try another node or later.'],
};

// What a valid verdict proves and does not prove: the CLI's wording (notary/verify/certificate.py)
export function proven(facts) {
  const subjectZh = facts.file_checked ? '此文件（' + facts.name + '）' : 'SHA-256 为 ' + facts.sha256 + ' 的内容';
  const subjectEn = facts.file_checked ? 'this file (' + facts.name + ')' : 'content with SHA-256 ' + facts.sha256;
  return [
    [subjectZh + '不晚于 ' + facts.when + '（北京时间 ' + facts.when_beijing + '；链 ' + facts.chain_id + ' 的第 ' + facts.block_number + ' 号区块，登记合约 ' + facts.registry + '）已经存在，且此后未被改动。',
      subjectEn + ' existed, unchanged, no later than ' + facts.when + ' (block ' + facts.block_number + ' of chain ' + facts.chain_id + ', registry ' + facts.registry + ').'],
    ['由存证账户 ' + facts.notary + ' 为存证人“' + facts.depositor + '”上链，连同证书中的元数据。',
      'It was anchored by notary account ' + facts.notary + " for depositor '" + facts.depositor + "', together with the metadata in the certificate."],
  ];
}
export function notProven(facts) {
  const lines = [
    ['内容何时创作：它可能早于锚定时间，但不会晚于。', 'When the content was created: it may be older than the anchor, never newer.'],
    ['谁是作者：区块链证明的是谁通过存证平台提交了它，而非著作权归属。', 'Who authored it: the chain proves who deposited it through the notary, not authorship.'],
    ['元数据（名称、类型、标题）是否属实：只证明当时如此申报。', 'That the metadata (name, media type, title) is true: only that it was declared then.'],
  ];
  if (facts.endorsement) {
    lines.push(NOT_PROVEN_V2);
    lines.push(facts.depositor_signature ? SIGNED_WHEN : unsigned(facts.depositor));
  }
  if (!facts.file_checked) lines.push(['任何具体文件与之相符：本次未检查文件。请放入文件后重新验证。', 'That any particular file matches: no file was checked. Add the file and verify again.']);
  return lines;
}
// Who endorsed a version 2 anchor (facts.endorsement, as `notary verify --json` has it): the
// CLI's sentence (notary/verify/wording.py endorsed_words), then each organization with its id
// and account, then the policy at the anchor's block.
export function endorsed(e) {
  const by = e.endorsed_by;
  return [
    ['由 ' + e.endorsing_members + ' 个背书成员中的 ' + by.length + ' 个背书(要求 ' + e.threshold + ' 个):' +
      by.map((m) => m.organization + '(' + m.member + ')').join('、') + '。',
    'Endorsed by ' + by.length + ' of the ' + e.endorsing_members + ' endorsing members (' + e.threshold + ' required): ' +
      by.map((m) => m.organization + ' (' + m.member + ')').join(', ') + '.'],
    ...by.map((m) => ['背书机构“' + m.organization + '”：机构标识 ' + m.organization_id + '，账户 ' + m.member + '；其签名已在本浏览器中核对，锚定时它是登记合约的背书成员。',
      'Endorsing organization “' + m.organization + '”: organization id ' + m.organization_id + ', account ' + m.member + '; its signature was checked in this browser, and it was an endorsing member of the registry when the batch was anchored.']),
    ['背书策略：第 ' + e.block + ' 号区块（锚定区块）时，' + e.endorsing_members + ' 个背书成员中须有 ' + e.threshold + ' 个背书。',
      'Endorsement policy: ' + e.threshold + ' of ' + e.endorsing_members + ' required at block ' + e.block + " (the anchor's block)."],
  ];
}
export const NOT_PROVEN_V2 = ['背书机构核对了什么：它们签名的是这一批次（默克尔根、叶子数、清单、批次时间），不是文件本身。',
  'What the endorsers checked beyond what they signed: their signatures bind the batch (root, leaf count, manifest, batch time), not the files.'];
const SIGNED_WHEN = ['存证人何时签名：签名不带时间。锚定只证明叶子（连同签名者的名字）不晚于区块时间已存在，且只有锚定时联盟为该机构登记的密钥才算数。',
  'When the depositor signed: a signature carries no time. The anchor proves the leaf, and so the name of its signer, existed by the block time, and only a key the consortium listed for that organization at the anchor counts.'];
// An unsigned version 2 deposit: the CLI's words (notary/verify/wording.py unsigned_words).
const unsigned = (depositor) => ['存证人“' + depositor + '”是存证平台的说法:该存证没有存证人签名。',
  "That '" + depositor + "' deposited it, beyond the notary's word: the deposit carries no depositor signature."];

// Who deposited a version 2 certificate's content (facts.depositor_signature, as `notary
// verify --json` has it, null when unsigned): the CLI's sentence (wording.py depositor_words),
// then the key, the organization it was registered for and at which block; or, unsigned,
// that the depositor is the operator's word.
export function deposited(d, depositor) {
  if (!d) {
    return [['未签名：存证人“' + depositor + '”只是存证平台的说法，该存证没有存证人自己的签名。',
      "Not signed: the depositor '" + depositor + "' is only the notary operator's word; the deposit carries no signature of the depositor's own."]];
  }
  const [identity] = splitDepositor(depositor);
  return [
    ['由 ' + d.organization + '(' + d.signer + ')存证并签名。', 'Deposited and signed by ' + d.organization + ' (' + d.signer + ').'],
    ['存证人：' + d.organization + '（密钥 ' + d.signer + '），第 ' + d.block + ' 号区块（锚定区块）时该密钥已登记为“' + d.organization + '”的存证密钥（机构标识 ' + d.organization_id + '，存证人身份“' + identity + '”）；其对此内容、元数据与存证人身份的签名已在本浏览器中核对。',
      'Deposited by ' + d.organization + ' (key ' + d.signer + '), registered for ' + d.organization + ' at block ' + d.block + " (the anchor's block; organization id " + d.organization_id + ", depositor identity '" + identity + "'); the key's signature of this content, its metadata and that identity was checked in this browser."],
  ];
}

export const DEV_CHAIN = ['这是本地开发链（链标识 31337）：法院必须用自己信任的节点核验。', 'This is a local development chain (chain id 31337): a court must check against a node it trusts.'];
