"""Records as JSON: :func:`json_ready`, the one conversion of run records to plain JSON values,
:func:`dumps`, the one canonical JSON writer (the claim reports, the experiments' run records
and the benchmark record all write through it), and :func:`write_files` / :func:`write_text`,
the one way results reach the disk: atomically (a temporary file in the same directory, fsync,
``os.replace``) and, for a set of files, all temporaries first and then every replacement."""
from __future__ import annotations

import json
import math
import os
import stat
import tempfile
from pathlib import Path

import numpy as np


def json_ready(obj, nonfinite=None):
    """A copy of ``obj`` that ``json.dumps(..., allow_nan=False)`` accepts.

    Dicts (keys as strings), lists, tuples and arrays are copied recursively, NumPy scalars
    become Python scalars, and each non-finite float becomes ``nonfinite(x)`` if that is callable
    (e.g. ``repr`` keeps ``'inf'`` and ``'nan'`` as strings), else the value ``nonfinite``
    (``None`` by default: JSON ``null``)."""
    if isinstance(obj, dict):
        return {str(k): json_ready(v, nonfinite) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [json_ready(v, nonfinite) for v in obj]
    if isinstance(obj, np.ndarray):
        return json_ready(obj.tolist(), nonfinite)
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return nonfinite(obj) if callable(nonfinite) else nonfinite
    return obj


def dumps(obj, *, indent: int | None = 1, nonfinite=None) -> str:
    """Canonical JSON text of ``obj``, ending with a newline: :func:`json_ready` (``nonfinite``
    as there: ``None`` writes ``null``, ``repr`` keeps ``"inf"``/``"nan"`` as strings), keys
    sorted, ``allow_nan=False``; ``indent`` spaces per level, or ``None`` for the compact form
    (no spaces after separators). The same content always gives the same bytes."""
    if indent is not None and (isinstance(indent, bool) or not isinstance(indent, int)
                               or indent < 0):
        raise ValueError(f"indent must be an integer >= 0 or None, got {indent!r}")
    separators = (",", ":") if indent is None else None
    return json.dumps(json_ready(obj, nonfinite), sort_keys=True, indent=indent,
                      separators=separators, allow_nan=False) + "\n"


# ----------------------------------------------------------------------------- atomic writing


def _umask() -> int:
    """The process umask (read by setting and restoring it: there is no read-only call)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _temporary(path: Path, text: str, encoding: str) -> Path:
    """``text`` written and fsync'ed to a new temporary file beside ``path`` (same directory, so
    ``os.replace`` is a rename within one file system), with ``path``'s permissions if it exists,
    else those a new file gets under the umask (``mkstemp`` alone would make it 0600)."""
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    tmp = Path(name)
    try:
        with os.fdopen(fd, "w", encoding=encoding, newline="\n") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        try:
            mode = stat.S_IMODE(path.stat().st_mode)
        except FileNotFoundError:
            mode = 0o666 & ~_umask()
        os.chmod(tmp, mode)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return tmp


def _fsync_directory(directory: Path) -> None:
    """Make a rename in ``directory`` durable (a no-op where directories cannot be opened)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_files(texts: dict, encoding: str = "utf-8") -> list:
    """Write a consistent set of text files ``{path: text}`` atomically; return the paths.

    Every text goes first to a temporary file in its target's directory (fsync'ed); only when
    all are written is each moved over its target with ``os.replace``, in the order given. A
    reader therefore sees each file either whole and old or whole and new, never empty or
    truncated; an error or Ctrl-C while writing the temporaries leaves every target untouched
    (and no temporary behind). Parent directories are created."""
    targets = [Path(p) for p in texts]
    for path in targets:
        path.parent.mkdir(parents=True, exist_ok=True)
    written = []
    try:
        for path, text in zip(targets, texts.values()):
            if not isinstance(text, str):
                raise TypeError(f"text for {path} must be a str, got {type(text).__name__}")
            written.append((_temporary(path, text, encoding), path))
        while written:
            tmp, path = written[0]
            os.replace(tmp, path)
            written.pop(0)
    finally:
        for tmp, _ in written:
            tmp.unlink(missing_ok=True)
    for directory in dict.fromkeys(path.parent for path in targets):
        _fsync_directory(directory)
    return targets


def write_text(path, text: str, encoding: str = "utf-8") -> Path:
    """Write ``text`` to ``path`` atomically (:func:`write_files` with one file)."""
    return write_files({path: text}, encoding)[0]


def worker_context():
    """The multiprocessing context of the toolkit's worker processes: ``forkserver`` once JAX is
    imported in this process (JAX runs threads of its own, and a process forked from it can
    deadlock), else the platform's default (``fork`` on Linux: the worker inherits the modules
    already imported, which saves seconds of start-up)."""
    import multiprocessing
    import sys

    jax_loaded = "jax" in sys.modules
    if jax_loaded and "forkserver" in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("forkserver")
    return multiprocessing.get_context()
