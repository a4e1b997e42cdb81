"""The TikTok music catalog in the single table: the DynamoDB side of the
`MusicCatalog` port (GSI1 `MUSIC`, whose sort key is the zero-padded `userCount`)."""
from __future__ import annotations

from typing import Any

from layers_shared.models.entities import MusicTrack
from layers_shared.store import keys
from layers_shared.store.table import Table


class DynamoMusicCatalog:
    def __init__(self, table: Table):
        self.table = table

    def most_used_first(self) -> list[MusicTrack]:
        tracks: list[MusicTrack] = []
        start: dict[str, Any] | None = None
        while True:
            rows, start = self.table.query("GSI1", "GSI1PK", keys.MUSIC_INDEX, forward=False, start=start)
            tracks += [MusicTrack.model_validate(r) for r in rows if r.get("type") == "MUSIC"]
            if start is None:
                return tracks
