"""Sharing evidence with other organizations for a case, and the record of every access.

An owner shares one piece of evidence with another organization (a court, a regulator,
another studio) for a case (`case_ref`), optionally until a time; the grantee then reads it
through the same routes as the owner. Revoked or expired, a share gives nothing, and the
evidence looks absent again, as another tenant's evidence always does. Every access to
shared evidence is recorded in an append-only access log (who, what, when, from where).
Also here: the keyless lookup of a certificate by its id and the file's hash.

    shares.py   create, list, revoke shares; what was shared with an organization
    access.py   the one access check for evidence reads, and the access record
    access_log.py  the access log as the API and the court bundle show it
    lookup.py   the public lookup by id + SHA-256, rate-limited per client address
"""
