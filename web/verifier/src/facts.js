// Facts the page checks against, written in by build.mjs from the repository's own files, so
// the page and `notary verify` read them from one place:
// - the published registry runtime code hash(es): notary/artifacts/EvidenceRegistry.json;
// - the Anchored event's signature: the same artifact's ABI;
// - the code points assigned after Unicode 14.0: docs/certificate.md, appendix A.
/* global NOTARY_PUBLISHED_CODE_HASHES, NOTARY_ANCHORED_SIGNATURE, NOTARY_LATER_THAN_UNICODE_14 */
export const PUBLISHED_CODE_HASHES = NOTARY_PUBLISHED_CODE_HASHES;
export const ANCHORED_SIGNATURE = NOTARY_ANCHORED_SIGNATURE;
export const LATER_THAN_UNICODE_14 = NOTARY_LATER_THAN_UNICODE_14;
