"""The `bfg-tui` command. Headless verbs never import Textual.

Exit codes: 0 ok, 1 refused or failed, 2 usage error, 3 `status --exit-code` while
go/no-go is blocked.
"""

from __future__ import annotations

import argparse
import os
import sys
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import __version__
from .i18n import LOCALE_DIR, t

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Iterator

EXIT_OK, EXIT_FAIL, EXIT_USAGE, EXIT_BLOCKED = 0, 1, 2, 3


@contextmanager
def _argparse_speaks(lang: str) -> Iterator[None]:
    """argparse's own words ("usage:", "options:", its errors) in `lang` while this parser works.

    argparse asks gettext for each word, when it says it, through the `_` and `ngettext` of its module
    (the process-wide default domain). The CLI swaps in its Polish catalog of those words for that time
    and puts argparse's back after, rather than setting gettext's process-wide domain and the locale's
    environment variables, which would reach every other library and every process the CLI starts.
    tests/cli/test_parser_polish.py fails loudly if argparse stops saying its words that way.
    """
    if lang == "en":
        yield
        return
    import gettext

    words = gettext.translation("argparse", LOCALE_DIR, [lang], fallback=True)
    names = vars(argparse)  # its module globals: `_` is private, so set here alone and always put back
    saved = {"_": names["_"], "ngettext": names["ngettext"]}
    names.update({"_": words.gettext, "ngettext": words.ngettext})
    try:
        yield
    finally:
        names.update(saved)


class _Parser(argparse.ArgumentParser):
    """Our parser: its help and errors in its language (`--lang`, read before parsing), errors on one line."""

    _printing = False

    def __init__(self, *args: Any, lang: str = "en", **kwargs: Any) -> None:
        self.lang = lang
        with _argparse_speaks(lang):  # the "options" title and -h's help are said as the parser is made
            super().__init__(*args, **kwargs)

    def parse_known_args(self, *args: Any, **kwargs: Any) -> Any:
        with _argparse_speaks(self.lang):
            return super().parse_known_args(*args, **kwargs)

    def parse_args(self, *args: Any, **kwargs: Any) -> Any:  # says "unrecognized arguments" itself
        with _argparse_speaks(self.lang):
            return super().parse_args(*args, **kwargs)

    def _get_formatter(self) -> argparse.HelpFormatter:
        # argparse makes a formatter for every argument it adds, measuring the terminal each
        # time (importing shutil, with bz2 and lzma); only help and usage that are printed need it.
        if self._printing:
            return super()._get_formatter()
        make: Callable[..., argparse.HelpFormatter] = self.formatter_class  # every HelpFormatter takes a width
        return make(prog=self.prog, width=80)

    def format_help(self) -> str:
        self._printing = True
        try:
            with _argparse_speaks(self.lang):
                return super().format_help()
        finally:
            self._printing = False

    def format_usage(self) -> str:
        self._printing = True
        try:
            with _argparse_speaks(self.lang):
                return super().format_usage()
        finally:
            self._printing = False

    def error(self, message: str) -> Any:  # one line, exit 2, no usage dump; argparse quotes what was typed
        from .sanitise import visible

        self.exit(EXIT_USAGE, t("cli.argparse_error", self.lang, prog=self.prog, message=visible(message)) + "\n")


def _expect_head(lang: str, text: str) -> str:
    """COUNT:HASH as a packet prints it (`audit_events`, `audit_head`): both parts, the whole hash."""
    from .i18n import t

    count, sep, head = text.partition(":")
    if not (sep and count.isdigit() and count.isascii() and len(head) == 64
            and all(c in "0123456789abcdef" for c in head)):
        raise argparse.ArgumentTypeError(t("msg.usage.expect_head", lang))
    return text


class _Verbs(dict):  # type: ignore[type-arg]
    """name -> subparser, each built the first time it is chosen: building all of them costs
    a fifth of `bfg-tui status`'s start-up (argparse translates and measures for each one)."""

    def __init__(self) -> None:
        super().__init__()
        self.names: list[str] = []
        self.deferred: dict[str, Callable[[], argparse.ArgumentParser]] = {}

    def __missing__(self, name: str) -> argparse.ArgumentParser:
        return self.deferred.pop(name)()  # KeyError for an unknown name, as argparse expects

    def __contains__(self, name: object) -> bool:
        return name in self.deferred or super().__contains__(name)

    def __iter__(self) -> Any:
        return iter(self.names)


class _LazySubParsers(argparse._SubParsersAction):  # type: ignore[type-arg]
    lang = "en"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._name_parser_map = self.choices = _Verbs()

    def verb(self, name: str, help: str, build: Any = None) -> None:
        """A subcommand listed in --help now, built (`build(parser)`) only when chosen."""
        verbs: _Verbs = self._name_parser_map  # type: ignore[assignment]
        self._choices_actions.append(self._ChoicesPseudoAction(name, (), help))
        verbs.names.append(name)

        def make() -> argparse.ArgumentParser:
            parser: argparse.ArgumentParser = self.add_parser(name, lang=self.lang)
            if build is not None:
                build(parser)
            return parser

        verbs.deferred[name] = make


def _verbs(parser: argparse.ArgumentParser, dest: str, metavar: str, required: bool = False) -> _LazySubParsers:
    verbs: _LazySubParsers = parser.add_subparsers(dest=dest, metavar=metavar, parser_class=_Parser,  # type: ignore[assignment]
                                                   required=required, action=_LazySubParsers)
    verbs.lang = _lang_of(parser)
    return verbs


def _lang_of(parser: argparse.ArgumentParser) -> str:
    return getattr(parser, "lang", "en")


def build_parser(lang: str = "en") -> argparse.ArgumentParser:
    p = _Parser(lang=lang, prog="bfg-tui", description=t("help.description", lang))
    p.add_argument("--version", action="version", version=f"bfg-tui {__version__}", help=t("help.version", lang))
    p.add_argument("--db", help=t("help.db", lang))
    # Its own dest: `roster init --actor` and `ssh-session --actor` name a subject, not who acts.
    p.add_argument("--as", dest="as_actor", help=t("help.as", lang))
    p.add_argument("--lang", choices=("pl", "en"), help=t("help.lang", lang))
    p.add_argument("--key", dest="signing_key", metavar="FILE",
                   help=t("help.key", lang))
    sub = _verbs(p, "command", "COMMAND")
    sub.verb("status", t("help.verb.status", lang), _status_args)
    sub.verb("scenario", t("help.verb.scenario", lang), _scenario_args)
    sub.verb("snapshot", t("help.verb.snapshot", lang), _snapshot_args)
    for verb in ("accept", "revoke"):
        sub.verb(verb, t("help.verb.accept" if verb == "accept" else "help.verb.revoke", lang),
                 lambda a, verb=verb: _sign_args(a, verb))
    sub.verb("probe", t("help.verb.probe", lang), _probe_args)
    sub.verb("export", t("help.verb.export", lang), _export_args)
    sub.verb("audit", t("help.verb.audit", lang), _audit_args)
    sub.verb("plan", t("help.verb.plan", lang), _json_arg)
    sub.verb("init", t("help.verb.init", lang))
    sub.verb("roster", t("help.verb.roster", lang), _roster_args)
    sub.verb("ssh", t("help.verb.ssh", lang), _ssh_args)
    sub.verb("ssh-session", t("help.verb.ssh_session", lang),
             lambda se: se.add_argument("--actor", required=True))
    sub.verb("explain", t("help.verb.explain", lang), _explain_args)
    sub.verb("store", t("help.verb.store", lang), _store_args)
    sub.verb("checks", t("help.verb.checks", lang),
             lambda ch: ch.add_argument("--json", action="store_true"))
    sub.verb("paths", t("help.verb.paths", lang))
    return p


def _status_args(s: argparse.ArgumentParser) -> None:
    s.add_argument("--json", action="store_true", help=t("help.json", _lang_of(s)))
    s.add_argument("--exit-code", action="store_true", help=t("help.exit_code", _lang_of(s)))


def _json_arg(pl: argparse.ArgumentParser) -> None:
    pl.add_argument("--json", action="store_true", help=t("help.json", _lang_of(pl)))


def _scenario_args(sc: argparse.ArgumentParser) -> None:
    verbs = _verbs(sc, "scenario_cmd", "VERB", required=True)

    def save_args(save: argparse.ArgumentParser) -> None:
        group = save.add_mutually_exclusive_group()
        group.add_argument("--from", dest="source", type=Path, help=t("help.from", _lang_of(save)))
        group.add_argument("--scale", type=int, help=t("help.scale", _lang_of(save)))
        save.add_argument("--idempotency-key", help=t("help.idempotency_key", _lang_of(save)))

    verbs.verb("save", t("help.scenario.save", verbs.lang), save_args)


def _snapshot_args(sn: argparse.ArgumentParser) -> None:
    _verbs(sn, "snapshot_cmd", "VERB", required=True).verb(
        "freeze", t("help.snapshot.freeze", _lang_of(sn)))


def _sign_args(a: argparse.ArgumentParser, verb: str) -> None:
    a.add_argument("check", metavar="CHECK", help=t("help.sign.check", _lang_of(a)))
    a.add_argument("--note", default="", help=t("help.sign.note", _lang_of(a)))
    if verb == "accept":
        a.add_argument("--value", help=t("help.sign.value", _lang_of(a)))
    a.add_argument("--idempotency-key", help=t("help.idempotency_key", _lang_of(a)))


def _probe_args(pr: argparse.ArgumentParser) -> None:
    verbs = _verbs(pr, "probe_cmd", "PROBE", required=True)
    for name in ("connection", "dry-run"):
        def target_args(q: argparse.ArgumentParser, name: str = name) -> None:
            q.add_argument("target", metavar="TARGET", help=t("help.probe.target", _lang_of(q)))
            if name == "connection":
                q.add_argument("--new-target", action="store_true",
                               help=t("help.probe.new_target", _lang_of(q)))

        verbs.verb(name, t("help.probe.run", verbs.lang, name=name), target_args)


def _export_args(e: argparse.ArgumentParser) -> None:
    from .catalog import default_catalog  # built only when `export` is chosen, which reads the catalog anyway

    e.add_argument("packet", metavar="PACKET", help=", ".join(p.id.replace("_", "-") for p in default_catalog().packets))
    e.add_argument("--format", choices=("text", "json", "md"), default="text")
    e.add_argument("-o", "--output", metavar="FILE", help=t("help.export.output", _lang_of(e)))
    e.add_argument("--force", action="store_true", help=t("help.export.force", _lang_of(e)))


def _audit_args(au: argparse.ArgumentParser) -> None:
    verbs = _verbs(au, "audit_cmd", "VERB", required=True)

    def list_args(al: argparse.ArgumentParser) -> None:
        al.add_argument("--json", action="store_true")
        al.add_argument("--limit", type=partial(_limit, _lang_of(al)), default=50, help=t("help.audit.limit", _lang_of(al)))
        al.add_argument("--filter", default="", help=t("help.audit.filter", _lang_of(al)))

    def verify_args(av: argparse.ArgumentParser) -> None:
        av.add_argument("--expect-head", metavar="COUNT:HASH", type=partial(_expect_head, _lang_of(av)),
                        help=t("help.audit.expect_head", _lang_of(av)))

    verbs.verb("list", t("help.audit.list", verbs.lang), list_args)
    verbs.verb("verify", t("help.audit.verify", verbs.lang), verify_args)


def _roster_args(ro: argparse.ArgumentParser) -> None:
    verbs = _verbs(ro, "roster_cmd", "VERB", required=True)

    def init_args(ri: argparse.ArgumentParser) -> None:
        ri.add_argument("--actor", required=True, help=t("help.roster.actor", _lang_of(ri)))
        ri.add_argument("--key", dest="pubkey", required=True, metavar="PUBKEY_FILE", help=t("help.roster.key", _lang_of(ri)))

    def add_args(ra: argparse.ArgumentParser) -> None:
        ra.add_argument("target", metavar="ACTOR")
        ra.add_argument("pubkey", metavar="PUBKEY_FILE")

    def revoke_args(rr: argparse.ArgumentParser) -> None:
        rr.add_argument("target", metavar="ACTOR")
        rr.add_argument("fingerprint", metavar="FINGERPRINT", nargs="?")

    verbs.verb("init", t("help.roster.init", verbs.lang), init_args)
    verbs.verb("add", t("help.roster.add", verbs.lang), add_args)
    verbs.verb("revoke", t("help.roster.revoke", verbs.lang), revoke_args)
    verbs.verb("list", t("help.roster.list", verbs.lang), lambda rl: rl.add_argument("--json", action="store_true"))
    verbs.verb("export", t("help.roster.export", verbs.lang))


def _ssh_args(ss: argparse.ArgumentParser) -> None:
    _verbs(ss, "ssh_cmd", "VERB", required=True).verb(
        "authorized-keys", t("help.ssh.authorized_keys", _lang_of(ss)),
        lambda ak: ak.add_argument("--bfg-tui", dest="bfg_tui", metavar="PATH",
                                   help=t("help.ssh.bfg_tui", _lang_of(ak))))


def _explain_args(ex: argparse.ArgumentParser) -> None:
    ex.add_argument("check", metavar="CHECK", help=t("help.explain.check", _lang_of(ex)))
    ex.add_argument("--json", action="store_true")


def _store_args(st: argparse.ArgumentParser) -> None:
    verbs = _verbs(st, "store_cmd", "VERB", required=True)

    def add_login_args(sa: argparse.ArgumentParser) -> None:
        sa.add_argument("actor_id", metavar="ACTOR", help=t("help.login.actor", _lang_of(sa)))
        sa.add_argument("login", metavar="LOGIN", help=t("help.login.role", _lang_of(sa)))
        sa.add_argument("--tenant", help=t("help.login.tenant", _lang_of(sa)))

    verbs.verb("install", t("help.admin.install", verbs.lang))
    verbs.verb("add-login", t("help.admin.add_login", verbs.lang), add_login_args)
    verbs.verb("logins", t("help.admin.logins", verbs.lang))


def _limit(lang: str, text: str) -> int:
    from .i18n import t

    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(t("msg.usage.limit_number", lang, value=repr(text[:20]))) from None
    if not 1 <= value <= 100_000:
        raise argparse.ArgumentTypeError(t("msg.usage.limit_range", lang))
    return value


def _env_actor(args: argparse.Namespace) -> str | None:
    """Who acts: `--as` or BFG_ACTOR. An empty `--as`, or one that contradicts BFG_ACTOR, is a usage error."""
    env = os.environ.get("BFG_ACTOR") or None
    given: str | None = args.as_actor
    if given is None:
        return env
    if not given.strip():
        raise _usage("usage.as_empty")
    if env is not None and env != given:
        raise _usage("usage.as_contradicts", given=given, env=env)
    return given


def _print(text: str) -> None:
    # Every line we print went through the sanitiser: nothing stored reaches the terminal raw.
    from .sanitise import visible_lines

    text = visible_lines(text)
    sys.stdout.write(text if text.endswith("\n") else text + "\n")


def _write(document: str) -> None:
    """A file's content on stdout as it is, except a control character (a key comment is free text)."""
    from .sanitise import visible_lines

    sys.stdout.write(visible_lines(document))


def _err(line: str) -> None:
    """One line on stderr, control characters made visible."""
    from .sanitise import visible

    sys.stderr.write(f"bfg-tui: {visible(line)}\n")


# Only these make a store where there is none (and the console); the read verbs never do.
WRITE_VERBS = frozenset({"init", "scenario", "snapshot", "accept", "revoke", "probe"})
ROSTER_WRITES = frozenset({"init", "add", "revoke"})


def _creates(args: argparse.Namespace) -> bool:
    if args.command == "roster":
        return getattr(args, "roster_cmd", "") in ROSTER_WRITES
    return args.command in WRITE_VERBS


async def _run(args: argparse.Namespace) -> int:
    from .identity.gate import Identity
    from .service import Console, store_exists

    identity = Identity(args.signing_key)  # who and from where, read once for the whole command
    fresh = args.command == "init" and not store_exists(args.db)
    console = await Console.open(args.db, identity=identity, create=_creates(args))
    try:
        if args.command == "init":
            where = console.store_path or args.db
            _print(_t("cli.init_created" if fresh else "cli.init_exists", args, where=where))
            return EXIT_OK
        return await _dispatch(console, args)
    finally:
        await console.close()


async def _dispatch(console: Any, args: argparse.Namespace) -> int:
    actor = _env_actor(args)
    cmd = args.command
    if cmd == "status":
        return await _guarded_status(_status(console, args), args)
    if cmd == "scenario":
        out = await console.save_scenario(actor, source_file=args.source, scale=args.scale, idem=args.idempotency_key)
    elif cmd == "snapshot":
        out = await console.freeze(actor)
    elif cmd == "accept":
        out = await console.accept(actor, args.check, note=args.note, value=args.value, idem=args.idempotency_key)
    elif cmd == "revoke":
        out = await console.revoke(actor, args.check, note=args.note, idem=args.idempotency_key)
    elif cmd == "probe":
        return await _probe(console, actor, args)
    elif cmd == "export":
        return await _export(console, actor, args)
    elif cmd == "audit":
        return await _audit(console, args)
    elif cmd == "checks":
        return await _checks(console, args)
    elif cmd == "plan":
        return await _plan(console, args)
    elif cmd == "roster":
        return await _roster(console, actor, args)
    elif cmd == "ssh":
        return await _ssh(console, args)
    elif cmd == "explain":
        return await _explain(console, args)
    else:  # pragma: no cover - argparse restricts the choices
        raise SystemExit(EXIT_USAGE)
    _print(_outcome(out, args))
    return EXIT_OK


def _status_fast(args: argparse.Namespace) -> int | None:
    """`status` on an existing SQLite store without asyncio (start-up budget)."""
    from .errors import StateMismatch
    from .service import read_status_now
    from .startup import freeze_at_exit

    freeze_at_exit()
    try:
        status = read_status_now(args.db, args.lang or "en")
    except StateMismatch as exc:
        return _status_refused(exc, args)
    if status is None:
        return None  # PostgreSQL, or a new store: the full path opens (or creates and seeds) it
    return _status_print(status, args)


def _status_refused(exc: BaseException, args: argparse.Namespace) -> int:
    """No decision from a state the trail does not back: one line, or a JSON error object."""
    import json

    if args.json:  # the document's message is English, as every field of it
        _print(json.dumps({"error": {"code": "state_mismatch", "message": str(exc)}}))
    else:
        _err(_said(exc, args))
    return EXIT_FAIL


async def _guarded_status(run: Awaitable[int], args: argparse.Namespace) -> int:
    from .errors import StateMismatch

    try:
        return await run
    except StateMismatch as exc:
        return _status_refused(exc, args)


async def _status(console: Any, args: argparse.Namespace) -> int:
    return _status_print(await console.status(args.lang or "en"), args)


def _status_print(status: Any, args: argparse.Namespace) -> int:
    from .sanitise import dumps

    if args.json:
        _print(dumps(status.document))
    else:
        _print(_status_text(status.document, args.lang or "en"))
    return EXIT_BLOCKED if args.exit_code and status.blocked else EXIT_OK


def _status_text(doc: dict[str, Any], lang: str = "en") -> str:
    from .i18n import t

    identity = t("cli.status.signed" if doc["identity"] == "signed" else "cli.status.demo", lang)
    lines = [t("cli.status.go_no_go", lang, decision=doc["decisions"]["go_no_go"]),
             t("cli.status.identity", lang, identity=identity)]
    action = doc["recommended_action"]
    lines.append(t("cli.status.next", lang, title=action["title"], detail=action["detail"]))
    snap = doc["snapshot"]
    checksum = snap["checksum"] or t("cli.status.not_frozen", lang)
    lines.append(t("cli.status.snapshot", lang, n=snap["rows"], checksum=checksum))
    lines.append("")
    for gid, g in doc["groups"].items():
        lines.append(f"  {gid:<20} {g['ready']}/{g['total']}")
    lines.append("")
    for did, value in doc["decisions"].items():
        lines.append(f"  {did:<20} {value}")
    if doc["stale"]:
        lines.append("")
        lines.append(t("cli.status.stale", lang, checks=", ".join(doc["stale"])))
    return "\n".join(lines)


async def _probe(console: Any, actor: str | None, args: argparse.Namespace) -> int:
    run = await console.probe(actor, args.probe_cmd, args.target, log=_print,
                              new_target=bool(getattr(args, "new_target", False)))
    if run.passed:
        _print(_t("cli.probe_passed", args, probe=run.probe.replace("_", "-"), n=len(run.steps),
                  endpoint=run.endpoint))
        return EXIT_OK
    failed = next(s for s in run.steps if not s.passed)
    _err(_t("cli.probe_failed", args, check=failed.check_id, detail=failed.detail))  # the detail is evidence: as stored
    return EXIT_FAIL


async def _export(console: Any, actor: str | None, args: argparse.Namespace) -> int:
    from .safe_write import check_target, write_file, write_stdout

    output: str | None = args.output
    if output is None or output == "-":
        await console.export(actor, args.packet, args.format, "stdout", write=write_stdout)
        return EXIT_OK
    if not output:
        raise _usage("usage.output_empty")
    target = Path(output)
    if output.endswith(os.sep):
        raise _usage("usage.output_directory", output=output)
    check_target(target, force=args.force)  # refuse before rendering; the write checks again
    out = await console.export(actor, args.packet, args.format, f"file:{target.name}",
                               write=lambda text: write_file(target, text.encode("utf-8"), force=args.force))
    _print(_t("cli.exported", args, packet=out.data["packet"], format=args.format, target=target))
    return EXIT_OK


def _usage(code: str, /, **params: object) -> BaseException:
    """A usage error: the message `msg.<code>`, exit 2."""
    from .errors import BfgError, Reason

    err = BfgError(Reason.of(code, **params))
    err.exit_code = EXIT_USAGE
    return err


def _t(key: str, args: argparse.Namespace, /, **params: object) -> str:
    """The CLI's own line `key` in the command's language."""
    from .i18n import t

    return t(key, args.lang or "en", **params)


def _said(exc: BaseException, args: argparse.Namespace | None) -> str:
    """An error's reason in the command's language (its message id's), never with a secret in it."""
    from .i18n import message_text

    reason = getattr(exc, "reason", str(exc))
    return _safe(message_text(reason, (args.lang if args is not None else None) or "en"))


def _outcome(out: Any, args: argparse.Namespace) -> str:
    from .i18n import message_text

    return message_text(out.message, args.lang or "en", out.code, out.params or {})


async def _audit(console: Any, args: argparse.Namespace) -> int:
    from .i18n import message_text
    from .sanitise import dumps, visible

    if args.audit_cmd == "verify":
        result = await console.verify_audit()
        signatures = await console.verify_signatures() if result.ok else None
        if signatures is not None and not signatures.ok:
            _err(_t("cli.audit.signature_failed", args, seq=signatures.first_bad_seq,
                    reason=message_text(signatures.reason, args.lang or "en")))
            return EXIT_FAIL
        chain_holds = result.ok or result.first_bad_seq is None  # a state fault leaves the chain's head good
        if chain_holds and args.expect_head:
            count, _, head = args.expect_head.partition(":")
            if str(result.count) != count or result.head != head:
                _err(_t("cli.audit.head_differs", args, expected=args.expect_head, count=result.count,
                        head=result.head))
                return EXIT_FAIL
        if result.ok:
            _print(_t("cli.audit.ok", args, n=result.count, head=result.head))
            if signatures is not None:
                _print(signatures.summary(args.lang or "en"))
            return EXIT_OK
        reason = message_text(result.reason, args.lang or "en")
        if result.first_bad_seq is None:  # the chain holds; the state tables are not its replay
            _err(reason)
            return EXIT_FAIL
        _err(_t("cli.audit.broken", args, seq=result.first_bad_seq, reason=reason))
        return EXIT_FAIL
    events = await console.audit_page(limit=max(1, args.limit), text=args.filter)
    if args.json:
        docs = []
        for e in events:
            doc = {"seq": e.seq, "at": e.at, "kind": e.kind, "actor": e.actor, "data": e.data, "auth": e.auth,
                   "hash": e.hash}
            if e.signature:
                # Enough to check the event with OpenSSH alone (ssh-keygen -Y verify).
                doc.update(signature=e.signature, signed_message=e.body)
            docs.append(doc)
        _print(dumps(docs))
    else:
        for e in events:
            subject = e.data.get("check") or e.data.get("packet") or e.data.get("probe") or e.data.get("subject") or ""
            # Each field on its one line: a stored newline must not forge an event.
            _print(f"{e.seq:>6}  {visible(str(e.at))}  {visible(str(e.actor)):<22} {visible(str(e.kind)):<20} "
                   f"{visible(str(subject))}")
    return EXIT_OK


async def _roster(console: Any, actor: str | None, args: argparse.Namespace) -> int:
    import json

    verb = args.roster_cmd
    if verb == "init":
        out = await console.roster_init(args.actor, args.pubkey)
    elif verb == "add":
        out = await console.roster_add(actor, args.target, args.pubkey)
    elif verb == "revoke":
        out = await console.roster_revoke(actor, args.target, args.fingerprint)
    else:
        roster = await console.roster()
        if verb == "export":
            _write(roster.allowed_signers())
            return EXIT_OK
        rows = [{"actor": rk.actor, "fingerprint": rk.fingerprint, "type": rk.key.key_type, "comment": rk.key.comment,
                 "added_seq": rk.added_seq, "revoked_seq": rk.revoked_seq} for rk in roster.keys.values()]
        if args.json:
            _print(json.dumps({"identity": "signed" if roster.signed else "demo", "keys": rows}))
        elif not rows:
            _print(_t("cli.roster.none", args))
        else:
            for r in rows:
                state = (_t("cli.roster.revoked", args, seq=r["revoked_seq"]) if r["revoked_seq"]
                         else _t("cli.roster.active", args))
                added = _t("cli.roster.added", args, seq=r["added_seq"], state=state)
                _print(f"{r['actor']:<24} {r['fingerprint']}  {r['type']:<20} {added}")
        return EXIT_OK
    _print(_outcome(out, args))
    return EXIT_OK


async def _ssh(console: Any, args: argparse.Namespace) -> int:
    roster = await console.roster()
    if not roster.signed:
        from .errors import BfgError, Reason

        raise BfgError(Reason.of("roster.none_for_ssh"))
    location = args.db or os.environ.get("BFG_TUI_DB") or ""
    if not location:
        from .paths import default_db

        location = default_db()
    if "://" not in location:
        location = str(Path(location).resolve())
    bfg_tui = args.bfg_tui or str(Path(sys.argv[0]).resolve())
    _write(roster.authorized_keys(bfg_tui, location))
    return EXIT_OK


async def _checks(console: Any, args: argparse.Namespace) -> int:
    import json

    from .figures import value
    from .i18n import render
    from .sanitise import visible

    state, ev = await console.evaluate()
    rows = []
    for check in console.catalog.checks.values():
        status = ev.checks[check.id]
        rows.append({"id": check.id, "kind": check.kind, "group": check.group, "owner": check.owner,
                     "ready": status.ready, "stale": status.stale, "reason": render(status.reason, args.lang or "en"),
                     "value": value(console.catalog, state, ev, check.id)})
    if args.json:
        _print(json.dumps(rows, ensure_ascii=False))
    else:
        for r in rows:
            mark = "STALE" if r["stale"] else ("ok" if r["ready"] else "--")
            figure = f"[{r['value']}] " if r["value"] else ""
            # A reason may quote stored text (an endpoint): one line per check whatever it holds.
            _print(f"{mark:<6} {r['id']:<38} {r['kind']:<8} {r['owner'] or '':<22} {visible(figure + r['reason'])}")
    return EXIT_OK


async def _plan(console: Any, args: argparse.Namespace) -> int:
    import json

    from .plan import make_plan, plan_text

    state, ev = await console.evaluate()
    plan = make_plan(console.catalog, state, ev)
    if args.json:
        _print(json.dumps(plan.as_json(), ensure_ascii=False))
    else:
        _print(plan_text(console.catalog, plan, ev, args.lang or "en"))
    return EXIT_OK


async def _explain(console: Any, args: argparse.Namespace) -> int:
    import json

    from .figures import tree, tree_lines

    if args.check not in console.catalog.checks:
        raise _usage("usage.unknown_check", check=args.check)
    lang = args.lang or "en"
    state, ev = await console.evaluate()
    nodes = tree(console.catalog, state, ev, args.check, lang)
    if args.json:
        _print(json.dumps([n._asdict() for n in nodes], ensure_ascii=False))
    else:
        _print("\n".join(tree_lines(nodes, lang)))
    return EXIT_OK


async def _store_admin(args: argparse.Namespace) -> int:
    """`store install | add-login | logins`: on the shared store only, without opening it as an owner."""
    from .paths import default_db
    from .targets import is_postgres

    location = args.db or default_db()
    if not is_postgres(location):
        raise _usage("usage.store_needs_postgres", verb=args.store_cmd)
    from . import service

    if args.store_cmd == "install":
        schema, before, after = await service.install_store(location)
        key = "cli.schema.current" if before == after else "cli.schema.installed" if before == 0 else "cli.schema.upgraded"
        _print(_t(key, args, schema=schema, before=before, after=after))
        return EXIT_OK
    if args.store_cmd == "add-login":
        from .catalog import default_catalog

        catalog = default_catalog()
        if catalog.actor(args.actor_id) is None:
            raise _usage("usage.unknown_actor", actor=repr(args.actor_id[:64]),
                         actors=", ".join(a.id for a in catalog.actors))
        result = await service.add_login(location, args.actor_id, args.login, args.tenant or catalog.tenant_id)
        m = result.mapping
        if result.replaced is not None:
            _print(_t("cli.login.replaced", args, login=m.login, actor=result.replaced.actor,
                      tenant=result.replaced.tenant))
        _print(_t("cli.login.mapped", args, login=m.login, actor=m.actor, tenant=m.tenant))
        if result.dba_sql:
            key = "cli.login.dba_grant" if m.role_exists else "cli.login.dba_create"
            _print(_t(key, args, login=m.login, sql=result.dba_sql))
        return EXIT_OK
    rows = await service.list_logins(location)
    if not rows:
        _print(_t("cli.login.none", args))
    for r in rows:
        state = _t("cli.login.ok" if r.app_member else "cli.login.not_app" if r.role_exists else "cli.login.no_role", args)
        _print(f"{r.login:<24} {r.tenant:<12} {r.actor:<24} {state}")
    return EXIT_OK


def _safe(message: str) -> str:
    """Never let a secret through an error message."""
    from .secrets import scrub

    return scrub(message, limit=None)


def _location_problem(args: argparse.Namespace) -> str | None:
    """A --db that is no location at all: a usage error (its message id), before anything is opened."""
    from .targets import is_libpq_keyvalue

    if args.db is None:
        return None
    if not args.db.strip():
        return "usage.db_empty"
    if is_libpq_keyvalue(args.db):
        return "store.keyvalue_refused"
    return None


def _shown_store(location: str, lang: str) -> str:
    from .i18n import t
    from .targets import is_libpq_keyvalue, is_postgres

    if is_libpq_keyvalue(location):
        return t("cli.paths.keyvalue_hidden", lang)
    if is_postgres(location):
        from .targets import redact_endpoint

        try:
            return redact_endpoint(location)
        except ValueError:
            return t("cli.paths.invalid_hidden", lang)
    return location


def _not_utf8(argv: list[str], lang: str) -> str | None:
    """Arguments are text: bytes that are not UTF-8 (surrogate-escaped by Python) are a usage error."""
    from .i18n import t

    for n, arg in enumerate(argv, 1):
        try:
            arg.encode("utf-8")
        except UnicodeEncodeError:
            return t("msg.usage.argument_not_utf8", lang, n=n)
    for name in ("BFG_ACTOR", "BFG_TUI_DB"):
        try:
            os.environ.get(name, "").encode("utf-8")
        except UnicodeEncodeError:
            return t("msg.usage.variable_not_utf8", lang, name=name)
    return None


def _argv_lang(argv: list[str]) -> str:
    """`--lang` as typed (the last one, as argparse takes it), read before the arguments are parsed: the help
    and every usage error are said in it too, wherever it stands."""
    lang = "en"
    for n, arg in enumerate(argv):
        value = argv[n + 1:n + 2] if arg == "--lang" else [arg[len("--lang="):]] if arg.startswith("--lang=") else []
        if value and value[0] in ("pl", "en"):
            lang = value[0]
    return lang


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    problem = _not_utf8(argv, _argv_lang(argv))
    if problem:
        from .i18n import t

        sys.stderr.write("bfg-tui: " + t("cli.usage_error", _argv_lang(argv), problem=problem) + "\n")
        return EXIT_USAGE
    args = build_parser(_argv_lang(argv)).parse_args(argv)
    problem = _location_problem(args)
    if problem and args.command != "paths":
        _err(_t("cli.usage_error", args, problem=_t(f"msg.{problem}", args)))
        return EXIT_USAGE
    if args.command == "paths":
        from .paths import config_dir, default_db

        _print(_t("cli.paths", args, store=_shown_store(args.db or default_db(), args.lang or "en"),
                  config=config_dir()))
        return EXIT_OK
    from .errors import BfgError

    try:
        if args.command == "ssh-session":  # sshd's forced command: the actor is the key's, never --as
            return _ssh_session(args)
        actor = _env_actor(args)  # a contradictory or empty identity stops every verb, the console too
        if args.command is None:
            return _open_console(args, actor)
        if args.command == "status":
            fast = _status_fast(args)
            if fast is not None:
                return fast
        import asyncio

        if args.command == "store":
            return asyncio.run(_store_admin(args))

        return asyncio.run(_run(args))
    except BfgError as exc:
        _err(_said(exc, args))
        return exc.exit_code
    except KeyboardInterrupt:
        _err(_t("cli.interrupted", args))
        return 130
    except BrokenPipeError:  # `bfg-tui audit | head`: the reader left; say so once, not at exit again
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        _err(_t("cli.broken_pipe", args))
        return EXIT_FAIL
    except Exception as exc:  # last line of defence: a one-line reason, never a traceback
        _err(_t("cli.unexpected", args, kind=type(exc).__name__, error=_safe(str(exc))))
        return EXIT_FAIL


# What a roster key may run over SSH (sshd's forced command hands the rest to us).
SSH_VERBS = ("status", "checks", "plan", "accept", "revoke", "probe", "export", "audit")
_SSH_FORBIDDEN = ("--as", "--db", "--key", "-o", "--output", "--force")


def _ssh_session(args: argparse.Namespace) -> int:
    """sshd's forced command for one roster key: the console bound to ACTOR, or one allowed verb.

    The client's command (SSH_ORIGINAL_COMMAND) is split with shlex and parsed here, never
    run through a shell; it may not choose the actor, the store or a key file.
    """
    import shlex

    command = os.environ.get("SSH_ORIGINAL_COMMAND", "").strip()
    if not command:
        if not sys.stdin.isatty():
            _err(_t("cli.ssh.needs_terminal", args))
            return EXIT_USAGE
        return _open_console(args, bound=True)
    try:
        words = shlex.split(command)
    except ValueError as exc:
        _err(_t("cli.ssh.unparsable", args, error=exc))
        return EXIT_USAGE
    for word in words:
        if word.split("=", 1)[0] in _SSH_FORBIDDEN:
            _err(_t("cli.ssh.option_refused", args, option=word.split("=", 1)[0], actor=args.actor))
            return EXIT_USAGE
    if words[0] not in SSH_VERBS or (words[0] == "audit" and words[1:2] not in (["list"], ["verify"])):
        _err(_t("cli.ssh.verb_refused", args, verb=words[0][:40], verbs=", ".join(SSH_VERBS)))
        return EXIT_USAGE
    argv = ["--as", args.actor, *words]
    if args.db:
        argv = ["--db", args.db, *argv]
    if args.lang:
        argv = ["--lang", args.lang, *argv]
    return main(argv)


def _open_console(args: argparse.Namespace, actor: str | None = None, bound: bool = False) -> int:
    from .startup import pause_gc

    pause_gc()  # until the first frame (BfgApp.first_frame), Textual's imports included
    from .app import run_app

    if bound:
        return run_app(db=args.db, actor=args.actor, lang=args.lang, bound=True)
    return run_app(db=args.db, actor=actor, lang=args.lang)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
