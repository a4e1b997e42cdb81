"""The sandbox platform behind `lp_test_` keys (spec/seed-fixture.md,
"Sandbox behaviour"): deterministic, no network.

The account's `sandbox.outcome` decides: `success`, `reject`, `transient:<n>`
(the first n submits fail with a retryable error), `unknown` (the submit
"times out" although the post was created). An Instagram personal account
always fails `publish`, as the Graph API does.

Like a real platform, every submit that succeeds creates a post and records a
delivery; nothing here dedupes, so a double submit by the publisher would be
visible in `GET /_local/sandbox/deliveries`. What the sandbox created and how
many submits it saw live in the table (item `SBXPOST#<postId>`), so they
survive across invocations and workers.
"""
from __future__ import annotations

import base64
import hashlib
import re
from typing import Any

from layers_shared.domain import privacy
from layers_shared.models.entities import LastError
from layers_shared.platforms.port import Delivery, Outcome
from layers_shared.sandbox import deliveries
from layers_shared.store.sandbox_records import DynamoSandboxRecords
from layers_shared.store.table import Table

PERSONAL_ACCOUNT_MESSAGE = "(#10) Application does not have permission for this action"
_TRANSIENT = re.compile(r"^transient:(\d+)$")


class SandboxAdapter:
    def __init__(self, table: Table):
        self.table = table
        self.records = DynamoSandboxRecords(table)

    # -- the port -------------------------------------------------------

    def submit(self, delivery: Delivery) -> Outcome:
        post, account = delivery.post, delivery.account
        if post.platform == "instagram" and post.mode == "publish" and account.instagramAccountType == "personal":
            return Outcome.failed("PLATFORM_REJECTED", PERSONAL_ACCOUNT_MESSAGE, "10")
        if post.platform == "instagram" and post.mode == "draft" and not delivery.operator_phone:
            return Outcome.failed("OPERATOR_PHONE_UNVERIFIED",
                                  "The organization's primary operator has no verified phone number.")
        level = None
        if post.platform == "tiktok" and post.mode == "publish":
            # The live publisher's check before its init, against the fixture's creator_info.
            options = tuple(account.privacyLevelOptions or privacy.PUBLIC_OPTIONS)
            level, allowed = privacy.resolve(post.privacyLevel or (post.tiktokPostSettings or {}).get("privacyLevel"),
                                             options)
            if not allowed:
                return Outcome.failed("PRIVACY_LEVEL_NOT_ALLOWED", privacy.not_allowed_message(level, options))
        rule = (account.sandbox.outcome or "success").strip()
        if rule == "reject":
            return Outcome.failed("PLATFORM_REJECTED", "The sandbox platform rejected the post (outcome 'reject').",
                                  "sandbox_reject")
        transient = _TRANSIENT.match(rule)
        if transient:
            seen = self.records.count_submit(post.id)
            failing = int(transient.group(1))
            if seen <= failing:
                return Outcome.retry("PLATFORM_UNAVAILABLE",
                                     f"The sandbox platform is temporarily unavailable (attempt {seen} of {failing} "
                                     "failing).", "sandbox_transient")
        created = self._create(delivery, level)
        if rule == "unknown":
            return Outcome("unknown", error=LastError(
                code="SUBMIT_OUTCOME_UNKNOWN", message="The sandbox submit timed out (the post was created)."))
        return created

    def poll(self, delivery: Delivery, state: dict[str, Any]) -> Outcome:
        return self.confirm(delivery, state)

    def confirm(self, delivery: Delivery, state: dict[str, Any]) -> Outcome:
        """A read: what the sandbox platform holds for this post. Never creates."""
        external_id = self.records.created(delivery.post.id)
        if external_id is not None:
            return _success(delivery, external_id)
        # The sandbox's record is authoritative (a consistent read of what it
        # created): no post there means the submit did not create one, so the
        # post may go on within its retry window.
        return Outcome.retry("NOT_PUBLISHED", "The sandbox platform has no record of the post; nothing was "
                             "published.")

    # -- the sandbox platform's own records (SandboxRecords port) -----

    def _create(self, delivery: Delivery, privacy_level: str | None = None) -> Outcome:
        post = delivery.post
        external_id = external_id_for(post.platform, post.id)
        self.records.record_created(post.id, external_id)
        deliveries.record(self.table, "post", scheduledPostId=post.id, socialAccountId=post.socialAccountId,
                          platform=post.platform, mode=post.mode, externalId=external_id,
                          **({"privacyLevel": privacy_level} if privacy_level else {}))
        return _success(delivery, external_id)


def _success(delivery: Delivery, external_id: str) -> Outcome:
    post = delivery.post
    if post.mode == "draft":
        return Outcome("draft", external_id=external_id)
    return Outcome("published", external_id=external_id,
                   external_url=external_url_for(post.platform, delivery.account.handle, external_id))


def external_id_for(platform: str, post_id: str) -> str:
    """Stable, platform-looking ids: TikTok's are 19 digits, Instagram media ids 17."""
    digest = int(hashlib.sha256(post_id.encode()).hexdigest(), 16)
    if platform == "tiktok":
        return "73" + f"{digest % 10 ** 17:017d}"
    return "179" + f"{digest % 10 ** 14:014d}"


def shortcode(external_id: str) -> str:
    raw = hashlib.sha256(external_id.encode()).digest()[:8]
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")[:11]


def external_url_for(platform: str, handle: str, external_id: str) -> str:
    if platform == "tiktok":
        return f"https://www.tiktok.com/@{handle}/video/{external_id}"
    return f"https://www.instagram.com/p/{shortcode(external_id)}/"
