"""Which adapter delivers a post, and what it needs to know (the `Delivery`).

`env == 'test'` (an `lp_test_` key scheduled it) -> the sandbox platform;
`live` -> the real adapters: managed provider by mode, else TikTok or
Instagram by platform. Adapters are built per delivery: they read their base
URLs from the environment and share one HTTP connection pool.
"""
from __future__ import annotations

from typing import Callable

from layers_shared.models.entities import Organization, ScheduledPost, SocialAccount, User
from layers_shared.platforms.port import Delivery, Outcome, PlatformAdapter
from layers_shared.secrets.vault import KmsTokenVault, TokenVault
from layers_shared.store import items, keys, repo
from layers_shared.store.table import Table

AdapterFactory = Callable[[ScheduledPost], PlatformAdapter]


def default_factory(table: Table) -> AdapterFactory:
    def adapter_for(post: ScheduledPost) -> PlatformAdapter:
        if post.env == "test":
            from layers_shared.platforms.sandbox import SandboxAdapter

            return SandboxAdapter(table)
        if post.mode == "managed":
            from layers_shared.platforms.managed import ManagedProviderAdapter

            return ManagedProviderAdapter()
        if post.platform == "tiktok":
            from layers_shared.platforms.tiktok import TikTokAdapter

            return TikTokAdapter()
        from layers_shared.platforms.instagram import InstagramAdapter

        messaging = None
        if post.mode == "draft":
            from layers_shared.messaging.linq import LinqAdapter

            messaging = LinqAdapter.from_env()
        return InstagramAdapter(messaging=messaging)
    return adapter_for


def default_vault(table: Table) -> TokenVault:
    return KmsTokenVault(table)


def delivery_for(table: Table, vault: TokenVault, post: ScheduledPost, *,
                 submitted: bool = False) -> Delivery | Outcome:
    """Everything the adapter needs, read before the claim so that a failure
    here never leaves a claimed post with a submit that did not happen. An
    account that cannot publish any more ends a post not yet submitted at
    once; a `submitted` one (poll, confirm) may be live, so it is still read
    with what is stored (a token often outlives a failed refresh)."""
    account = items.from_item(SocialAccount, table.get(keys.social_account(post.socialAccountId)))
    if account is None:
        if submitted:
            return Outcome.failed("SUBMIT_OUTCOME_UNKNOWN", "The social account was deleted before the post's "
                                  "outcome could be read; it may be live.")
        return Outcome.failed("SOCIAL_ACCOUNT_NOT_FOUND", "The social account no longer exists.")
    if account.status != "connected" and not submitted:
        return Outcome.failed("SOCIAL_ACCOUNT_NOT_CONNECTED",
                              f"The social account is {account.status}; reconnect it and schedule again.")
    credentials = None
    if post.env == "live" and post.mode != "managed":
        credentials = vault.get(account.id)
    phone = operator_phone(table, post.organizationId) if (post.platform == "instagram"
                                                            and post.mode == "draft") else None
    store = None
    if post.env == "live" and post.platform == "tiktok" and post.mode == "publish":
        from layers_shared.platforms.creator_info import Store

        store = Store(table)
    pacing = None
    if post.env == "live" and ((post.platform == "tiktok" and post.mode in ("publish", "draft"))
                               or (post.platform == "instagram" and post.mode == "publish")):
        from layers_shared.platforms.pacing import TokenPacing
        from layers_shared.store.pacing import PaceStore

        pacing = TokenPacing(PaceStore(table), account.id)
    return Delivery(post=post, account=account, credentials=credentials,
                    provider=post.managedProvider, operator_phone=phone,
                    reload_credentials=(lambda: vault.get(account.id)) if credentials is not None else None,
                    save_credentials=(lambda rotated: vault.put(account.id, rotated)) if credentials is not None
                    else None,
                    creator_info_store=store, pacing=pacing)


def operator_phone(table: Table, organization_id: str) -> str | None:
    """The organization's primary operator's phone, only when verified."""
    org = items.from_item(Organization, table.get(keys.org(organization_id)))
    if org is None or not org.primaryOperatorUserId:
        return None
    user: User | None = repo.user(table, org.primaryOperatorUserId)
    if user is None or not user.phoneVerified or not user.phoneNumber:
        return None
    return user.phoneNumber
