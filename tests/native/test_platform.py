from __future__ import annotations

from pathlib import Path

import pytest

from game.native.platform import built_libraries, library_dir, library_filename, system_name


@pytest.mark.parametrize(
    "platform, filename, folder",
    [("linux", "libmovement.so", "lib"), ("win32", "movement.dll", "bin"), ("darwin", "libmovement.dylib", "lib")],
)
def test_names_per_platform(platform: str, filename: str, folder: str) -> None:
    assert library_filename("movement", platform) == filename
    assert library_dir(Path("zig-out"), platform) == Path("zig-out") / folder
    assert system_name(filename, platform) == "movement"


def test_system_name_rejects_other_files() -> None:
    assert system_name("movement.pdb", "win32") is None
    assert system_name("libmovement.a", "linux") is None
    assert system_name("lib.so", "linux") is None


@pytest.mark.parametrize("platform", ["linux", "win32", "darwin"])
def test_built_libraries_finds_each_platforms_layout(tmp_path: Path, platform: str) -> None:
    folder = library_dir(tmp_path, platform)
    folder.mkdir(parents=True)
    for name in ("movement", "bounds"):
        (folder / library_filename(name, platform)).write_bytes(b"x")
    (folder / "readme.txt").write_text("not a library")
    found = built_libraries(tmp_path, platform)
    assert list(found) == ["bounds", "movement"]


def test_the_real_build_has_one_library_per_zig_file(built_project: Path, libs: dict[str, Path]) -> None:
    sources = sorted(p.stem for p in (built_project / "ecs_systems").glob("*.zig"))
    assert list(libs) == sources  # components.zig included: it becomes the schema library
    assert all(p.parent == library_dir(built_project / "zig-out") for p in libs.values())
