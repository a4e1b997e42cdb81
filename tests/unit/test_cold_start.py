"""Cold start (issue 10, docs/adr/0006-cold-start.md): an API function's import
and its first 401 build no pydantic model, and auth's plain decoding of the key
item accepts and refuses what the stored entity model does."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from layers_shared import auth
from layers_shared.models.entities import ApiKey

ROOT = Path(__file__).resolve().parents[2]
WORKERS = {"publisher", "webhook_delivery", "webhook_fanout"}

GOOD = {"PK": "KEY#K", "SK": "KEY#K", "type": "KEY", "keyId": "K", "env": "test", "secretHash": "h",
        "organizationId": "org_1", "scopes": ["publish:read"], "revoked": False}


@pytest.mark.parametrize("item", [
    GOOD,
    {**GOOD, "ownerUserId": "usr_1", "scopes": ["*"], "revoked": True, "env": "live"},
    {k: v for k, v in GOOD.items() if k not in ("scopes", "revoked")},
    {**GOOD, "ownerUserId": None, "tier": "partner", "organizationName": "Acme"},
])
def test_the_key_item_decodes_as_the_entity_model_does(item):
    model, plain = ApiKey.model_validate(item), auth.StoredKey.from_item(item)
    assert (plain.keyId, plain.env, plain.secretHash, plain.organizationId, plain.ownerUserId, list(plain.scopes),
            plain.revoked) == (model.keyId, model.env, model.secretHash, model.organizationId, model.ownerUserId,
                               model.scopes, model.revoked)


@pytest.mark.parametrize("item", [
    {k: v for k, v in GOOD.items() if k != "secretHash"},
    {**GOOD, "env": "prod"},
    {**GOOD, "scopes": None},
    {**GOOD, "scopes": [1]},
    {**GOOD, "revoked": None},
    {**GOOD, "ownerUserId": 7},
    {**GOOD, "organizationId": None},
])
def test_a_malformed_key_item_is_refused_as_the_entity_model_refuses_it(item):
    with pytest.raises(ValueError):
        ApiKey.model_validate(item)  # pydantic's ValidationError is a ValueError: a 500 either way
    with pytest.raises(ValueError):
        auth.StoredKey.from_item(item)


def test_no_item_is_no_key():
    assert auth.StoredKey.from_item(None) is None


_PROBE = """
import importlib.util, json, sys
from layers_shared.store import table
reads = []
table.Table.get = lambda self, key, consistent=False: reads.append(key)  # an unknown key, without boto3
answers = {}
for name in sys.argv[1:]:
    spec = importlib.util.spec_from_file_location("cold_" + name, f"functions/{name}/app.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    e = module.endpoint
    event = {"httpMethod": e.method, "path": e.path, "headers": {
             "Authorization": "Bearer lp_test_UNKNOWNKEY000001_x", "Idempotency-Key": "k"}, "body": "{}"}
    answers[name] = module.handler(event, None)["statusCode"]
# (powertools imports the bare botocore package, which the floor has too; botocore.client is the cost)
heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("pydantic", "pydantic_core", "boto3")
               or m.startswith(("botocore.", "layers_shared.models", "layers_shared.services", "layers_shared.webhooks")))
print(json.dumps({"answers": answers, "heavy": heavy, "reads": len(reads)}))
"""


def test_an_api_function_imports_and_answers_401_without_pydantic_or_its_use_case():
    from local.publisher_loop import standalone_environment

    names = sorted(p.parent.name for p in (ROOT / "functions").glob("*/app.py") if p.parent.name not in WORKERS)
    env = {**os.environ, **standalone_environment(), "PYTHONPATH": str(ROOT),
           "WEBHOOK_KMS_KEY_ID": "alias/cold-start-test", "WEBHOOK_QUEUE_URL": "https://sqs.example/q"}
    out = subprocess.run([sys.executable, "-c", _PROBE, *names], cwd=ROOT, env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-3000:]
    found = json.loads(out.stdout.strip().splitlines()[-1])
    assert found["answers"] == {n: 401 for n in names}
    assert found["reads"] == len(names)  # each looked the key up: the 401 came from auth's read
    assert found["heavy"] == []
