"""Schedule / publish-now rules, pure: body -> intent -> planned posts.

Order of checks (decisions.md): body schema (422) -> container (404) ->
container state (409) -> rejected (409) -> publish-now while pending (403) ->
per-target lookups (404) -> per-target rules (422) -> readiness (422).
Every 422 lists all issues at once; the `scheduledFor` issue comes first.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from layers_shared import clock, ids
from layers_shared.domain.errors import (
    ApprovalRequired, Conflict, ContentRejected, NotFound, NotPublishReady, ValidationFailed, issue,
)
from layers_shared.domain import platform_limits, privacy
from layers_shared.domain.readiness import managed_layer, readiness
from layers_shared.domain.model_checks import validate
from layers_shared.models.entities import (
    Container, Layer, MusicTrack, Project, ScheduledPost, SocialAccount,
)
from layers_shared.models.requests import MAX_TARGETS, Target

SKEW = timedelta(seconds=30)
HORIZON = timedelta(days=365)

Gate = Literal["queued", "blocked_on_approval"]


@dataclass(frozen=True)
class ScheduleIntent:
    scheduled_for: datetime
    targets: tuple[Target, ...]


def parse_scheduled_for(value: Any, now: datetime, path: str = "scheduledFor") -> tuple[datetime | None, list[dict[str, str]]]:
    if value is None:
        return None, [issue(path, "required", "scheduledFor is required")]
    if not isinstance(value, str):
        return None, [issue(path, "invalid_type", "must be an ISO 8601 string")]
    try:
        when = clock.truncate_ms(clock.parse_instant(value))
    except clock.InstantError as exc:
        return None, [issue(path, exc.code, str(exc))]
    if when < now - SKEW:
        return None, [issue(path, "in_past", "must be in the future (30 s clock-skew tolerance); "
                                   "use POST /v1/content/{containerId}/publish to publish now")]
    if when > now + HORIZON:
        return None, [issue(path, "too_far", "must be at most 365 days ahead")]
    return when, []


def normalize_account_id(value: str) -> str | None:
    return ids.normalize_path_id(value, "sa")


def parse_schedule_body(body: dict[str, Any], now: datetime, *, publish_now: bool) -> ScheduleIntent:
    first: list[dict[str, str]] = []
    rest: list[dict[str, str]] = []
    allowed = {"targets"} if publish_now else {"targets", "scheduledFor"}
    for name in body:
        if name not in allowed:
            rest.append(issue(name, "unknown_field", "unknown field"))
    when: datetime | None = now
    if not publish_now:
        when, problems = parse_scheduled_for(body.get("scheduledFor"), now)
        first += problems

    raw_targets = body.get("targets")
    targets: list[tuple[int, Target]] = []
    if raw_targets is None:
        rest.append(issue("targets", "required", "at least one target is required"))
    elif not isinstance(raw_targets, list):
        rest.append(issue("targets", "invalid_type", "must be an array of targets"))
    elif not raw_targets:
        rest.append(issue("targets", "too_few", "at least one target is required"))
    elif len(raw_targets) > MAX_TARGETS:
        rest.append(issue("targets", "too_many", f"at most {MAX_TARGETS} targets per call; split the batch"))
    else:
        for i, raw in enumerate(raw_targets):
            target, problems = validate(Target, raw, prefix=f"targets[{i}]")
            rest += problems
            if target is not None:
                targets.append((i, target))
        rest += target_rules(targets)

    if first or rest:
        raise ValidationFailed(first + rest)
    assert when is not None
    return ScheduleIntent(when, tuple(t for _, t in targets))


def target_rules(targets: list[tuple[int, Target]]) -> list[dict[str, str]]:
    """Cross-field rules that need no lookups."""
    problems: list[dict[str, str]] = []
    seen_pairs: dict[tuple[str, str], int] = {}
    seen_ids: dict[str, int] = {}
    for i, t in targets:
        at = f"targets[{i}]"
        account = normalize_account_id(t.socialAccountId)
        if account is None:
            problems.append(issue(f"{at}.socialAccountId", "invalid_format", "must be sa_<uuid>"))
        if t.tiktokMusic is not None and t.mode == "draft":
            problems.append(issue(f"{at}.tiktokMusic", "not_allowed_on_draft",
                                         "TikTok inbox drafts have no music slot; omit tiktokMusic on draft targets"))
        if t.share_reel_set and t.mode != "publish":
            problems.append(issue(f"{at}.shareReelToFeed", "requires_publish_mode",
                                         "shareReelToFeed is only allowed on mode 'publish'"))
        if t.scheduledPostId is not None:
            if not ids.is_prefixed_uuid(t.scheduledPostId, "sp"):
                problems.append(issue(f"{at}.scheduledPostId", "invalid_format", "must be sp_<uuid>"))
            elif t.scheduledPostId.lower() in seen_ids:
                problems.append(issue(f"{at}.scheduledPostId", "duplicate",
                                             f"same id as targets[{seen_ids[t.scheduledPostId.lower()]}]"))
            else:
                seen_ids[t.scheduledPostId.lower()] = i
        if account is not None:
            pair = (account, t.mode)
            if pair in seen_pairs:
                problems.append(issue(at, "duplicate_target",
                                             f"same socialAccountId and mode as targets[{seen_pairs[pair]}]"))
            else:
                seen_pairs[pair] = i
    return problems


def check_container(container: Container) -> None:
    """409s: a container must be completed and not rejected."""
    if container.status != "completed":
        raise Conflict("CONTENT_NOT_READY", f"Content container {container.id} is '{container.status}', "
                       "not 'completed'.", containerId=container.id, status=container.status)
    if container.approvalStatus == "rejected":
        raise ContentRejected(container.id)


def approval_gate(container: Container, project: Project, *, publish_now: bool) -> Gate:
    pending = project.requiresApproval and container.approvalStatus == "pending"
    if pending and publish_now:
        raise ApprovalRequired(container.id, container.approvalStatus)
    return "blocked_on_approval" if pending else "queued"


@dataclass(frozen=True)
class World:
    """Everything the rules need, already loaded (one batch of reads)."""
    organization_id: str
    container: Container
    accounts: dict[str, SocialAccount]
    tracks: dict[str, MusicTrack]
    layers: dict[str, Layer]
    # Live TikTok accounts whose creator_info could be read (account id ->
    # privacy_level_options); a live account missing here is "unknown".
    privacy_options: dict[str, tuple[str, ...]] = field(default_factory=dict)


def is_direct_tiktok(platform: str, mode: str) -> bool:
    """TikTok direct posts are the ones that carry a privacy level."""
    return platform == "tiktok" and mode == "publish"


def privacy_options(account: SocialAccount, env: str, world: World) -> tuple[str, ...] | None:
    if env == "test":
        return tuple(account.privacyLevelOptions or privacy.PUBLIC_OPTIONS)
    return world.privacy_options.get(account.id)


def effective(t: Target, container: Container, platform: str) -> platform_limits.Effective:
    return platform_limits.Effective(
        platform=platform, media_type=container.mediaType, media_count=len(container.media),
        caption=t.captionOverride if t.captionOverride is not None else (container.caption or ""),
        first_comment=(t.firstCommentOverride if t.firstCommentOverride is not None
                       else (container.firstComment or "")),
        caption_overridden=t.captionOverride is not None,
        first_comment_overridden=t.firstCommentOverride is not None,
    )


def plan_posts(intent: ScheduleIntent, world: World, *, env: str, key_id: str, now: datetime,
               post_ids: list[str]) -> list[ScheduledPost]:
    """Per-target lookups, rules and readiness; the rows to write."""
    container = world.container
    resolved: list[tuple[int, Target, SocialAccount]] = []
    for i, t in enumerate(intent.targets):
        account = world.accounts.get(normalize_account_id(t.socialAccountId) or "")
        if account is None or account.organizationId != world.organization_id:
            raise NotFound("Social account", t.socialAccountId, socialAccountId=t.socialAccountId)
        resolved.append((i, t, account))

    problems: list[dict[str, str]] = []
    reel_details: dict[str, Any] = {}
    levels: dict[int, str | None] = {}
    for i, t, account in resolved:
        at = f"targets[{i}]"
        if account.projectId != container.projectId:
            problems.append(issue(f"{at}.socialAccountId", "account_not_in_project",
                                         "the social account is connected to another project"))
        if t.share_reel_set:
            if account.platform != "instagram":
                problems.append(issue(f"{at}.shareReelToFeed", "non_instagram_target",
                                             "shareReelToFeed applies to Instagram targets only"))
                reel_details = reel_details or {"reason": "non_instagram_target", "platform": account.platform,
                                                "socialAccountId": account.id}
            elif container.mediaType != "video":
                problems.append(issue(f"{at}.shareReelToFeed", "non_video_container",
                                             "shareReelToFeed applies to video containers only"))
                reel_details = reel_details or {"reason": "non_video_container", "mediaType": container.mediaType}
        music = t.tiktokMusic
        if account.platform == "tiktok" and music is not None and music.trackId is not None \
                and music.trackId not in world.tracks:
            problems.append(issue(f"{at}.tiktokMusic.trackId", "unknown_track",
                                         "trackId is not in the TikTok music catalog"))
        problems += platform_limits.issues(at, effective(t, container, account.platform))
        if is_direct_tiktok(account.platform, t.mode):
            requested = t.tiktokPostSettings.privacyLevel if t.tiktokPostSettings else None
            options = privacy_options(account, env, world)
            level, allowed = privacy.resolve(requested, options)
            if not allowed:
                path = f"{at}.tiktokPostSettings.privacyLevel" if requested else at
                problems.append(issue(path, "privacy_level_not_allowed",
                                             privacy.not_allowed_message(requested, options or ())))
            levels[i] = level
    if problems:
        raise ValidationFailed(problems, **reel_details)

    for _i, t, account in resolved:
        ready = readiness(account, t.mode, world.layers)
        if not ready.ready:
            raise NotPublishReady(account.id, t.mode, ready.reason or "not_ready")

    stamp = clock.to_storage(now)
    return [
        _post(t, account, world, intent.scheduled_for, env=env, key_id=key_id, stamp=stamp, post_id=post_id,
              privacy_level=levels.get(i))
        for (i, t, account), post_id in zip(resolved, post_ids)
    ]


def assign_ids(intent: ScheduleIntent) -> list[str]:
    return [t.scheduledPostId.lower() if t.scheduledPostId else ids.new_id("sp") for t in intent.targets]


def _post(t: Target, account: SocialAccount, world: World, when: datetime, *, env: str, key_id: str,
          stamp: str, post_id: str, privacy_level: str | None = None) -> ScheduledPost:
    container = world.container
    tiktok = account.platform == "tiktok"
    settings = None
    if tiktok and t.mode != "managed" and t.tiktokPostSettings is not None:
        settings = t.tiktokPostSettings.model_dump(exclude_none=True)
    music = None
    if tiktok and t.mode != "draft" and t.tiktokMusic is not None:
        music = {"mode": t.tiktokMusic.mode}
        track = world.tracks.get(t.tiktokMusic.trackId or "")
        if track is not None:
            music.update(trackId=track.id, title=track.title, link=track.previewUrl)
    share = None
    if account.platform == "instagram" and t.mode == "publish" and container.mediaType == "video":
        share = True if t.shareReelToFeed is None else t.shareReelToFeed
    provider = None
    if t.mode == "managed":
        layer = managed_layer(account, world.layers)
        provider = str(layer.config.get("provider")) if layer else None
    return ScheduledPost(
        id=post_id, organizationId=world.organization_id, projectId=container.projectId,
        containerId=container.id, socialAccountId=account.id, platform=account.platform,
        handle=account.handle, mode=t.mode, env=env, status="queued",
        scheduledFor=clock.to_storage(when), mediaType=container.mediaType, media=container.media,
        caption=t.captionOverride if t.captionOverride is not None else container.caption,
        firstComment=t.firstCommentOverride if t.firstCommentOverride is not None else container.firstComment,
        tiktokPostSettings=settings, tiktokMusic=music, shareReelToFeed=share, managedProvider=provider,
        privacyLevel=privacy_level,
        createdAt=stamp, updatedAt=stamp, createdByKeyId=key_id,
    )


def stash(intent: ScheduleIntent, post_ids: list[str], *, key_id: str, env: str, now: datetime) -> dict[str, Any]:
    """The intent as stored on the container while approval is pending."""
    targets = []
    for t, post_id in zip(intent.targets, post_ids):
        data = t.model_dump(exclude_unset=True)
        data["scheduledPostId"] = post_id
        targets.append(data)
    return {"scheduledFor": clock.to_storage(intent.scheduled_for), "targets": targets,
            "apiKeyId": key_id, "env": env, "stashedAt": clock.to_storage(now)}


def unstash(pending: dict[str, Any]) -> tuple[ScheduleIntent, list[str]]:
    targets = tuple(Target.model_validate(t) for t in pending["targets"])
    when = clock.parse_instant(pending["scheduledFor"])
    return ScheduleIntent(when, targets), [t.scheduledPostId or "" for t in targets]
