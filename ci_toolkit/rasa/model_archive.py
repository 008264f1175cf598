"""What a rasa model file is, checked before anything uses it: the pipeline's --model and the
deploy's --model get the same check and the same messages.

A model `rasa train` writes is a gzip-compressed tar archive (``*.tar.gz``) with rasa's
``metadata.json`` at its root. The whole archive is read, so that a truncated download fails
here, in a second, rather than minutes later inside rasa or on a server after an upload.
"""

from __future__ import annotations

import tarfile
import zlib
from pathlib import Path

from ci_toolkit.errors import UsageError

MODEL_SUFFIX = ".tar.gz"
GZIP_MAGIC = b"\x1f\x8b"
MODEL_METADATA = "metadata.json"  # at the root of every model rasa 3 writes
_FIX = "Pass the .tar.gz that `rasa train` wrote (the pipeline's model_path output)."


def check_model_archive(path: Path) -> None:
    """Raise UsageError unless ``path`` is a complete model archive."""
    where = f"The model '{path}'"
    if path.is_dir():
        raise UsageError(f"{where} is a directory, not a model archive. {_FIX}")
    if not path.is_file():
        raise UsageError(f"{where} does not exist. {_FIX}")
    try:
        with path.open("rb") as handle:
            magic = handle.read(len(GZIP_MAGIC))
        if magic != GZIP_MAGIC:
            raise UsageError(f"{where} is not a gzip-compressed tar archive (it starts with "
                             f"{magic!r}, not {GZIP_MAGIC!r}), so it is not a model written by "
                             f"`rasa train`. {_FIX}")
        with tarfile.open(path, "r:gz") as archive:
            names = {name.lstrip("/").removeprefix("./") for name in archive.getnames()}
    except (tarfile.TarError, EOFError, zlib.error, OSError) as error:  # OSError: BadGzipFile
        detail = getattr(error, "strerror", None) or error
        raise UsageError(f"{where} is not a readable tar archive ({detail}); it may be "
                         f"truncated. Train it again or download it again.") from None
    if MODEL_METADATA not in names:
        raise UsageError(f"{where} is a tar archive but not a rasa model: it has no "
                         f"{MODEL_METADATA}. {_FIX}")
