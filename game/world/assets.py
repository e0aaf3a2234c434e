"""Assets: files under `assets/` that fill resources, read again whenever they are saved.

A scene names the files it uses (`Scene.assets`: resource name -> path under `assets/`).
What a file becomes follows from its suffix and the resource's layout as components.zig
declares it (there is no second description of it here; the decoding is
game/world/asset_formats.py):

- `.json` into a resource with `count` and array fields: a table. Each top-level number
  sets the field of that name; the list named after the resource in lower case holds the
  rows, row i setting element i of every array field (each row names them all); `count` is
  the number of rows. `Waves` <- `assets/arena/waves.json`:
  `{"breather": 1.5, "waves": [{"rocks": 3, "hunters": 0, "min_speed": 30, "max_speed": 76}]}`
- `.png` into a resource with `count` and `rgb`: a palette, one colour per pixel of the
  image's top row, left to right. `Palette` <- `assets/flock/palette.png`.
- `.png` into a resource with `width`, `height` and `pixels` (`sdk.draw.Sprite`): a sprite,
  0xAARRGGBB row by row. `ShipSprite` <- `assets/arena/ship.png`.

Files are read on the main thread at a frame boundary (`AssetStore.apply`, before the
frame's steps), never during a step; the watcher's thread only asks (`request`). A file
that cannot be used leaves the values in use as they were (the resource's defaults if it
never loaded) and says why: the file, what is wrong, what to do. Systems only read these
resources: what one writes there is put back at the next frame boundary, and said once.

Assets are not world data: the files are. The world holds the copy systems read, saved,
checkpointed and rewound like any resource, and whatever puts the world back (a rewind, a
quick load, a scene change, a recovery from a fault) is followed at the next frame
boundary by the files' values again: a rewind replays the past with the files as they are
now, as it does with the code. PNGs are decoded by the app (`ImageLoader`, pygame): this
module does not import pygame.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from game.world.asset_formats import AssetError, ImageLoader, decode
from game.world.schema import ComponentSpec
from game.world.world import World


@dataclass
class Asset:
    """One file in use and what came of it."""

    resource: str
    path: str
    """Under `assets/`, with forward slashes."""
    tried: bool = False
    stat: tuple[int, int, int] | None = None
    """The file's (mtime, size, inode) when it was last read; None when it could not be."""
    spec: ComponentSpec | None = None
    """The resource's layout when the file was last read."""
    value: np.ndarray | None = None
    """The resource's value from the last good read (what stays in use after a bad one)."""
    error: str | None = None
    checked_step: int | None = None
    """The world's step when the resource last held `value` (at the end of an `apply`)."""
    warned: bool = False
    """A system's write to the resource was reported (once)."""


@dataclass
class Applied:
    """What one `AssetStore.apply` did."""

    loaded: list[str] = field(default_factory=list)
    """Files read with new values (or that load again after an error)."""
    failed: list[str] = field(default_factory=list)
    """New errors: the file, what is wrong, what to do."""
    written: list[str] = field(default_factory=list)
    """Resources given the files' values: a file changed, or the world was put back (a rewind,
    a load, a reset) to a copy that holds other values."""
    overwritten: list[str] = field(default_factory=list)
    """What a system wrote to an asset's resource since the last `apply` (steps ran, the file
    did not change), put back to the file's values: said once per resource, the first time."""


class AssetStore:
    """The asset files the current scene uses, their last good values and their errors."""

    def __init__(self, root: Path, load_image: ImageLoader) -> None:
        self.root = root
        self.load_image = load_image
        self._assets: dict[str, Asset] = {}
        self._lock = threading.Lock()
        self._requested = False

    @property
    def assets(self) -> dict[str, Asset]:
        """Resource name -> its asset, for the scene in use."""
        return self._assets

    def use(self, declared: Mapping[str, str]) -> None:
        """Makes `declared` (resource -> path under `assets/`) the assets in use. One already
        in use for the same resource and file keeps its values; every file is looked at
        again at the next `apply` (one may have changed while another scene ran)."""
        kept = {r: a for r, a in self._assets.items() if declared.get(r) == a.path}
        self._assets = {r: kept.get(r) or Asset(r, p) for r, p in declared.items()}
        self.request()

    def request(self, reason: str = "", saved_at: float = 0.0) -> None:
        """Asks the next `apply` to read the files that changed. Any thread may call it (the
        arguments are the watcher's and are not used)."""
        with self._lock:
            self._requested = True

    def problems(self) -> list[str]:
        """Every file in use that failed, and why (for the HUD's error overlay)."""
        return [a.error for a in self._assets.values() if a.error]

    def apply(self, world: World) -> Applied:
        """Reads what is due (files never read, files changed since a `request`, files whose
        resource components.zig changed) and writes every asset's values into its resource
        where the world holds something else. Call it between steps, on the main thread."""
        with self._lock:
            requested, self._requested = self._requested, False
        done = Applied()
        for asset in self._assets.values():
            spec = world.schema.get(asset.resource)
            read = not asset.tried or spec != asset.spec or (requested and self._stat(asset) != asset.stat)
            if read:
                self._load(asset, spec, done)
            current = world.resources.get(asset.resource)
            if asset.value is None or current is None or current.dtype != asset.value.dtype:
                continue
            if not _same(current, asset.value):
                np.copyto(current, asset.value)
                # Steps ran forward from a world that held the file's values: a system wrote it.
                ran = not read and asset.checked_step is not None and world.step > asset.checked_step
                if not ran:
                    done.written.append(asset.resource)
                elif not asset.warned:
                    asset.warned = True
                    done.overwritten.append(
                        f"{asset.resource} holds assets/{asset.path}, which systems only read: a system's write "
                        f"to it is undone at every frame boundary (declare it `.read`, or edit the file)"
                    )
            asset.checked_step = world.step
        return done

    def _stat(self, asset: Asset) -> tuple[int, int, int] | None:
        try:
            st = (self.root / asset.path).stat()
        except OSError:
            return None
        return (st.st_mtime_ns, st.st_size, st.st_ino)

    def _load(self, asset: Asset, spec: ComponentSpec | None, done: Applied) -> None:
        asset.tried = True
        asset.stat = self._stat(asset)  # before the read: a save during it is seen next time
        asset.spec = spec
        label = f"assets/{asset.path}"
        try:
            if spec is None or not spec.is_resource:
                raise AssetError(
                    f"components.zig declares no resource {asset.resource}; declare it, or drop the file "
                    "from the scene's assets"
                )
            value = decode(self.root / asset.path, spec, self.load_image)
        except AssetError as exc:
            if asset.value is not None and (spec is None or asset.value.dtype != spec.payload_dtype()):
                asset.value = None  # made for a layout the resource no longer has
            keeps = (
                "the last good values stay in use"
                if asset.value is not None
                else f"{asset.resource} keeps the values it has until the file loads"
            )
            error = f"{label}: {exc}" + (f"; {keeps}" if spec is not None else "")
            if error != asset.error:
                done.failed.append(error)
            asset.error = error
            return
        if asset.error is not None or asset.value is None or not _same(asset.value, value):
            done.loaded.append(label)
        asset.value, asset.error = value, None


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    return bool(np.array_equal(a.view(np.uint8), b.view(np.uint8)))
