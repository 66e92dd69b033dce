"""The `notary` command through its real entry point, and the standard-tools script."""

from __future__ import annotations

import hashlib
import json
import subprocess

import pytest

from notary.ops.toolchain import REPO_ROOT
from tests.conftest import free_port, run_cli
from tests.integration.conftest import make_files

pytestmark = pytest.mark.devnet


def assert_clean_error(result: subprocess.CompletedProcess[str], code: int, text: str) -> None:
    assert result.returncode == code, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr + result.stdout
    assert text in result.stderr
    assert len(result.stderr.strip().splitlines()) <= 3  # one message (wrapped at most)


def test_stamp_then_verify_through_the_command(chain, tmp_path) -> None:
    files = make_files(tmp_path / "in", 4)
    out_dir = tmp_path / "certs"
    stamped = run_cli(
        chain.settings,
        "stamp",
        *map(str, files),
        "--out",
        str(out_dir),
        "--json",
        "--depositor",
        "杭州童装工作室",
    )
    assert stamped.returncode == 0, stamped.stderr
    report = json.loads(stamped.stdout)
    assert report["certificates"] == [str(out_dir / (f.name + ".cert.json")) for f in files]
    assert all((out_dir / (f.name + ".cert.json")).is_file() for f in files)

    valid = run_cli(
        chain.settings,
        "verify",
        "-c",
        report["certificates"][2],
        "-f",
        str(files[2]),
        "--rpc",
        chain.rpc_url,
    )
    assert valid.returncode == 0, valid.stdout + valid.stderr
    assert valid.stdout.startswith("VALID")
    assert "What this does not prove" in valid.stdout

    as_json = run_cli(
        chain.settings, "verify", "-c", report["certificates"][2], "-f", str(files[2]), "--json"
    )  # RPC from the devnet record in the data dir
    verdict = json.loads(as_json.stdout)
    assert as_json.returncode == 0 and verdict["outcome"] == "valid"
    assert verdict["facts"]["depositor"] == "杭州童装工作室"
    assert verdict["facts"]["block_number"] == report["block_number"]

    invalid = run_cli(
        chain.settings, "verify", "-c", report["certificates"][2], "-f", str(files[1]), "--json"
    )
    assert invalid.returncode == 1 and json.loads(invalid.stdout)["outcome"] == "invalid"


def test_stamp_writes_beside_the_file_by_default(chain, tmp_path) -> None:
    files = make_files(tmp_path, 1, prefix="单个")
    result = run_cli(chain.settings, "stamp", str(files[0]))
    assert result.returncode == 0, result.stderr
    cert = json.loads(files[0].with_name(files[0].name + ".cert.json").read_text("utf-8"))
    from notary.core.cid import raw_cid

    sha = hashlib.sha256(files[0].read_bytes()).digest()
    assert cert["evidence"]["metadata"]["cid"] == raw_cid(sha)  # one chunk: derived from SHA
    assert cert["evidence"]["metadata"]["cid_profile"] == "unixfs-v1-2025"


def test_verify_exit_codes_for_undecidable_cases(chain, tmp_path) -> None:
    files = make_files(tmp_path, 1)
    run_cli(chain.settings, "stamp", str(files[0]))
    cert = files[0].with_name(files[0].name + ".cert.json")
    down = run_cli(
        chain.settings, "verify", "-c", str(cert), "--rpc", f"http://127.0.0.1:{free_port()}"
    )
    assert down.returncode == 2 and down.stdout.startswith("CANNOT DECIDE")
    future = tmp_path / "future.json"
    doc = json.loads(cert.read_text("utf-8"))
    doc["version"] = 3  # 2 is read since certificate v2
    future.write_text(json.dumps(doc))
    newer = run_cli(chain.settings, "verify", "-c", str(future), "--rpc", chain.rpc_url)
    assert newer.returncode == 2 and "newer" in newer.stdout
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    malformed = run_cli(chain.settings, "verify", "-c", str(broken), "--rpc", chain.rpc_url)
    assert malformed.returncode == 1 and "malformed" in malformed.stdout


def test_user_mistakes_get_one_line_errors(chain, tmp_path) -> None:
    missing = run_cli(chain.settings, "stamp", str(tmp_path / "nope.png"))
    assert_clean_error(missing, 2, "cannot read")
    folder = run_cli(chain.settings, "stamp", str(tmp_path))
    assert_clean_error(folder, 2, "is a directory")
    files = make_files(tmp_path / "dup", 1)
    twice = run_cli(chain.settings, "stamp", str(files[0]), str(files[0]))
    assert_clean_error(twice, 2, "more than once")
    no_cert = run_cli(chain.settings, "verify", "-c", str(tmp_path / "none.json"))
    assert_clean_error(no_cert, 2, "cannot read")
    assert not list((tmp_path / "dup").glob("*.cert.json"))  # nothing was written


def test_commands_without_setup_explain_what_to_do(tmp_path) -> None:
    from tests.conftest import make_settings

    empty = make_settings(tmp_path / "empty")
    files = make_files(tmp_path / "f", 1)
    result = run_cli(empty, "stamp", str(files[0]))
    assert_clean_error(result, 2, "notary devnet up")
    status = run_cli(empty, "devnet", "status")
    assert status.returncode == 1 and "not running" in status.stdout


def test_build_check_passes_on_the_committed_build(chain) -> None:
    result = run_cli(chain.settings, "build", "--check")
    assert result.returncode == 0 and "byte-identical" in result.stdout


def test_standard_tools_script(chain, tmp_path) -> None:
    files = make_files(tmp_path, 3)
    run_cli(chain.settings, "stamp", *map(str, files))
    script = REPO_ROOT / "scripts" / "verify-with-standard-tools.sh"
    cert = str(files[1]) + ".cert.json"
    good = subprocess.run(
        [str(script), cert, str(files[1]), chain.rpc_url],
        capture_output=True,
        text=True,
        check=False,
    )
    assert good.returncode == 0, good.stdout + good.stderr
    assert "All checks passed" in good.stdout
    wrong_file = subprocess.run(
        [str(script), cert, str(files[0]), chain.rpc_url],
        capture_output=True,
        text=True,
        check=False,
    )
    assert wrong_file.returncode == 1 and "FAIL: sha256sum" in wrong_file.stdout
    doc = json.loads((tmp_path / (files[1].name + ".cert.json")).read_text("utf-8"))
    doc["proof"][0] = "0x" + "00" * 32
    tampered = tmp_path / "tampered.json"
    tampered.write_text(json.dumps(doc))
    bad_proof = subprocess.run(
        [str(script), str(tampered), str(files[1]), chain.rpc_url],
        capture_output=True,
        text=True,
        check=False,
    )
    assert bad_proof.returncode == 1 and "does not accept" in bad_proof.stdout


def test_verdict_exit_code_survives_a_closed_pipe(chain, tmp_path) -> None:
    """`notary verify ... | head -1` must still exit 0 for VALID (rich would exit 1)."""
    import shlex
    import sys
    from pathlib import Path

    from tests.conftest import cli_env

    files = make_files(tmp_path, 2)
    run_cli(chain.settings, "stamp", *map(str, files))
    exe = Path(sys.executable).parent / "notary"
    for file, expected in ((files[0], "0"), (files[1], "1")):
        cert = str(files[0]) + ".cert.json"
        command = (
            f"{shlex.quote(str(exe))} verify -c {shlex.quote(cert)} -f "
            f"{shlex.quote(str(file))} | head -c 1 >/dev/null; echo ${{PIPESTATUS[0]}}"
        )
        out = subprocess.run(
            ["bash", "-c", command],
            capture_output=True,
            text=True,
            env=cli_env(chain.settings),
            check=True,
        )
        assert out.stdout.strip() == expected, (file, out.stderr)
