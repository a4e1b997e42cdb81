"""GET /v1/tiktok-music: the TikTok music catalog a partner picks tracks from."""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from layers_shared.domain.ports import MusicCatalog
    from layers_shared.models.entities import MusicTrack


def list_music(catalog: MusicCatalog) -> list[MusicTrack]:
    """The whole catalog, most used first: it is small and a partner picks from all of it."""
    return catalog.most_used_first()
