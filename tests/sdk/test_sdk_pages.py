"""The SDK's page iterator across short and empty pages (docs/adr/0042-bounded-list-reads.md):
a list request reads a bounded amount, so a page may hold no item and still
carry a cursor; only `nextCursor: null` ends the iteration."""
from __future__ import annotations

from layers import Layers
from tests.fakes.http_server import FakeServer, Response

# cursor -> (items, nextCursor): two empty pages before the first match, one between.
PAGES = {
    "": ([], "c1"),
    "c1": ([], "c2"),
    "c2": ([{"id": "sp_a"}], "c3"),
    "c3": ([], "c4"),
    "c4": ([{"id": "sp_b"}], None),
}


class Sparse(FakeServer):
    def handle(self, request):  # type: ignore[override]
        items, nxt = PAGES[request.query.get("cursor") or ""]
        return Response(200, {"items": items, "nextCursor": nxt})


def test_empty_pages_with_a_cursor_do_not_end_the_iteration() -> None:
    with Sparse() as server:
        client = Layers("lp_test_FAKE", base_url=server.url)
        ids = [i["id"] for i in client.publishing.list_scheduled_posts("prj_1", status="failed", limit=1)]
        assert ids == ["sp_a", "sp_b"]
        assert [c.query.get("cursor") for c in server.calls()] == [None, "c1", "c2", "c3", "c4"]
