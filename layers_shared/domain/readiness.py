"""Publish readiness of a social account per mode (decisions.md table)."""
from __future__ import annotations

from dataclasses import dataclass

from layers_shared.models.entities import MANAGED_TEMPLATE_ID, Layer, SocialAccount

MODES = ("publish", "draft", "managed")

_REQUIRED_SCOPE = {
    ("tiktok", "publish"): "video.publish",
    ("tiktok", "draft"): "video.upload",
    ("instagram", "publish"): "instagram_content_publish",
}


@dataclass(frozen=True)
class Readiness:
    ready: bool
    reason: str | None = None

    def as_dict(self) -> dict[str, object]:
        return {"ready": self.ready, "reason": self.reason}


def managed_layer(account: SocialAccount, layers: dict[str, Layer]) -> Layer | None:
    """The account's managed-distribution layer with a provider, if any."""
    for layer_id in account.layerIds:
        layer = layers.get(layer_id)
        if layer and layer.templateId == MANAGED_TEMPLATE_ID and layer.config.get("provider"):
            return layer
    return None


def readiness(account: SocialAccount, mode: str, layers: dict[str, Layer]) -> Readiness:
    if account.status != "connected":
        return Readiness(False, f"status:{account.status}")
    if mode == "managed":
        candidates = [layers.get(i) for i in account.layerIds]
        managed = [l for l in candidates if l is not None and l.templateId == MANAGED_TEMPLATE_ID]
        if not managed:
            return Readiness(False, "no_managed_layer")
        if not any(l.config.get("provider") for l in managed):
            return Readiness(False, "no_provider")
        return Readiness(True)
    scope = _REQUIRED_SCOPE.get((account.platform, mode))
    if scope and scope not in account.grantedScopes:
        return Readiness(False, f"missing_scope:{scope}")
    return Readiness(True)


def all_modes(account: SocialAccount, layers: dict[str, Layer]) -> dict[str, dict[str, object]]:
    return {mode: readiness(account, mode, layers).as_dict() for mode in MODES}
