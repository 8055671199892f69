"""Writing an export without destroying what is at the path: one set of rules for the CLI and the console.

- A new path: a regular file is created, with the mode the umask gives.
- An existing path is refused unless `force`; with `force` only a regular file is replaced
  (keeping its mode), never a symlink, directory, device, FIFO or socket.
- The bytes go to a temp file created with O_EXCL | O_NOFOLLOW under a random name in the
  target's directory, are fsynced, then renamed into place (a new file is linked, so a file
  that appears meanwhile is not clobbered), and the directory is fsynced.
- Every failure is one line naming the path; nothing is left behind.

All names are resolved relative to one open directory descriptor, so the directory cannot
be swapped under us between the checks and the rename.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import stat
import sys
from pathlib import Path

from .errors import BfgError, Reason
from .i18n import Msg

_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_DIRECTORY = getattr(os, "O_DIRECTORY", 0)
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)


class WriteRefused(BfgError):
    """The target is not something an export may create or replace."""


class WriteFailed(BfgError):
    """The bytes could not be written (no space, I/O error, closed stdout...)."""


def kind_of(mode: int) -> Msg | None:
    """What a non-regular file is (its message); None for a regular file."""
    if stat.S_ISREG(mode):
        return None
    for test, kind in (
        (stat.S_ISLNK, "file.kind.symlink"), (stat.S_ISDIR, "file.kind.directory"),
        (stat.S_ISCHR, "file.kind.character_device"), (stat.S_ISBLK, "file.kind.block_device"),
        (stat.S_ISFIFO, "file.kind.fifo"), (stat.S_ISSOCK, "file.kind.socket"),
    ):
        if test(mode):
            return Msg(kind)
    return Msg("file.kind.other")


def inspect(path: Path) -> os.stat_result | None:
    """The target as it is now (not following a symlink), or None when nothing is there.

    Raises WriteRefused for anything an export may never replace.
    """
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise WriteFailed(_failed(path, exc)) from None
    _refuse_kind(path, st)
    return st


def check_target(path: Path, *, force: bool) -> os.stat_result | None:
    """Before rendering anything: refuse a target the write would refuse (checked again when writing)."""
    st = inspect(path)
    if st is not None and not force:
        raise WriteRefused(exists_reason(path))
    if not Path(path).name or Path(path).name in (".", ".."):
        raise WriteRefused(Reason.of("export.not_a_name", path=str(path)))
    return st


def _refuse_kind(path: Path, st: os.stat_result) -> None:
    kind = kind_of(st.st_mode)
    if kind is not None:
        raise WriteRefused(Reason.of("export.not_regular", path=str(path), kind=kind))


def exists_reason(path: Path) -> Reason:
    return Reason.of("export.exists", path=str(path))


def _failed(path: Path | str, exc: OSError) -> Reason:
    reason = exc.strerror or str(exc)
    return Reason.of("export.write_failed", path=str(path), reason=reason)


def _token() -> str:
    return secrets.token_hex(8)


def write_file(path: Path, data: bytes, *, force: bool) -> None:
    """Create `path` (or, with `force`, replace the regular file there) with `data`, durably."""
    path = Path(path)
    name = path.name
    if not name or name in (".", ".."):
        raise WriteRefused(Reason.of("export.not_a_name", path=str(path)))
    folder = path.parent
    try:
        dfd = os.open(folder, os.O_RDONLY | _DIRECTORY | _CLOEXEC)
    except FileNotFoundError:
        raise WriteFailed(Reason.of("export.no_dir", path=str(path), dir=str(folder))) from None
    except OSError as exc:
        raise WriteFailed(_failed(path, exc)) from None
    try:
        _write_in(dfd, path, name, data, force)
    finally:
        os.close(dfd)


def _lstat_in(dfd: int, name: str) -> os.stat_result | None:
    try:
        return os.stat(name, dir_fd=dfd, follow_symlinks=False)
    except FileNotFoundError:
        return None


def _write_in(dfd: int, path: Path, name: str, data: bytes, force: bool) -> None:
    try:
        before = _lstat_in(dfd, name)
    except OSError as exc:
        raise WriteFailed(_failed(path, exc)) from None
    if before is not None:
        _refuse_kind(path, before)
        if not force:
            raise WriteRefused(exists_reason(path))
    tmp, fd = _create_temp(dfd, path, name, before)
    placed = False
    try:
        try:
            _write_all(fd, data)
            if before is not None:
                os.fchmod(fd, stat.S_IMODE(before.st_mode))  # a replaced file keeps its mode
                with contextlib.suppress(OSError):  # and, where we may, its owner
                    os.fchown(fd, before.st_uid, before.st_gid)
            os.fsync(fd)
        finally:
            os.close(fd)
        placed = _place(dfd, path, tmp, name, before)
        os.fsync(dfd)  # the rename itself must survive a crash
    except OSError as exc:
        raise WriteFailed(_failed(path, exc)) from None
    finally:
        if not placed:
            with contextlib.suppress(OSError):
                os.unlink(tmp, dir_fd=dfd)


def _create_temp(dfd: int, path: Path, name: str, before: os.stat_result | None) -> tuple[str, int]:
    # A new file gets 0666 less the umask; a replacement starts private and gets the old mode.
    mode = 0o666 if before is None else 0o600
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | _CLOEXEC
    for _attempt in range(16):
        tmp = f".{name[:180]}.{_token()}.tmp"
        try:
            return tmp, os.open(tmp, flags, mode, dir_fd=dfd)
        except FileExistsError:
            continue  # a name someone planted (or a symlink there): never followed, pick another
        except OSError as exc:
            raise WriteFailed(_failed(path, exc)) from None
    raise WriteFailed(Reason.of("export.no_temp", path=str(path)))


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        if written <= 0:  # pragma: no cover - a regular file never returns 0 for a non-empty write
            raise OSError(errno.EIO, os.strerror(errno.EIO))
        view = view[written:]


def _place(dfd: int, path: Path, tmp: str, name: str, before: os.stat_result | None) -> bool:
    """Move the finished temp file into place; True when the temp name is gone."""
    if before is None:
        try:
            os.link(tmp, name, src_dir_fd=dfd, dst_dir_fd=dfd, follow_symlinks=False)
        except FileExistsError:
            raise WriteRefused(Reason.of("export.appeared", path=str(path))) from None
        except OSError as exc:
            if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK):
                raise
            # A file system without hard links: check again, then rename.
            if _lstat_in(dfd, name) is not None:
                raise WriteRefused(exists_reason(path)) from None
            os.rename(tmp, name, src_dir_fd=dfd, dst_dir_fd=dfd)
            return True
        os.unlink(tmp, dir_fd=dfd)
        return True
    now = _lstat_in(dfd, name)
    if now is None or (now.st_dev, now.st_ino) != (before.st_dev, before.st_ino) or not stat.S_ISREG(now.st_mode):
        raise WriteRefused(Reason.of("export.changed", path=str(path)))
    os.replace(tmp, name, src_dir_fd=dfd, dst_dir_fd=dfd)
    return True


def write_stdout(text: str) -> None:
    """Write to stdout and flush; a closed stdout, a broken pipe or a full disk is a WriteFailed."""
    stream = sys.stdout
    if stream is None:
        raise WriteFailed(Reason.of("export.stdout_closed"))
    try:
        stream.write(text)
        stream.flush()
    except BrokenPipeError:
        _silence(stream)
        raise WriteFailed(Reason.of("export.broken_pipe")) from None
    except ValueError:  # "I/O operation on closed file"
        raise WriteFailed(Reason.of("export.stdout_closed")) from None
    except OSError as exc:
        _silence(stream)
        reason = exc.strerror or str(exc)
        raise WriteFailed(Reason.of("export.stdout_failed", reason=reason)) from None
    try:
        _sync(stream)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise WriteFailed(Reason.of("export.stdout_failed", reason=reason)) from None


def _sync(stream: object) -> None:
    """stdout redirected to a file: make it durable too (a pipe or a terminal needs nothing)."""
    try:
        fd = stream.fileno()  # type: ignore[attr-defined]
    except (OSError, ValueError, AttributeError):  # io.UnsupportedOperation: not backed by a file
        return
    if stat.S_ISREG(os.fstat(fd).st_mode):
        os.fsync(fd)


def _silence(stream: object) -> None:
    """After a failed write, drop what is buffered so the interpreter's exit flush stays quiet."""
    try:
        fd = stream.fileno()  # type: ignore[attr-defined]
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, fd)
        os.close(null)
    except (OSError, ValueError, AttributeError):
        pass
