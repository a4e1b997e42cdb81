"""Run by the SAM CLI's own Python (.venv-sam): prints, per function of
template.yaml, the environment `sam local start-api --env-vars FILE` gives its
container, computed by SAM's own code (everything but starting Docker).

    .venv-sam/bin/python tests/e2e/sam_local_env.py template.yaml local/sam-env.json
"""
import json
import sys

from samcli.commands.local.lib.local_lambda import LocalLambdaRunner
from samcli.lib.providers.sam_function_provider import SamFunctionProvider
from samcli.lib.providers.sam_stack_provider import SamLocalStackProvider


def main(template: str, env_file: str) -> None:
    with open(env_file, encoding="utf-8") as handle:
        overrides = json.load(handle)
    stacks, _ = SamLocalStackProvider.get_stacks(template)
    provider = SamFunctionProvider(stacks)
    runner = LocalLambdaRunner(local_runtime=None, function_provider=provider, cwd=".", real_path=".",
                               aws_region="us-east-1", env_vars_values=overrides)
    out = {fn.name: runner._make_env_vars(fn).resolve() for fn in provider.get_all()}
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main(*sys.argv[1:3])
