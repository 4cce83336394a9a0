"""bot.engine.semantic on the real model: vectors, verification, fallback and the vector cache."""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import pytest

from bot.engine import semantic
from bot.engine.semantic import DIMENSIONS, Embedder, VectorCache

QUESTION = "How much did China spend on its military?"
ANSWER = (
    "In 2023, China’s military spending reached around $307.8 billion, a 5% increase from the previous year."
)
TOMATOES = "Tomatoes grow best in warm soil with plenty of sun and regular watering."


@pytest.fixture(scope="module")
def model() -> Embedder:
    loaded = Embedder.load()
    assert loaded is not None, "the model should load in the test environment"
    return loaded


class Counting:
    """Passes texts to the real embedder and records each call."""

    def __init__(self, inner: Embedder) -> None:
        self.inner = inner
        self.calls: list[list[str]] = []

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        self.calls.append(list(texts))
        return self.inner.embed(texts)


def _warnings(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "bot.engine.semantic" and r.levelno == logging.WARNING]


def test_vectors_are_unit_rows_of_384_floats(model: Embedder) -> None:
    vectors = model.embed([QUESTION, ANSWER, TOMATOES, ""])
    assert vectors.shape == (4, DIMENSIONS)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    empty = model.embed([])
    assert empty.shape == (0, DIMENSIONS) and empty.dtype == np.float32


def test_batching_and_padding_do_not_change_a_vector(model: Embedder) -> None:
    texts = [ANSWER, "Japan.", QUESTION, TOMATOES * 3, "Who condemned the Freedom Edges exercise?"]
    together = model.embed(texts)
    alone = np.stack([model.embed([text])[0] for text in texts])
    np.testing.assert_allclose(together, alone, atol=1e-5)


def test_the_fused_layers_compute_what_the_exported_ones_do(
    monkeypatch: pytest.MonkeyPatch, model: Embedder
) -> None:
    texts = [QUESTION, ANSWER, TOMATOES, "Japan.", "Who condemned the Freedom Edges exercise?"]
    fused = semantic.int8_graph(semantic._source_bytes())
    monkeypatch.setattr(semantic, "_fuse_layers", lambda nodes, graph: nodes)
    monkeypatch.setattr(
        semantic, "derived_graph", lambda cache_dir=None: semantic.int8_graph(semantic._source_bytes())
    )
    exported = Embedder.load()
    assert exported is not None
    ops = {node.op_type for node in onnx.load_from_string(fused).graph.node}
    assert "MultiHeadAttention" in ops and "Gelu" in ops and "Softmax" not in ops and "Erf" not in ops
    cosines = np.sum(model.embed(texts) * exported.embed(texts), axis=1)
    assert cosines.min() > 0.9995, cosines


def test_a_paraphrase_is_closer_than_an_unrelated_sentence(model: Embedder) -> None:
    question, answer, tomatoes = model.embed([QUESTION, ANSWER, TOMATOES])
    assert question @ answer > question @ tomatoes
    beijing = model.embed(["what did beijing pay for its army"])[0]
    assert beijing @ answer > beijing @ tomatoes


def test_texts_are_truncated_at_256_tokens(model: Embedder) -> None:
    long = " ".join([ANSWER] * 20)  # about 600 tokens
    assert len(model._tokenizer.encode(long).ids) == semantic.MAX_TOKENS
    same, longer = model.embed([long, long + " " + TOMATOES])
    np.testing.assert_allclose(same, longer, atol=1e-6)


@pytest.mark.parametrize(
    ("constant", "value"), [("MODEL_SHA256", "0" * 64), ("TOKENIZER_SHA256", "0" * 64), ("MODEL_SIZE", 1)]
)
def test_a_wrong_hash_or_size_disables_with_one_warning(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, constant: str, value: object
) -> None:
    monkeypatch.setattr(semantic, constant, value)
    with caplog.at_level(logging.WARNING):
        assert Embedder.load() is None
    (warning,) = _warnings(caplog)
    assert "expected" in warning.getMessage()


@pytest.mark.parametrize("module", ["onnxruntime", "tokenizers", "onnx", semantic.MODEL_PACKAGE])
def test_a_missing_package_disables_with_one_warning(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, module: str
) -> None:
    monkeypatch.setitem(sys.modules, module, None)  # import and find_spec now fail as if not installed
    with caplog.at_level(logging.WARNING):
        assert Embedder.load() is None
    (warning,) = _warnings(caplog)
    assert "not installed" in warning.getMessage()


def _derived_files(directory: Path) -> tuple[Path, Path]:
    (model,) = directory.glob("minilm-*.onnx")
    return model, model.with_suffix(".json")


def test_the_derived_graph_is_kept_and_gives_the_same_vectors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, model: Embedder
) -> None:
    texts = [QUESTION, ANSWER, TOMATOES, "Japan."]
    expected = model.embed(texts)  # the fixture derived its graph in memory
    with caplog.at_level(logging.WARNING):
        first = Embedder.load(cache_dir=tmp_path)
    assert first is not None and not _warnings(caplog)
    derived, sidecar = _derived_files(tmp_path)
    record = json.loads(sidecar.read_text())
    assert record["source_sha256"] == semantic.MODEL_SHA256
    assert record["sha256"] == hashlib.sha256(derived.read_bytes()).hexdigest()

    def no_rewrite(source: bytes) -> bytes:
        raise AssertionError("the kept graph should be used")

    monkeypatch.setattr(semantic, "int8_graph", no_rewrite)
    again = Embedder.load(cache_dir=tmp_path)
    assert again is not None
    np.testing.assert_array_equal(first.embed(texts), expected)
    np.testing.assert_array_equal(again.embed(texts), expected)


def _truncate(derived: Path, sidecar: Path) -> None:
    derived.write_bytes(derived.read_bytes()[:1000])


def _flip_a_byte(derived: Path, sidecar: Path) -> None:
    data = bytearray(derived.read_bytes())
    data[len(data) // 2] ^= 0xFF
    derived.write_bytes(bytes(data))


def _garbage_sidecar(derived: Path, sidecar: Path) -> None:
    sidecar.write_text("{not json")


def _stale_rewrite(derived: Path, sidecar: Path) -> None:
    record = json.loads(sidecar.read_text())
    sidecar.write_text(json.dumps({**record, "rewrite": record["rewrite"] - 1}))


def _other_source(derived: Path, sidecar: Path) -> None:
    record = json.loads(sidecar.read_text())
    sidecar.write_text(json.dumps({**record, "source_sha256": "0" * 64}))


def _no_sidecar(derived: Path, sidecar: Path) -> None:
    sidecar.unlink()


@pytest.fixture(scope="module")
def kept(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A cache directory holding a derived graph and its sidecar (copy it before damaging it)."""
    directory = tmp_path_factory.mktemp("kept")
    assert Embedder.load(cache_dir=directory) is not None
    return directory


@pytest.mark.parametrize("damage", [_truncate, _flip_a_byte, _garbage_sidecar, _stale_rewrite, _other_source])
def test_a_corrupt_or_stale_derived_graph_is_rebuilt_with_one_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, model: Embedder, kept: Path, damage: Any
) -> None:
    for path in _derived_files(kept):
        shutil.copy(path, tmp_path / path.name)
    derived, sidecar = _derived_files(tmp_path)
    good = derived.read_bytes()
    damage(derived, sidecar)
    with caplog.at_level(logging.WARNING):
        rebuilt = Embedder.load(cache_dir=tmp_path)
    assert rebuilt is not None
    (warning,) = _warnings(caplog)
    assert "deriving it again" in warning.getMessage()
    assert derived.read_bytes() == good
    assert json.loads(sidecar.read_text())["sha256"] == hashlib.sha256(good).hexdigest()
    np.testing.assert_array_equal(rebuilt.embed([QUESTION, ANSWER]), model.embed([QUESTION, ANSWER]))


def test_a_damaged_derived_graph_is_logged_once_per_file(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, kept: Path
) -> None:
    for path in _derived_files(kept):
        shutil.copy(path, tmp_path / path.name)
    derived, sidecar = _derived_files(tmp_path)
    with caplog.at_level(logging.WARNING):
        for _ in range(2):
            _no_sidecar(derived, sidecar)
            assert Embedder.load(cache_dir=tmp_path) is not None
            assert sidecar.is_file()
    assert len(_warnings(caplog)) == 1


def test_a_kept_graph_does_not_bypass_the_pinned_model_hash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    assert Embedder.load(cache_dir=tmp_path) is not None
    monkeypatch.setattr(semantic, "MODEL_SHA256", "0" * 64)  # as if the package's model had changed
    with caplog.at_level(logging.WARNING):
        assert Embedder.load(cache_dir=tmp_path) is None
    assert "expected " + "0" * 64 in _warnings(caplog)[-1].getMessage()


def test_a_kept_graph_does_not_stand_in_for_a_missing_model_package(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    assert Embedder.load(cache_dir=tmp_path) is not None  # the graph is now kept in tmp_path
    monkeypatch.setattr(semantic, "model_path", lambda: None)
    with caplog.at_level(logging.WARNING):
        assert Embedder.load(cache_dir=tmp_path) is None
    assert "is not installed" in _warnings(caplog)[-1].getMessage()


def test_an_unwritable_cache_directory_costs_only_the_rewrite(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, model: Embedder
) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_text("not a directory")
    with caplog.at_level(logging.WARNING):
        loaded = Embedder.load(cache_dir=blocked / "cache")
    assert loaded is not None
    (warning,) = _warnings(caplog)
    assert "could not write derived model" in warning.getMessage()
    np.testing.assert_array_equal(loaded.embed([QUESTION]), model.embed([QUESTION]))


def test_embedder_loads_once_across_threads(monkeypatch: pytest.MonkeyPatch, model: Embedder) -> None:
    loads: list[int] = []

    def load(**options: object) -> Embedder:
        loads.append(1)
        return model

    monkeypatch.setattr(semantic, "_loaded", False)
    monkeypatch.setattr(semantic, "_embedder", None)
    monkeypatch.setattr(semantic.Embedder, "load", staticmethod(load))
    seen: list[Embedder | None] = []
    threads = [threading.Thread(target=lambda: seen.append(semantic.embedder())) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert loads == [1]
    assert seen == [model] * 8


def test_vector_cache_embeds_only_new_texts(tmp_path: Path, model: Embedder) -> None:
    counting = Counting(model)
    cache = VectorCache(tmp_path)
    first = cache.vectors([QUESTION, ANSWER, QUESTION], counting)
    assert counting.calls == [[QUESTION, ANSWER]]
    np.testing.assert_allclose(first, model.embed([QUESTION, ANSWER, QUESTION]), atol=1e-6)

    second = cache.vectors([TOMATOES, ANSWER], counting)
    assert counting.calls[1:] == [[TOMATOES]]
    np.testing.assert_allclose(second[1], first[1])

    reopened = Counting(model)
    again = VectorCache(tmp_path).vectors([ANSWER, TOMATOES, QUESTION], reopened)
    assert reopened.calls == []
    np.testing.assert_allclose(again, model.embed([ANSWER, TOMATOES, QUESTION]), atol=1e-6)
    assert VectorCache(tmp_path).vectors([], reopened).shape == (0, DIMENSIONS)


@pytest.mark.parametrize("garbage", [b"", b"not a numpy file", b"\x93NUMPY\x01\x00truncated"])
def test_vector_cache_survives_a_corrupt_file(
    tmp_path: Path, model: Embedder, caplog: pytest.LogCaptureFixture, garbage: bytes
) -> None:
    cache = VectorCache(tmp_path)
    cache.path.write_bytes(garbage)
    counting = Counting(model)
    with caplog.at_level(logging.WARNING):
        vectors = cache.vectors([QUESTION, ANSWER], counting)
        VectorCache(tmp_path).vectors([QUESTION], counting)  # rewritten: reads back, no new warning
    assert counting.calls == [[QUESTION, ANSWER]]
    assert vectors.shape == (2, DIMENSIONS)
    assert len(_warnings(caplog)) == 1


def test_vector_cache_keys_depend_on_the_model(monkeypatch: pytest.MonkeyPatch) -> None:
    key = semantic.cache_key(QUESTION)
    assert len(key) == 20 and key != semantic.cache_key(ANSWER)
    monkeypatch.setattr(semantic, "MODEL_NAME", "another-model")
    assert semantic.cache_key(QUESTION) != key


def test_question_words_the_articles_use_are_not_embedded_again(repo_root: Path, model: Embedder) -> None:
    from bot.engine.engine import Engine

    assert model.uncased  # the model's tokenizer lower-cases: "Defense" and "defense" are one text to it
    engine = Engine.load(repo_root / "facts", semantic=False)
    counting = Counting(model)
    counting.uncased = True  # type: ignore[attr-defined]
    engine.use_embeddings(counting, None)
    counting.calls.clear()
    question = "How much did Japan spend on Defense in 2023, zorbleflux?"
    words = [t.surface.lower() for t in engine.index.query_terms(question)]
    index_words = {text.lower() for text in engine.index.term_texts()}
    assert "defense" in words and "defense" in index_words and "zorbleflux" not in index_words
    engine.candidates(question)
    assert counting.calls[0] == [question]
    assert counting.calls[1:] == [[w for w in words if w not in index_words]]
    # The same features as when every word is run through the model.
    plain = Engine.load(repo_root / "facts", semantic=False)
    plain.use_embeddings(Counting(model), None)  # not known to be uncased: embeds every word
    np.testing.assert_allclose(
        engine.candidates(question).features, plain.candidates(question).features, atol=1e-5
    )


def test_the_span_selector_is_told_how_close_each_word_is_to_the_question(
    repo_root: Path, model: Embedder
) -> None:
    from bot.engine import Engine

    engine = Engine.load(repo_root / "facts", semantic=False)
    found = engine.candidates("How much did China spend on its army?")
    assert engine._closeness(found.word_vectors) is None  # lexical-only: exact matches alone
    engine.use_embeddings(model, None)
    found = engine.candidates("How much did China spend on its army?")
    closeness = engine._closeness(found.word_vectors)
    assert closeness is not None
    military, treaty, unknown = closeness(["military", "treaty", "zorbleflux"])
    assert 0.0 < treaty < military <= 1.0
    assert unknown == 0.0
