"""GET /v1/tiktok-music: the catalog, most used first (GSI1 `MUSIC`, whose sort
key is the zero-padded `userCount`)."""
from __future__ import annotations

from typing import Any

from layers_shared import views
from layers_shared.http.api import Request, Response
from layers_shared.models.entities import MusicTrack
from layers_shared.store import keys
from layers_shared.store.table import Table


def catalog(table: Table) -> list[MusicTrack]:
    tracks: list[MusicTrack] = []
    start: dict[str, Any] | None = None
    while True:
        rows, start = table.query("GSI1", "GSI1PK", keys.MUSIC_INDEX, forward=False, start=start)
        tracks += [MusicTrack.model_validate(r) for r in rows if r.get("type") == "MUSIC"]
        if start is None:
            return tracks


def list_music(req: Request) -> Response:
    tracks = catalog(req.table)
    return Response(200, {"tracks": [views.music_track(t) for t in tracks], "total": len(tracks)})
