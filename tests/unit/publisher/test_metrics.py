import json

import pytest

from layers_shared.publisher import metrics as m


@pytest.mark.parametrize("result,name", [
    ("published", "PostsPublished"), ("draft", "PostsDrafted"), ("failed", "PostsFailed"),
    ("skipped", "FiringsIgnored"), ("early", "FiringsIgnored"), ("stale", "FiringsIgnored"),
    ("lost-claim", "FiringsIgnored"), ("wait:poll", "StepsDeferred"), ("ignored", "MessagesOther"),
])
def test_every_result_counts_somewhere(result, name):
    assert m.metric_for(result) == name


def test_counts_are_flushed_as_emf(monkeypatch, capsys):
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "false")
    m.metrics.clear_metrics()  # whatever other tests counted with metrics off

    @m.flushed
    def handler(event, context):
        m.count("published")
        m.count("published")
        m.count("early")
        return {}

    handler({}, None)
    emf = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert emf["PostsPublished"] == [1.0, 1.0] and emf["FiringsIgnored"] == [1.0]
    assert emf["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "LayersPublishing"


def test_switched_off_metrics_do_not_pile_up(monkeypatch, capsys):
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")

    @m.flushed
    def handler(event, context):
        m.count("published")
        return {}

    for _ in range(3):
        handler({}, None)
    assert m.metrics.metric_set == {} and capsys.readouterr().out == ""
