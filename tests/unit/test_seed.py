"""The seed fixture is a public interface: exact format, clear refusals."""
import copy
import json

import pytest

from layers_shared import admin, seed
from tests.support import FIXTURE


def test_the_default_fixture_parses():
    fixture = seed.parse(copy.deepcopy(FIXTURE))
    assert len(fixture.apiKeys) == len(FIXTURE["apiKeys"])


@pytest.mark.parametrize("mutate,expected", [
    (lambda f: f["socialAccounts"][2].update(platform="myspace"), "socialAccounts[2].platform"),
    (lambda f: f["apiKeys"][0].update(key="lp_test_short_x"), "apiKeys[0].key"),
    (lambda f: f["containers"][0].update(projectId="prj_00000000-0000-4000-8000-000000000000"), "containers[0].projectId"),
    (lambda f: f.update(surprise=[]), "surprise"),
    (lambda f: f["socialAccounts"][0]["sandbox"].update(outcome="maybe"), "socialAccounts[0].sandbox.outcome"),
    (lambda f: f["users"].append(dict(f["users"][0])), "users[4].id"),
])
def test_bad_entries_are_named(mutate, expected):
    data = copy.deepcopy(FIXTURE)
    mutate(data)
    with pytest.raises(seed.SeedError) as err:
        seed.parse(data)
    assert expected in str(err.value)


# The loader on a moto table: tests/integration/test_seed_loader.py


def test_admin_check_command(tmp_path, capsys):
    good = tmp_path / "good.json"
    good.write_text(json.dumps(FIXTURE))
    assert admin.main(["check", str(good)]) == 0
    bad = tmp_path / "bad.json"
    bad.write_text("{")
    assert admin.main(["check", str(bad)]) == 2
