"""Who may do what: the answers and reasons RBAC gives, in English and in the console's Polish."""

from __future__ import annotations

import pytest

from bfg_tui.i18n import message_text
from bfg_tui.models import Catalog
from bfg_tui.rbac import Grant, may_sign

ANNA, MAREK, OLENA = "user_md_anna", "user_dispatcher_marek", "user_accountant_olena"


def test_the_owner_signs_without_countersigning_and_the_director_countersigns(catalog: Catalog) -> None:
    assert may_sign(catalog, catalog.actor(OLENA), "transition.db_schema") == Grant(countersign=False)
    assert may_sign(catalog, catalog.actor(ANNA), "transition.db_schema") == Grant(countersign=True)


@pytest.mark.parametrize(("verb", "polish"), [
    ("accept", "właścicielem transition.db_schema jest user_accountant_olena; user_dispatcher_marek nie może jej "
               "zaakceptować"),
    ("revoke", "właścicielem transition.db_schema jest user_accountant_olena; user_dispatcher_marek nie może cofnąć jej "
               "akceptacji"),
])
def test_a_refusal_for_someone_elses_check_names_its_owner_in_both_languages(
        catalog: Catalog, verb: str, polish: str) -> None:
    reason = may_sign(catalog, catalog.actor(MAREK), "transition.db_schema", verb)
    assert reason == (f"transition.db_schema is owned by user_accountant_olena; user_dispatcher_marek may not "
                      f"{verb} it")
    assert message_text(reason, "pl") == polish


@pytest.mark.parametrize(("verb", "english", "polish"), [
    ("accept", "release.env_vars is derived from other checks and evidence; it cannot be accepted by hand",
     "release.env_vars jest wyliczana z innych kontroli i dowodów; nie można jej zaakceptować ręcznie"),
    ("revoke", "release.env_vars is derived from other checks and evidence; it cannot be revoked by hand",
     "release.env_vars jest wyliczana z innych kontroli i dowodów; nie można cofnąć jej akceptacji ręcznie"),
])
def test_a_derived_check_refuses_both_verbs_in_proper_words(
        catalog: Catalog, verb: str, english: str, polish: str) -> None:
    reason = may_sign(catalog, catalog.actor(ANNA), "release.env_vars", verb)
    assert (reason, message_text(reason, "pl")) == (english, polish)
