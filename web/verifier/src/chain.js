// JSON-RPC to the one node the clerk named: the page's only network traffic. Every failure
// to get an answer (unreachable, timeout, HTTP error, not JSON-RPC, an `error`) is
// "cannot decide", never invalid (docs/certificate.md section 6).
import { cannotDecide } from './read.js';

export const RPC_TIMEOUT_MS = 20000;

export function rpcClient(url) {
  let id = 0;
  return async function call(method, params) {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), RPC_TIMEOUT_MS);
    let body;
    try {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ jsonrpc: '2.0', id: ++id, method, params }),
        signal: controller.signal,
        credentials: 'omit',
        cache: 'no-store',
        referrerPolicy: 'no-referrer',
      });
      if (!res.ok) cannotDecide('the node at ' + url + ' answered HTTP ' + res.status + ' to ' + method + ': ask another node');
      body = await res.json();
    } catch (e) {
      if (e && e.outcome) throw e;
      cannotDecide('cannot reach the chain: no answer from ' + url + ' to ' + method + ' (' + (e && e.message) + ')');
    } finally {
      clearTimeout(timer);
    }
    if (body === null || typeof body !== 'object' || body.error || !('result' in body)) {
      cannotDecide('the node at ' + url + ' failed to answer ' + method + ' (' + JSON.stringify(body && body.error || body) + ')');
    }
    return body.result;
  };
}

// ABI words of a hex string ("0x" + 64 hex digits per word)
export const word = (data, n) => data.slice(2 + 64 * n, 2 + 64 * (n + 1));
export const uint = (w) => BigInt('0x' + (w || '0'));
export function abiStringHex(data, offset) {  // the bytes (hex) of an ABI string at byte `offset`
  const len = Number(uint(word(data, offset / 32)));
  return data.slice(2 + 2 * (offset + 32), 2 + 2 * (offset + 32 + len));
}
