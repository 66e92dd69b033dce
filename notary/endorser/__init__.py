"""The endorser node (`notary endorser run`): one consortium member's independent check and
signature of every batch the notary proposes. Needs no database and no API key."""
