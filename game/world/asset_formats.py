"""Asset file formats: a file's bytes and a resource's layout in, the resource's value out.

What a file becomes follows from its suffix and the resource's fields, as components.zig
declares them (see game/world/assets.py for the formats and the store that uses these).
Every refusal is an AssetError whose message says what is wrong and what to do; the store
puts the file's name in front and what stays in use after it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from game.world.schema import ComponentSpec, DType, FieldSpec

ImageLoader = Callable[[bytes, str], npt.NDArray[np.uint32]]
"""Decodes an image file's bytes (the name hints at the format) into a (height, width) array
of 0xAARRGGBB; raises ValueError saying why it cannot."""

MAX_BYTES = 4 << 20
"""Bigger files are refused: they are read between two frames, on the game's thread."""


class AssetError(ValueError):
    """A file that cannot be used: the message says what is wrong and what to do."""


def decode(path: Path, spec: ComponentSpec, load_image: ImageLoader) -> np.ndarray:
    """The value of resource `spec` from the file at `path`, by its suffix. Raises AssetError
    saying what is wrong: the file cannot be read, is too big, is not valid JSON or not an
    image, does not have the shape the resource needs, or has more entries than it holds."""
    suffix = path.suffix.lower()
    if suffix not in (".json", ".png"):
        raise AssetError(f"{suffix or 'no suffix'} is not an asset format; use .json (a table) or .png (an image)")
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise AssetError(f"the file is {size:,} bytes, more than {MAX_BYTES:,}; make it smaller")
        data = path.read_bytes()
    except OSError as exc:
        raise AssetError(f"cannot read the file: {exc.strerror or exc}; save it there") from None
    if suffix == ".json":
        return table(data, spec)
    names = {f.name for f in spec.fields}
    if {"width", "height", "pixels"} <= names:
        return sprite(_image(data, path.name, load_image), spec)
    if {"count", "rgb"} <= names:
        return palette(_image(data, path.name, load_image), spec)
    raise AssetError(
        f"{spec.name} takes no image: a PNG fills a sprite (width, height, pixels) or a palette (count, rgb)"
    )


def _image(data: bytes, name: str, load_image: ImageLoader) -> npt.NDArray[np.uint32]:
    try:
        pixels = load_image(data, name)
    except ValueError as exc:
        raise AssetError(f"cannot decode the image ({exc}); save it as a PNG") from None
    if pixels.ndim != 2 or pixels.size == 0:
        raise AssetError(f"the image has no pixels (shape {pixels.shape}); save it again")
    return pixels


def _empty(spec: ComponentSpec) -> np.ndarray:
    value = np.zeros(1, dtype=spec.payload_dtype())
    for f in spec.fields:
        value[f.name] = f.default
    return value


def _array(spec: ComponentSpec, name: str, dtype: DType) -> FieldSpec:
    """Field `name` of `spec`, which must be an array of `dtype`; AssetError otherwise."""
    f = spec.field(name)
    if f.dtype != dtype or f.width < 2:
        raise AssetError(f"{spec.name}.{name} is {f.describe()} in components.zig; it must be [N]{dtype.label}")
    return f


def palette(pixels: npt.NDArray[np.uint32], spec: ComponentSpec) -> np.ndarray:
    """A palette: the top row of `pixels`, one colour (0x00RRGGBB) each, into `count` and `rgb`."""
    rgb = _array(spec, "rgb", DType.U32)
    colours = pixels[0]
    if len(colours) > rgb.width:
        raise AssetError(
            f"{len(colours)} colours (pixels across), {spec.name} holds at most {rgb.width}; make the strip narrower"
        )
    value = _empty(spec)
    value["count"] = len(colours)
    value["rgb"][0, : len(colours)] = colours & 0xFFFFFF
    return value


def sprite(pixels: npt.NDArray[np.uint32], spec: ComponentSpec) -> np.ndarray:
    """A sprite: `pixels` (0xAARRGGBB) row by row into `pixels`, with `width` and `height`."""
    room = _array(spec, "pixels", DType.U32)
    height, width = pixels.shape
    if width * height > room.width:
        raise AssetError(
            f"the image is {width}x{height}, {width * height:,} pixels; {spec.name} holds at most "
            f"{room.width:,} (components.zig); make it smaller"
        )
    value = _empty(spec)
    value["width"], value["height"] = width, height
    value["pixels"][0, : width * height] = pixels.reshape(-1)
    return value


def table(data: bytes, spec: ComponentSpec) -> np.ndarray:
    """A table: top-level numbers into the fields of their names, rows into the array fields
    (see the module's docstring)."""
    columns = [f for f in spec.fields if f.width > 1]
    scalars = [f for f in spec.fields if f.width == 1 and f.name != "count"]
    if "count" not in {f.name for f in spec.fields} or not columns:
        raise AssetError(f"{spec.name} is not a table: a JSON file fills a resource with `count` and array fields")
    try:
        doc = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise AssetError(f"not UTF-8 text (byte {exc.start}); save it as UTF-8") from None
    except json.JSONDecodeError as exc:
        raise AssetError(f"not valid JSON: line {exc.lineno} column {exc.colno}: {exc.msg}; fix it and save") from None
    key = spec.name.lower()
    if not isinstance(doc, dict):
        raise AssetError(f'the file holds {_kind(doc)}; it must be an object: {{"{key}": [{{...}}, ...]}}')
    _keys(doc, {f.name for f in scalars} | {key}, "the file")
    rows = doc.get(key)
    if not isinstance(rows, list) or not rows:
        raise AssetError(f'no rows: "{key}" must be a list of at least one row, [{{...}}, ...]')
    limit = min(f.width for f in columns)
    if len(rows) > limit:
        raise AssetError(
            f'{len(rows)} rows in "{key}", {spec.name} holds at most {limit} (components.zig); remove some'
        )
    value = _empty(spec)
    value["count"] = len(rows)
    for f in scalars:
        value[f.name] = _number(doc[f.name], f, "the file")
    for i, row in enumerate(rows):
        where = f'row {i + 1} of "{key}"'
        if not isinstance(row, dict):
            raise AssetError(f"{where} is {_kind(row)}; it must be an object of {_names(columns)}")
        _keys(row, {f.name for f in columns}, where)
        for f in columns:
            value[f.name][0, i] = _number(row[f.name], f, where)
    return value


def _keys(obj: dict[str, Any], expected: set[str], where: str) -> None:
    unknown = sorted(set(obj) - expected)
    if unknown:
        raise AssetError(f'{where}: unknown key "{unknown[0]}"; the keys are {_names(expected)}')
    missing = sorted(expected - set(obj))
    if missing:
        raise AssetError(f'{where}: no "{missing[0]}"; the keys are {_names(expected)}')


def _names(fields: Any) -> str:
    return ", ".join(sorted(f if isinstance(f, str) else f.name for f in fields))


def _kind(v: object) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "true/false"}.get(type(v), repr(v))


_LARGEST = {DType.F32: float(np.finfo(np.float32).max), DType.F64: float(np.finfo(np.float64).max)}
"""The largest finite value of each float field (NaN and infinity are not below it)."""


def _show(v: object) -> str:
    text = json.dumps(v)
    return text if len(text) <= 40 else text[:37] + "..."


def _number(v: object, f: FieldSpec, where: str) -> float | int:
    """`v` as a value of field `f`; AssetError naming the place when it is not one."""
    if f.dtype in (DType.F32, DType.F64):
        if isinstance(v, int | float) and not isinstance(v, bool) and abs(v) <= _LARGEST[f.dtype]:
            return float(v)
        raise AssetError(f'{where}: "{f.name}" must be a number, not {_show(v)}')
    if f.dtype == DType.ENTITY:
        raise AssetError(f'{where}: "{f.name}" is an entity id; ids cannot come from a file')
    info = np.iinfo(f.dtype.numpy)  # type: ignore[type-var]
    whole = isinstance(v, int) and not isinstance(v, bool)
    if isinstance(v, float) and v.is_integer():
        v, whole = int(v), True
    if whole and info.min <= v <= info.max:  # type: ignore[operator]
        return v  # type: ignore[return-value]
    raise AssetError(f'{where}: "{f.name}" must be a whole number from {info.min} to {info.max}, not {_show(v)}')
