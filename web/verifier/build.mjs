// Builds notary/court/verify.html: one self-contained page (inlined JS and CSS, no request to
// anything but the chain node the clerk names), from src/ and the pinned packages in
// package-lock.json. The output is deterministic: tests/web/test_web_verifier.py rebuilds it
// and compares bytes with the committed file.
//   node build.mjs [OUTPUT]      (default: ../../notary/court/verify.html)
import { build } from 'esbuild';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const repo = join(here, '..', '..');
const output = process.argv[2] || join(repo, 'notary', 'court', 'verify.html');

const load = (name) => JSON.parse(readFileSync(join(repo, 'notary', 'artifacts', name + '.json'), 'utf8'));
const artifact = load('EvidenceRegistry');      // version 1 (docs/certificate.md)
const consortium = load('ConsortiumRegistry');  // version 2 (docs/certificate-v2.md)
const event = (build, name) => {
  const found = build.abi.find((item) => item.type === 'event' && item.name === name);
  return name + '(' + found.inputs.map((i) => i.type).join(',') + ')';
};
const signature = event(artifact, 'Anchored');
// version 2 reads the v1 steps' Anchored event from a ConsortiumRegistry: one signature for both
if (event(consortium, 'Anchored') !== signature) throw new Error('the two registries emit different Anchored events');
const configEvents = Object.fromEntries(['MemberSet', 'MemberRemoved', 'PolicySet'].map((n) => [n, event(consortium, n)]));
const spec = readFileSync(join(repo, 'docs', 'certificate.md'), 'utf8');
const later = spec.split('```assigned-after-unicode-14')[1].split('```')[0].trim().split(/\s+/)
  .map((r) => r.split('-').map((x) => parseInt(x, 16))).map(([lo, hi]) => [lo, hi === undefined ? lo : hi]);
// Version 2 publishes more than one ConsortiumRegistry build (docs/certificate-v2.md section
// 3: build 2, with the DEPOSITOR role, deployed today, and build 1 before it, whose
// certificates keep verifying): read them from that section's list, newest first, and insist
// that the artifact's build is the first.
const specV2 = readFileSync(join(repo, 'docs', 'certificate-v2.md'), 'utf8');
const buildsV2 = specV2.split('**Published runtime code hashes (certificate version 2):**')[1].split('```')[1]
  .trim().split('\n').map((line) => /^(0x[0-9a-f]{64})\s+(build \d+)/.exec(line.trim()))
  .map((m) => { if (!m) throw new Error('docs/certificate-v2.md section 3: unreadable hash line'); return { hash: m[1], name: m[2] }; });
if (buildsV2[0].hash !== consortium.deployedBytecodeKeccak256) {
  throw new Error('docs/certificate-v2.md section 3 does not list the ConsortiumRegistry artifact\'s build first');
}

const bundle = await build({
  entryPoints: [join(here, 'src', 'main.js')],
  absWorkingDir: here,  // paths in the bundle's comments do not depend on the caller's cwd
  bundle: true,
  write: false,
  format: 'iife',
  target: 'es2020',
  charset: 'utf8',
  legalComments: 'inline',
  minify: false,  // a court's expert can read what the page does
  define: {
    NOTARY_PUBLISHED_CODE_HASHES: JSON.stringify([artifact.deployedBytecodeKeccak256]),
    NOTARY_ANCHORED_SIGNATURE: JSON.stringify(signature),
    NOTARY_PUBLISHED_CODE_HASHES_V2: JSON.stringify(buildsV2.map((b) => b.hash)),
    NOTARY_CONFIG_EVENT_SIGNATURES: JSON.stringify(configEvents),
    NOTARY_LATER_THAN_UNICODE_14: JSON.stringify(later),
  },
});
// "</script" inside the inlined code would end the element early; esbuild escapes it, check
const js = bundle.outputFiles[0].text.replace(/\n$/, '');
if (/<\/script/i.test(js)) throw new Error('the bundle contains </script');
const css = readFileSync(join(here, 'src', 'style.css'), 'utf8').replace(/\n$/, '');
const digest = (text) => "'sha256-" + createHash('sha256').update(text, 'utf8').digest('base64') + "'";
// The page may run only its own inline script and style; it may connect to any http(s) node
// the clerk types (connect-src *); nothing else: no images, fonts, frames or forms.
const csp = [
  "default-src 'none'",
  'script-src ' + digest(js),
  'style-src ' + digest(css),
  'connect-src *',
  "base-uri 'none'",
  "form-action 'none'",
].join('; ');
const html = readFileSync(join(here, 'src', 'index.html'), 'utf8')
  .replace('{{CSP}}', csp)
  .replace('{{PUBLISHED}}', artifact.deployedBytecodeKeccak256)
  .replace('{{PUBLISHED_V2}}', buildsV2.map((b, n) => '<code id="published-v2' + (n ? '-' + b.name.replace(' ', '-') : '') + '">' +
    b.hash + '</code> (' + b.name + ')').join(', '))
  .replace('{{CSS}}', () => css)
  .replace('{{JS}}', () => js);
writeFileSync(output, html);
console.log('wrote ' + output + ' (' + Buffer.byteLength(html) + ' bytes)');
