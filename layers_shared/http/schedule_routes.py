"""The HTTP side of schedule and publish-now (one use case, two routes): the
request as a command, the result as the documented answer."""
from __future__ import annotations

from layers_shared import clock
from layers_shared.domain import schedule as rules
from layers_shared.http.api import Request, Response
from layers_shared.services import queries, schedule_content
from layers_shared.store.containers import DynamoContainers
from layers_shared.store.posts import DynamoPosts
from layers_shared.store.schedule_world import DynamoScheduleWorlds


def handle(req: Request, *, publish_now: bool) -> Response:
    now = clock.now()
    intent = rules.parse_schedule_body(req.json_body(), now, publish_now=publish_now)
    principal = req.principal
    content = queries.ById(principal.organization_id, req.path_id("containerId", "cnt"), req.path["containerId"])
    command = schedule_content.Schedule(content, intent, publish_now, principal.env, principal.key_id, req.dry_run)
    ports = schedule_content.Ports(DynamoContainers(req.table), DynamoPosts(req.table), DynamoScheduleWorlds(req.table))
    return answer(schedule_content.schedule(ports, command, now, req.remembering(answer)))


def answer(result: schedule_content.Scheduled | schedule_content.DryRun) -> Response:
    if isinstance(result, schedule_content.DryRun):
        return Response(200, {
            "dryRun": True, "valid": True, "gateStatus": result.gate,
            "scheduledFor": clock.to_wire(result.scheduled_for),
            "targets": [{"socialAccountId": p.socialAccountId, "platform": p.platform, "mode": p.mode,
                         "privacyLevel": p.privacyLevel if rules.is_direct_tiktok(p.platform, p.mode) else None}
                        for p in result.posts],
        })
    # 202: approval is pending, the posts exist only once someone approves them.
    status = 202 if result.gate == "blocked_on_approval" else 200
    return Response(status, {"scheduledPostIds": result.post_ids, "gateStatus": result.gate,
                             "scheduledFor": clock.to_wire(result.scheduled_for)})
