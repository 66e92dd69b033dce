#!/usr/bin/env bash
# Verify a certificate with standard tools only: sha256sum, openssl (SM3), jq, awk, iconv,
# curl for JSON-RPC, and Foundry's `cast` for the ABI encoding, keccak256 and (version 2)
# the EIP-712 signatures. No notary software: every step follows docs/certificate.md
# section 6, in its order, and for a version 2 certificate docs/certificate-v2.md section 5
# (steps E1, E2 and D1 after step 5, E3 to E5 and D2 after step 11).
#   scripts/verify-with-standard-tools.sh CERTIFICATE FILE|- RPC_URL
# FILE "-" checks the certificate without a file. cast is taken from $CAST, else from PATH,
# else from hardhat-free-devnet/node_modules (npm @foundry-rs/cast, pinned). GNU bc, when
# installed, names the address a wrong endorsement or depositor signature recovers to.
# Exit 0: valid. 1: invalid (a forgery, a changed file, a certificate the chain contradicts).
# 2: cannot decide (node unreachable or failing, another chain, a node behind the anchor's
# block, a node without the registry's logs, a newer certificate version, a certificate over
# 1 MiB or nested deeper than 64 levels, a missing tool).
set -euo pipefail
export LC_ALL=C
[ $# -eq 3 ] || { echo "usage: $0 CERTIFICATE FILE|- RPC_URL" >&2; exit 2; }
CERT=$1 FILE=$2 RPC=$3
HERE=$(cd "$(dirname "$0")" && pwd)

# docs/certificate.md section 5: the published runtime code hash of EvidenceRegistry, frozen
# for version 1; docs/certificate-v2.md section 3: those of ConsortiumRegistry, frozen for
# version 2 (build 2, with the DEPOSITOR role, deployed today; build 1, before it, whose
# certificates keep verifying). Each version accepts only its own.
PUBLISHED_CODE_HASH_V1=0x02b19567145d3003d2344fb0c416d000303fcccb1b04cc40f222ae210e60500e
PUBLISHED_CODE_HASH_V2=0xeca162cb62e308acb1f90a736ebfebb9b60eb018c454328db18eb3ae8e29e4c3
PUBLISHED_CODE_HASH_V2_BUILD_1=0x9ca95464c1a72847eb55452da5d2ba0a6193aacdfb2399f146a5403c60eec049
ANCHORED_TOPIC=0xdba15e8a6db1ae8f249c554ac61c473d6a4b0942de98d344aa20a772c58dba4d
# docs/certificate-v2.md section 3: the configuration events (topic 0) and endorsementOf.
MEMBER_SET_TOPIC=0xf802233b7c1b47930ccb04ecc5fd592efb26ffa0d3b4655b929369462c89a353
MEMBER_REMOVED_TOPIC=0xe3a517b2447fcd353dd3ea6aab2cc9db72ef87a74b4353b46b34005d458bfd78
POLICY_SET_TOPIC=0xffc377622a1f3d884f4c0c7161a37437c4500f97b99f61f042f1f5a639e88a03
ENDORSEMENT_OF=0x9ca566e3
# eth_getLogs asks for at most this many blocks at a time, at first (nodes limit the range;
# a window the node refuses is halved until it answers, so this only saves the refusals).
LOG_WINDOW_BLOCKS=${LOG_WINDOW_BLOCKS:-10000}
[[ $LOG_WINDOW_BLOCKS =~ ^[1-9][0-9]{0,8}$ ]] || { echo "LOG_WINDOW_BLOCKS must be a number of blocks" >&2; exit 2; }
MAX_BYTES=1048576 MAX_DEPTH=64
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

# The verdict goes to the script's own output (descriptor 3) even from inside $(...), so a
# node that fails a call inside a command substitution still gets its CANNOT DECIDE line.
exec 3>&1
ok() { echo "ok:   $*"; }
invalid() { echo "FAIL: $*" >&3; echo "INVALID: $*" >&3; exit 1; }
cannot_decide() { echo "CANNOT DECIDE: $*" >&3; exit 2; }
for tool in jq curl sha256sum awk iconv openssl od; do
  command -v "$tool" >/dev/null || cannot_decide "$tool is not installed"
done
CAST=${CAST:-$(command -v cast || echo "$HERE/../hardhat-free-devnet/node_modules/@foundry-rs/cast-linux-amd64/bin/cast")}
[ -x "$CAST" ] || cannot_decide "Foundry's cast is not installed (npm @foundry-rs/cast, or set CAST)"
[ -r "$CERT" ] || cannot_decide "cannot read $CERT"
[ "$FILE" = - ] || [ -r "$FILE" ] || cannot_decide "cannot read $FILE"

# Appendix A: code points that are not printable (Unicode 14.0 categories Cc Cf Cs Co Cn
# Zl Zp Zs, except U+0020), as hex ranges.
NOT_PRINTABLE='
0-1F 7F-A0 AD 378-379 380-383 38B 38D 3A2 530 557-558 58B-58C 590 5C8-5CF 5EB-5EE
5F5-605 61C 6DD 70E-70F 74B-74C 7B2-7BF 7FB-7FC 82E-82F 83F 85C-85D 85F 86B-86F 88F-897
8E2 984 98D-98E 991-992 9A9 9B1 9B3-9B5 9BA-9BB 9C5-9C6 9C9-9CA 9CF-9D6 9D8-9DB 9DE
9E4-9E5 9FF-A00 A04 A0B-A0E A11-A12 A29 A31 A34 A37 A3A-A3B A3D A43-A46 A49-A4A A4E-A50
A52-A58 A5D A5F-A65 A77-A80 A84 A8E A92 AA9 AB1 AB4 ABA-ABB AC6 ACA ACE-ACF AD1-ADF
AE4-AE5 AF2-AF8 B00 B04 B0D-B0E B11-B12 B29 B31 B34 B3A-B3B B45-B46 B49-B4A B4E-B54
B58-B5B B5E B64-B65 B78-B81 B84 B8B-B8D B91 B96-B98 B9B B9D BA0-BA2 BA5-BA7 BAB-BAD BBA-
BBD BC3-BC5 BC9 BCE-BCF BD1-BD6 BD8-BE5 BFB-BFF C0D C11 C29 C3A-C3B C45 C49 C4E-C54 C57
C5B-C5C C5E-C5F C64-C65 C70-C76 C8D C91 CA9 CB4 CBA-CBB CC5 CC9 CCE-CD4 CD7-CDC CDF
CE4-CE5 CF0 CF3-CFF D0D D11 D45 D49 D50-D53 D64-D65 D80 D84 D97-D99 DB2 DBC DBE-DBF
DC7-DC9 DCB-DCE DD5 DD7 DE0-DE5 DF0-DF1 DF5-E00 E3B-E3E E5C-E80 E83 E85 E8B EA4 EA6 EBE-
EBF EC5 EC7 ECE-ECF EDA-EDB EE0-EFF F48 F6D-F70 F98 FBD FCD FDB-FFF 10C6 10C8-10CC
10CE-10CF 1249 124E-124F 1257 1259 125E-125F 1289 128E-128F 12B1 12B6-12B7 12BF 12C1
12C6-12C7 12D7 1311 1316-1317 135B-135C 137D-137F 139A-139F 13F6-13F7 13FE-13FF 1680
169D-169F 16F9-16FF 1716-171E 1737-173F 1754-175F 176D 1771 1774-177F 17DE-17DF
17EA-17EF 17FA-17FF 180E 181A-181F 1879-187F 18AB-18AF 18F6-18FF 191F 192C-192F
193C-193F 1941-1943 196E-196F 1975-197F 19AC-19AF 19CA-19CF 19DB-19DD 1A1C-1A1D 1A5F
1A7D-1A7E 1A8A-1A8F 1A9A-1A9F 1AAE-1AAF 1ACF-1AFF 1B4D-1B4F 1B7F 1BF4-1BFB 1C38-1C3A
1C4A-1C4C 1C89-1C8F 1CBB-1CBC 1CC8-1CCF 1CFB-1CFF 1F16-1F17 1F1E-1F1F 1F46-1F47
1F4E-1F4F 1F58 1F5A 1F5C 1F5E 1F7E-1F7F 1FB5 1FC5 1FD4-1FD5 1FDC 1FF0-1FF1 1FF5
1FFF-200F 2028-202F 205F-206F 2072-2073 208F 209D-209F 20C1-20CF 20F1-20FF 218C-218F
2427-243F 244B-245F 2B74-2B75 2B96 2CF4-2CF8 2D26 2D28-2D2C 2D2E-2D2F 2D68-2D6E
2D71-2D7E 2D97-2D9F 2DA7 2DAF 2DB7 2DBF 2DC7 2DCF 2DD7 2DDF 2E5E-2E7F 2E9A 2EF4-2EFF
2FD6-2FEF 2FFC-3000 3040 3097-3098 3100-3104 3130 318F 31E4-31EF 321F A48D-A48F
A4C7-A4CF A62C-A63F A6F8-A6FF A7CB-A7CF A7D2 A7D4 A7DA-A7F1 A82D-A82F A83A-A83F
A878-A87F A8C6-A8CD A8DA-A8DF A954-A95E A97D-A97F A9CE A9DA-A9DD A9FF AA37-AA3F
AA4E-AA4F AA5A-AA5B AAC3-AADA AAF7-AB00 AB07-AB08 AB0F-AB10 AB17-AB1F AB27 AB2F
AB6C-AB6F ABEE-ABEF ABFA-ABFF D7A4-D7AF D7C7-D7CA D7FC-F8FF FA6E-FA6F FADA-FAFF
FB07-FB12 FB18-FB1C FB37 FB3D FB3F FB42 FB45 FBC3-FBD2 FD90-FD91 FDC8-FDCE FDD0-FDEF
FE1A-FE1F FE53 FE67 FE6C-FE6F FE75 FEFD-FF00 FFBF-FFC1 FFC8-FFC9 FFD0-FFD1 FFD8-FFD9
FFDD-FFDF FFE7 FFEF-FFFB FFFE-FFFF 1000C 10027 1003B 1003E 1004E-1004F 1005E-1007F
100FB-100FF 10103-10106 10134-10136 1018F 1019D-1019F 101A1-101CF 101FE-1027F
1029D-1029F 102D1-102DF 102FC-102FF 10324-1032C 1034B-1034F 1037B-1037F 1039E
103C4-103C7 103D6-103FF 1049E-1049F 104AA-104AF 104D4-104D7 104FC-104FF 10528-1052F
10564-1056E 1057B 1058B 10593 10596 105A2 105B2 105BA 105BD-105FF 10737-1073F
10756-1075F 10768-1077F 10786 107B1 107BB-107FF 10806-10807 10809 10836 10839-1083B
1083D-1083E 10856 1089F-108A6 108B0-108DF 108F3 108F6-108FA 1091C-1091E 1093A-1093E
10940-1097F 109B8-109BB 109D0-109D1 10A04 10A07-10A0B 10A14 10A18 10A36-10A37
10A3B-10A3E 10A49-10A4F 10A59-10A5F 10AA0-10ABF 10AE7-10AEA 10AF7-10AFF 10B36-10B38
10B56-10B57 10B73-10B77 10B92-10B98 10B9D-10BA8 10BB0-10BFF 10C49-10C7F 10CB3-10CBF
10CF3-10CF9 10D28-10D2F 10D3A-10E5F 10E7F 10EAA 10EAE-10EAF 10EB2-10EFF 10F28-10F2F
10F5A-10F6F 10F8A-10FAF 10FCC-10FDF 10FF7-10FFF 1104E-11051 11076-1107E 110BD
110C3-110CF 110E9-110EF 110FA-110FF 11135 11148-1114F 11177-1117F 111E0 111F5-111FF
11212 1123F-1127F 11287 11289 1128E 1129E 112AA-112AF 112EB-112EF 112FA-112FF 11304
1130D-1130E 11311-11312 11329 11331 11334 1133A 11345-11346 11349-1134A 1134E-1134F
11351-11356 11358-1135C 11364-11365 1136D-1136F 11375-113FF 1145C 11462-1147F
114C8-114CF 114DA-1157F 115B6-115B7 115DE-115FF 11645-1164F 1165A-1165F 1166D-1167F
116BA-116BF 116CA-116FF 1171B-1171C 1172C-1172F 11747-117FF 1183C-1189F 118F3-118FE
11907-11908 1190A-1190B 11914 11917 11936 11939-1193A 11947-1194F 1195A-1199F
119A8-119A9 119D8-119D9 119E5-119FF 11A48-11A4F 11AA3-11AAF 11AF9-11BFF 11C09 11C37
11C46-11C4F 11C6D-11C6F 11C90-11C91 11CA8 11CB7-11CFF 11D07 11D0A 11D37-11D39 11D3B
11D3E 11D48-11D4F 11D5A-11D5F 11D66 11D69 11D8F 11D92 11D99-11D9F 11DAA-11EDF
11EF9-11FAF 11FB1-11FBF 11FF2-11FFE 1239A-123FF 1246F 12475-1247F 12544-12F8F
12FF3-12FFF 1342F-143FF 14647-167FF 16A39-16A3F 16A5F 16A6A-16A6D 16ABF 16ACA-16ACF
16AEE-16AEF 16AF6-16AFF 16B46-16B4F 16B5A 16B62 16B78-16B7C 16B90-16E3F 16E9B-16EFF
16F4B-16F4E 16F88-16F8E 16FA0-16FDF 16FE5-16FEF 16FF2-16FFF 187F8-187FF 18CD6-18CFF
18D09-1AFEF 1AFF4 1AFFC 1AFFF 1B123-1B14F 1B153-1B163 1B168-1B16F 1B2FC-1BBFF
1BC6B-1BC6F 1BC7D-1BC7F 1BC89-1BC8F 1BC9A-1BC9B 1BCA0-1CEFF 1CF2E-1CF2F 1CF47-1CF4F
1CFC4-1CFFF 1D0F6-1D0FF 1D127-1D128 1D173-1D17A 1D1EB-1D1FF 1D246-1D2DF 1D2F4-1D2FF
1D357-1D35F 1D379-1D3FF 1D455 1D49D 1D4A0-1D4A1 1D4A3-1D4A4 1D4A7-1D4A8 1D4AD 1D4BA
1D4BC 1D4C4 1D506 1D50B-1D50C 1D515 1D51D 1D53A 1D53F 1D545 1D547-1D549 1D551
1D6A6-1D6A7 1D7CC-1D7CD 1DA8C-1DA9A 1DAA0 1DAB0-1DEFF 1DF1F-1DFFF 1E007 1E019-1E01A
1E022 1E025 1E02B-1E0FF 1E12D-1E12F 1E13E-1E13F 1E14A-1E14D 1E150-1E28F 1E2AF-1E2BF
1E2FA-1E2FE 1E300-1E7DF 1E7E7 1E7EC 1E7EF 1E7FF 1E8C5-1E8C6 1E8D7-1E8FF 1E94C-1E94F
1E95A-1E95D 1E960-1EC70 1ECB5-1ED00 1ED3E-1EDFF 1EE04 1EE20 1EE23 1EE25-1EE26 1EE28
1EE33 1EE38 1EE3A 1EE3C-1EE41 1EE43-1EE46 1EE48 1EE4A 1EE4C 1EE50 1EE53 1EE55-1EE56
1EE58 1EE5A 1EE5C 1EE5E 1EE60 1EE63 1EE65-1EE66 1EE6B 1EE73 1EE78 1EE7D 1EE7F 1EE8A
1EE9C-1EEA0 1EEA4 1EEAA 1EEBC-1EEEF 1EEF2-1EFFF 1F02C-1F02F 1F094-1F09F 1F0AF-1F0B0
1F0C0 1F0D0 1F0F6-1F0FF 1F1AE-1F1E5 1F203-1F20F 1F23C-1F23F 1F249-1F24F 1F252-1F25F
1F266-1F2FF 1F6D8-1F6DC 1F6ED-1F6EF 1F6FD-1F6FF 1F774-1F77F 1F7D9-1F7DF 1F7EC-1F7EF
1F7F1-1F7FF 1F80C-1F80F 1F848-1F84F 1F85A-1F85F 1F888-1F88F 1F8AE-1F8AF 1F8B2-1F8FF
1FA54-1FA5F 1FA6E-1FA6F 1FA75-1FA77 1FA7D-1FA7F 1FA87-1FA8F 1FAAD-1FAAF 1FABB-1FABF
1FAC6-1FACF 1FADA-1FADF 1FAE8-1FAEF 1FAF7-1FAFF 1FB93 1FBCB-1FBEF 1FBFA-1FFFF
2A6E0-2A6FF 2B739-2B73F 2B81E-2B81F 2CEA2-2CEAF 2EBE1-2F7FF 2FA1E-2FFFF 3134B-E00FF
E01F0-10FFFF'
# The same ranges as a JSON list of [first, last] code points, for jq (--argjson np): read
# once here, in bash arithmetic (jq 1.6 takes a second to split them itself). A range may be
# broken after its "-" at the end of a line of the table.
NOT_PRINTABLE_JSON=""
for range in ${NOT_PRINTABLE//-$'\n'/-}; do
  NOT_PRINTABLE_JSON="$NOT_PRINTABLE_JSON,[$((16#${range%-*})),$((16#${range#*-}))]"
done
NOT_PRINTABLE_JSON="[${NOT_PRINTABLE_JSON#,}]"

# ---- Step 1: read the document (section 2, "Reading the document") ----
size=$(wc -c < "$CERT")
[ "$size" -le $MAX_BYTES ] || cannot_decide "the certificate is larger than 1 MiB ($size bytes): not read"
# rule 1, depth: drop \\ and \" pairs, keep quotes and brackets, drop "..." runs, count.
depth=$(tr -d '\n' < "$CERT" | sed -e 's/\\\\//g' -e 's/\\"//g' -e 's/[^][{}"]//g' -e 's/"[^"]*"//g' |
  awk '{ for (i = 1; i <= length($0); i++) { c = substr($0, i, 1)
         if (c == "[" || c == "{") { if (++d > m) m = d } else if (c == "]" || c == "}") d-- } }
       END { print m + 0 }')
[ "$depth" -le $MAX_DEPTH ] || cannot_decide "the certificate nests arrays/objects deeper than 64 levels: not read"
ok "size $size bytes, nesting depth $depth"

# rule 2: UTF-8, strict RFC 8259 JSON, no duplicate keys, no lone surrogates. A small lexer:
# jq alone accepts raw control characters in strings and keeps the last of duplicate keys.
iconv -f UTF-8 -t UTF-8 < "$CERT" > /dev/null 2>&1 || invalid "the certificate is not UTF-8 text"
[ "$(head -c 3 "$CERT" | od -An -tx1 | tr -d ' \n')" != efbbbf ] || invalid "the certificate starts with a byte order mark"
lexed=$(awk '
  function flush() {
    if (tok == "") return
    if (tok != "true" && tok != "false" && tok != "null") {
      if (depth == 1 && lastkey == "version" && version == "") version = tok
      if (tok !~ /^(0|[1-9][0-9]*)$/ || length(tok) > 16 || (length(tok) == 16 && tok > "9007199254740991"))
        if (badnum == "") badnum = tok
    }
    tok = ""
  }
  function endstring(  k) {
    if (depth > 0 && kind[depth] == "{" && wantkey[depth]) {
      k = gen[depth] SUBSEP str
      if (k in seen) { if (dup == "") dup = str } else seen[k] = 1
      wantkey[depth] = 0
      if (depth == 1) lastkey = str
    }
  }
  {
    line = $0 "\n"
    for (i = 1; i <= length(line); i++) {
      c = substr(line, i, 1)
      if (instr) {
        if (c == "\\") {
          e = substr(line, i + 1, 1); i++
          if (e == "u") {
            h = tolower(substr(line, i + 1, 4)); i += 4
            if (h ~ /^d[89ab]/) { if (substr(line, i + 1, 2) != "\\u" || tolower(substr(line, i + 3, 4)) !~ /^d[c-f]/) sur = 1; else i += 6 }
            else if (h ~ /^d[c-f]/) sur = 1
            else if (h ~ /^00[2-7]/) str = str sprintf("%c", (index("0123456789abcdef", substr(h, 3, 1)) - 1) * 16 + index("0123456789abcdef", substr(h, 4, 1)) - 1)
            else str = str "\\u" h
          } else if (e == "/" || e == "\\" || e == "\"") str = str e
          else str = str "\\" e
        } else if (c == "\"") { instr = 0; endstring() }
        else if (c ~ /[\001-\037]/) ctl = 1
        else str = str c
        continue
      }
      if (c == "\"") { flush(); instr = 1; str = ""; continue }
      if (c == "{" || c == "[") { flush(); depth++; kind[depth] = c; gen[depth] = ++gens; wantkey[depth] = (c == "{"); continue }
      if (c == "}" || c == "]") { flush(); depth--; continue }
      if (c == ",") { flush(); if (depth > 0 && kind[depth] == "{") wantkey[depth] = 1; continue }
      if (c == ":" || c == " " || c == "\t" || c == "\r" || c == "\n") { flush(); continue }
      tok = tok c
    }
  }
  END { flush(); printf "%s\t%s\t%s\t%d\t%d\n", (version == "" ? "-" : version), (badnum == "" ? "-" : badnum), (dup == "" ? "-" : dup), sur, ctl }
' "$CERT")
IFS=$'\t' read -r version_lexeme badnum dup surrogate control <<< "$lexed"
[ "$control" = 0 ] || invalid "the certificate has a raw control character inside a string: not JSON"
[ "$surrogate" = 0 ] || invalid "the certificate has a string with a lone UTF-16 surrogate"
[ "$dup" = - ] || invalid "the certificate has the key \"$dup\" twice in one object"
[ "$(jq -s length "$CERT" 2>/dev/null)" = 1 ] || invalid "the certificate is not one JSON text"
[ "$(jq -r 'type' "$CERT")" = object ] || invalid "the certificate is not a JSON object"
[ "$(jq -r '.format' "$CERT")" = evidence-notary-certificate ] || invalid "not an evidence notary certificate"
# docs/certificate-v2.md "Reading": a version written as digits and greater than 2 is newer
# than this procedure.
if [[ $version_lexeme =~ ^[0-9]+$ ]] && [ "$(jq '.version | type == "number" and . > 2' "$CERT")" = true ]; then
  cannot_decide "certificate version $version_lexeme is newer than this procedure (versions 1 and 2)"
fi
# rule 3: numbers are plain integers up to 2^53 - 1
[ "$badnum" = - ] || invalid "the number $badnum is not an integer written in plain digits up to 2^53 - 1"
ok "strict JSON: UTF-8, no duplicate keys, integers only"

# rules 4 and 5: the schema (patterns anchored with \A and \z: ECMA's $, not "before a
# final newline"; jq's length counts code points), then the rules beyond it. The version
# decides the schema: notary/core/certificate.schema.json for 1, certificate-v2.schema.json
# for 2 (version 1's fields, plus anchor.batch_time, anchor.endorsement and
# depositor_signature: null, or signer, organization_id, organization and signature).
schema_error=$(jq -r --argjson np "$NOT_PRINTABLE_JSON" '
  def hex32: type == "string" and test("\\A[0-9a-f]{64}\\z");
  def hex32x: type == "string" and test("\\A0x[0-9a-f]{64}\\z");
  def address: type == "string" and test("\\A0x[0-9a-fA-F]{40}\\z");
  def int(min): type == "number" and . >= min and . == floor;
  def text(max): type == "string" and length <= max;
  def exact($want): type == "object" and (keys | sort) == ($want | sort);  # not $keys: a parameter $keys also defines keys
  def noctl: (explode | all(. >= 32 or . == 9 or . == 10));
  def printable: explode | all(. as $cp | $cp == 32 or ($np | all(($cp < .[0]) or ($cp > .[1]))));
  (.version == 2) as $v2
  | (if $v2 then ["batch_time","endorsement"] else [] end) as $v2anchor
  | [
    (if exact(["format","version","evidence","leaf","proof","anchor","verification"] + (if $v2 then ["depositor_signature"] else [] end)) then empty else "top-level fields" end),
    (if .version == 1 or .version == 2 then empty else "version" end),
    (select($v2) | .depositor_signature | select(. != null) |
      if exact(["signer","organization_id","organization","signature"]) | not then "depositor_signature fields"
      elif (.signer | address) | not then "depositor_signature.signer"
      elif (.organization_id | hex32x) | not then "depositor_signature.organization_id"
      elif (.organization | type == "string" and length >= 1 and length <= 128) | not then "depositor_signature.organization"
      elif (.signature | type == "string" and test("\\A0x[0-9a-f]{130}\\z")) | not then "depositor_signature.signature"
      else empty end),
    (.evidence | if exact(["sha256","sm3","metadata"]) then empty else "evidence fields" end),
    (if .evidence.sha256 | hex32 then empty else "evidence.sha256" end),
    (if .evidence.sm3 == null or (.evidence.sm3 | hex32) then empty else "evidence.sm3" end),
    (.evidence.metadata | if type == "object" then empty else "evidence.metadata" end),
    (.evidence.metadata | objects | to_entries[] |
      if (.key | test("\\A[a-z][a-z0-9_]{0,63}\\z")) | not then "metadata key \(.key)"
      elif (.value | (text(4096) and noctl) or int(0) or (type == "array" and length <= 64 and all(text(4096) and noctl))) | not
      then "metadata \(.key)" else empty end),
    (.evidence.metadata | objects | if has("name") and (.name | type) != "string" then "metadata name"
      elif has("size") and (.size | type) != "number" then "metadata size"
      elif has("media_type") and (.media_type | type) != "string" then "metadata media_type" else empty end),
    (.leaf | if exact(["scheme","encoding","values","hash"]) then empty else "leaf fields" end),
    (if .leaf.scheme == "notary.evidence.v1" then empty else "leaf.scheme" end),
    (if .leaf.encoding == ["string","bytes32","bytes32","bytes32","string","bytes32"] then empty else "leaf.encoding" end),
    (.leaf.values | if type == "array" and length == 6 and .[0] == "notary.evidence.v1"
      and (.[1] | hex32x) and (.[2] | hex32x) and (.[3] | hex32x) and (.[5] | hex32x)
      and (.[4] | type == "string" and length >= 1 and length <= 256)
      then (if (.[4] | printable) and (.[4] | startswith(" ") | not) and (.[4] | endswith(" ") | not) then empty else "depositor not printable" end)
      else "leaf.values" end),
    (if .leaf.hash | hex32x then empty else "leaf.hash" end),
    (.proof | if type == "array" and length <= 64 and all(hex32x) then empty else "proof" end),
    (.anchor | if exact(["chain_id","registry","registry_code_hash","root","sequence","leaf_count","notary","manifest","tx_hash","block_number","block_hash","block_time","block_time_utc"] + $v2anchor) then empty else "anchor fields" end),
    (select($v2) | .anchor | select(type == "object") |
      (if .batch_time | int(0) then empty else "anchor.batch_time" end),
      (.endorsement | if exact(["threshold","endorsements"]) then empty else "anchor.endorsement fields" end),
      (.endorsement | objects |
        (if (.threshold | int(1)) and .threshold <= 65535 then empty else "anchor.endorsement.threshold" end),
        (if .endorsements | type == "array" and length >= 1 and length <= 64 then empty else "anchor.endorsement.endorsements (1 to 64)" end),
        (.endorsements | arrays | to_entries[] | "anchor.endorsement.endorsements[\(.key)]" as $at | .value |
          if exact(["member","organization_id","organization","signature"]) | not then "\($at) fields"
          elif (.member | address) | not then "\($at).member"
          elif (.organization_id | hex32x) | not then "\($at).organization_id"
          elif (.organization | type == "string" and length >= 1 and length <= 128) | not then "\($at).organization"
          elif (.signature | type == "string" and test("\\A0x[0-9a-f]{130}\\z")) | not then "\($at).signature"
          else empty end))),
    (.anchor | select(type == "object") |
      (if (.chain_id | int(1)) and (.sequence | int(1)) and (.leaf_count | int(1)) and (.block_number | int(0)) and (.block_time | int(0)) then empty else "anchor integers" end),
      (if (.registry | address) and (.notary | address) then empty else "anchor addresses" end),
      (if (.registry_code_hash | hex32x) and (.root | hex32x) and (.tx_hash | hex32x) and (.block_hash | hex32x) then empty else "anchor hashes" end),
      (if .manifest | text(256) then empty else "anchor.manifest" end),
      (if (.block_time_utc | type == "string" and test("\\A[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z\\z"))
         and (.block_time | type == "number" and . < 253402300800) and (.block_time | todate) == .block_time_utc
       then empty else "anchor.block_time_utc does not match anchor.block_time" end)),
    (.verification | if exact(["specification","steps"]) and (.specification | type == "string")
      and (.steps | type == "array" and all(type == "string")) then empty else "verification" end)
  ] | first // empty' "$CERT" 2>&1) || invalid "the certificate does not match the schema: $schema_error"
[ -z "$schema_error" ] || invalid "the certificate does not match the schema or section 2: $schema_error"
# Every scalar of the (now schema-checked) document, read in one jq run instead of one per
# field: FIELD[".anchor.chain_id"], FIELD[".leaf.values[4]"] hold what `jq -r` prints for
# that path. get reads any other expression with jq.
declare -A FIELD
eval "$(jq -r 'paths(scalars) as $p
  | "FIELD[\($p | map(if type == "number" then "[\(.)]" else ".\(.)" end) | join("") | @sh)]=\(getpath($p) | if type == "string" then . else tojson end | @sh)"' "$CERT")"
get() { if [ -n "${FIELD[$1]+set}" ]; then printf '%s\n' "${FIELD[$1]}"; else jq -r "$1" "$CERT"; fi; }
canonical=$(jq -cS '.evidence.metadata' "$CERT" | sed -e ':a' -e 's/\(^\|[^\\]\)\(\(\\\\\)*\)\\u007f/\1\2\x7f/' -e 'ta')
[ "$(printf '%s' "$canonical" | wc -c)" -le 16384 ] || invalid "the canonical metadata is larger than 16384 bytes"
VERSION=$(get .version)
ADDRESS_FIELDS=(anchor.registry anchor.notary)
# UTF-8 bytes of a string as lower-case hex, in jq (to compare names with the chain's).
JQ_UTF8='def hex2: [(. / 16 | floor), . % 16] | map("0123456789abcdef"[.:. + 1]) | add;
  def cont(n): (128 + ((. / n) | floor) % 64) | hex2;
  def utf8hex: explode | map(if . < 128 then hex2
    elif . < 2048 then ((192 + (. / 64 | floor)) | hex2) + cont(1)
    elif . < 65536 then ((224 + (. / 4096 | floor)) | hex2) + cont(64) + cont(1)
    else ((240 + (. / 262144 | floor)) | hex2) + cont(4096) + cont(64) + cont(1) end) | add // "";'
# A string quoted as notary verify quotes names and identities (Python's repr: single quotes
# unless the text has one and no double quote; backslash, the quote, \t \n \r and the code
# points of NOT_PRINTABLE escaped). Needs --argjson np "$NOT_PRINTABLE_JSON".
JQ_PYREPR='def pyrepr:
  def hexn($n): [recurse(if . >= 16 then (. / 16 | floor) else empty end) | . % 16] | reverse
      | map("0123456789abcdef"[.:. + 1]) | add | ("0000000" + .) | .[length - $n:];
  (if contains("\u0027") and (contains("\"") | not) then 34 else 39 end) as $q
  | ([$q] | implode) + (explode | map(. as $c
      | if $c == 92 or $c == $q then "\\" + ([$c] | implode)
        elif $c == 9 then "\\t" elif $c == 10 then "\\n" elif $c == 13 then "\\r"
        elif $c != 32 and ($np | any($c >= .[0] and $c <= .[1])) then
          (if $c < 256 then "\\x" + ($c | hexn(2)) elif $c < 65536 then "\\u" + ($c | hexn(4)) else "\\U" + ($c | hexn(8)) end)
        else [$c] | implode end) | add // "") + ([$q] | implode);
  def utf8text: [ascii_downcase | explode | _nwise(2) | map(if . >= 97 then . - 87 else . - 48 end) | .[0] * 16 + .[1]]
    | [foreach .[] as $x ({cp: 0, need: 0, out: null};
        if .need > 0 then .cp = .cp * 64 + $x % 64 | .need -= 1 | .out = (if .need == 0 then .cp else null end)
        elif $x < 128 then .out = $x
        elif $x >= 240 then .cp = $x % 8 | .need = 3 | .out = null
        elif $x >= 224 then .cp = $x % 16 | .need = 2 | .out = null
        else .cp = $x % 32 | .need = 1 | .out = null end; .out | numbers)] | implode;'
if [ "$VERSION" = 2 ]; then  # docs/certificate-v2.md "Reading": members, organization bytes
  ENDORSEMENTS=$(get '.anchor.endorsement.endorsements | length')
  for ((i = 0; i < ENDORSEMENTS; i++)); do ADDRESS_FIELDS+=("anchor.endorsement.endorsements[$i].member"); done
  long=$(jq -r "$JQ_UTF8"' [.anchor.endorsement.endorsements | to_entries[]
    | ["anchor.endorsement.endorsements[\(.key)].organization", (.value.organization | utf8hex | length / 2)]]
    + [.depositor_signature | objects | ["depositor_signature.organization", (.organization | utf8hex | length / 2)]]
    | map(select(.[1] > 128)) | first // [] | @tsv' "$CERT")
  [ -z "$long" ] || invalid "${long%$'\t'*} is longer than 128 UTF-8 bytes (${long#*$'\t'}): no member name on chain can be"
  [ "$(get .depositor_signature)" = null ] || ADDRESS_FIELDS+=(depositor_signature.signer)
fi
for field in "${ADDRESS_FIELDS[@]}"; do
  address=$(get ".$field"); digits=${address#0x}
  if [ "$digits" != "${digits,,}" ] && [ "$digits" != "${digits^^}" ]; then
    [ "$("$CAST" to-check-sum-address "$address")" = "$address" ] \
      || invalid "$field $address has mixed case but a wrong EIP-55 checksum"
  fi
done
ok "the document matches the schema and the rules of section 2"

# ---- Steps 2 to 5, offline ----
SHA=$(get .evidence.sha256) SM3=$(get .evidence.sm3)
if [ "$FILE" != - ]; then
  have=$(sha256sum < "$FILE" | cut -d' ' -f1)
  [ "$have" = "$SHA" ] || invalid "sha256sum of the file is $have, evidence.sha256 is $SHA: this is not the deposited file, or it was changed"
  ok "sha256sum of the file is evidence.sha256"
  if [ "$SM3" != null ]; then
    have=$(openssl dgst -sm3 < "$FILE" 2>/dev/null | sed 's/.*= //') || cannot_decide "this openssl has no SM3"
    [ "$have" = "$SM3" ] || invalid "the file's SM3 $have differs from evidence.sm3 $SM3"
    ok "SM3 of the file (openssl dgst -sm3) is evidence.sm3"
  fi
  declared=$(get '.evidence.metadata.size | numbers')
  if [ -n "$declared" ]; then
    have=$(wc -c < "$FILE")
    [ "$have" = "$declared" ] || invalid "the file has $have bytes, evidence.metadata.size says $declared"
  fi
fi
value() { get ".leaf.values[$1]"; }
zero=0x$(printf '%064d' 0)
[ "$(value 1)" = "0x$SHA" ] || invalid "leaf value 2 is not evidence.sha256: the leaf does not commit to this hash"
[ "$(value 2)" = "$([ "$SM3" = null ] && echo "$zero" || echo "0x$SM3")" ] || invalid "leaf value 3 is not evidence.sm3"
digest=$(printf '%s' "$canonical" | sha256sum | cut -d' ' -f1)
[ "$(value 3)" = "0x$digest" ] || invalid "leaf value 4 is not the SHA-256 of the canonical metadata (metadata altered)"
ok "the leaf commits to evidence.sha256, evidence.sm3 and the metadata"
encoded=$("$CAST" abi-encode "f(string,bytes32,bytes32,bytes32,string,bytes32)" \
  "$(value 0)" "$(value 1)" "$(value 2)" "$(value 3)" "$(value 4)" "$(value 5)")
LEAF=$("$CAST" keccak "$("$CAST" keccak "$encoded")")
[ "$LEAF" = "$(get .leaf.hash)" ] || invalid "the leaf values hash to $LEAF, not to leaf.hash"
ok "keccak256(keccak256(abi.encode(leaf.values))) is leaf.hash (cast)"
node=$LEAF
for p in $(get '.proof[]'); do
  if [[ $node < $p ]]; then node=$("$CAST" keccak "$node${p#0x}"); else node=$("$CAST" keccak "$p${node#0x}"); fi
done
ROOT=$(get .anchor.root)
[ "$node" = "$ROOT" ] || invalid "the proof does not accept leaf.hash for anchor.root: it leads to $node, not to $ROOT"
ok "the proof leads from leaf.hash to anchor.root"

# ---- Version 2, steps E1 and E2, offline (docs/certificate-v2.md section 5) ----
# Each step is a function; V2_OFFLINE_STEPS and V2_ONLINE_STEPS list them in the order the
# specification runs them. A later version's step is one more function in one of the lists.
entry() { get ".anchor.endorsement.endorsements[$1].$2"; }
checksum() { "$CAST" to-check-sum-address "$1"; }

step_e1_distinct_endorsers() {
  # E1: the members are distinct and ascending as numbers (lower-case hex of equal length
  # orders as the numbers do); each member counts once.
  local problem i member
  problem=$(jq -r '[.anchor.endorsement.endorsements[].member | ascii_downcase] as $m
    | first(range(0; $m | length) as $i
        | if ($m[:$i] | any(. == $m[$i])) then "twice\t\($i)\t\($m[$i])"
          elif $i > 0 and $m[$i] < $m[$i - 1] then "order\t\($i)\t" else empty end) // ""' "$CERT")
  IFS=$'\t' read -r problem i member <<< "$problem"
  case $problem in
    twice) invalid "member $(checksum "$member") endorses twice (anchor.endorsement.endorsements[$i]): each member counts once" ;;
    order) invalid "anchor.endorsement.endorsements are not in ascending order of member address, as the registry records them" ;;
  esac
  ok "E1: $ENDORSEMENTS distinct endorsing members, ascending"
}

# docs/certificate-v2.md section 4: the EIP-712 digest every endorser signed; section 4b:
# the one a depositor key signed, under the same domain. abi.encode writes each value as one
# 32-byte word (uint32 leafCount and uint64 batchTime as any uint). The constant hashes are
# keccak256 of the strings named (section 4's table; `cast keccak "STRING"` recomputes each).
DOMAIN_TYPEHASH=0x8b73c3c69bb8fe3d512ecc4cf759cc79239f7b179b0ffacaa9a75d522b39400f  # "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
DOMAIN_NAME_HASH=0x0a4c75b1d3ae465ce5923d07f8d9d3831854fd48081c04869ecdc97591eeb46b  # "NotaryConsortium"
DOMAIN_VERSION_HASH=0xc89efdaa54c0f20c7adf612882df0950f5a951637e0307cdcb4c672f298b8bc6  # "1"
ENDORSEMENT_TYPEHASH=0x2b2e2e57340bc34cf283abc0af701eaf0ddb196ec7bd98830607a87b4cabdba6  # "Endorsement(bytes32 root,uint32 leafCount,string manifest,uint64 batchTime)"
DEPOSIT_TYPEHASH=0xdfea74cc4dc02605214642cca6975fb89c3be92b78810273beb239119f08c43a  # "Deposit(bytes32 sha256,bytes32 sm3,bytes32 metadataDigest,string depositor)"
DOMAIN_SEPARATOR=""
domain_separator() {  # the section 4 domain of anchor.chain_id and anchor.registry, once
  [ -n "$DOMAIN_SEPARATOR" ] || DOMAIN_SEPARATOR=$("$CAST" keccak "$("$CAST" abi-encode "f(bytes32,bytes32,bytes32,uint256,address)" \
    $DOMAIN_TYPEHASH $DOMAIN_NAME_HASH $DOMAIN_VERSION_HASH "$(get .anchor.chain_id)" "$REG")")
}
endorsement_digest() {  # call domain_separator first (outside the $(...) that calls this)
  local struct
  struct=$("$CAST" keccak "$("$CAST" abi-encode "f(bytes32,bytes32,uint256,bytes32,uint256)" \
    $ENDORSEMENT_TYPEHASH "$ROOT" "$(get .anchor.leaf_count)" "$("$CAST" keccak "0x$manifest_hex")" "$(get .anchor.batch_time)")")
  "$CAST" keccak "0x1901${DOMAIN_SEPARATOR#0x}${struct#0x}"
}

# The address a signature recovers to (SEC 1 section 4.1.6, secp256k1, in GNU bc), only to
# name it when the signature is not its member's; "" when bc is missing or none recovers.
SECP256K1_BC='
define md(a, m) { auto r; r = a % m; if (r < 0) r += m; return r; }
define inv(a, m) { auto t, u, r, w, q, x; t = 0; u = 1; r = m; w = md(a, m)
  while (w != 0) { q = r / w; x = t - q * u; t = u; u = x; x = r - q * w; r = w; w = x }
  return md(t, m); }
define pw(b, e, m) { auto r; r = 1; b = md(b, m)
  while (e > 0) { if (e % 2 == 1) r = (r * b) % m; b = (b * b) % m; e = e / 2 }
  return r; }
define add(a, b, c, d, e, f) { auto l, x
  if (c == 0) { ox = d; oy = e; oz = f; return 0; }
  if (f == 0) { ox = a; oy = b; oz = c; return 0; }
  if (a == d) { if (md(b + e, p) == 0) { oz = 0; return 0; }
    l = md(3 * a * a * inv(2 * b, p), p) } else l = md((e - b) * inv(d - a, p), p)
  x = md(l * l - a - d, p); oy = md(l * (a - x) - b, p); ox = x; oz = 1; return 0; }
define mul(k, a, b) { auto x, y, z, s, t, u, q; z = 0; s = a; t = b; u = 1
  while (k > 0) { if (k % 2 == 1) { q = add(x, y, z, s, t, u); x = ox; y = oy; z = oz; }
    q = add(s, t, u, s, t, u); s = ox; t = oy; u = oz; k = k / 2 }
  ox = x; oy = y; oz = z; return 0; }
define recover(r, s, v, e) { auto x, y, w, q, a, b, c
  if (r == 0 || r >= n || s == 0 || s >= n) return 0
  x = r; w = md(x * x * x + 7, p); y = pw(w, (p + 1) / 4, p)
  if (md(y * y, p) != w) return 0
  if (y % 2 != 1 - v % 2) y = p - y
  w = inv(r, n); q = mul(md(-e * w, n), g, h); a = ox; b = oy; c = oz
  q = mul(md(s * w, n), x, y); q = add(a, b, c, ox, oy, oz); return oz; }
obase=16; ibase=16
p=FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEFFFFFC2F
n=FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
g=79BE667EF9DCBBAC55A06295CE870B07029BFCDB2DCE28D959F2815B16F81798
h=483ADA7726A3C4655DA4FBFC0E1108A8FD17B448A68554199C47D08FFB10D4B8'
recovered_address() {  # DIGEST SIGNATURE
  local d=${1#0x} sig=${2#0x} point x y
  command -v bc > /dev/null || return 0
  d=${d^^} sig=${sig^^}  # bc reads hex digits in upper case
  point=$(printf '%s\nif (recover(%s, %s, %s, %s)) { ox; oy; }\n' "$SECP256K1_BC" \
    "${sig:0:64}" "${sig:64:64}" "${sig:128:2}" "$d" | BC_LINE_LENGTH=0 bc 2>/dev/null) || return 0
  read -r x y <<< "$(echo $point)"
  [ -n "${y:-}" ] || return 0
  x=$(printf '%64s' "$x" | tr ' A-F' '0a-f') y=$(printf '%64s' "$y" | tr ' A-F' '0a-f')
  point=$("$CAST" keccak "0x$x$y")
  checksum "0x${point:26}"
}

HALF_N=7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0  # secp256k1 n / 2
step_e2_signatures() {
  # E2: for each entry, its signature of the section 4 digest recovers to its member, with
  # v 27 or 28 and s at most n/2 (OpenZeppelin ECDSA refuses the malleable twin; cast
  # wallet verify would accept it, so the form is checked here first).
  local i member signature s v signer digest
  domain_separator
  digest=$(endorsement_digest)
  while IFS=$'\t' read -r i member signature; do
    s=${signature:66:64} v=${signature:130:2}
    if [[ $s > $HALF_N ]] || { [ "$v" != 1b ] && [ "$v" != 1c ]; }; then
      invalid "the signature of $(checksum "$member") is not in the form the registry accepts (low s, v 27 or 28: OpenZeppelin ECDSA)"
    fi
    if ! "$CAST" wallet verify --no-hash --address "$member" "$digest" "$signature" > /dev/null 2>&1; then
      signer=$(recovered_address "$digest" "$signature")
      invalid "the signature given for $(checksum "$member") ($(entry "$i" organization)) recovers to ${signer:-another address or none}: it is not that member's endorsement of this batch (root, leaf count, manifest, batch time) on chain $(get .anchor.chain_id), registry $REG"
    fi
  done < <(jq -r '.anchor.endorsement.endorsements | to_entries[] | [.key, .value.member, .value.signature] | @tsv' "$CERT")
  ok "E2: each of the $ENDORSEMENTS signatures is its member's, over this batch (EIP-712 digest $digest) on chain $(get .anchor.chain_id), registry $REG (cast wallet verify)"
}

deposit_digest() {  # IDENTITY_HEX: section 4b, from leaf values 2 to 4 and the identity's hash
  local struct
  struct=$("$CAST" keccak "$("$CAST" abi-encode "f(bytes32,bytes32,bytes32,bytes32,bytes32)" \
    $DEPOSIT_TYPEHASH "$(value 1)" "$(value 2)" "$(value 3)" "$("$CAST" keccak "0x$1")")")
  "$CAST" keccak "0x1901${DOMAIN_SEPARATOR#0x}${struct#0x}"
}

DEPOSIT_SIGNER="" DEPOSIT_IDENTITY=""
step_d1_depositor_signature() {
  # D1: the leaf's depositor (value 5) is "<identity>;signer=<address>" (the last ";signer="
  # followed by 0x and exactly 40 hex digits, at the end) exactly when depositor_signature
  # is not null. Then the address obeys EIP-55, depositor_signature.signer is it (as
  # numbers), organization_id is keccak256 of <identity>, and the signature (v 27/28, low s,
  # checked here first as in E2) of the section 4b digest recovers to it.
  local parts named identity_hex expected_id signature s v digest recovered digits given
  mapfile -t parts < <(jq -r --argjson np "$NOT_PRINTABLE_JSON" "$JQ_UTF8 $JQ_PYREPR"'
    [.leaf.values[4] | capture("\\A(?<identity>.+);signer=(?<signer>0x[0-9a-fA-F]{40})\\z")] | first
    | if . == null then "", "", "" else .signer, (.identity | utf8hex), (.identity | pyrepr) end' "$CERT")
  named=${parts[0]} identity_hex=${parts[1]} DEPOSIT_IDENTITY=${parts[2]}
  if [ -z "$named" ]; then
    [ "$(get .depositor_signature)" = null ] \
      || invalid "the certificate carries a depositor_signature, but the leaf's depositor names no signer (';signer=<address>'): the anchored leaf does not commit to that signature"
    ok "D1: the leaf's depositor names no signer and depositor_signature is null: the deposit is not signed, the depositor is the operator's word (D2 does not apply)"
    return
  fi
  [ "$(get .depositor_signature)" != null ] \
    || invalid "the leaf's depositor names the signer $named, but the certificate carries no depositor_signature"
  digits=${named#0x}
  if [ "$digits" != "${digits,,}" ] && [ "$digits" != "${digits^^}" ]; then
    [ "$(checksum "$named")" = "$named" ] \
      || invalid "the signer in the leaf's depositor $named has mixed case but a wrong EIP-55 checksum"
  fi
  DEPOSIT_SIGNER=$(checksum "$named")
  given=$(get .depositor_signature.signer)
  [ "${given,,}" = "${named,,}" ] \
    || invalid "depositor_signature.signer is $(get .depositor_signature.signer), the leaf names $DEPOSIT_SIGNER"
  expected_id=$("$CAST" keccak "0x$identity_hex")
  [ "$(get .depositor_signature.organization_id)" = "$expected_id" ] \
    || invalid "depositor_signature.organization_id is $(get .depositor_signature.organization_id), but the organization of depositor $DEPOSIT_IDENTITY is keccak256 of it, $expected_id"
  signature=$(get .depositor_signature.signature)
  s=${signature:66:64} v=${signature:130:2}
  [ "$v" = 1b ] || [ "$v" = 1c ] || invalid "the depositor signature is not valid: a signature's v must be 27 or 28"
  [[ ! $s > $HALF_N ]] || invalid "the depositor signature is not valid: a signature's s must be at most n/2 (the malleable twin is refused)"
  domain_separator
  digest=$(deposit_digest "$identity_hex")
  if ! "$CAST" wallet verify --no-hash --address "$DEPOSIT_SIGNER" "$digest" "$signature" > /dev/null 2>&1; then
    recovered=$(recovered_address "$digest" "$signature")
    invalid "the depositor signature recovers to ${recovered:-another address or none}, not to $DEPOSIT_SIGNER: it is not that key's signature of this content, metadata and depositor $DEPOSIT_IDENTITY on chain $(get .anchor.chain_id), registry $REG"
  fi
  ok "D1: signed by $DEPOSIT_SIGNER over this content, metadata and depositor $DEPOSIT_IDENTITY (chain $(get .anchor.chain_id), registry $REG; EIP-712 Deposit digest $digest, cast wallet verify)"
}

V2_OFFLINE_STEPS=(step_e1_distinct_endorsers step_e2_signatures step_d1_depositor_signature)
V2_ONLINE_STEPS=(step_e3_members_at_anchor step_e4_policy step_e5_recorded_endorsement step_d2_depositor_key)
REG=$(get .anchor.registry) reg=$(get '.anchor.registry | ascii_downcase')
manifest_hex=$(jq -j '.anchor.manifest' "$CERT" | od -An -v -tx1 | tr -d ' \n')
if [ "$VERSION" = 2 ]; then
  for step in "${V2_OFFLINE_STEPS[@]}"; do "$step"; done
fi

# ---- Steps 6 to 11, against the node (state reads at "latest") ----
rpc() {
  local answer
  answer=$(curl -sS --max-time 15 -H 'content-type: application/json' "$RPC" --data \
    "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"$1\",\"params\":$2}" 2>&1) \
    || cannot_decide "cannot reach $RPC ($1): $answer"
  jq -e 'has("result") and (has("error") | not)' <<< "$answer" > /dev/null 2>&1 \
    || cannot_decide "the node failed to answer $1: $(jq -c '.error // .' <<< "$answer" 2>/dev/null || echo "$answer")"
  jq -r '.result' <<< "$answer"
}
word() { echo "${1:$((2 + 64 * $2)):64}"; }  # 32-byte word N of 0x-hex data
uint() {  # a word as a decimal number: bash arithmetic below 2^60, cast to-dec above
  if [[ $1 =~ ^0*([0-9a-fA-F]{1,15})$ ]]; then echo $((16#${BASH_REMATCH[1]}))
  elif [[ $1 =~ ^0+$ ]]; then echo 0
  else "$CAST" to-dec "0x$1"; fi
}
string_at() { local len; len=$(uint "$(word "$1" $(($2 / 32)))"); echo "${1:$((2 + 2 * ($2 + 32))):$((2 * len))}"; }
chain=$(rpc eth_chainId '[]')
[ "$((chain))" = "$(get .anchor.chain_id)" ] || cannot_decide "the node serves chain $((chain)), the certificate is for chain $(get .anchor.chain_id): use a node of that chain"
ok "the node serves chain $((chain))"
head=$(rpc eth_blockNumber '[]')  # a node behind the anchor cannot judge it: cannot decide
[[ $head =~ ^0x[0-9a-fA-F]{1,15}$ ]] || cannot_decide "the node answered eth_blockNumber with $head"
(( head >= $(get .anchor.block_number) )) || cannot_decide "the node at $RPC is at block $((head)), behind the anchor's block $(get .anchor.block_number): wait until it has synced, or ask another node"
ok "the node is at block $((head)), the anchor in block $(get .anchor.block_number)"
code=$(rpc eth_getCode "[\"$REG\",\"latest\"]")
code_hash=$("$CAST" keccak "$code")
# Step 7 (docs/certificate-v2.md section 5 changes it for version 2): a published build of
# the registry the version names, and only those (version 2: ConsortiumRegistry build 2 or
# build 1; named in ascending order, as notary verify names them).
if [ "$VERSION" = 2 ]; then build=ConsortiumRegistry published=("$PUBLISHED_CODE_HASH_V2_BUILD_1" "$PUBLISHED_CODE_HASH_V2")
else build=EvidenceRegistry published=("$PUBLISHED_CODE_HASH_V1"); fi
[[ " ${published[*]} " = *" $code_hash "* ]] \
  || invalid "the code at $REG (hash $code_hash) is not the published $build build (published: $(IFS=,; echo "${published[*]}" | sed 's/,/, /g'))"
[ "$(get .anchor.registry_code_hash)" = "$code_hash" ] || invalid "anchor.registry_code_hash is $(get .anchor.registry_code_hash), but the registry's code hash is $code_hash (the published build)"
case $code_hash in
  "$PUBLISHED_CODE_HASH_V2") build="$build build 2 (with the DEPOSITOR role)" ;;
  "$PUBLISHED_CODE_HASH_V2_BUILD_1") build="$build build 1 (before the DEPOSITOR role)" ;;
  *) build="$build build" ;;
esac
ok "the code at $REG is the published $build (hash $code_hash)"

compare() {  # SOURCE FIELD CHAIN_VALUE CERTIFICATE_VALUE ...: name every field that differs
  local source=$1 wrong=""; shift
  while [ $# -gt 0 ]; do
    [ "$2" = "$3" ] || wrong="$wrong; $1 is $2 $source, $3 in the certificate"
    shift 3
  done
  [ -z "$wrong" ] || invalid "${wrong#; }"
}
rec=$(rpc eth_call "[{\"to\":\"$REG\",\"data\":\"0xcf4ff901${ROOT#0x}\"},\"latest\"]")
base=$(( $(uint "$(word "$rec" 0)") / 32 ))
seq=$(uint "$(word "$rec" "$base")")
[ "$seq" != 0 ] || invalid "root $ROOT was never anchored in the registry $REG"
number=$(uint "$(word "$rec" $((base + 1)))")
compare "in the registry (anchorOf)" \
  anchor.sequence "$seq" "$(get .anchor.sequence)" \
  anchor.block_number "$number" "$(get .anchor.block_number)" \
  anchor.block_time "$(uint "$(word "$rec" $((base + 2)))")" "$(get .anchor.block_time)" \
  anchor.leaf_count "$(uint "$(word "$rec" $((base + 3)))")" "$(get .anchor.leaf_count)" \
  anchor.notary "0x$(word "$rec" $((base + 4)) | cut -c25-)" "$(get '.anchor.notary | ascii_downcase')" \
  "anchor.manifest (UTF-8 hex)" "$(string_at "$rec" $((32 * base + $(uint "$(word "$rec" $((base + 6)))"))))" "$manifest_hex"
ok "anchorOf(root): anchor #$seq, block $number, the stated time, leaf count, notary and manifest"

NUMBER=$(get .anchor.block_number) BLOCK_HASH=$(get .anchor.block_hash) TIME=$(get .anchor.block_time)
block=$(rpc eth_getBlockByNumber "[\"$(printf 0x%x "$NUMBER")\",false]")
[ "$block" != null ] || cannot_decide "the node has no block $NUMBER, although its registry says the root was anchored in it: ask another node"
compare "on the chain" \
  anchor.block_hash "$(jq -r .hash <<< "$block")" "$BLOCK_HASH" \
  anchor.block_time "$(( $(jq -r .timestamp <<< "$block") ))" "$TIME"
ok "block $NUMBER has the stated hash and time ($(date -u -d "@$TIME" +%FT%TZ))"

LEAF_HASH=$(get .leaf.hash) n=$(get '.proof | length')
data="0x0a02831c${ROOT#0x}$(printf %064x 96)${LEAF_HASH#0x}$(printf %064x "$n")$(get '.proof[] | ltrimstr("0x")' | tr -d '\n')"
res=$(rpc eth_call "[{\"to\":\"$REG\",\"data\":\"$data\"},\"latest\"]")
[ "$(uint "${res#0x}")" = "$TIME" ] || invalid "the registry's verify(root, proof, leaf) does not accept leaf.hash and the proof"
ok "the registry's verify() accepts leaf.hash and the proof"

TX=$(get .anchor.tx_hash)
jq -e --arg tx "$TX" '.transactions | map(ascii_downcase) | index($tx)' <<< "$block" > /dev/null \
  || invalid "anchor.tx_hash $TX is not a transaction of block $NUMBER, where the registry says this root was anchored: the certificate names a transaction that did not anchor it"
receipt=$(rpc eth_getTransactionReceipt "[\"$TX\"]")
[ "$receipt" != null ] || cannot_decide "the node lists transaction $TX in block $NUMBER but serves no receipt for it: ask another node"
[ "$(jq -r .status <<< "$receipt")" = 0x1 ] || invalid "transaction $TX reverted"
compare "in the receipt" \
  anchor.block_hash "$(jq -r .blockHash <<< "$receipt")" "$BLOCK_HASH" \
  anchor.block_number "$(( $(jq -r .blockNumber <<< "$receipt") ))" "$NUMBER" \
  "anchor.registry (to)" "$(jq -r '.to // "" | ascii_downcase' <<< "$receipt")" "$reg"
logs=$(jq -c --arg reg "$reg" --arg topic "$ANCHORED_TOPIC" --arg root "$ROOT" \
  '[.logs[] | select((.address | ascii_downcase) == $reg and .topics[0] == $topic and .topics[1] == $root)]' <<< "$receipt")
[ "$(jq length <<< "$logs")" = 1 ] || invalid "transaction $TX emitted no Anchored event of the registry for root $ROOT"
ev_data=$(jq -r '.[0].data' <<< "$logs")
compare "in the Anchored event" \
  anchor.sequence "$(uint "$(jq -r '.[0].topics[2]' <<< "$logs" | cut -c3-)")" "$(get .anchor.sequence)" \
  anchor.notary "0x$(jq -r '.[0].topics[3]' <<< "$logs" | cut -c27-)" "$(get '.anchor.notary | ascii_downcase')" \
  anchor.leaf_count "$(uint "$(word "$ev_data" 0)")" "$(get .anchor.leaf_count)" \
  anchor.block_time "$(uint "$(word "$ev_data" 1)")" "$TIME" \
  "anchor.manifest (UTF-8 hex)" "$(string_at "$ev_data" "$(uint "$(word "$ev_data" 3)")")" "$manifest_hex"
ok "transaction $TX succeeded in block $NUMBER and emitted the Anchored event with the certificate's fields"

# ---- Version 2, steps E3 to E5, against the node (docs/certificate-v2.md section 5) ----
step_e3_members_at_anchor() {
  # E3: the members and policy in force for the anchor, replayed from the registry's
  # MemberSet, MemberRemoved and PolicySet events: eth_getLogs of blocks 0 to
  # anchor.block_number in windows of LOG_WINDOW_BLOCKS, only the logs before the anchor's
  # own Anchored log (a lower block, or the same block and a lower logIndex), applied in
  # (block, logIndex) order. Any full node keeps logs; state at an old block needs an archive.
  # A window the node refuses with an error answer (nodes limit the range or the number of
  # results, each in its own words) is asked again in halves, down to one block; a refused
  # one-block window is cannot decide, like any unanswered call.
  local start=0 end got answer size=$LOG_WINDOW_BLOCKS verdict i member a b wrong anchored_log_index
  anchored_log_index=$(( $(jq -r '.[0].logIndex' <<< "$logs") ))  # the Anchored log of step 11
  : > "$WORK/logs"
  while (( start <= NUMBER )); do
    end=$(( start + size - 1 )); (( end <= NUMBER )) || end=$NUMBER
    answer=$(curl -sS --max-time 15 -H 'content-type: application/json' "$RPC" --data \
      "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_getLogs\",\"params\":[{\"address\":\"$REG\",\"fromBlock\":\"$(printf 0x%x "$start")\",\"toBlock\":\"$(printf 0x%x "$end")\",\"topics\":[[\"$MEMBER_SET_TOPIC\",\"$MEMBER_REMOVED_TOPIC\",\"$POLICY_SET_TOPIC\"]]}]}" 2>&1) \
      || cannot_decide "cannot reach $RPC (eth_getLogs): $answer"
    if jq -e 'type == "object" and has("error")' <<< "$answer" > /dev/null 2>&1 && (( end > start )); then
      size=$(( (end - start + 2) / 2 ))  # half the refused window, rounded up
      continue
    fi
    jq -e 'has("result") and (has("error") | not)' <<< "$answer" > /dev/null 2>&1 \
      || cannot_decide "the node failed to answer eth_getLogs ($start to $end): $(jq -c '.error // .' <<< "$answer" 2>/dev/null || echo "$answer")"
    got=$(jq -c '.result' <<< "$answer")
    jq -e 'type == "array"' <<< "$got" > /dev/null 2>&1 \
      || cannot_decide "the node answered eth_getLogs ($start to $end) with something that is not a list of logs"
    printf '%s\n' "$got" >> "$WORK/logs"
    start=$(( end + 1 ))
  done
  # The replay (jq): account -> role, organization id, name (UTF-8 as hex); k and the
  # configuration nonce of the last PolicySet; for each account that stopped being an
  # ENDORSER, the block where it did (left); for D2, for each account, the last block where
  # it was removed or changed role or organization (gone).
  jq -s --arg reg "$reg" --argjson block "$NUMBER" --argjson index "$anchored_log_index" \
    --arg set "$MEMBER_SET_TOPIC" --arg removed "$MEMBER_REMOVED_TOPIC" --arg policy "$POLICY_SET_TOPIC" '
    def num: ltrimstr("0x") | ascii_downcase | explode
      | reduce .[] as $c (0; . * 16 + (if $c >= 97 then $c - 87 else $c - 48 end));
    def word($n): .[2 + 64 * $n: 66 + 64 * $n];
    [add // [] | .[] | select((.address | ascii_downcase) == $reg)
      | .topics |= map(ascii_downcase) | .data |= ascii_downcase
      | select(.topics[0] == $set or .topics[0] == $removed or .topics[0] == $policy)
      | .b = (.blockNumber | num) | .i = (.logIndex | num)
      | select(.b < $block or (.b == $block and .i < $index))]
    | sort_by(.b, .i)
    | reduce .[] as $l ({members: {}, left: {}, gone: {}, k: null, nonce: null};
        if $l.topics[0] == $policy then .k = ($l.data | word(0) | num) | .nonce = ($l.topics[1] | num)
        else ("0x" + $l.topics[1][26:]) as $account | .members[$account] as $was
          | (if $was.role == 2 then .left[$account] = $l.b else . end)
          | if $l.topics[0] == $removed then del(.members[$account]) | .gone[$account] = $l.b
            else ($l.data | word(1) | num) as $at | ($l.data[2 + 2 * $at: 66 + 2 * $at] | num) as $length
              | .members[$account] = {role: ($l.data | word(0) | num), organization: $l.topics[2],
                  name: $l.data[66 + 2 * $at: 66 + 2 * $at + 2 * $length]}
              | if .members[$account].role == 2 then del(.left[$account]) else . end
              | if $was != null and [$was.role, $was.organization] != [.members[$account].role, $l.topics[2]]
                then .gone[$account] = $l.b else . end
            end
        end)' "$WORK/logs" > "$WORK/configuration" \
    || cannot_decide "the node's eth_getLogs answer for $REG is not a list of logs this procedure can read"
  # No PolicySet at all: the published code emits one when deployed, so the node's logs
  # are incomplete (pruned, not indexed), which says nothing about the certificate.
  [ "$(jq .k "$WORK/configuration")" != null ] \
    || cannot_decide "the node at $RPC returns no configuration events of $REG up to block $NUMBER, although the published ConsortiumRegistry emits them when deployed: its logs are incomplete, ask another node"
  # Each entry's member is an ENDORSER (role 2) whose organization id and name (UTF-8) on
  # chain are the entry's; the first entry that is not says why (a row: what, entry index,
  # member, then the block it left or the chain's organization id and name). When all are,
  # the row is: ok, k, configuration nonce, number of ENDORSER members.
  IFS=$'\t' read -r verdict i member a b <<< "$(jq -r --slurpfile c "$WORK/configuration" "$JQ_UTF8"'
    $c[0] as $c | first(.anchor.endorsement.endorsements | to_entries[]
      | .key as $i | .value as $e | ($e.member | ascii_downcase) as $m | $c.members[$m] as $held
      | if $held == null or $held.role != 2 then ["not an endorser", $i, $m, ($c.left[$m] // "" | tostring)]
        elif $held.organization != $e.organization_id or $held.name != ($e.organization | utf8hex)
        then ["otherwise", $i, $m, $held.organization, $held.name] else empty end | @tsv)
    // (["ok", $c.k, $c.nonce, ([$c.members[] | select(.role == 2)] | length)] | @tsv)' "$CERT")"
  case $verdict in
    "not an endorser")
      invalid "$(checksum "$member") ($(entry "$i" organization)) was not an ENDORSER member of the registry when the batch was anchored in block $NUMBER: $([ -n "$a" ] && echo "it stopped being one in block $a" || echo "it was never one before the anchor")" ;;
    otherwise)
      wrong=""
      [ "$a" = "$(entry "$i" organization_id)" ] || wrong=" and organization id $a, not $(entry "$i" organization_id)"
      [ "$b" = "$(jq -r "$JQ_UTF8 .anchor.endorsement.endorsements[$i].organization | utf8hex" "$CERT")" ] \
        || wrong="$wrong and organization name $(jq -nr --argjson np "$NOT_PRINTABLE_JSON" --arg chain "$b" \
          --arg stated "$(entry "$i" organization)" "$JQ_UTF8 $JQ_PYREPR"' "\($chain | utf8text | pyrepr), not \($stated | pyrepr)"')"
      invalid "on chain, member $(checksum "$member") has${wrong# and}" ;;
  esac
  POLICY_K=$i CONFIG_NONCE=$member ENDORSING_MEMBERS=$a
  ok "E3: the $ENDORSEMENTS endorsers were ENDORSER members at block $NUMBER with these organizations ($ENDORSING_MEMBERS endorsing members then, configuration $CONFIG_NONCE)"
}

step_e4_policy() {
  # E4: the document's threshold is the replayed k, and there are at least k endorsers
  # (distinct: E1).
  [ "$(get .anchor.endorsement.threshold)" = "$POLICY_K" ] \
    || invalid "anchor.endorsement.threshold is $(get .anchor.endorsement.threshold), but the policy in force at block $NUMBER required $POLICY_K endorsements"
  (( ENDORSEMENTS >= POLICY_K )) \
    || invalid "only $ENDORSEMENTS distinct endorsers, the policy at block $NUMBER required $POLICY_K"
  ok "E4: the policy at block $NUMBER required $POLICY_K; $ENDORSEMENTS distinct endorsers"
}

step_e5_recorded_endorsement() {
  # E5: endorsementOf(anchor.root) at "latest" (written once with the anchor): word 0 batch
  # time, word 1 k, word 2 the offset of the endorsers array, then its length and members.
  local record base count i recorded=""
  record=$(rpc eth_call "[{\"to\":\"$REG\",\"data\":\"$ENDORSEMENT_OF${ROOT#0x}\"},\"latest\"]")
  base=$(( $(uint "$(word "$record" 2)") / 32 ))
  count=$(uint "$(word "$record" "$base")")
  for ((i = 1; i <= count && i <= 64; i++)); do
    recorded="$recorded,0x$(word "$record" $((base + i)) | cut -c25-)"
  done
  (( count <= 64 )) || recorded="$recorded,... ($count in all)"
  compare "in the registry (endorsementOf)" \
    anchor.batch_time "$(uint "$(word "$record" 0)")" "$(get .anchor.batch_time)" \
    anchor.endorsement.threshold "$(uint "$(word "$record" 1)")" "$(get .anchor.endorsement.threshold)" \
    "the endorsers" "${recorded#,}" "$(get '[.anchor.endorsement.endorsements[].member | ascii_downcase] | join(",")')"
  ok "E5: the registry recorded these $count endorsers, k = $POLICY_K and batch time $(get .anchor.batch_time) (endorsementOf)"
}

step_d2_depositor_key() {
  # D2 (only when D1 found a signer): in the configuration E3 replayed (the same events, before
  # the anchor's Anchored log; no second scan), the signer is a DEPOSITOR (role 4) member
  # whose organization id and name (UTF-8) equal depositor_signature's. A row: what, then the
  # role name, the block it stopped being one, or the reason text.
  local verdict detail
  if [ -z "$DEPOSIT_SIGNER" ]; then
    ok "D2: the deposit is not signed (D1): no depositor key to look up"
    return
  fi
  IFS=$'\t' read -r verdict detail <<< "$(jq -r --argjson np "$NOT_PRINTABLE_JSON" --arg m "${DEPOSIT_SIGNER,,}" \
      --slurpfile c "$WORK/configuration" "$JQ_UTF8 $JQ_PYREPR"'
    $c[0] as $c | $c.members[$m] as $held | .depositor_signature as $d
    | if $held != null and $held.role != 4 then
        "role\t" + ({"1": "NOTARY", "2": "ENDORSER", "3": "OBSERVER"}[$held.role | tostring] // "NONE")
      elif $held == null then (if $c.gone[$m] != null then "gone\t\($c.gone[$m])" else "never\t" end)
      else [(if $held.organization != $d.organization_id
               then "organization id \($held.organization), not \($d.organization_id) (it is another organization'"'"'s key)" else empty end),
            (if $held.name != ($d.organization | utf8hex)
               then "name \($held.name | utf8text | pyrepr), not \($d.organization | pyrepr)" else empty end)]
        | if length == 0 then "ok\t" else "otherwise\t" + join(" and ") end
      end' "$CERT")"
  case $verdict in
    role|gone|never)
      case $verdict in
        role) detail="it was a member with role $detail" ;;
        gone) detail="it stopped being one in block $detail" ;;
        never) detail="it was never one before the anchor" ;;
      esac
      invalid "the depositor key $DEPOSIT_SIGNER was not a DEPOSITOR member of the registry when the batch was anchored in block $NUMBER: $detail" ;;
    otherwise) invalid "on chain, depositor key $DEPOSIT_SIGNER has $detail" ;;
    ok) ;;
    *) cannot_decide "D2: the configuration replayed in E3 could not be read" ;;
  esac
  ok "D2: $DEPOSIT_SIGNER was a DEPOSITOR key of $(get .depositor_signature.organization) at block $NUMBER (organization id $(get .depositor_signature.organization_id), replayed in E3)"
}

endorsed=""
if [ "$VERSION" = 2 ]; then
  for step in "${V2_ONLINE_STEPS[@]}"; do "$step"; done
  # Who endorsed, in the words of notary verify (docs/certificate-v2.md section 6).
  names=""
  while IFS=$'\t' read -r i member; do
    digits=${member#0x}  # members are named in EIP-55 form (mixed case was checked in step 1)
    [ "$digits" != "${digits,,}" ] && [ "$digits" != "${digits^^}" ] || member=$(checksum "$member")
    names="$names, $(entry "$i" organization) ($member)"
  done < <(jq -r '.anchor.endorsement.endorsements | to_entries[] | [.key, .value.member] | @tsv' "$CERT")
  endorsed=" Endorsed by $ENDORSEMENTS of the $ENDORSING_MEMBERS endorsing members ($POLICY_K required): ${names#, }."
  # Who deposited, in the words of notary verify: the key D1 and D2 checked, or the
  # operator's word.
  if [ -n "$DEPOSIT_SIGNER" ]; then
    endorsed="$endorsed Deposited and signed by $(get .depositor_signature.organization) ($DEPOSIT_SIGNER)."
  else
    endorsed="$endorsed That '$(value 4)' deposited it, beyond the notary's word: the deposit carries no depositor signature."
  fi
fi

spec="docs/certificate.md section 6"
[ "$VERSION" = 1 ] || spec="$spec and docs/certificate-v2.md section 5"
echo "VALID: All checks passed (every step of $spec): the content with SHA-256 $SHA existed, unchanged, no later than $(date -u -d "@$TIME" +%FT%TZ) (block $NUMBER of chain $((chain))).$endorsed"
