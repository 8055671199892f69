"""The store file itself: what may be opened, how a read-only one is read, how a new one is made.

Kept free of aiosqlite so the headless `status` path can use it. The rules:
- only a regular file holding a SQLite database is ever opened; a device, FIFO, directory,
  an empty or a foreign file is refused before SQLite touches it (no `-journal` beside it);
- a store on read-only media (file mode, directory mode or a read-only mount) is opened
  through a URI that needs no WAL side files;
- a new store's missing directories are made 0700 and the store itself 0600.
"""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path
from urllib.parse import quote

from bfg_tui.errors import Reason, StoreError
from bfg_tui.models import Msg

SQLITE_MAGIC = b"SQLite format 3\x00"


def how_to_create(path: Path) -> Reason:
    return Reason.of("store.none_here", path=path)


def _kind(mode: int) -> Msg | None:
    if stat.S_ISREG(mode):
        return None
    for test, kind in (
        (stat.S_ISDIR, "file.kind.directory"), (stat.S_ISCHR, "file.kind.character_device"),
        (stat.S_ISBLK, "file.kind.block_device"), (stat.S_ISFIFO, "file.kind.fifo"), (stat.S_ISSOCK, "file.kind.socket"),
    ):
        if test(mode):
            return Msg(kind)
    return Msg("file.kind.other")


def existing_store(path: Path, *, allow_empty: bool = False) -> bool:
    """True for a SQLite file that may be a store, False when nothing is there; refuses anything else.

    Reads at most 16 bytes: nothing is written, so a refused file stays byte-identical.
    `allow_empty` accepts a zero-byte file too (a probe target the connection probe just made).
    """
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return False
    except NotADirectoryError:
        raise StoreError(Reason.of("store.parent_not_directory", path=path)) from None
    except OSError as exc:
        raise StoreError(Reason.of("store.cannot_open", path=path, error=exc.strerror)) from None
    kind = _kind(st.st_mode)
    if kind is not None:
        raise StoreError(Reason.of("store.not_a_file", path=path, kind=kind))
    if st.st_size == 0:
        if allow_empty:
            return True
        raise StoreError(Reason.of("store.empty_file", path=path))
    try:
        with open(path, "rb") as fh:
            head = fh.read(len(SQLITE_MAGIC))
    except OSError as exc:
        raise StoreError(Reason.of("store.cannot_read", path=path, error=exc.strerror)) from None
    if head != SQLITE_MAGIC:
        raise StoreError(Reason.of("store.not_sqlite", path=path))
    return True


def read_only_medium(path: Path) -> bool:
    """The store cannot be written here: its mode, its directory's mode, or a read-only mount.

    Mode bits are honoured even for root, who could write anyway: an owner who made the
    store read-only means it.
    """
    folder = path.parent
    try:
        mode, dmode = path.stat().st_mode, folder.stat().st_mode
    except OSError:
        return False
    if (mode & 0o222) == 0 or not os.access(path, os.W_OK):
        return True
    if (dmode & 0o222) == 0 or not os.access(folder, os.W_OK):
        return True
    try:
        return bool(os.statvfs(path).f_flag & os.ST_RDONLY)
    except (OSError, AttributeError):
        return False


def read_only_uri(path: Path) -> str:
    """A read-only URI for SQLite: `mode=ro` when a WAL file holds committed pages, else `immutable=1`.

    `immutable=1` takes no locks and needs no `-shm`/`-wal`, which read-only media cannot
    hold; on such media nobody can be writing. A left-over WAL must be read, so then `mode=ro`.
    """
    uri = "file:" + quote(str(path.absolute()))
    wal = Path(f"{path}-wal")
    with contextlib.suppress(OSError):
        if wal.stat().st_size > 0:
            return uri + "?mode=ro"
    return uri + "?immutable=1"


_STORE_DIRECTORY = Msg("file.store_directory")


def make_private_dirs(folder: Path, what: Msg = _STORE_DIRECTORY) -> None:
    """Create the missing directories of `folder`, each 0700 (mkdir -p would use the umask)."""
    missing: list[Path] = []
    here = folder
    while not here.exists():
        missing.append(here)
        if here.parent == here:
            break
        here = here.parent
    for part in reversed(missing):
        try:
            part.mkdir(mode=0o700)
        except FileExistsError:
            continue
        except OSError as exc:
            raise StoreError(Reason.of("store.cannot_create_in", path=folder, what=what, error=exc.strerror)) from None
    if not folder.is_dir():
        raise StoreError(Reason.of("store.not_a_directory", path=folder, what=what))
