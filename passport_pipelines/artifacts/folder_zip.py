"""A folder as one zip file, written whole or not at all (``passport download --zip``).

The zip is written under a hidden name beside its target and renamed into place once complete, so
an interrupted download never leaves a zip that looks whole. Paths inside are the folder's own,
relative and with forward slashes; symbolic links are not followed (an archive holds none, and a
link must not smuggle another file in).
"""

from __future__ import annotations

import os
import uuid
import zipfile
from pathlib import Path


def write_folder_zip(folder: Path, target: Path) -> int:
    """Write every regular file under ``folder`` into the zip ``target``; the number of files."""
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.partial")
    files = 0
    try:
        with zipfile.ZipFile(staging, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            for path in sorted(folder.rglob("*")):
                if path.is_symlink() or not path.is_file():
                    continue
                zf.write(path, path.relative_to(folder).as_posix())
                files += 1
        os.replace(staging, target)
    except BaseException:
        staging.unlink(missing_ok=True)
        raise
    return files
