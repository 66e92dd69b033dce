// The file's SHA-256, SM3 and size in one streaming pass: File.slice reads CHUNK_BYTES at a
// time, both hashers take each chunk, and nothing holds more than one chunk, so a file of
// gigabytes hashes in a few tens of MiB of memory.
import { sha256 } from '@noble/hashes/sha2.js';
import { SM3 } from './sm3.js';
import { toHex } from './read.js';

export const CHUNK_BYTES = 8 * 1024 * 1024;

/** {sha256, sm3, size} of a File or Blob; `progress(done, total)` after each chunk. */
export async function hashFile(file, progress = () => {}) {
  const a = sha256.create();
  const b = new SM3();
  for (let offset = 0; offset < file.size; offset += CHUNK_BYTES) {
    const chunk = new Uint8Array(await file.slice(offset, offset + CHUNK_BYTES).arrayBuffer());
    a.update(chunk);
    b.update(chunk);
    progress(Math.min(offset + CHUNK_BYTES, file.size), file.size);
  }
  return { sha256: toHex(a.digest()), sm3: toHex(b.digest()), size: file.size };
}
