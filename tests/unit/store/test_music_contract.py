"""The `MusicCatalog` port: the DynamoDB adapter and the in-memory fake answer
alike (each test runs on both, conftest.py `world`)."""
from __future__ import annotations

import uuid

from layers_shared.models.entities import MusicTrack


def test_most_used_first_ties_by_id_descending(world):
    made = [MusicTrack(id=f"{n}-{uuid.uuid4()}", title=f"t{n}", userCount=count, previewUrl="https://m.example/p")
            for n, count in ((1, 5), (2, 900), (3, 5), (4, 0))]
    for track in made:
        world.seed(track)
    ours = {t.id for t in made}
    listed = [t for t in world.ports["music"].most_used_first() if t.id in ours]
    assert listed == sorted(made, key=lambda t: (t.userCount, t.id), reverse=True)
    assert listed[0].title == "t2" and listed[-1].title == "t4"
