"""Every system builds for Windows and macOS too, and the loader finds them where Zig puts them."""

from __future__ import annotations

from pathlib import Path

import pytest

from game.hotreload.zigbuild import ZigBuild
from game.native.platform import built_libraries

TARGETS = [
    ("x86_64-windows", "win32", b"MZ"),  # PE
    ("aarch64-macos", "darwin", bytes.fromhex("cffaedfe")),  # 64-bit Mach-O, little-endian
]


@pytest.mark.parametrize("target, platform, magic", TARGETS)
def test_every_system_cross_compiles(
    built_project: Path, tmp_path: Path, target: str, platform: str, magic: bytes
) -> None:
    prefix = tmp_path / target
    build = ZigBuild(built_project, prefix=prefix)
    result = build.run(step=None, timeout=600, extra=[f"-Dtarget={target}"])
    assert result.ok, result.output
    systems = sorted(p.stem for p in (built_project / "ecs_systems").glob("*.zig"))
    found = built_libraries(prefix, platform)
    assert sorted(found) == systems
    for path in found.values():
        assert path.read_bytes()[:4].startswith(magic), path
