from datetime import datetime, timezone

from layers_shared.store import stash_store


def test_pieces_rejoin_exactly_and_never_split_a_character():
    text = "a" + "\U0001F600" * 200_000 + "\u00e9" * 3
    pieces = stash_store._pieces(text)
    assert len(pieces) > 1 and "".join(pieces) == text
    assert all(len(p.encode("utf-8")) <= stash_store.CHUNK_BYTES for p in pieces)


def test_a_small_stash_stays_inline_and_a_large_one_keeps_only_ids():
    now = datetime(2026, 5, 1, tzinfo=timezone.utc)
    small = {"scheduledFor": "x", "targets": [{"scheduledPostId": "sp_1", "mode": "publish"}]}
    assert stash_store.split("cnt_1", small, now) == (small, [])
    large = {"scheduledFor": "x", "targets": [{"scheduledPostId": f"sp_{i}", "captionOverride": "\u00e9" * 4000}
                                              for i in range(50)]}
    inline, chunks = stash_store.split("cnt_1", large, now)
    assert [t["scheduledPostId"] for t in inline["targets"]] == [f"sp_{i}" for i in range(50)]
    assert "captionOverride" not in inline["targets"][0] and inline["targetsChunks"] == len(chunks) >= 2
    assert all(c["PK"].startswith("STASH#cnt_1#") and c["expiresAt"] > 0 for c in chunks)
