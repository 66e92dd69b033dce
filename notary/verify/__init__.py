"""Verifying and auditing with public data alone: the format code and the chain
(and IPFS) only, never the database, the service or the API. A court installs the base
package and runs `notary verify`."""
