"""Tests for core.catalogue: the three constraint shapes, tolerance, the cache and fallbacks."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.catalogue import (
    DEMO_MODEL_ID,
    FALLBACK_MODELS,
    CatalogueCache,
    ModelInfo,
    ParamRule,
    choose_models,
    find_model,
    parse_catalogue,
)
from core.demo_gateway.models import catalogue_json


def _item(**detail: Any) -> dict[str, Any]:
    """A catalogue item with the given supported_params_detail."""
    return {
        "model": "vendor/model",
        "name": "Model",
        "status": "active",
        "supported_params": ["prompt", *detail],
        "supported_params_detail": detail,
    }


def _one(item: dict[str, Any]) -> ModelInfo:
    models = parse_catalogue({"object": "list", "data": [item]})
    assert len(models) == 1
    return models[0]


class Clock:
    """A settable clock for cache tests."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


# --- the three shapes ------------------------------------------------------------------------


def test_enum_shape() -> None:
    model = _one(_item(duration={"type": "enum", "values": [4, 6, 8]}))
    rule = model.durations
    assert rule is not None
    assert rule.kind == "enum"
    assert rule.choices == (4, 6, 8)
    assert rule.describe() == "4, 6 or 8"
    assert rule.options() == [4, 6, 8]
    assert rule.allows(6) and rule.allows(6.0)
    assert not rule.allows(5) and not rule.allows(True) and not rule.allows(None)


def test_string_enum_shape_with_default() -> None:
    model = _one(_item(resolution={"type": "string", "enum": ["720p", "1080p"], "default": "720p"}))
    rule = model.resolutions
    assert rule == ParamRule(
        name="resolution", choices=("720p", "1080p"), default="720p", kind="enum"
    )
    assert rule.describe() == "720p or 1080p"
    assert rule.allows("1080p")
    assert not rule.allows("4k")


def test_number_shape() -> None:
    model = _one(_item(duration={"type": "number", "min": 1, "max": 20}))
    rule = model.durations
    assert rule is not None
    assert rule.kind == "range"
    assert (rule.minimum, rule.maximum) == (1, 20)
    assert rule.describe() == "between 1 and 20"
    assert rule.options() == list(range(1, 21))
    assert rule.allows(1) and rule.allows(20)
    assert not rule.allows(0) and not rule.allows(21)
    assert not rule.allows(2.5)  # durations are whole seconds
    assert not rule.allows("abc")


def test_range_describe_variants_and_large_ranges_have_no_options() -> None:
    seed = ParamRule(name="seed", minimum=0, maximum=4294967295, kind="range", integer=True)
    assert seed.describe() == "between 0 and 4,294,967,295"
    assert seed.options() == []
    assert ParamRule(name="x", minimum=2, kind="range").describe() == "at least 2"
    assert ParamRule(name="x", maximum=2.5, kind="range").describe() == "at most 2.5"
    assert ParamRule(name="x", kind="range").describe() == "any number"
    assert ParamRule(name="x", minimum=0.5, maximum=2.5, kind="range").options() == []


def test_single_choice_and_boolean_and_free_descriptions() -> None:
    assert ParamRule(name="aspect_ratio", choices=("16:9",), kind="enum").describe() == "16:9"
    switch = ParamRule(name="generate_audio", kind="boolean")
    assert switch.describe() == "on or off"
    assert switch.options() == [False, True]
    assert switch.allows(True) and not switch.allows(1)
    text = ParamRule(name="negative_prompt", kind="free", max_length=2000)
    assert text.describe() == "up to 2,000 characters"
    assert text.allows("x" * 2000) and not text.allows("x" * 2001)
    assert ParamRule(name="other").describe() == "any value"


# --- aliases and type variations -------------------------------------------------------------


def test_duration_alias_seconds_in_detail() -> None:
    model = _one(
        _item(duration={"type": "enum", "values": [4, 8], "aliases": ["seconds"], "default": 8})
    )
    rule = model.rule("seconds")
    assert rule is not None and rule is model.rule("duration")
    assert rule.aliases == ("seconds",)
    assert rule.default == 8
    assert model.supports("seconds") and model.supports("duration")


def test_catalogue_listing_only_seconds_maps_to_duration() -> None:
    item = {
        "model": "openai/sora-2",
        "supported_params": ["prompt", "seconds", "size"],
        "supported_params_detail": {
            "seconds": {"type": "string", "enum": ["4", "8", "12"], "default": "4"},
            "size": {"type": "string", "enum": ["1280x720", "720x1280"]},
        },
    }
    model = _one(item)
    assert "duration" in model.supported and "seconds" not in model.supported
    rule = model.durations
    assert rule is not None
    assert rule.choices == (4, 8, 12)  # string-valued numbers became numbers
    assert rule.default == 4
    assert "seconds" in rule.aliases
    assert rule.allows(8) and rule.describe() == "4, 8 or 12"


def test_duration_wins_over_seconds_when_both_listed() -> None:
    model = _one(
        _item(
            seconds={"type": "string", "enum": ["4", "8", "12", "16", "20"]},
            duration={"type": "enum", "values": [4, 6, 8]},
        )
    )
    assert model.durations is not None
    assert model.durations.choices == (4, 6, 8)


def test_string_valued_numbers_everywhere() -> None:
    model = _one(
        _item(
            duration={"type": "enum", "values": ["4", "6.0", 8, "junk", None, True, 4]},
            sample_count={"type": "number", "min": "1", "max": "2"},
        )
    )
    assert model.durations is not None and model.durations.choices == (4, 6, 8)
    count = model.rule("sample_count")
    assert count is not None and (count.minimum, count.maximum) == (1, 2)
    assert count.describe() == "between 1 and 2"


def test_missing_detail_gives_rules_from_supported_params_only() -> None:
    item = {
        "model": "vendor/bare",
        "supported_params": [
            "prompt",
            "duration",
            "aspect_ratio",
            "seed",
            "generate_audio",
            "sample_count",
        ],
    }
    model = _one(item)
    assert model.supported == frozenset(
        {"prompt", "duration", "aspect_ratio", "seed", "generate_audio", "sample_count"}
    )
    assert model.durations is not None and model.durations.describe() == "between 1 and 120"
    assert model.aspect_ratios is not None and model.aspect_ratios.kind == "free"
    assert model.rule("generate_audio") == ParamRule(name="generate_audio", kind="boolean")
    sample = model.rule("sample_count")
    assert sample is not None and sample.describe() == "between 1 and 4"
    assert not model.supports("negative_prompt")
    assert model.rule("negative_prompt") is None
    assert model.name == "vendor/bare"  # no name: the id stands in
    assert model.status is None


def test_partial_range_is_completed_from_api_limits_and_swapped_bounds_fixed() -> None:
    model = _one(_item(duration={"type": "number", "min": 2}, sample_count={"min": 4, "max": 1}))
    assert model.durations is not None and model.durations.describe() == "between 2 and 120"
    sample = model.rule("sample_count")
    assert sample is not None and sample.describe() == "between 1 and 4"


def test_model_aliases_and_find_model() -> None:
    item = _item()
    item["model"] = "google/veo-3.1-lite-preview"
    item["aliases"] = ["google/veo-lite-latest", 7, "google/veo-3.1-lite-preview"]
    model = _one(item)
    assert model.aliases == ("google/veo-lite-latest",)
    assert find_model([model], "Google/Veo-Lite-Latest") is model
    assert find_model([model], " google/veo-3.1-lite-preview ") is model
    assert find_model([model], "google/veo-3.1-lite") is None


def test_size_only_models_offer_every_listed_size_and_no_aspect_ratio() -> None:
    model = _one(
        _item(
            size={
                "type": "string",
                "enum": ["1280x720", "720x1280", "1792x1024", "1024x1792", "1024x1024"],
                "default": "720x1280",
            }
        )
    )
    assert model.size_only and model.aspect_ratios is None
    rule = model.sizes
    assert rule is not None
    # 1280x720 and 1792x1024 are both 16:9: each is still a choice of its own.
    assert rule.choices == ("1280x720", "720x1280", "1792x1024", "1024x1792", "1024x1024")
    assert rule.default == "720x1280"
    assert model.size_label("1792x1024") == "1792x1024 (16:9)"


def test_listed_aspect_ratio_beats_sizes() -> None:
    model = _one(
        _item(
            aspect_ratio={"type": "string", "enum": ["16:9"]},
            size={"type": "string", "enum": ["1280x720", "720x1280"]},
        )
    )
    assert model.aspect_ratios is not None and model.aspect_ratios.choices == ("16:9",)
    assert not model.size_only


def test_pricing_raw_and_status_kept() -> None:
    item = _item()
    item["pricing"] = {"per_second": "0.05"}
    model = _one(item)
    assert model.pricing == {"per_second": "0.05"}
    assert model.raw is item or model.raw == item
    assert model.status == "active"
    assert not model.fallback
    hash(model)  # usable in sets and as dict keys


def test_demo_gateway_catalogue_parses() -> None:
    models = parse_catalogue(catalogue_json())
    demo = find_model(models, DEMO_MODEL_ID)
    assert demo is not None
    assert demo.durations is not None and demo.durations.describe() == "between 1 and 20"
    assert demo.aspect_ratios is not None
    assert demo.aspect_ratios.choices == ("16:9", "9:16", "1:1")
    veo = find_model(models, "google/veo-3.1-lite-preview")
    assert veo is not None and veo.durations is not None
    assert veo.durations.choices == (4, 6, 8)
    negative = veo.rule("negative_prompt")
    assert negative is not None and negative.max_length == 2000


# --- garbage in --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "document",
    [
        None,
        42,
        "models",
        [],
        {},
        {"data": None},
        {"data": "x"},
        {"data": [None, 1, "x", [], {}]},
        {"data": [{"model": ""}, {"model": 5}, {"model": None, "id": "  "}]},
        {"data": [{"model": "a", "supported_params": "duration"}]},
        {"data": [{"model": "a", "supported_params_detail": {"duration": [1, 2]}}]},
        {"data": [{"model": "a", "supported_params_detail": {"duration": {"values": {}}}}]},
        {"data": [{"model": "a", "supported_params_detail": {"": {"type": "enum"}}}]},
        {"data": [{"model": "a", "supported_params_detail": {"x": {"min": float("nan")}}}]},
        {"data": [{"model": "a", "supported_params_detail": {"x": {"type": ["enum"]}}}]},
    ],
)
def test_malformed_documents_never_raise(document: object) -> None:
    models = parse_catalogue(document)
    assert all(isinstance(m, ModelInfo) and m.id for m in models)


def test_malformed_items_are_skipped_and_duplicates_dropped() -> None:
    document = {
        "data": [
            "not an object",
            {"name": "no id"},
            {"model": "a/one", "name": "first"},
            {"model": "a/one", "name": "second"},
            {"id": "b/two"},
        ]
    }
    models = parse_catalogue(document)
    assert [(m.id, m.name) for m in models] == [("a/one", "first"), ("b/two", "b/two")]


def test_bare_list_and_models_key_accepted() -> None:
    assert [m.id for m in parse_catalogue([{"model": "a/b"}])] == ["a/b"]
    assert [m.id for m in parse_catalogue({"models": [{"model": "a/b"}]})] == ["a/b"]


_json = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=12)
    | st.sampled_from(["enum", "string", "number", "boolean", "4", "1280x720", "seconds"]),
    lambda children: (
        st.lists(children, max_size=5)
        | st.dictionaries(
            st.sampled_from(
                [
                    "model",
                    "id",
                    "name",
                    "data",
                    "type",
                    "values",
                    "enum",
                    "min",
                    "max",
                    "default",
                    "aliases",
                    "supported_params",
                    "supported_params_detail",
                    "duration",
                    "seconds",
                    "size",
                    "aspect_ratio",
                    "max_length",
                ]
            )
            | st.text(max_size=8),
            children,
            max_size=6,
        )
    ),
    max_leaves=40,
)


@settings(max_examples=300, deadline=None)
@given(_json)
def test_arbitrary_json_never_raises(document: object) -> None:
    models = parse_catalogue(document)
    for model in models:
        for name in ("duration", "aspect_ratio", "resolution", "seed", "sample_count"):
            rule = model.rule(name)
            if rule is not None:
                rule.describe()
                rule.options()
                rule.allows(8)
                rule.allows("16:9")
        model.aspect_ratios  # noqa: B018 - the derivation must not raise either


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.text(max_size=10), _json, max_size=6))
def test_arbitrary_detail_never_raises(detail: dict[str, Any]) -> None:
    document = {"data": [{"model": "m", "supported_params_detail": {"duration": detail}}]}
    (model,) = parse_catalogue(document)
    if model.durations is not None:
        model.durations.describe()
        model.durations.options()


# --- fallback list -------------------------------------------------------------------------------


def test_fallback_models_are_flagged_and_match_the_api_table() -> None:
    assert all(m.fallback for m in FALLBACK_MODELS)
    by_id = {m.id: m for m in FALLBACK_MODELS}
    assert set(by_id) == {
        "google/veo-3.1-lite-preview",
        "google/veo-3.1-preview",
        "google/veo-3.1-fast-preview",
        "openai/sora-2",
        "openai/sora-2-pro",
        "minimax/hailuo-02",
        "minimax/hailuo-2.3",
    }
    lite = by_id["google/veo-3.1-lite-preview"]
    assert lite.aliases == ("google/veo-lite-latest",)
    assert lite.durations is not None and lite.durations.describe() == "4, 6 or 8"
    assert lite.aspect_ratios is not None and lite.aspect_ratios.describe() == "16:9 or 9:16"
    assert lite.resolutions is not None and lite.resolutions.describe() == "720p or 1080p"
    for name in ("negative_prompt", "seed", "generate_audio", "sample_count"):
        assert lite.supports(name)
    sample = lite.rule("sample_count")
    assert sample is not None and sample.describe() == "between 1 and 4"
    fast = by_id["google/veo-3.1-fast-preview"]
    assert fast.resolutions is not None and fast.resolutions.choices == ("720p", "1080p", "4k")
    for sora_id in ("openai/sora-2", "openai/sora-2-pro"):
        sora = by_id[sora_id]
        assert sora.durations is not None and sora.durations.choices == (4, 8, 12)
        assert sora.size_only and sora.aspect_ratios is None
        assert sora.sizes is not None and "720x1280" in sora.sizes.choices
        assert not sora.supports("resolution") and not sora.supports("negative_prompt")
    for hailuo_id in ("minimax/hailuo-02", "minimax/hailuo-2.3"):
        hailuo = by_id[hailuo_id]
        assert hailuo.durations is not None and hailuo.durations.choices == (6, 10)
        assert hailuo.resolutions is not None
        assert hailuo.resolutions.choices == ("768P", "1080P")
        assert hailuo.aspect_ratios is not None and hailuo.aspect_ratios.choices == ("16:9",)
    assert DEMO_MODEL_ID not in by_id


# --- cache and source choice -------------------------------------------------------------------


def test_cache_store_load_and_ttl(tmp_path: Path) -> None:
    clock = Clock(1_000_000.0)
    cache = CatalogueCache(tmp_path / "sub" / "catalogue.json", ttl_seconds=3600, clock=clock)
    assert cache.load() is None and cache.fresh() is None
    stored = cache.store(catalogue_json())
    assert DEMO_MODEL_ID in [m.id for m in stored]
    loaded = cache.load()
    assert loaded is not None
    assert [m.id for m in loaded[0]] == [m.id for m in stored]
    assert loaded[1] == 1_000_000.0
    # the raw document is what is kept on disk
    on_disk = json.loads((tmp_path / "sub" / "catalogue.json").read_text(encoding="utf-8"))
    assert on_disk["document"] == catalogue_json()
    clock.now += 3599
    assert cache.fresh() is not None
    clock.now += 1
    assert cache.fresh() is None
    assert cache.load() is not None  # stale but still loadable for offline use
    clock.now = 999_000.0  # the clock went backwards: not trusted as fresh
    assert cache.fresh() is None
    assert list(tmp_path.joinpath("sub").iterdir()) == [tmp_path / "sub" / "catalogue.json"]


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"{not json",
        b"\xff\xfe\x00garbage",
        b"[]",
        b'{"fetched_at": "yesterday", "document": {"data": [{"model": "a"}]}}',
        b'{"fetched_at": 5, "document": {"data": []}}',
        b'{"fetched_at": 5}',
        b"[" * 100_000,
    ],
)
def test_corrupt_cache_is_none(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "catalogue.json"
    path.write_bytes(content)
    cache = CatalogueCache(path, clock=Clock(10.0))
    assert cache.load() is None
    assert cache.fresh() is None


def test_cache_is_a_directory_is_none(tmp_path: Path) -> None:
    assert CatalogueCache(tmp_path).load() is None


def test_store_of_empty_document_keeps_old_cache(tmp_path: Path) -> None:
    cache = CatalogueCache(tmp_path / "c.json", clock=Clock(100.0))
    cache.store({"data": [{"model": "a/b"}]})
    assert cache.store({"data": []}) == []
    assert cache.store("garbage") == []
    loaded = cache.load()
    assert loaded is not None and [m.id for m in loaded[0]] == ["a/b"]


def test_store_failure_still_returns_models(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    cache = CatalogueCache(blocker / "c.json", clock=Clock(100.0))  # parent is a file
    assert [m.id for m in cache.store({"data": [{"model": "a/b"}]})] == ["a/b"]
    assert cache.load() is None


def test_choose_models_labels() -> None:
    live = parse_catalogue({"data": [{"model": "live/one"}]})
    cached_models = parse_catalogue({"data": [{"model": "cached/one"}]})
    assert choose_models(live, None) == (live, "live")
    assert choose_models(live, (cached_models, 0.0)) == (live, "live")
    now = 100_000.0
    cases = [
        (now - 10, "cached (just now)"),
        (now - 60, "cached (1 minute ago)"),
        (now - 5 * 60, "cached (5 minutes ago)"),
        (now - 3600, "cached (1 hour ago)"),
        (now - 3 * 3600 - 59, "cached (3 hours ago)"),
        (now - 2 * 86400, "cached (2 days ago)"),
        (now + 500, "cached (just now)"),
    ]
    for fetched_at, label in cases:
        assert choose_models(None, (cached_models, fetched_at), now=now) == (cached_models, label)
    # an empty live list is no better than a failed call
    assert choose_models([], (cached_models, now), now=now)[1] == "cached (just now)"
    models, label = choose_models(None, None)
    assert label == "built-in list (offline)"
    assert models == list(FALLBACK_MODELS) and all(m.fallback for m in models)
    assert choose_models([], ([], now))[1] == "built-in list (offline)"
