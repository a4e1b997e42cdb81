"""What the schedule rules need about a container's targets, read from the
single table: the DynamoDB side of the `ScheduleWorlds` port."""
from __future__ import annotations

from layers_shared.domain import schedule as rules
from layers_shared.domain.errors import NotFound
from layers_shared.domain.readiness import readiness
from layers_shared.models.entities import Container, MusicTrack, Project, SocialAccount
from layers_shared.platforms import creator_info
from layers_shared.store import keys, repo
from layers_shared.store.table import Table


class DynamoScheduleWorlds:
    def __init__(self, table: Table):
        self.table = table

    def load(self, organization_id: str, container: Container, intent: rules.ScheduleIntent,
             env: str | None = None) -> tuple[rules.World, Project]:
        """One batch read for the project, every target account and every track,
        plus one for layers when a target is managed: the call count does not grow
        with the number of targets. With `env="live"`, the same read brings the
        cached creator_info of `publish` targets; only misses go to TikTok."""
        table = self.table
        account_ids = {rules.normalize_account_id(t.socialAccountId) for t in intent.targets} - {None}
        track_ids = {t.tiktokMusic.trackId for t in intent.targets if t.tiktokMusic and t.tiktokMusic.trackId}
        direct = {rules.normalize_account_id(t.socialAccountId) for t in intent.targets if t.mode == "publish"} - {None}
        wanted = [keys.project(container.projectId)]
        wanted += [keys.social_account(a) for a in account_ids if a]
        wanted += [keys.music(t) for t in track_ids if t]
        if env == "live":
            wanted += [creator_info.cache_key(a) for a in direct if a]
        found = table.batch_get(wanted)
        groups = repo.split(found)
        projects = repo.typed(groups, "PRJ", Project)
        project = projects.get(container.projectId)
        if project is None or project.organizationId != organization_id:
            raise NotFound("Content container", container.id, containerId=container.id)
        accounts: dict[str, SocialAccount] = repo.typed(groups, "SA", SocialAccount)  # type: ignore[assignment]
        tracks: dict[str, MusicTrack] = repo.typed(groups, "MUSIC", MusicTrack)  # type: ignore[assignment]
        layer_ids = []
        if any(t.mode == "managed" for t in intent.targets):
            layer_ids = [lid for a in accounts.values() for lid in a.layerIds]
        options: dict[str, tuple[str, ...]] = {}
        if env == "live":
            readable = [a.id for a in accounts.values() if a.id in direct and a.platform == "tiktok"
                        and a.organizationId == organization_id and a.projectId == container.projectId
                        and readiness(a, "publish", {}).ready]
            options = creator_info.schedule_time_options(table, readable, found)
        world = rules.World(organization_id, container, accounts, tracks, repo.layers(table, layer_ids), options)
        return world, project  # type: ignore[return-value]
