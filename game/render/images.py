"""Image files to pixels, with pygame: the `ImageLoader` the asset store (game/world/assets.py)
is given, so that the world layer decodes PNGs without importing pygame."""

from __future__ import annotations

import io

import numpy as np
import numpy.typing as npt
import pygame


def load_image(data: bytes, name: str) -> npt.NDArray[np.uint32]:
    """The image in `data` (a file's bytes; `name` hints at its format) as a (height, width)
    array of 0xAARRGGBB. Raises ValueError with pygame's reason when it cannot be decoded."""
    try:
        surface = pygame.image.load(io.BytesIO(data), name)
    except (pygame.error, OSError) as exc:
        raise ValueError(str(exc) or type(exc).__name__) from None
    width, height = surface.get_size()
    rgba = np.frombuffer(pygame.image.tobytes(surface, "RGBA"), np.uint8).reshape(height, width, 4).astype(np.uint32)
    return (rgba[..., 3] << 24 | rgba[..., 0] << 16 | rgba[..., 1] << 8 | rgba[..., 2]).astype(np.uint32)
