"""Checking the signatures of an audit trail against the roster in force at each event."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import NamedTuple

from ..errors import Reason
from . import NAMESPACE
from .keys import KeyFormatError
from .roster import Roster
from .sshsig import SignatureError, verify

# After the roster, only a refusal may be unsigned (the actor had no key to sign with).
UNSIGNED_KINDS = frozenset({"action.refused"})
UNSIGNED_MODE = "unsigned"  # auth mode of such a refusal; a signed event's is "sshsig"


class SignatureReport(NamedTuple):
    ok: bool
    events: int
    signed: int
    keys: int
    actors: int
    before_roster: int
    unsigned_refusals: int
    first_bad_seq: int | None = None
    reason: str = ""

    def summary(self, lang: str = "en") -> str:
        from ..i18n import t

        if self.signed == 0 and self.before_roster == self.events:
            return t("audit.signatures.demo", lang, n=self.events)
        text = t("audit.signatures.signed", lang, n=self.events, signed=self.signed, keys=self.keys,
                 actors=self.actors, before=self.before_roster)
        if self.unsigned_refusals:
            text += t("audit.signatures.unsigned_refusals", lang, n=self.unsigned_refusals)
        return text


def verify_signatures(rows: Iterable[tuple[int, bytes, str | None]]) -> SignatureReport:
    """Each (seq, body, armored signature or None), in seq order."""
    roster = Roster()
    events = signed = before = unsigned = 0
    keys: set[str] = set()
    actors: set[str] = set()

    def fail(seq: int, reason: str) -> SignatureReport:
        return SignatureReport(False, events, signed, len(keys), len(actors), before, unsigned, seq, reason)

    for seq, body, signature in rows:
        events += 1
        doc = json.loads(body)
        kind, actor, data = doc["kind"], doc["actor"], doc["data"]
        initialising = kind == "roster.init" and not roster.signed
        if not roster.signed and not initialising:
            if signature:
                return fail(seq, Reason.of("signature.before_roster", seq=seq))
            before += 1
            continue
        if not signature:
            if kind in UNSIGNED_KINDS and doc["auth"].get("mode") == UNSIGNED_MODE:
                unsigned += 1
                roster.apply(seq, kind, data)
                continue
            return fail(seq, Reason.of("signature.missing", seq=seq, kind=kind, since=roster.init_seq))
        try:
            key = verify(body, signature, NAMESPACE)
        except SignatureError as exc:
            return fail(seq, Reason.of("signature.bad", seq=seq, problem=Reason.said(exc.reason)))
        except KeyFormatError as exc:
            return fail(seq, Reason.of("signature.damaged", seq=seq, problem=Reason.said(exc.reason)))
        fp = key.fingerprint
        if initialising:
            if data.get("fingerprint") != fp or data.get("actor") != actor:
                return fail(seq, Reason.of("signature.init_key", seq=seq))
        else:
            holder = roster.holder(fp)
            if holder is None:
                return fail(seq, Reason.of("signature.not_in_roster", seq=seq, key=fp))
            if holder.actor != actor:
                return fail(seq, Reason.of("signature.other_actor", seq=seq, key=fp, holder=holder.actor, actor=actor))
            if holder.revoked_seq is not None:
                return fail(seq, Reason.of("signature.revoked", seq=seq, key=fp, revoked=holder.revoked_seq))
        if doc["auth"].get("key") != fp:
            return fail(seq, Reason.of("signature.auth_key", seq=seq, named=doc["auth"].get("key"), key=fp))
        signed += 1
        keys.add(fp)
        actors.add(actor)
        roster.apply(seq, kind, data)
    return SignatureReport(True, events, signed, len(keys), len(actors), before, unsigned)
