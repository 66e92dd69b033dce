// The page: pick (or drop) the certificate and the file, name a chain node, verify.
// Nothing leaves the browser except JSON-RPC calls to the node the clerk names and, when the
// page was opened from a certificate's QR link, one request for that certificate to the
// server that served the page (checked like any dropped certificate: it is not trusted).
import { hashFile } from './hash.js';
import { verifyCertificate } from './verify.js';
import { DEV_CHAIN, FILE_CHECKS, OUTCOME, STATUS, checksFor, deposited, endorsed, notProven, proven } from './text.js';

const $ = (id) => document.getElementById(id);
const state = { certificate: null, certificateSource: '', file: null, digest: null, digestOf: null, version: 1 };

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  for (const c of children) node.append(c);
  return node;
}
const bilingual = (zh, en) => el('span', { class: 'bi' }, el('span', { lang: 'zh-CN' }, zh), ' ', el('span', { lang: 'en', class: 'en' }, en));

function say(id, zh, en, kind = '') {
  const box = $(id);
  box.replaceChildren(zh || en ? bilingual(zh, en) : '');
  box.className = 'note ' + kind;
}

async function takeCertificate(file) {
  if (!file) {  // the clerk cleared the choice
    state.certificate = null;
    say('certificate-status', '', '');
    ready();
    return;
  }
  state.certificate = new Uint8Array(await file.arrayBuffer());
  state.certificateSource = 'file';
  say('certificate-status', '已载入证书：' + file.name, 'certificate loaded: ' + file.name + ' (' + file.size + ' bytes)', 'ok');
  ready();
}

function takeFile(file) {
  if (!file) {
    state.file = null;
    say('file-status', '', '');
    return;
  }
  state.file = file;
  state.digest = null;
  say('file-status', '已选择文件：' + file.name, 'file chosen: ' + file.name + ' (' + file.size + ' bytes)', 'ok');
  ready();
}

function ready() {
  $('verify').disabled = !state.certificate;
}

function drops(zone, take) {
  zone.addEventListener('dragover', (e) => { e.preventDefault(); zone.classList.add('over'); });
  zone.addEventListener('dragleave', () => zone.classList.remove('over'));
  zone.addEventListener('drop', (e) => {
    e.preventDefault();
    zone.classList.remove('over');
    take(e.dataTransfer.files[0]);
  });
}

// The list of checks, pending: version 1's until the certificate has been read, then its
// version's (version 2 adds the endorsement and depositor signature checks).
function renderChecks(withFile, version = 1) {
  state.version = version;
  const list = $('checks');
  list.replaceChildren();
  for (const [name, zh, en] of checksFor(version)) {
    if (name === 'node answer') continue;
    const status = !withFile && FILE_CHECKS.includes(name) ? 'nofile' : 'pending';
    list.append(checkRow(name, zh, en, status, ''));
  }
}
function checkRow(name, zh, en, status, detail) {
  const [sz, se] = STATUS[status];
  return el('li', { 'data-check': name, 'data-status': status },
    el('span', { class: 'mark' }, bilingual(sz, se)),
    el('span', { class: 'label' }, bilingual(zh, en)),
    el('div', { class: 'detail' }, detail));
}
const label = (name) => checksFor(state.version).find(([n]) => n === name) || [name, name, name];
function showCheck(check) {
  if (check.name === 'certificate' && check.version && check.version !== state.version) {
    renderChecks(Boolean(state.file), check.version);
  }
  const row = document.querySelector('[data-check="' + CSS.escape(check.name) + '"]');
  const [, zh, en] = label(check.name);
  const fresh = checkRow(check.name, zh, en, check.status, check.detail);
  if (row) row.replaceWith(fresh); else $('checks').append(fresh);
}

function showVerdict(result, rpcUrl) {
  for (const row of document.querySelectorAll('#checks li[data-status="pending"]')) {
    row.dataset.status = 'skipped';
    row.querySelector('.mark').replaceChildren(bilingual(...STATUS.skipped));
  }
  const [zh, en, summaryZh, summaryEn] = OUTCOME[result.outcome];
  const box = $('verdict');
  box.dataset.outcome = result.outcome;
  const parts = [
    el('h2', {}, bilingual('结论：' + zh, 'Verdict: ' + en)),
    el('p', {}, bilingual(summaryZh, summaryEn)),
    el('p', { class: 'reason', id: 'reason' }, result.reason),
    ...deciding(result),
    el('p', { class: 'node' }, bilingual('所用节点：', 'chain node used: '), rpcUrl),
  ];
  if (result.outcome === 'valid') {
    const f = result.facts;
    const list = (lines) => el('ul', {}, ...lines.map(([z, e]) => el('li', {}, bilingual(z, e))));
    parts.push(el('h3', {}, bilingual('证明了什么', 'What this proves')), list(proven(f)));
    if (f.endorsement) {
      parts.push(el('h3', {}, bilingual('背书机构（联盟成员）', 'Endorsed by (consortium members)')),
        el('ul', { id: 'endorsement' }, ...endorsed(f.endorsement).map(([z, e]) => el('li', {}, bilingual(z, e)))));
    }
    if ('depositor_signature' in f) {  // version 2: who signed the deposit, or nobody did
      parts.push(el('h3', {}, bilingual('存证人', 'Deposited by')),
        el('ul', { id: 'depositor' }, ...deposited(f.depositor_signature, f.depositor).map(([z, e]) => el('li', {}, bilingual(z, e)))));
    }
    parts.push(el('h3', {}, bilingual('不证明什么', 'What this does not prove')), list(notProven(f)));
    if (f.development_chain) parts.push(el('p', { class: 'warn' }, bilingual(...DEV_CHAIN)));
  }
  box.replaceChildren(...parts);
  box.hidden = false;
}

function deciding(result) {  // the check that decided an invalid or undecided verdict
  const last = result.checks && result.checks[result.checks.length - 1];
  if (result.outcome === 'valid' || !last || last.status === 'pass') return [];
  const [, zh, en] = label(last.name);
  return [el('p', { class: 'decided' }, bilingual('决定结论的检查项：' + zh, 'deciding check: ' + en))];
}

async function run() {
  const rpcUrl = $('rpc').value.trim();
  if (!/^https?:\/\/[^\s]+$/.test(rpcUrl)) {
    say('rpc-status', '请填写区块链节点地址（http:// 或 https://）', 'enter the chain node URL (http:// or https://)', 'bad');
    return;
  }
  say('rpc-status', '', '');
  $('verify').disabled = true;
  $('verdict').hidden = true;
  delete $('verdict').dataset.outcome;
  renderChecks(Boolean(state.file));
  try {
    if (state.file && state.digestOf !== state.file) {
      const bar = $('progress');
      bar.hidden = false;
      state.digest = await hashFile(state.file, (done, total) => { bar.max = total; bar.value = done; });
      state.digestOf = state.file;
      say('file-status', '文件哈希已算出（在本机浏览器内）', 'file hashed in this browser: SHA-256 ' + state.digest.sha256 + ', SM3 ' + state.digest.sm3, 'ok');
    }
    const result = await verifyCertificate(state.certificate, state.file ? state.digest : null, rpcUrl, showCheck);
    showVerdict(result, rpcUrl);
  } catch (e) {
    showVerdict({ outcome: 'cannot_decide', reason: 'verifier error: ' + (e && e.message) }, rpcUrl);
  } finally {
    $('verify').disabled = false;
  }
}

// Opened from a certificate's QR code: {public_url}/verify#id=<evidence id>&sha256=<hex>
async function fromLink() {
  const params = new URLSearchParams(location.hash.slice(1));
  const id = params.get('id'), sha256 = (params.get('sha256') || '').toLowerCase();
  if (!id || !sha256) return;
  if (location.protocol !== 'http:' && location.protocol !== 'https:') return;
  if (!/^[0-9a-f]{64}$/.test(sha256) || !/^[A-Za-z0-9_-]{1,128}$/.test(id)) {
    say('certificate-status', '链接中的编号或哈希格式不对', 'the link holds a malformed id or sha256', 'bad');
    return;
  }
  const url = new URL('v1/public/certificates/' + encodeURIComponent(id) + '?sha256=' + sha256, location.href);
  say('certificate-status', '正在从本站取证书…', 'fetching the certificate from this site…');
  try {
    const res = await fetch(url, { credentials: 'omit', cache: 'no-store' });
    if (!res.ok) {
      say('certificate-status', '本站找不到编号与哈希都相符的证书（' + res.status + '）。请放入证书文件。', 'this site has no certificate with that id and hash (HTTP ' + res.status + '). Drop the certificate file instead.', 'bad');
      return;
    }
    state.certificate = new Uint8Array(await res.arrayBuffer());
    state.certificateSource = 'link';
    say('certificate-status', '证书 ' + id + ' 已从本站取得。它和上传的证书一样不被信任：下面逐项用文件和区块链核验。',
      'certificate ' + id + ' fetched from this site. It is not trusted any more than a dropped one: every check below is made against the file and the chain.', 'ok');
    say('file-status', '请放入要核验的文件（SHA-256 应为 ' + sha256 + '）', 'now drop the file to check (its SHA-256 should be ' + sha256 + ')');
    ready();
  } catch (e) {
    say('certificate-status', '无法从本站取得证书，请放入证书文件。', 'could not fetch the certificate from this site (' + (e && e.message) + '): drop the certificate file instead.', 'bad');
  }
}

$('certificate').addEventListener('change', (e) => takeCertificate(e.target.files[0]));
$('file').addEventListener('change', (e) => takeFile(e.target.files[0]));
drops($('certificate-zone'), takeCertificate);
drops($('file-zone'), takeFile);
$('verify').addEventListener('click', run);
window.addEventListener('hashchange', fromLink);
ready();
fromLink();
