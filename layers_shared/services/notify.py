"""notify-device: text a completed container's media, caption and posting
instructions to a phone, at most once per request.

Checks, in order (docs/adr/0050): body (422) -> container (404) -> status
(409 CONTENT_NOT_READY) -> phone (422 PHONE_REQUIRED / OWNER_PHONE_UNVERIFIED)
-> media (422 NO_MEDIA) -> provider configured (503) -> send.

No double text (docs/adr/0051, 0056): a send record is written before the
first provider call and updated after each accepted message, naming the next
message as being attempted before it is sent; a retry of the same request
continues from it. A message that may have reached the provider (a lost
answer, or an attempt the record never heard back from) is confirmed by a read,
never resent blindly. The chat is reused, so an identical text from an earlier
request (yesterday's, or one seconds ago) is not ours: before its first send
into an existing chat a request records the chat's newest message id, and a
read only accepts what comes after it, or after its own previous message.
"""
from __future__ import annotations

import logging
import secrets
import uuid
from datetime import datetime
from typing import Any

from layers_shared import errors
from layers_shared.auth import Principal
from layers_shared.domain import handoff, phone as phones
from layers_shared.domain.handoff import MEDIA, Progress
from layers_shared.http import validation
from layers_shared.http.api import Request, Response
from layers_shared.messaging import select
from layers_shared.messaging.port import (
    Message, MessagingPort, ProviderRejected, ProviderUnavailable, SendOutcomeUnknown,
)
from layers_shared.models.entities import Container
from layers_shared.models.requests import NotifyDeviceBody
from layers_shared.services import send_record as records
from layers_shared.store import keys, repo
from layers_shared.store.table import Table

log = logging.getLogger(__name__)

# Stored for a message whose provider id we never learnt: no position in the chat.
UNKNOWN_IDS = frozenset({"accepted", "confirmed-by-read"})

UNCONFIRMED_ERROR = ("The SMS provider did not answer and the message could not be confirmed by reading the "
                     "chat back; it was not resent.")


def notify_device(req: Request) -> Response:
    body = parse_body(req.json_body())
    principal = req.principal
    container = repo.container_of(req.table, req.principal.organization_id, req.path_id("containerId", "cnt"),
                                  req.path["containerId"])
    if container.status != "completed":
        raise errors.conflict("CONTENT_NOT_READY",
                              f"Content container {container.id} is '{container.status}', not 'completed'; "
                              "wait for generation to finish.",
                              containerId=container.id, status=container.status)
    if container.approvalStatus == "rejected":
        # Texting it would hand a creator content the approval gate refused
        # (docs/adr/0055); pending content may go out for review.
        raise errors.content_rejected(container.id)
    phone = resolve_phone(req.table, principal, body.phoneNumber)
    if not container.media:
        raise errors.validation([errors.issue("containerId", "no_media", "the content container has no media")],
                                f"Content container {container.id} has no media to send.", reason="NO_MEDIA")
    messenger = select.messenger_for(principal, req.table, container_id=container.id, phone=phone)
    if messenger is None:
        raise errors.platform_error(503, "SMS_PROVIDER_UNAVAILABLE",
                                    "The SMS provider is not configured for this deployment; retry later.")
    scope = records.request_scope(principal.key_id, req.headers.get("idempotency-key"), req.request_id)
    return DeviceHandoff(req.table, principal, container, phone, messenger, scope).run()


def parse_body(data: Any) -> NotifyDeviceBody:
    body, problems = validation.validate(NotifyDeviceBody, data)
    if body is not None:
        why = phones.format_issue(body.phoneNumber)
        if why:
            problems = [errors.issue("phoneNumber", "invalid_format", why)]
    if problems or body is None:
        raise errors.validation(problems)
    return body


def resolve_phone(table: Table, principal: Principal, explicit: str | None) -> str:
    owner = repo.user(table, principal.owner_user_id) if explicit is None else None
    found = phones.resolve(explicit, owner, principal.organization_id)
    if isinstance(found, phones.Unresolved):
        code = "required" if found.reason == phones.PHONE_REQUIRED else "unverified"
        raise errors.validation([errors.issue("phoneNumber", code, found.message)], found.message,
                                reason=found.reason)
    return found.phone


def project_platforms(table: Table, project_id: str) -> list[str]:
    """Platforms of the project's social accounts (one page is plenty to tell one from both)."""
    found, _ = table.query("GSI1", "GSI1PK", keys.project_accounts(project_id), limit=100)
    return [str(item.get("platform")) for item in found if item.get("type") == "SA"]


def instructions_for(table: Table, container: Container) -> str:
    from layers_shared.instructions import TemplateWriter, writer_from_env

    platform = handoff.instructions_platform(project_platforms(table, container.projectId))
    args = (platform, container.mediaType, container.caption, container.firstComment, len(container.media))
    try:
        return writer_from_env().write(*args)
    except Exception as exc:  # an optional nicety never fails the handoff
        log.warning("instructions writer failed, using the template: %s", type(exc).__name__)
        return TemplateWriter().write(*args)


class DeviceHandoff:
    """One request's three messages, driven by its send record (not a publisher
    `platforms.port.Delivery`: that one carries a post to a platform)."""

    def __init__(self, table: Table, principal: Principal, container: Container, phone: str,
                 messenger: select.Messenger, scope: str):
        self.table = table
        self.principal = principal
        self.container = container
        self.phone = phone
        self.port: MessagingPort = messenger.port
        self.provider = messenger.provider
        self.key = records.record_key(principal.organization_id, container.id, phone, scope)
        self.token = secrets.token_hex(16)
        self._replaces: str | None = None  # a stored chat id the provider no longer knows
        self._not_before: datetime | None = None  # bounds read-backs that have no position in a chat
        self._position: tuple[str, str] | None = None  # (chat id, its newest message before our first send)
        self._ids: dict[int, str] = {}  # accepted message index -> provider id

    def run(self) -> Response:
        planned = handoff.plan(self.container, instructions_for(self.table, self.container))
        stored = records.stored_chat(self.table, self.provider, self.principal.organization_id, self.phone)
        fresh: dict[str, Any] = {
            "id": str(uuid.uuid4()), "organizationId": self.principal.organization_id,
            "containerId": self.container.id, "phoneNumber": self.phone, "provider": self.provider,
            "apiKeyId": self.principal.key_id, "plan": planned,
        }
        if stored:
            # The chat's position goes in the write that records the first attempt, so
            # a record that names an attempt into an existing chat always has one. It
            # is only used if that put creates the record (a retry keeps its own).
            fresh.update(markerChatId=stored, chatMarker=self._latest(stored))
        record, created = records.open_record(self.table, self.key, fresh, self.token)
        progress = Progress.of(record, resumed=not created)
        self._not_before = records.first_attempt(record)
        self._position = records.position(record)
        self._ids = dict(progress.accepted)
        if record.get("status") == records.SENT:
            return self._sent(progress.chat_id or "")
        try:
            chat_id = self._send_remaining(record["id"], record.get("plan") or planned, progress, stored)
        except errors.ApiError:
            raise
        except BaseException:
            # A bug or a crash mid-way: free the record at once so a retry continues
            # from what was accepted (instead of waiting for the lease to expire).
            records.mark_failed(self.table, self.key, self.token, "interrupted")
            raise
        return self._sent(chat_id)

    # --- the messages ---------------------------------------------------------------------------

    def _send_remaining(self, record_id: str, planned: list[list[dict[str, str]]], progress: Progress,
                        stored: str | None) -> str:
        chat_id = progress.chat_id
        from_store = False
        if chat_id is None and MEDIA in progress.remaining():
            chat_id = stored
            from_store = chat_id is not None
        remaining = progress.remaining()
        for index in remaining:
            message = handoff.message_of(planned, index, record_id)
            last = index == remaining[-1]
            if index == progress.unconfirmed:
                # An earlier invocation may have sent it (no answer, or it died before recording
                # one): read first, send only if it is confirmed absent.
                # No chat in the record means that attempt was a chat creation: look for it by phone.
                creating = index == MEDIA and progress.chat_id is None
                found = self._read_back(index, None if creating else chat_id, message, creating=creating)
                if found is None:
                    self._fail_unconfirmed(index, None if creating else chat_id)
                if found:
                    chat_id = self._accepted(index, found, None if creating else chat_id, last)
                    continue
            chat_id = self._send_one(index, message, chat_id, from_store, last)
            from_store = False
        return chat_id or ""

    def _send_one(self, index: int, message: Message, chat_id: str | None, from_store: bool, last: bool) -> str:
        """Send message `index` (or create the chat with it); its chat id once accepted.
        Messages go strictly in order, so `index - 1` were accepted before it."""
        creating = index == MEDIA and chat_id is None
        try:
            if not creating:
                assert chat_id is not None
                try:
                    after = self._after(index, chat_id) or self._take_position(chat_id)
                    found = (chat_id, self.port.send(chat_id, message, after=after))
                except ProviderRejected as exc:
                    if not (index == MEDIA and from_store and exc.status == 404):
                        raise
                    # The stored chat is gone at the provider: open a new one with this message.
                    self._replaces, chat_id, creating = chat_id, None, True
            if creating:
                sent = self.port.create_chat(self.phone, message)
                chat_id = self._new_chat(sent.chat_id)
                found = (chat_id, sent.message_ids[0] if sent.message_ids else "accepted")
        except ProviderRejected as exc:
            records.mark_failed(self.table, self.key, self.token, records.REJECTED, provider_error=exc.message,
                                chat_id=None if creating else chat_id)
            raise errors.platform_error(502, "PROVIDER_REJECTED",
                                        f"The SMS provider rejected message {index} of 3: {exc.message}",
                                        providerError=exc.message, acceptedMessages=index - 1) from None
        except SendOutcomeUnknown:
            read = self._read_back(index, chat_id, message, creating=creating)
            if not read:
                self._fail_unconfirmed(index, chat_id)
            found = read  # type: ignore[assignment]
        except ProviderUnavailable:
            records.mark_failed(self.table, self.key, self.token, records.UNAVAILABLE,
                                provider_error="provider unavailable", chat_id=chat_id)
            raise errors.platform_error(503, "SMS_PROVIDER_UNAVAILABLE",
                                        "The SMS provider is unavailable; retry later with the same "
                                        "Idempotency-Key to send the rest.") from None
        return self._accepted(index, found, chat_id, last)  # type: ignore[arg-type]

    def _accepted(self, index: int, found: tuple[str, str], chat_id: str | None, last: bool) -> str:
        found_chat, message_id = found
        if chat_id is None and index == MEDIA:  # a create confirmed by reading
            chat_id = self._new_chat(found_chat)
        chat_id = chat_id or found_chat
        self._ids[index] = message_id or "accepted"
        records.mark_accepted(self.table, self.key, self.token, index, message_id or "accepted",
                              chat_id=chat_id if index == MEDIA else None, last=last)
        return chat_id

    def _new_chat(self, chat_id: str) -> str:
        records.remember_chat(self.table, self.provider, self.principal.organization_id, self.phone, chat_id,
                              replaces=self._replaces)
        return chat_id  # this request's messages stay in the chat its first message went to

    def _after(self, index: int, chat_id: str) -> str | None:
        """Where in the chat message `index` can start: after our own previous
        message when its id is known (tighter), else after the recorded position."""
        previous = self._ids.get(index - 1)
        if previous and previous not in UNKNOWN_IDS:
            return previous
        if self._position and self._position[0] == chat_id:
            return self._position[1]
        return None

    def _latest(self, chat_id: str) -> str:
        """The position read before any record exists: nothing to mark failed."""
        try:
            return self.port.latest_message(chat_id)
        except ProviderRejected as exc:
            raise errors.platform_error(502, "PROVIDER_REJECTED",
                                        f"The SMS provider rejected message 1 of 3: {exc.message}",
                                        providerError=exc.message, acceptedMessages=0) from None
        except ProviderUnavailable:
            raise errors.platform_error(503, "SMS_PROVIDER_UNAVAILABLE",
                                        "The SMS provider is unavailable; retry later.") from None

    def _take_position(self, chat_id: str) -> str:
        """A send into a chat the record has no position in (a chat stored since
        our first attempt, which was a chat creation; records older than markers):
        read and record one first. Nothing of this message can be there yet (a
        maybe-sent one was read back before), so what matches after it is ours."""
        marker = self.port.latest_message(chat_id)
        records.mark_position(self.table, self.key, self.token, chat_id, marker)
        self._position = (chat_id, marker)
        return marker

    def _read_back(self, index: int, chat_id: str | None, message: Message, *,
                   creating: bool) -> tuple[str, str] | None | bool:
        """(chat id, message id) when the message is found; False when the read
        says it is not there; None when the read itself failed."""
        try:
            if creating:
                # By phone: the chat we know a position in is bounded by it (a first
                # send into the stored chat, since gone or never answered); a chat
                # created since has no position, only the time bound (ADR 0056).
                found_chat = self.port.find_chat(self.phone, message.idempotency_key, parts=message.parts,
                                                 not_before=self._not_before,
                                                 after=dict([self._position]) if self._position else None)
                return (found_chat, "confirmed-by-read") if found_chat else False
            assert chat_id is not None
            found = self.port.has_message(chat_id, message.idempotency_key, parts=message.parts,
                                          not_before=self._not_before, after=self._after(index, chat_id))
            return (chat_id, "confirmed-by-read") if found else False
        except (ProviderRejected, ProviderUnavailable, SendOutcomeUnknown) as exc:
            log.warning("notify read-back failed: %s", type(exc).__name__)
            return None

    def _fail_unconfirmed(self, index: int, chat_id: str | None) -> None:
        records.mark_failed(self.table, self.key, self.token, records.UNCONFIRMED, provider_error=UNCONFIRMED_ERROR,
                            unconfirmed=index, chat_id=chat_id)
        raise errors.platform_error(502, "PROVIDER_REJECTED",
                                    f"Message {index} of 3 could not be confirmed with the SMS provider.",
                                    providerError=UNCONFIRMED_ERROR, acceptedMessages=index - 1)

    def _sent(self, chat_id: str) -> Response:
        return Response(200, {
            "containerId": self.container.id,
            "deliveryStatus": "sent",
            "phoneNumberLast4": phones.last4(self.phone),
            "providerChatId": chat_id,
            "mediaCount": len(self.container.media),
        })

