"""notify-device: text a completed container's media, caption and posting
instructions to a phone, at most once per request.

Checks, in order (docs/adr/0050): body (`parse_body`) -> container (NotFound)
-> status (Conflict CONTENT_NOT_READY, ContentRejected) -> phone
(ValidationFailed PHONE_REQUIRED / OWNER_PHONE_UNVERIFIED) -> media
(ValidationFailed NO_MEDIA) -> provider configured (ProviderFailed, unavailable)
-> send.

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
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable

from layers_shared import clock
from layers_shared.domain import handoff, phone as phones
from layers_shared.domain.errors import (
    Conflict, ContentRejected, DomainError, IdempotencyInProgress, ProviderFailed, ValidationFailed, issue,
)
from layers_shared.domain.handoff import MEDIA, Progress
from layers_shared.domain.model_checks import validate
from layers_shared.domain.ports import (
    AccountListQuery, Accounts, Containers, HandoffKey, NewSendRecord, SendRecords, StaleWrite, Users,
)
from layers_shared.instructions.port import InstructionsWriter
from layers_shared.messaging.port import (
    Message, MessagingPort, ProviderRejected, ProviderUnavailable, SendOutcomeUnknown,
)
from layers_shared.messaging.select import Messenger
from layers_shared.models.entities import Container
from layers_shared.models.requests import NotifyDeviceBody
from layers_shared.services import queries

log = logging.getLogger(__name__)

# Stored for a message whose provider id we never learnt: no position in the chat.
UNKNOWN_IDS = frozenset({"accepted", "confirmed-by-read"})

UNCONFIRMED_ERROR = ("The SMS provider did not answer and the message could not be confirmed by reading the "
                     "chat back; it was not resent.")

PLATFORMS_READ = 100  # a project's accounts read to tell one platform from both: one page is plenty


@dataclass(frozen=True)
class NotifyDevice:
    content: queries.ById
    phone: str | None  # `parse_body`: an E.164 number, or None for the API key owner's verified phone
    key_id: str
    owner_user_id: str | None  # the API key's owner
    scope: str  # handoff.request_scope: which send record a retry continues


@dataclass(frozen=True)
class Sent:
    """All three messages were accepted (now, or by an earlier try of the same request)."""

    container_id: str
    phone: str
    chat_id: str
    media_count: int


# (container id, phone) -> who carries the texts for this request, None when no SMS provider is configured.
MessengerFor = Callable[[str, str], Messenger | None]


@dataclass(frozen=True)
class Ports:
    containers: Containers
    users: Users
    accounts: Accounts
    send_records: SendRecords
    instructions: InstructionsWriter
    messenger: MessengerFor


def parse_body(data: Any) -> str | None:
    """The explicit `phoneNumber`, or None (the key owner's)."""
    body, problems = validate(NotifyDeviceBody, data)
    if body is not None:
        why = phones.format_issue(body.phoneNumber)
        if why:
            problems = [issue("phoneNumber", "invalid_format", why)]
    if problems or body is None:
        raise ValidationFailed(problems)
    return body.phoneNumber


def notify_device(ports: Ports, command: NotifyDevice) -> Sent:
    container = queries.get_content(ports.containers, command.content)
    if container.status != "completed":
        raise Conflict("CONTENT_NOT_READY",
                       f"Content container {container.id} is '{container.status}', not 'completed'; "
                       "wait for generation to finish.",
                       containerId=container.id, status=container.status)
    if container.approvalStatus == "rejected":
        # Texting it would hand a creator content the approval gate refused
        # (docs/adr/0055); pending content may go out for review.
        raise ContentRejected(container.id)
    phone = resolve_phone(ports.users, command)
    if not container.media:
        raise ValidationFailed([issue("containerId", "no_media", "the content container has no media")],
                               f"Content container {container.id} has no media to send.", reason="NO_MEDIA")
    messenger = ports.messenger(container.id, phone)
    if messenger is None:
        raise ProviderFailed("SMS_PROVIDER_UNAVAILABLE",
                             "The SMS provider is not configured for this deployment; retry later.", unavailable=True)
    key = HandoffKey(command.content.organization_id, container.id, phone, command.scope)
    return DeviceHandoff(ports, key, command.key_id, container, messenger).run()


def resolve_phone(users: Users, command: NotifyDevice) -> str:
    explicit, owner_id = command.phone, command.owner_user_id
    owner = users.get(owner_id) if explicit is None and owner_id else None
    found = phones.resolve(explicit, owner, command.content.organization_id)
    if isinstance(found, phones.Unresolved):
        code = "required" if found.reason == phones.PHONE_REQUIRED else "unverified"
        raise ValidationFailed([issue("phoneNumber", code, found.message)], found.message, reason=found.reason)
    return found.phone


def instructions_for(ports: Ports, container: Container) -> str:
    from layers_shared.instructions import TemplateWriter

    accounts = ports.accounts.list_for_project(AccountListQuery(container.projectId, (), (), PLATFORMS_READ))
    platform = handoff.instructions_platform(a.platform for a in accounts.accounts)
    args = (platform, container.mediaType, container.caption, container.firstComment, len(container.media))
    try:
        return ports.instructions.write(*args)
    except Exception as exc:  # an optional nicety never fails the handoff
        log.warning("instructions writer failed, using the template: %s", type(exc).__name__)
        return TemplateWriter().write(*args)


class DeviceHandoff:
    """One request's three messages, driven by its send record (not a publisher
    `platforms.port.Delivery`: that one carries a post to a platform)."""

    def __init__(self, ports: Ports, key: HandoffKey, key_id: str, container: Container, messenger: Messenger):
        self.ports = ports
        self.records = ports.send_records
        self.key = key
        self.key_id = key_id
        self.container = container
        self.phone = key.phone
        self.port: MessagingPort = messenger.port
        self.provider = messenger.provider
        self.token = secrets.token_hex(16)
        self._replaces: str | None = None  # a stored chat id the provider no longer knows
        self._not_before: datetime | None = None  # bounds read-backs that have no position in a chat
        self._position: tuple[str, str] | None = None  # (chat id, its newest message before our first send)
        self._ids: dict[int, str] = {}  # accepted message index -> provider id

    def run(self) -> Sent:
        planned = handoff.plan(self.container, instructions_for(self.ports, self.container))
        stored = self.records.stored_chat(self.provider, self.key.organization_id, self.phone)
        # The chat's position goes in the write that records the first attempt, so
        # a record that names an attempt into an existing chat always has one. It
        # is only used if that put creates the record (a retry keeps its own).
        fresh = NewSendRecord(str(uuid.uuid4()), self.provider, self.key_id, planned,
                              (stored, self._latest(stored)) if stored else None)
        try:
            record, created = self.records.open(self.key, fresh, self.token)
        except StaleWrite:
            raise IdempotencyInProgress() from None  # another invocation is sending for this request
        progress = Progress.of(record, resumed=not created)
        self._not_before = clock.from_storage(record.first_attempt_at)
        self._position = record.position
        self._ids = dict(progress.accepted)
        if record.status == handoff.SENT:
            return self._sent(progress.chat_id or "")
        try:
            chat_id = self._send_remaining(record.id, record.plan or planned, progress, stored)
        except DomainError:
            raise
        except BaseException:
            # A bug or a crash mid-way: free the record at once so a retry continues
            # from what was accepted (instead of waiting for the lease to expire).
            self._stop(handoff.INTERRUPTED)
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
            self._stop(handoff.REJECTED, provider_error=exc.message, chat_id=None if creating else chat_id)
            raise ProviderFailed("PROVIDER_REJECTED", f"The SMS provider rejected message {index} of 3: {exc.message}",
                                 unavailable=False, providerError=exc.message, acceptedMessages=index - 1) from None
        except SendOutcomeUnknown:
            read = self._read_back(index, chat_id, message, creating=creating)
            if not read:
                self._fail_unconfirmed(index, chat_id)
            found = read  # type: ignore[assignment]
        except ProviderUnavailable:
            self._stop(handoff.UNAVAILABLE, provider_error="provider unavailable", chat_id=chat_id)
            raise ProviderFailed("SMS_PROVIDER_UNAVAILABLE", "The SMS provider is unavailable; retry later with the "
                                 "same Idempotency-Key to send the rest.", unavailable=True) from None
        return self._accepted(index, found, chat_id, last)  # type: ignore[arg-type]

    def _accepted(self, index: int, found: tuple[str, str], chat_id: str | None, last: bool) -> str:
        found_chat, message_id = found
        if chat_id is None and index == MEDIA:  # a create confirmed by reading
            chat_id = self._new_chat(found_chat)
        chat_id = chat_id or found_chat
        self._ids[index] = message_id or "accepted"
        try:
            self.records.accepted(self.key, self.token, index, message_id or "accepted",
                                  chat_id=chat_id if index == MEDIA else None, last=last)
        except StaleWrite:
            raise IdempotencyInProgress() from None  # our lease ran out and another invocation took over: stop
        return chat_id

    def _new_chat(self, chat_id: str) -> str:
        self.records.remember_chat(self.provider, self.key.organization_id, self.phone, chat_id,
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
            raise ProviderFailed("PROVIDER_REJECTED", f"The SMS provider rejected message 1 of 3: {exc.message}",
                                 unavailable=False, providerError=exc.message, acceptedMessages=0) from None
        except ProviderUnavailable:
            raise ProviderFailed("SMS_PROVIDER_UNAVAILABLE", "The SMS provider is unavailable; retry later.",
                                 unavailable=True) from None

    def _take_position(self, chat_id: str) -> str:
        """A send into a chat the record has no position in (a chat stored since
        our first attempt, which was a chat creation; records older than markers):
        read and record one first. Nothing of this message can be there yet (a
        maybe-sent one was read back before), so what matches after it is ours."""
        marker = self.port.latest_message(chat_id)
        try:
            self.records.mark_position(self.key, self.token, chat_id, marker)
        except StaleWrite:
            raise IdempotencyInProgress() from None
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
        self._stop(handoff.UNCONFIRMED, provider_error=UNCONFIRMED_ERROR, unconfirmed=index, chat_id=chat_id)
        raise ProviderFailed("PROVIDER_REJECTED", f"Message {index} of 3 could not be confirmed with the SMS provider.",
                             unavailable=False, providerError=UNCONFIRMED_ERROR, acceptedMessages=index - 1)

    def _stop(self, status: str, *, provider_error: str | None = None, unconfirmed: int | None = None,
              chat_id: str | None = None) -> None:
        """The request stops here; the record says why and is let go, so a retry with
        the same Idempotency-Key continues from it."""
        try:
            self.records.stopped(self.key, self.token, status,
                                 provider_error=None if provider_error is None
                                 else provider_error[:handoff.MAX_PROVIDER_ERROR],
                                 unconfirmed=unconfirmed, chat_id=chat_id)
        except StaleWrite:
            pass  # another invocation took over; what it writes wins

    def _sent(self, chat_id: str) -> Sent:
        return Sent(self.container.id, self.phone, chat_id, len(self.container.media))
