"""Make a local stand-in for ``rasa/rasa-sdk:3.6.2``: no image can be pulled on these machines.

The recipe reproduces what the action-server Dockerfile relies on in the real image: a
Debian root filesystem (debootstrap, minbase), CPython 3.10 with rasa-sdk 3.6.2 and its
dependencies installed by pip, ``/app/entrypoint.sh`` that turns ``start ...`` into
``python -m rasa_sdk ...``, and the real image's ENTRYPOINT, CMD, WORKDIR, USER and EXPOSE.

Python: the machine's CPython 3.10 (pyenv's, built for this same Debian) is copied to
``/usr/local`` of the root filesystem; Debian 12 itself only has 3.11, which rasa-sdk 3.6
does not support. The wheels are downloaded on the host (with its pip configuration) and
installed inside the root filesystem with ``chroot`` and ``--no-index``.

Building takes about two minutes; the root filesystem tarball is cached under
``~/.cache/ci-toolkit-tests/`` (or $CI_TOOLKIT_TEST_CACHE) keyed by a hash of this recipe,
so later sessions only ``docker import`` it (a few seconds).
"""

from __future__ import annotations

import fcntl
import glob
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from docker.client import DockerClient

CACHE_ROOT = Path(os.environ.get("CI_TOOLKIT_TEST_CACHE",
                                 Path.home() / ".cache" / "ci-toolkit-tests"))
IMAGE_REPOSITORY = "rasa/rasa-sdk"
RASA_SDK_VERSION = "3.6.2"
IMAGE = f"{IMAGE_REPOSITORY}:{RASA_SDK_VERSION}"

DEBIAN_SUITE = "bookworm"
DEBIAN_MIRROR = "http://deb.debian.org/debian"
# Shared libraries that CPython's extension modules (ssl, ctypes, sqlite3, ...) link to.
DEBIAN_PACKAGES = (
    "ca-certificates", "libssl3", "libffi8", "libsqlite3-0", "libbz2-1.0", "liblzma5",
    "zlib1g", "libreadline8", "libncursesw6", "libuuid1", "libexpat1",
)
# rasa-sdk 3.6.2 and the versions its dependencies resolved to when this recipe was written.
PIP_PINS = (
    "rasa-sdk==3.6.2", "sanic==21.12.2", "sanic-routing==0.7.2", "Sanic-Cors==2.2.0",
    "websockets==10.4", "coloredlogs==15.0.1", "humanfriendly==10.0",
    "prompt-toolkit==3.0.28", "wcwidth==0.9.4", "ruamel.yaml==0.17.40",
    "ruamel.yaml.clib==0.2.15", "multidict==5.2.0", "httptools==0.9.0", "uvloop==0.23.0",
    "ujson==6.1.0", "aiofiles==25.1.0", "pluggy==1.7.0", "packaging==26.3",
    "typing-extensions==4.16.0", "setuptools==84.2.1", "wheel==0.48.0",
)
# Parts of CPython an action server never needs: they only make every layer bigger
# (the vfs storage driver copies the whole file system for each layer).
PYTHON_SKIP = ("test", "idlelib", "tkinter", "turtledemo", "site-packages", "lib2to3/tests",
               "config-3.10-x86_64-linux-gnu")
# Same logic as the real image's entrypoint.sh.
ENTRYPOINT_SH = """#!/bin/bash
set -Eeuo pipefail
if [[ "${1:-}" = 'start' ]]; then
  shift
  exec python -m rasa_sdk "$@"
else
  exec "$@"
fi
"""
IMAGE_CHANGES = (
    'ENTRYPOINT ["./entrypoint.sh"]',
    'CMD ["start", "--actions", "actions"]',
    "WORKDIR /app",
    "USER 1001",
    "EXPOSE 5055",
    "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "ENV LANG=C.UTF-8",
)
CHROOT_ENV = {
    "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "HOME": "/root", "LANG": "C.UTF-8", "PIP_NO_CACHE_DIR": "1",
    "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PIP_ROOT_USER_ACTION": "ignore",
}


def find_python310() -> Path:
    """The prefix of a CPython 3.10 on this machine (``python3.10``, else pyenv's)."""
    candidates = ["python3.10", *sorted(glob.glob(
        str(Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
            / "versions" / "3.10*" / "bin" / "python3.10")))]
    for candidate in candidates:
        try:
            done = subprocess.run(
                [candidate, "-c", "import sys; assert sys.version_info[:2] == (3, 10); "
                                  "print(sys.base_prefix)"],
                capture_output=True, text=True, check=False, timeout=30)
        except OSError:
            continue
        if done.returncode == 0:
            return Path(done.stdout.strip())
    raise RuntimeError("No CPython 3.10 found (python3.10 or ~/.pyenv/versions/3.10*); the "
                       "rasa-sdk base image needs one. See scripts/setup-rasa.sh.")


def recipe_key(python_prefix: Path) -> str:
    recipe = {
        "suite": DEBIAN_SUITE, "packages": DEBIAN_PACKAGES, "pins": PIP_PINS,
        "skip": PYTHON_SKIP, "entrypoint": ENTRYPOINT_SH, "changes": IMAGE_CHANGES,
        "python": str(python_prefix), "layout": 1,
    }
    return hashlib.sha256(json.dumps(recipe, sort_keys=True).encode()).hexdigest()[:16]


def _run(argv: list[str], log: Path, *, env: dict[str, str] | None = None) -> None:
    with log.open("a", encoding="utf-8") as handle:
        handle.write(f"$ {' '.join(argv)}\n")
        handle.flush()
        done = subprocess.run(argv, stdout=handle, stderr=subprocess.STDOUT, env=env,
                              check=False)
    if done.returncode != 0:
        tail = "".join(log.read_text(encoding="utf-8", errors="replace").splitlines(True)[-30:])
        raise RuntimeError(f"{argv[0]} failed (exit {done.returncode}); log {log}:\n{tail}")


def _ignore_python_parts(python_lib: Path):  # type: ignore[no-untyped-def]
    skip = {python_lib / part for part in PYTHON_SKIP}

    def ignore(directory: str, names: list[str]) -> set[str]:
        ignored = {n for n in names if Path(directory) / n in skip}
        return ignored | {n for n in names if n.endswith(".a")}

    return ignore


def build_rootfs_tarball(destination: Path, python_prefix: Path, log: Path) -> None:
    """Make the root filesystem and write it as an uncompressed tarball to ``destination``."""
    work = Path(tempfile.mkdtemp(prefix="rasa-sdk-rootfs-", dir=destination.parent))
    rootfs = work / "rootfs"
    try:
        _run(["debootstrap", "--variant=minbase", f"--include={','.join(DEBIAN_PACKAGES)}",
              DEBIAN_SUITE, str(rootfs), DEBIAN_MIRROR], log)
        shutil.copytree(python_prefix, rootfs / "usr" / "local", symlinks=True,
                        dirs_exist_ok=True,
                        ignore=_ignore_python_parts(python_prefix / "lib" / "python3.10"))
        (rootfs / "usr/local/lib/python3.10/site-packages").mkdir(exist_ok=True)
        _run(["chroot", str(rootfs), "ldconfig"], log, env=CHROOT_ENV)
        wheels = rootfs / "tmp" / "wheels"
        wheels.mkdir(parents=True)
        (wheels / "constraints.txt").write_text("\n".join(PIP_PINS) + "\n", encoding="utf-8")
        _run([str(python_prefix / "bin" / "python3.10"), "-m", "pip", "download",
              "--only-binary=:all:", "--dest", str(wheels), "--constraint",
              str(wheels / "constraints.txt"), "rasa-sdk==3.6.2"], log)
        python = "/usr/local/bin/python3.10"
        _run(["chroot", str(rootfs), python, "-m", "ensurepip"], log, env=CHROOT_ENV)
        _run(["chroot", str(rootfs), python, "-m", "pip", "install", "--no-index",
              "--find-links", "/tmp/wheels", "--constraint", "/tmp/wheels/constraints.txt",
              "rasa-sdk==3.6.2"], log, env=CHROOT_ENV)
        _run(["chroot", str(rootfs), python, "-c", "import rasa_sdk, sanic; "
              "assert rasa_sdk.__version__ == '3.6.2', rasa_sdk.__version__"], log,
             env=CHROOT_ENV)
        app = rootfs / "app"
        app.mkdir()
        (app / "entrypoint.sh").write_text(ENTRYPOINT_SH, encoding="utf-8")
        (app / "entrypoint.sh").chmod(0o755)
        os.chown(app, 1001, 0)
        for leftover in ("tmp/wheels", "var/cache/apt", "var/lib/apt/lists", "usr/share/doc",
                         "usr/share/man", "usr/share/locale", "usr/share/info"):
            shutil.rmtree(rootfs / leftover, ignore_errors=True)
        partial = work / "rootfs.tar"
        _run(["tar", "--numeric-owner", "-C", str(rootfs), "-cf", str(partial), "."], log)
        partial.replace(destination)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def tarball_path(python_prefix: Path) -> Path:
    return CACHE_ROOT / f"rasa-sdk-{RASA_SDK_VERSION}-rootfs-{recipe_key(python_prefix)}.tar"


def rootfs_tarball() -> Path:
    """The cached root filesystem tarball, built first if this recipe has none yet."""
    python_prefix = find_python310()
    CACHE_ROOT.mkdir(parents=True, exist_ok=True)
    tarball = tarball_path(python_prefix)
    with (CACHE_ROOT / "rasa-sdk-rootfs.lock").open("w") as lock:
        # Parallel sessions wait for the one that builds.
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not tarball.exists():
            for tool in ("debootstrap", "chroot", "tar"):
                if shutil.which(tool) is None:
                    raise RuntimeError(f"'{tool}' is missing; install the apt package "
                                       "debootstrap (see the test setup script).")
            started = time.monotonic()
            log = CACHE_ROOT / f"{tarball.stem}.build.log"
            log.write_text("", encoding="utf-8")
            build_rootfs_tarball(tarball, python_prefix, log)
            print(f"built {tarball} in {time.monotonic() - started:.0f} s")
    return tarball


def import_base_image(client: DockerClient) -> str:
    """Make ``rasa/rasa-sdk:3.6.2`` exist in the engine; returns the reference."""
    from docker.errors import ImageNotFound

    try:
        client.api.inspect_image(IMAGE)
        return IMAGE
    except ImageNotFound:
        pass
    client.api.import_image(src=str(rootfs_tarball()), repository=IMAGE_REPOSITORY,
                            tag=RASA_SDK_VERSION, changes=list(IMAGE_CHANGES))
    client.api.inspect_image(IMAGE)
    return IMAGE
