// JSON-RPC to the one node the clerk named: the page's only network traffic. Every failure
// to get an answer (unreachable, timeout, HTTP error, not JSON-RPC, an `error`) is
// "cannot decide", never invalid (docs/certificate.md section 6).
import { Stop, cannotDecide } from './read.js';

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
      const failed = new Stop('cannot_decide', 'the node at ' + url + ' failed to answer ' + method + ' (' + JSON.stringify(body && body.error || body) + ')');
      failed.refused = Boolean(body && body.error);  // a JSON-RPC error: the node refused (e.g. a range limit)
      throw failed;
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

export const LOG_WINDOW_BLOCKS = 10000;
/**
 * eth_getLogs over blocks 0..last in windows (docs/certificate-v2.md section 5, E3): many
 * nodes refuse a query over the whole chain. Windows are LOG_WINDOW_BLOCKS long; a window the
 * node refuses with an error is halved and the smaller size kept (a node with a tighter range
 * limit still answers, after about log2(10,000) = 14 refusals at most); a refused one-block
 * query is the node's answer (cannot decide). Logs in chain order.
 */
export async function getLogsInWindows(call, filter, last) {
  const logs = [];
  let size = BigInt(LOG_WINDOW_BLOCKS);
  for (let start = 0n; start <= last;) {
    const end = start + size - 1n < last ? start + size - 1n : last;
    let got;
    try {
      got = await call('eth_getLogs', [{ ...filter, fromBlock: '0x' + start.toString(16), toBlock: '0x' + end.toString(16) }]);
    } catch (e) {
      if (!e.refused || end === start) throw e;
      size = (end - start + 2n) / 2n;  // half the refused window, rounded up
      continue;
    }
    if (!Array.isArray(got)) throw new Error('eth_getLogs did not answer a list');
    logs.push(...got);
    start = end + 1n;
  }
  const at = (log) => [BigInt(log.blockNumber), BigInt(log.logIndex)];
  return logs.sort((x, y) => {
    const [bx, ix] = at(x), [by, iy] = at(y);
    return bx !== by ? (bx < by ? -1 : 1) : ix < iy ? -1 : ix > iy ? 1 : 0;
  });
}
