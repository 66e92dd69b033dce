"""`notary devnet|deploy|stamp|verify|build`: the chain side, usable without the service."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from notary.cli.common import (
    EXIT_ERROR,
    EXIT_INVALID,
    EXIT_OK,
    JsonFlag,
    RpcOption,
    app,
    devnet_app,
    emit,
    err,
    fail,
    load_settings,
    out,
    silence_stdout,
)
from notary.errors import NotaryError

if TYPE_CHECKING:
    from notary.verify.wording import Claims


@devnet_app.command("up")
def devnet_up(as_json: JsonFlag = False) -> None:
    """Start anvil on 127.0.0.1 (chain state persisted in the data directory)."""
    from notary.ops import devnet

    try:
        status = devnet.up(load_settings())
    except NotaryError as exc:
        fail(str(exc))
    if as_json:
        emit(
            {
                "rpc_url": status.rpc_url,
                "chain_id": status.chain_id,
                "pid": status.pid,
                "block_number": status.block_number,
                "ipfs_api": status.ipfs_api,
            }
        )
    else:
        out.print(
            f"devnet running: chain {status.rpc_url} (chain id {status.chain_id}, "
            f"block {status.block_number}); IPFS node {status.ipfs_api}",
            highlight=False,
        )
        for e in status.endorsers:
            out.print(
                f"  endorser {e.address} {e.name} (pid {e.pid}, log {e.log})",
                highlight=False,
                soft_wrap=True,
            )


@devnet_app.command("down")
def devnet_down() -> None:
    """Stop anvil; its state is saved and restored by the next `up`."""
    from notary.ops import devnet

    try:
        stopped = devnet.down(load_settings())
    except NotaryError as exc:
        fail(str(exc))
    out.print("devnet stopped" if stopped else "devnet was not running")


@devnet_app.command("status")
def devnet_status(as_json: JsonFlag = False) -> None:
    """Say whether the devnet's chain runs (exit 0) or not (exit 1), and how its IPFS node is."""
    from notary.ops import devnet

    status = devnet.status(load_settings())
    if as_json:
        emit(
            {
                "running": status.running,
                "rpc_url": status.rpc_url,
                "chain_id": status.chain_id,
                "block_number": status.block_number,
                "ipfs": {
                    "api": status.ipfs_api,
                    "running": status.ipfs_running,
                    "pid": status.ipfs_pid,
                    "peer_id": status.ipfs_peer_id,
                    "agent": status.ipfs_agent,
                },
                "endorsers": [
                    {
                        "address": e.address,
                        "organization": e.name,
                        "running": e.pid is not None,
                        "pid": e.pid,
                        "last_seen": e.last_seen,
                        "log": str(e.log),
                    }
                    for e in status.endorsers
                ],
            }
        )
    else:
        if status.running:
            out.print(
                f"running: {status.rpc_url} (chain id {status.chain_id}, "
                f"block {status.block_number})",
                highlight=False,
            )
        else:
            out.print("not running")
        if status.ipfs_running:
            out.print(
                f"IPFS node: {status.ipfs_api} (peer id {status.ipfs_peer_id}, "
                f"{status.ipfs_agent}, pid {status.ipfs_pid})",
                highlight=False,
                soft_wrap=True,
            )
        else:
            out.print(f"IPFS node: not running ({status.ipfs_api})", highlight=False)
        for e in status.endorsers:
            process = f"running (pid {e.pid})" if e.pid is not None else "NOT running"
            seen = f"last seen by the notary {e.last_seen}" if e.last_seen else "not seen yet"
            out.print(
                f"endorser {e.address} {e.name}: {process}, {seen}; log {e.log}",
                highlight=False,
                soft_wrap=True,
            )
    raise typer.Exit(EXIT_OK if status.running else EXIT_INVALID)


@app.command()
def deploy(rpc: RpcOption = None, as_json: JsonFlag = False) -> None:
    """Deploy the published EvidenceRegistry build (or reuse the recorded one); in consortium
    mode (NOTARY_CONSORTIUM_ENDORSERS > 0) a ConsortiumRegistry with fresh endorser keys."""
    from notary.ops.deploy import deploy as run_deploy

    try:
        result = run_deploy(load_settings(), rpc)
    except NotaryError as exc:
        fail(str(exc))
    d = result.deployment
    if as_json:
        emit(
            {
                "reused": result.reused,
                "chain_id": d.chain_id,
                "registry": d.registry,
                "tx_hash": d.tx_hash,
                "block_number": d.block_number,
                "runtime_code_hash": d.runtime_code_hash,
                "notary": d.notary,
                "kind": d.kind,
            }
        )
        return
    verb = "reusing" if result.reused else "deployed"
    contract = "ConsortiumRegistry" if d.kind == "consortium" else "EvidenceRegistry"
    out.print(
        f"{verb} {contract} at {d.registry} on chain {d.chain_id} "
        f"(block {d.block_number}); notary account {d.notary}",
        highlight=False,
    )


@app.command()
def stamp(
    files: Annotated[list[Path], typer.Argument(help="Files to anchor as one batch.")],
    out_dir: Annotated[Path | None, typer.Option("--out", help="Write certificates here.")] = None,
    depositor: Annotated[str | None, typer.Option(help="Depositor identity in the leaves.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Hash FILES, pin their batch manifest on IPFS, anchor them in one transaction, write
    FILE.cert.json for each. `notary audit rebuild ROOT` rebuilds the root from the manifest."""
    from notary.issue.stamp import stamp as run_stamp

    settings = load_settings()
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=err, disable=as_json or len(files) < 2) as bar:
        tasks = {
            "hash": bar.add_task("hashing", total=len(files)),
            "write": bar.add_task("certificates", total=len(files)),
        }
        try:
            result = run_stamp(
                settings,
                files,
                out_dir=out_dir,
                depositor=depositor,
                progress=lambda stage, n: bar.advance(tasks[stage], n),
            )
        except NotaryError as exc:
            fail(str(exc))
    a = result.receipt.anchor
    if as_json:
        emit(
            {
                "root": "0x" + a.root.hex(),
                "sequence": a.sequence,
                "block_number": a.block_number,
                "block_time": a.timestamp,
                "tx_hash": "0x" + result.receipt.tx_hash.hex(),
                "gas_used": result.receipt.gas_used,
                "manifest": a.manifest,
                "certificates": [str(p) for p in result.certificates],
            }
        )
        return
    out.print(
        f"anchored {a.leaf_count} file(s) as root 0x{a.root.hex()} in block "
        f"{a.block_number} (anchor #{a.sequence}, {result.receipt.gas_used} gas), "
        f"manifest {a.manifest}",
        highlight=False,
    )
    for path in result.certificates:
        out.print(f"  certificate: {path}", highlight=False)


_VERIFY_HELP = """Check a certificate (and a file) against any node of the chain. Needs no database.

`notary verify FILE` reads the certificate FILE.cert.json beside it; -c names another. \
On a local development chain (chain id 31337 or 1337) it warns that a court must check \
against a node it trusts.

Exit 0: valid. Exit 1: invalid. Exit 2: cannot decide (node unreachable or failing, \
another chain, a newer certificate version, a certificate over 1 MiB or nested deeper \
than 64 levels, bad arguments).

The registry's code must be the published EvidenceRegistry build. Its runtime code hash \
(keccak256 of eth_getCode), frozen for certificate version 1 and published in \
docs/certificate.md section 5, is {hashes}. Version 2 certificates (consortium \
endorsements, docs/certificate-v2.md) must name the published ConsortiumRegistry \
build instead, {hashes_v2}; the verdict then says who endorsed the batch.
"""


def _published() -> str:
    from notary.chain.artifact import PUBLISHED_CODE_HASHES

    return ", ".join("0x" + h.hex() for h in sorted(PUBLISHED_CODE_HASHES))


def _published_v2() -> str:
    from notary.chain.artifact import PUBLISHED_CODE_HASHES_V2

    return ", ".join("0x" + h.hex() for h in sorted(PUBLISHED_CODE_HASHES_V2))


class Lang(StrEnum):
    en = "en"
    zh = "zh"


def locale_lang() -> Lang:
    """zh when the locale is Chinese (LC_ALL, else LC_MESSAGES, else LANG, as POSIX reads
    them), en otherwise."""
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(name)
        if value:
            return Lang.zh if value.lower().startswith("zh") else Lang.en
    return Lang.en


CERT_SUFFIX = ".cert.json"
"""FILE's certificate is FILE.cert.json: as `notary stamp`, `notary deposit --out` and the
court bundle name it."""


def _inputs(
    target: Path | None, certificate: Path | None, file: Path | None
) -> tuple[Path, Path | None]:
    """(certificate, file) from `notary verify [FILE] [-c CERT] [-f FILE]`."""
    if target is not None and file is not None and target != file:
        fail(f"two files to check: {target} and {file}; name one")
    file = file or target
    if certificate is not None:
        return certificate, file
    if file is None:
        fail(
            "name a certificate (-c CERT) or a file whose certificate FILE.cert.json lies beside it"
        )
    found = file.with_name(file.name + CERT_SUFFIX)
    if not found.is_file():
        fail(f"no certificate given and {found} does not exist: name one with -c")
    return found, file


@app.command(help=_VERIFY_HELP.format(hashes=_published(), hashes_v2=_published_v2()))
def verify(
    target: Annotated[
        Path | None,
        typer.Argument(
            help="The file to check; without -c its certificate is FILE.cert.json beside it.",
            metavar="FILE",
            show_default=False,
        ),
    ] = None,
    certificate: Annotated[
        Path | None, typer.Option("--certificate", "-c", help="Certificate JSON.")
    ] = None,
    file: Annotated[Path | None, typer.Option("--file", "-f", help="The file to check.")] = None,
    rpc: RpcOption = None,
    as_json: JsonFlag = False,
    lang: Annotated[
        Lang | None,
        typer.Option(
            "--lang",
            metavar="en|zh",
            help="Language of the verdict: en or zh (default: zh for a zh_* locale).",
        ),
    ] = None,
) -> None:
    from notary.core.certificate import MAX_CERTIFICATE_BYTES
    from notary.core.jsontext import JsonInputError
    from notary.ops.endpoints import resolve_rpc_url
    from notary.verify.certificate import Outcome
    from notary.verify.certificate import verify as run_verify

    cert_path, file = _inputs(target, certificate, file)
    language = lang or locale_lang()
    try:
        rpc_url = resolve_rpc_url(load_settings(), rpc)
        with cert_path.open("rb") as fh:
            text = fh.read(MAX_CERTIFICATE_BYTES + 1)  # a larger one is refused unread
        handle = file.open("rb") if file is not None else None
    except NotaryError as exc:
        fail(str(exc))
    except OSError as exc:
        fail(f"cannot read {exc.filename}: {exc.strerror}")
    try:
        verdict = run_verify(text, rpc_url, handle)
    except JsonInputError as exc:
        fail(f"cannot decide: {exc} (not read)")
    finally:
        if handle is not None:
            handle.close()
    code = {
        Outcome.VALID: EXIT_OK,
        Outcome.INVALID: EXIT_INVALID,
        Outcome.CANNOT_DECIDE: EXIT_ERROR,
    }[verdict.outcome]
    notes = _Notes.of(text, rpc_url, file is not None, language)
    try:
        if as_json:
            emit(
                {
                    "outcome": verdict.outcome.value,
                    "reason": verdict.reason,
                    "checks": [
                        {"name": c.name, "passed": c.passed, "detail": c.detail}
                        for c in verdict.checks
                    ],
                    "proven": list(verdict.proven),
                    "not_proven": list(verdict.not_proven),
                    "facts": verdict.facts,
                    "node": rpc_url,
                    "warnings": [notes.warning] if notes.warning else [],
                }
            )
        else:
            _print_verdict(verdict, notes)
        sys.stdout.flush()
    except BrokenPipeError:
        # the reader (say `| head`) stopped early: the verdict's exit code still stands
        silence_stdout()
    if notes.warning and not as_json:
        err.print(f"[bold yellow]{escape(notes.warning)}[/]", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


@dataclass(frozen=True)
class _Notes:
    """What is said beside a verdict: in which language, the Chinese claims of a valid one,
    the development-chain warning, the node it was read from."""

    lang: Lang
    reminder: str
    warning: str | None = None
    claims_zh: Claims | None = None

    @classmethod
    def of(cls, text: bytes, rpc_url: str, with_file: bool, lang: Lang) -> _Notes:
        from notary.core import certificate_v2
        from notary.verify import wording

        reminder = wording.trusted_node_reminder(rpc_url, lang.value)
        try:
            cert = certificate_v2.loads(text)
        except NotaryError:
            return cls(lang, reminder)  # unreadable: nothing to say about its chain
        return cls(
            lang,
            reminder,
            wording.dev_chain_warning(cert.anchor.chain_id, lang.value),
            wording.claims(cert, with_file, "zh") if lang == Lang.zh else None,
        )


def _print_verdict(verdict: object, notes: _Notes) -> None:
    from notary.verify import wording
    from notary.verify.certificate import LABELS, Outcome, Verdict

    assert isinstance(verdict, Verdict)
    style = {
        Outcome.VALID: "bold green",
        Outcome.INVALID: "bold red",
        Outcome.CANNOT_DECIDE: "bold yellow",
    }[verdict.outcome]
    zh = notes.lang == Lang.zh
    if not zh:
        label, reason = LABELS[verdict.outcome], verdict.reason
    else:
        label = f"{wording.LABELS['zh'][verdict.outcome.value]} {LABELS[verdict.outcome]}"
        if verdict.outcome == Outcome.VALID and notes.claims_zh is not None:
            reason = notes.claims_zh.reason
        else:
            meaning = wording.VERDICT_MEANING_ZH.get(verdict.outcome.value, "")
            reason = f"{meaning}。原因:{verdict.reason}"
    out.print(f"[{style}]{label}[/]: {escape(reason)}", highlight=False, soft_wrap=True)
    endorsed = verdict.facts.get("endorsement")
    if verdict.outcome == Outcome.VALID and isinstance(endorsed, dict):
        words = wording.endorsed_words(endorsed, notes.lang.value)
        out.print(escape(words), highlight=False, soft_wrap=True)
        signed = verdict.facts.get("depositor_signature")
        if isinstance(signed, dict):
            words = wording.depositor_words(signed, notes.lang.value)
            out.print(escape(words), highlight=False, soft_wrap=True)
    passed, failed = ("通过", "失败") if zh else ("ok", "FAIL")
    for check in verdict.checks:
        mark = f"[green]{passed}[/]  " if check.passed else f"[red]{failed}[/]"
        name = wording.CHECK_NAMES_ZH.get(check.name, check.name) if zh else check.name
        out.print(
            f"  {mark} {escape(name)}: {escape(check.detail)}", highlight=False, soft_wrap=True
        )
    if verdict.proven:
        proven, not_proven = verdict.proven, verdict.not_proven
        if zh and notes.claims_zh is not None:
            proven, not_proven = notes.claims_zh.proven, notes.claims_zh.not_proven
            endorsed = verdict.facts.get("endorsement")
            if isinstance(endorsed, dict):
                proven = (*proven, wording.endorsed_words(endorsed, "zh"))
                signed = verdict.facts.get("depositor_signature")
                if isinstance(signed, dict):
                    proven = (*proven, wording.depositor_words(signed, "zh"))
                else:
                    depositor = str(verdict.facts.get("depositor", ""))
                    not_proven = (*not_proven, wording.unsigned_words(depositor, "zh"))
        heading_proven, heading_not = wording.HEADINGS[notes.lang.value]
        out.print(heading_proven)
        for line in proven:
            out.print(f"  - {escape(line)}", highlight=False, soft_wrap=True)
        out.print(heading_not)
        for line in not_proven:
            out.print(f"  - {escape(line)}", highlight=False, soft_wrap=True)
    out.print(escape(notes.reminder), highlight=False, soft_wrap=True)


@app.command()
def build(
    check: Annotated[bool, typer.Option(help="Only compare with the committed build.")] = False,
) -> None:
    """Recompile contracts/ with the pinned solc-js; write (or --check) the published builds
    (EvidenceRegistry and ConsortiumRegistry)."""
    from notary.ops import build as builder

    try:
        if not check:
            for path in builder.write_build():
                out.print(f"wrote {path}", highlight=False)
            return
        differing = [t.name for t in builder.TARGETS if not builder.committed_build_matches(t)]
    except NotaryError as exc:
        fail(str(exc))
    if differing:
        fail(
            f"the committed build of {', '.join(differing)} differs from a fresh compilation",
            EXIT_INVALID,
        )
    out.print("the committed build is byte-identical to a fresh compilation")
