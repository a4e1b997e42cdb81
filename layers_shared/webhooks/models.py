"""The webhook routes' bodies and answers, for the OpenAPI document and the
SDK. The routes validate with rules.py (every issue at once, with the exact
paths webhooks.md asks for); tests/unit/webhooks/test_models.py keeps the two
in step."""
from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from layers_shared.models.responses import Instant
from layers_shared.webhooks import rules

EventType = Literal["post.scheduled", "post.published", "post.failed", "post.canceled", "content.approved",
                    "content.rejected", "social_account.needs_reauth", "test.ping"]
MetaKey = Annotated[str, StringConstraints(min_length=1, max_length=rules.MAX_METADATA_KEY)]
MetaValue = Annotated[str, StringConstraints(max_length=rules.MAX_METADATA_VALUE)]
Url = Annotated[str, Field(min_length=1, max_length=rules.MAX_URL, description=(
    "Absolute, no user info, no fragment. Live keys: `https` and a host name resolving to public addresses "
    "only. Test keys may also use `http://localhost`, `http://127.0.0.1` and `http://[::1]`, any port."))]
Events = Annotated[list[EventType], Field(min_length=1, max_length=rules.MAX_EVENTS,
                                          json_schema_extra={"uniqueItems": True})]
Description = Annotated[str | None, Field(max_length=rules.MAX_DESCRIPTION)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CreateWebhookEndpointBody(_Body):
    url: Url
    events: Events
    description: Description = None
    projectId: str | None = Field(default=None, description="Only events of this project (`prj_<uuid>`).")
    metadata: dict[MetaKey, MetaValue] = Field(default_factory=dict, max_length=rules.MAX_METADATA)


class UpdateWebhookEndpointBody(_Body):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"minProperties": 1})
    url: Url | None = None
    events: Events | None = None
    description: Description = None
    status: Literal["active", "paused"] | None = Field(
        default=None, description="`active` also resets `consecutiveFailureCount` to 0.")
    metadata: dict[MetaKey, MetaValue | None] | None = Field(
        default=None, max_length=rules.MAX_METADATA, description="Merged per key; a `null` value removes the key.")


class _Shape(BaseModel):
    model_config = ConfigDict(extra="forbid")


class WebhookEndpoint(_Shape):
    id: str = Field(description="Bare lowercase UUID.")
    url: str
    events: list[EventType]
    description: str | None
    projectId: str | None
    status: Literal["active", "paused", "auto_paused"]
    metadata: dict[str, str]
    consecutiveFailureCount: int
    createdAt: Instant
    updatedAt: Instant


class WebhookEndpointWithSecret(_Shape):
    endpoint: WebhookEndpoint
    signingSecret: str = Field(description="`whsec_` + 32 random bytes in base64url; only ever shown here.")


class WebhookEndpointPage(_Shape):
    items: list[WebhookEndpoint]
    nextCursor: str | None


class WebhookEndpointDeleted(_Shape):
    id: str
    deleted: Literal[True]


class WebhookTestResult(_Shape):
    deliveryId: str
    eventId: str = Field(description="`evt_` + a ULID.")


class WebhookDelivery(_Shape):
    id: str
    endpointId: str
    eventId: str
    eventType: EventType
    status: Literal["pending", "delivering", "delivered", "failed", "abandoned"]
    attempts: int
    nextRetryAt: Instant | None
    deliveredAt: Instant | None
    abandonedAt: Instant | None
    lastResponseStatus: int | None
    lastResponseAt: Instant | None
    lastErrorMessage: str | None
    createdAt: Instant
    replayOf: str | None = Field(default=None, description="The original delivery id, on a replay.")


class WebhookDeliveryPage(_Shape):
    items: list[WebhookDelivery]
    nextCursor: str | None


class WebhookReplayResult(_Shape):
    originalDeliveryId: str
    replayDeliveryId: str
    scheduledAt: Instant


def schema_of(model: type[BaseModel]) -> dict[str, Any]:
    return model.model_json_schema()
