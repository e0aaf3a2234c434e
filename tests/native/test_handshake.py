"""The handshake: real libraries pass it; each kind of mismatch is refused with a message
naming the system, the component and the field."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest

from game.native.abi import ABI_VERSION, Access, Kind
from game.native.errors import HandshakeError
from game.native.handshake import API_SIZE, check_abi, check_schema
from game.native.library import NativeLibrary, QueryInfo, SystemInfo, Term
from game.world.schema import ComponentSpec, DType, FieldSpec, component


@pytest.fixture
def infos(libs: dict[str, Path], tmp_path: Path) -> Iterator[dict[str, SystemInfo]]:
    """What every real library says about itself (the libraries are closed again after)."""
    loaded = [NativeLibrary.load(path, tmp_path, version=i) for i, path in enumerate(libs.values())]
    try:
        yield {lib.info.name: lib.info for lib in loaded}
    finally:
        for lib in loaded:
            lib.close()


@pytest.fixture
def world(infos: dict[str, SystemInfo]) -> dict[str, ComponentSpec]:
    """The world's schema: the components library's."""
    return infos["components"].components


def with_component(schema: dict[str, ComponentSpec], spec: ComponentSpec) -> dict[str, ComponentSpec]:
    return {**schema, spec.name: spec}


def test_every_real_library_passes(infos: dict[str, SystemInfo], world: dict[str, ComponentSpec]) -> None:
    assert {"components", "movement", "attractor", "bounds", "colorize", "lifetime", "render"} <= set(infos)
    for name, info in infos.items():
        check_abi(info, f"{name}.zig")
        check_schema(info, f"{name}.zig", world)


def test_wrong_abi_version(infos: dict[str, SystemInfo]) -> None:
    bad = dataclasses.replace(infos["movement"], abi_version=99)
    with pytest.raises(HandshakeError) as err:
        check_abi(bad, "movement.zig")
    assert str(err.value) == f"movement.zig: ABI version 99, host expects {ABI_VERSION}; rebuild with the current sdk"


def test_wrong_api_size(infos: dict[str, SystemInfo]) -> None:
    bad = dataclasses.replace(infos["movement"], api_size=API_SIZE - 8)
    with pytest.raises(
        HandshakeError, match=rf"movement\.zig: Api struct is {API_SIZE - 8} bytes, host expects {API_SIZE}"
    ):
        check_abi(bad, "movement.zig")


@pytest.mark.parametrize("struct", ["frame", "input", "commands", "component_decl", "target"])
def test_wrong_layout_size_names_the_struct(infos: dict[str, SystemInfo], struct: str) -> None:
    info = infos["lifetime"]
    layout = tuple((name, size + 8 if name == struct else size) for name, size in info.layout)
    expected = dict(info.layout)[struct]
    with pytest.raises(
        HandshakeError,
        match=rf"lifetime\.zig: sdk struct {struct} is {expected + 8} bytes, host expects {expected}; rebuild",
    ):
        check_abi(dataclasses.replace(info, layout=layout), "lifetime.zig")


@pytest.mark.parametrize(
    "change, message",
    [
        ({"kind": 7}, r"unknown kind 7"),
        ({"name": ""}, r"the Api has an empty name"),
        ({"has_run": False}, r"the Api's run is NULL"),
        ({"has_shutdown": False}, r"the Api's shutdown is NULL"),
    ],
)
def test_a_malformed_api_is_refused(infos: dict[str, SystemInfo], change: dict[str, object], message: str) -> None:
    with pytest.raises(HandshakeError, match=rf"^movement\.zig: {message}"):
        check_abi(dataclasses.replace(infos["movement"], **change), "movement.zig")  # type: ignore[arg-type]


def test_a_schema_library_may_have_no_run(infos: dict[str, SystemInfo]) -> None:
    info = infos["components"]
    assert info.kind == Kind.SCHEMA and not info.has_run
    check_abi(info, "components.zig")
    with pytest.raises(HandshakeError, match="run is NULL"):
        check_abi(dataclasses.replace(info, kind=Kind.SIMULATION), "components.zig")


def test_a_field_outside_its_payload_is_refused(infos: dict[str, SystemInfo]) -> None:
    info = infos["movement"]
    position = info.components["Position"]
    broken = dataclasses.replace(
        position, fields=(position.fields[0], dataclasses.replace(position.fields[1], offset=8))
    )
    schema = tuple(broken if s.name == "Position" else s for s in info.schema)
    with pytest.raises(HandshakeError, match=r"movement\.zig: Position\.y lies outside its 8-byte payload"):
        check_abi(dataclasses.replace(info, schema=schema), "movement.zig")


def test_a_query_naming_a_component_the_world_lacks(
    infos: dict[str, SystemInfo], world: dict[str, ComponentSpec]
) -> None:
    lacking = {k: v for k, v in world.items() if k != "Frozen"}
    with pytest.raises(HandshakeError) as err:
        check_schema(infos["movement"], "movement.zig", lacking)
    assert str(err.value) == (
        "movement.zig: query movers names component Frozen, which nobody declared in components.zig"
    )
    lacking = {k: v for k, v in world.items() if k != "Tunables"}
    with pytest.raises(HandshakeError, match=r"attractor\.zig: resource names component Tunables, which nobody"):
        check_schema(infos["attractor"], "attractor.zig", lacking)


def test_a_component_the_library_knows_but_does_not_use_may_be_missing(
    infos: dict[str, SystemInfo], world: dict[str, ComponentSpec]
) -> None:
    check_schema(infos["movement"], "movement.zig", {k: v for k, v in world.items() if k not in ("Health", "Score")})


def test_a_field_type_different_from_the_worlds_names_system_component_field_and_both_types(
    infos: dict[str, SystemInfo], world: dict[str, ComponentSpec]
) -> None:
    wider = with_component(world, component("Velocity", x=DType.F64, y=DType.F32))
    with pytest.raises(HandshakeError) as err:
        check_schema(infos["movement"], "movement.zig", wider)
    message = str(err.value)
    assert message.startswith(
        "movement.zig: Velocity.x is f32 in this build, the world (and the systems running) have f64"
    )
    wide = with_component(world, component("Lifetime", seconds=(DType.F32, 2, 5.0)))
    with pytest.raises(HandshakeError, match=r"lifetime\.zig: Lifetime\.seconds is f32 in this build, .* have f32x2"):
        check_schema(infos["lifetime"], "lifetime.zig", wide)


def test_a_field_the_world_lacks_is_refused(infos: dict[str, SystemInfo], world: dict[str, ComponentSpec]) -> None:
    narrow = with_component(world, component("Position", x=DType.F32))
    with pytest.raises(HandshakeError, match=r"render\.zig: Position\.y is in this build, the world has no such field"):
        check_schema(infos["render"], "render.zig", narrow)


def test_extra_fields_in_the_world_are_fine(infos: dict[str, SystemInfo], world: dict[str, ComponentSpec]) -> None:
    more = with_component(world, component("Position", x=DType.F32, y=DType.F32, z=(DType.F32, 1, 3.0)))
    check_schema(infos["movement"], "movement.zig", more)


def test_a_component_that_is_a_resource_in_the_world(
    infos: dict[str, SystemInfo], world: dict[str, ComponentSpec]
) -> None:
    flipped = with_component(world, dataclasses.replace(world["Team"], is_resource=True))
    with pytest.raises(HandshakeError, match=r"bounds\.zig: Team is a component in this build, not in the world"):
        check_schema(infos["bounds"], "bounds.zig", flipped)


def replace_query(info: SystemInfo, *terms: Term) -> SystemInfo:
    return dataclasses.replace(info, queries=(QueryInfo(info.queries[0].name, terms),))


def test_a_tag_used_as_a_data_term(infos: dict[str, SystemInfo], world: dict[str, ComponentSpec]) -> None:
    bad = replace_query(infos["movement"], Term("Position", Access.READ_WRITE), Term("Frozen", Access.READ))
    with pytest.raises(HandshakeError) as err:
        check_schema(bad, "movement.zig", world)
    assert str(err.value) == "movement.zig: query movers: Frozen is a tag (no fields); use it in .with"
    check_schema(replace_query(infos["movement"], Term("Frozen", Access.WITH)), "movement.zig", world)


def test_a_resource_in_a_query_and_a_component_as_a_resource(
    infos: dict[str, SystemInfo], world: dict[str, ComponentSpec]
) -> None:
    bad = replace_query(infos["movement"], Term("Tunables", Access.READ))
    with pytest.raises(HandshakeError, match=r"movement\.zig: query movers: Tunables is a resource"):
        check_schema(bad, "movement.zig", world)
    bad = dataclasses.replace(infos["attractor"], resources=(Term("Velocity", Access.READ),))
    with pytest.raises(HandshakeError, match=r"attractor\.zig: resource: Velocity is a component"):
        check_schema(bad, "attractor.zig", world)
    bad = dataclasses.replace(infos["attractor"], resources=(Term("Tunables", Access.WITHOUT),))
    with pytest.raises(HandshakeError, match=r"attractor\.zig: resource: Tunables has access 5"):
        check_schema(bad, "attractor.zig", world)


def test_an_unknown_access_or_component_index(infos: dict[str, SystemInfo], world: dict[str, ComponentSpec]) -> None:
    bad = replace_query(infos["movement"], Term("Position", 9))
    with pytest.raises(HandshakeError, match=r"movement\.zig: query movers: Position has access 9"):
        check_schema(bad, "movement.zig", world)
    bad = replace_query(infos["movement"], Term("#40", Access.READ))  # what read_info makes of index 40
    with pytest.raises(HandshakeError, match=r"names component #40, which nobody declared"):
        check_schema(bad, "movement.zig", world)


def test_the_world_schema_may_be_written_by_hand(infos: dict[str, SystemInfo]) -> None:
    """The handshake compares by name and type, not by where the specs came from."""
    hand = {
        "Position": ComponentSpec("Position", (FieldSpec("x", DType.F32), FieldSpec("y", DType.F32, offset=4)), 8),
        "Velocity": ComponentSpec("Velocity", (FieldSpec("x", DType.F32), FieldSpec("y", DType.F32, offset=4)), 8),
        "Frozen": ComponentSpec("Frozen"),
    }
    check_schema(infos["movement"], "movement.zig", hand)
