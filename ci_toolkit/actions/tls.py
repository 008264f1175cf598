"""A self-signed certificate for the gRPC server under test (``--grpc-tls``), made with the
openssl CLI for 127.0.0.1 and localhost and valid for one day; the client trusts exactly it.
The key stays in the results directory's private folder and is never logged."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from ci_toolkit.errors import UsageError


@dataclass(frozen=True)
class TlsFiles:
    certificate: Path
    key: Path


def self_signed(directory: Path) -> TlsFiles:
    openssl = shutil.which("openssl")
    if openssl is None:
        raise UsageError("--grpc-tls makes a self-signed certificate with the openssl CLI, "
                         "which is not on PATH. Install openssl, or leave out --grpc-tls.")
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    files = TlsFiles(directory / "server.crt", directory / "server.key")
    argv = [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
            "-keyout", str(files.key), "-out", str(files.certificate)]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
    if done.returncode != 0:
        raise UsageError(f"openssl could not make a self-signed certificate for --grpc-tls: "
                         f"{done.stderr.strip()[-300:]}")
    files.key.chmod(0o600)
    return files
