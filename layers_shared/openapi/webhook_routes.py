"""The webhook routes of the OpenAPI document (webhooks.md, Routes)."""
from __future__ import annotations

from layers_shared.openapi.routes import CURSOR, Param, Route, Success, _limit
from layers_shared.webhooks import models as wm
from layers_shared.webhooks.rules import DELIVERY_STATUSES, EVENT_TYPES

TAG = "Webhooks"
ENDPOINT_ID = Param("endpointId", "path", {"type": "string"}, required=True,
                    example="0f8fad5b-d9cb-469f-a165-70867728950e",
                    description="Webhook endpoint id (bare UUID). Anything else, or another organization's, is 404.")
DELIVERY_ID = Param("deliveryId", "path", {"type": "string"}, required=True,
                    example="7c9e6679-7425-40de-944b-e07fc1f90ae7",
                    description="Webhook delivery id (bare UUID). Anything else, or another organization's, is 404.")
READ, WRITE = "webhooks:read", "webhooks:write"
NOT_FOUND = {404: ("NOT_FOUND",)}

WEBHOOK_ROUTES: tuple[Route, ...] = (
    Route(
        "POST", "/v1/webhook-endpoints", "createWebhookEndpoint", TAG, "Create a webhook endpoint",
        "Registers a URL for the listed event types (at most 20 endpoints per organization). The answer holds the "
        "signing secret; it is never shown again (rotate-secret makes a new one).",
        WRITE,
        success=(Success(201, wm.WebhookEndpointWithSecret, "Created."),),
        errors={403: ("FORBIDDEN_SCOPE",), **NOT_FOUND, 409: ("CONFLICT",), 422: ("VALIDATION",)},
        body=wm.CreateWebhookEndpointBody, idempotent=True,
        notes={404: "`projectId` unknown or of another organization.",
               409: "`CONFLICT` with `details.reason: ENDPOINT_LIMIT` (20 endpoints).",
               422: "`VALIDATION`: every issue in `details.issues` (bad URL or address, unknown event, ...)."},
    ),
    Route(
        "GET", "/v1/webhook-endpoints", "listWebhookEndpoints", TAG, "List webhook endpoints",
        "Newest first, cursor-paginated.", READ,
        success=(Success(200, wm.WebhookEndpointPage, "A page of endpoints."),),
        errors={403: ("FORBIDDEN_SCOPE",), 422: ("VALIDATION",)},
        params=(_limit(25, 100), CURSOR),
    ),
    Route(
        "GET", "/v1/webhook-endpoints/{endpointId}", "getWebhookEndpoint", TAG, "Get a webhook endpoint",
        "The endpoint (never its secret).", READ,
        success=(Success(200, wm.WebhookEndpoint, "The endpoint."),),
        errors={403: ("FORBIDDEN_SCOPE",), **NOT_FOUND}, params=(ENDPOINT_ID,),
    ),
    Route(
        "PATCH", "/v1/webhook-endpoints/{endpointId}", "updateWebhookEndpoint", TAG, "Update a webhook endpoint",
        "Any of `url`, `events` (replaces the list), `description`, `status` (`active` | `paused`), `metadata` "
        "(merged per key). Pausing abandons the endpoint's unfinished deliveries.", WRITE,
        success=(Success(200, wm.WebhookEndpoint, "Updated."),),
        errors={403: ("FORBIDDEN_SCOPE",), **NOT_FOUND, 409: ("CONFLICT",), 422: ("VALIDATION",)},
        params=(ENDPOINT_ID,), body=wm.UpdateWebhookEndpointBody, idempotent=True,
    ),
    Route(
        "DELETE", "/v1/webhook-endpoints/{endpointId}", "deleteWebhookEndpoint", TAG, "Delete a webhook endpoint",
        "Later reads are 404; unfinished deliveries are abandoned.", WRITE,
        success=(Success(200, wm.WebhookEndpointDeleted, "Deleted."),),
        errors={403: ("FORBIDDEN_SCOPE",), **NOT_FOUND}, params=(ENDPOINT_ID,), idempotent=True,
    ),
    Route(
        "POST", "/v1/webhook-endpoints/{endpointId}/rotate-secret", "rotateWebhookSecret", TAG,
        "Rotate an endpoint's signing secret",
        "The new secret signs from now on; the old one also signs for 24 h (two `v1=` values, the new first).",
        WRITE,
        success=(Success(200, wm.WebhookEndpointWithSecret, "Rotated."),),
        errors={403: ("FORBIDDEN_SCOPE",), **NOT_FOUND, 409: ("CONFLICT",)}, params=(ENDPOINT_ID,),
        idempotent=True,
    ),
    Route(
        "POST", "/v1/webhook-endpoints/{endpointId}/test", "testWebhookEndpoint", TAG, "Send a test.ping",
        "Sends a `test.ping` event to this endpoint, whatever it subscribes to.", WRITE,
        success=(Success(202, wm.WebhookTestResult, "Queued; the first attempt leaves within seconds."),),
        errors={403: ("FORBIDDEN_SCOPE",), **NOT_FOUND}, params=(ENDPOINT_ID,), idempotent=True,
    ),
    Route(
        "GET", "/v1/webhook-endpoints/{endpointId}/deliveries", "listWebhookDeliveries", TAG,
        "List an endpoint's deliveries",
        "Newest first, cursor-paginated; kept 30 days. Each delivery records its attempts.", READ,
        success=(Success(200, wm.WebhookDeliveryPage, "A page of deliveries."),),
        errors={403: ("FORBIDDEN_SCOPE",), **NOT_FOUND, 422: ("VALIDATION",)},
        params=(ENDPOINT_ID,
                Param("eventType", "query", {"type": "string", "enum": list(EVENT_TYPES)}, "Only this event type."),
                Param("status", "query", {"type": "string", "enum": list(DELIVERY_STATUSES)}, "Only this status."),
                _limit(25, 100), CURSOR),
    ),
    Route(
        "POST", "/v1/webhook-deliveries/{deliveryId}/replay", "replayWebhookDelivery", TAG, "Replay a delivery",
        "A new delivery of the same data with a new event id (`replayOf` names the original event).", WRITE,
        success=(Success(200, wm.WebhookReplayResult, "Queued."),),
        errors={403: ("FORBIDDEN_SCOPE",), **NOT_FOUND, 409: ("CONFLICT",)}, params=(DELIVERY_ID,),
        idempotent=True,
        notes={409: "`CONFLICT` with `details.reason: ENDPOINT_PAUSED`."},
    ),
)
