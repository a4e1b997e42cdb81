"""The seed loader on a moto table (moved from tests/unit/test_seed.py, unchanged):
API keys are stored as hashes, tokens go to the vault."""
import copy
import json

from layers_shared import seed
from tests.support import FIXTURE


def test_loader_stores_hashes_not_keys(tmp_path, monkeypatch):
    from moto import mock_aws

    from layers_shared import aws
    from layers_shared.secrets.vault import InMemoryTokenVault
    from layers_shared.store.table import Table
    from local.aws_world import create_table

    with mock_aws():
        aws.reset()
        create_table("seed-test")
        table = Table("seed-test")
        vault = InMemoryTokenVault()
        counts = seed.load(seed.parse(copy.deepcopy(FIXTURE)), table, vault)
        assert counts["apiKeys"] == len(FIXTURE["apiKeys"])
        dump = json.dumps(aws.client("dynamodb").scan(TableName="seed-test")["Items"])
        for entry in FIXTURE["apiKeys"]:
            secret = entry["key"].split("_", 3)[3]
            assert secret not in dump and entry["key"] not in dump
        assert "act.local-example" not in dump  # tokens go to the vault, not the table
        assert vault.get(FIXTURE["socialAccounts"][0]["id"]).access_token == "act.local-example"
    aws.reset()
