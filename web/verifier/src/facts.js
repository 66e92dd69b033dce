// Facts the page checks against, written in by build.mjs from the repository's own files, so
// the page and `notary verify` read them from one place:
// - the published registry runtime code hash(es): notary/artifacts/EvidenceRegistry.json
//   (certificate version 1) and ConsortiumRegistry.json (version 2, docs/certificate-v2.md);
// - the Anchored event's signature (the same in both) and the ConsortiumRegistry's
//   configuration events (MemberSet, MemberRemoved, PolicySet): the artifacts' ABIs;
// - the code points assigned after Unicode 14.0: docs/certificate.md, appendix A.
/* global NOTARY_PUBLISHED_CODE_HASHES, NOTARY_ANCHORED_SIGNATURE, NOTARY_LATER_THAN_UNICODE_14 */
/* global NOTARY_PUBLISHED_CODE_HASHES_V2, NOTARY_CONFIG_EVENT_SIGNATURES */
export const PUBLISHED_CODE_HASHES = NOTARY_PUBLISHED_CODE_HASHES;
export const PUBLISHED_CODE_HASHES_V2 = NOTARY_PUBLISHED_CODE_HASHES_V2;
export const ANCHORED_SIGNATURE = NOTARY_ANCHORED_SIGNATURE;
export const CONFIG_EVENT_SIGNATURES = NOTARY_CONFIG_EVENT_SIGNATURES;
export const LATER_THAN_UNICODE_14 = NOTARY_LATER_THAN_UNICODE_14;
