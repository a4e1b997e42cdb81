"""Entities as partners see them (UTC `Z` instants, no internal fields)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from layers_shared.clock import to_wire

if TYPE_CHECKING:  # annotations only: no pydantic model is built to import a view
    from layers_shared.models.entities import Container, MusicTrack, ScheduledPost


def scheduled_post(post: ScheduledPost) -> dict[str, Any]:
    return {
        "id": post.id,
        "projectId": post.projectId,
        "containerId": post.containerId,
        "socialAccountId": post.socialAccountId,
        "platform": post.platform,
        "mode": post.mode,
        "status": post.status,
        "externalId": post.externalId,
        "externalUrl": post.externalUrl,
        "scheduledFor": to_wire(post.scheduledFor),
        "attemptedAt": to_wire(post.attemptedAt),
        "publishedAt": to_wire(post.publishedAt),
        "canceledAt": to_wire(post.canceledAt),
        "lastError": post.lastError.model_dump(exclude_none=True) if post.lastError else None,
        "privacyLevel": post.privacyLevel if post.platform == "tiktok" and post.mode == "publish" else None,
        "createdAt": to_wire(post.createdAt),
        "updatedAt": to_wire(post.updatedAt),
    }


def container(item: Container) -> dict[str, Any]:
    pending = item.pendingSchedule
    return {
        "id": item.id,
        "projectId": item.projectId,
        "status": item.status,
        "approvalStatus": item.approvalStatus,
        "mediaType": item.mediaType,
        "caption": item.caption,
        "firstComment": item.firstComment,
        "assets": [{"kind": m.kind, "url": m.url} for m in item.media],
        "pendingSchedule": None if not pending else {
            "scheduledFor": to_wire(pending["scheduledFor"]),
            "scheduledPostIds": [t["scheduledPostId"] for t in pending["targets"]],
        },
        "approvedAt": to_wire(item.approvedAt),
        "approvedBy": item.approvedBy,
        "rejectedAt": to_wire(item.rejectedAt),
        "rejectedBy": item.rejectedBy,
        "rejectionReason": item.rejectionReason,
        "createdAt": to_wire(item.createdAt),
    }


def music_track(track: MusicTrack) -> dict[str, Any]:
    duration = track.duration
    return {
        "id": track.id,
        "title": track.title,
        "author": track.author,
        "album": track.album,
        "duration": int(duration) if float(duration).is_integer() else duration,
        "previewUrl": track.previewUrl,
        "coverUrl": track.coverUrl,
        "language": track.language,
        "userCount": track.userCount,
        "isCommerceMusic": track.isCommerceMusic,
    }
