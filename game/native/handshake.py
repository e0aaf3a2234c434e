"""Checks a loaded library against the host before it may run: the ABI, then the schema.

`check_abi` compares the ABI version, the `Api` size and every ABI struct's size, then
what `read_info` refused to read (a count past its bound) and the layouts the library
describes. `check_schema` compares the components the library was compiled against with
the world's, by name: every field the library knows must exist in the world with the same
type, and every query and resource must name a component of the right kind.
`check_name` and `check_unique` hold systems to their file names. A mismatch is a
HandshakeError naming the system, the component and the field.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from game.native.abi import ABI_VERSION, LAYOUT, Access, Kind, ffi
from game.native.errors import HandshakeError
from game.native.library import SystemInfo
from game.world.schema import ComponentSpec
from game.world.state import is_name, layout_problem, limits

API_SIZE = ffi.sizeof("Api")


def check_name(declared: str, source: Path) -> None:
    """Raises HandshakeError when a library's declared name (`SystemInfo.name`) is not the
    stem of its source file: the host knows a system by its file (reloads, F-keys, the
    canary, messages), so `ecs_systems/foo.zig` must declare `.name = "foo"`. `source` is
    shown as given (the reloader passes `ecs_systems/foo.zig`). components.zig declares
    "components" and plugin_a.zig / plugin_b.zig their own names, so they pass."""
    if declared != source.stem:
        raise HandshakeError(
            f"{source.as_posix()} declares system {declared!r}: a system's name must be its file name "
            f'(.name = "{source.stem}")'
        )


def check_unique(declared: Mapping[Path, str]) -> None:
    """Raises HandshakeError naming both files when two sources declare the same system
    name (`declared`: source file -> declared name); files are taken in sorted order, so
    the message is the same every time."""
    first: dict[str, Path] = {}
    for source in sorted(declared):
        name = declared[source]
        if name in first:
            raise HandshakeError(
                f"{first[name].as_posix()} and {source.as_posix()} both declare system {name!r}; "
                "each system needs a name of its own (its file name)"
            )
        first[name] = source


def check_abi(info: SystemInfo, source: str) -> None:
    """Raises HandshakeError when the library was built against another ABI."""
    if info.abi_version != ABI_VERSION:
        raise HandshakeError(
            f"{source}: ABI version {info.abi_version}, host expects {ABI_VERSION}; rebuild with the current sdk"
        )
    if info.api_size != API_SIZE:
        raise HandshakeError(
            f"{source}: Api struct is {info.api_size} bytes, host expects {API_SIZE}; rebuild with the current sdk"
        )
    if info.problems:
        raise HandshakeError(f"{source}: {info.problems[0]}; the library's Api is malformed")
    for name, size in info.layout:
        if size != LAYOUT[name]:
            raise HandshakeError(
                f"{source}: sdk struct {name} is {size} bytes, host expects {LAYOUT[name]}; "
                "rebuild with the current sdk"
            )
    if info.kind not in Kind._value2member_map_:
        raise HandshakeError(f"{source}: unknown kind {info.kind}; expected 0-3 (simulation, render, demo, schema)")
    if not info.name:
        raise HandshakeError(f"{source}: the Api has an empty name")
    if info.kind != Kind.SCHEMA and not (info.has_run and info.has_shutdown):
        missing = "run" if not info.has_run else "shutdown"
        raise HandshakeError(f"{source}: the Api's {missing} is NULL; build the Api with sdk.system")
    names: set[str] = set()
    for spec in info.schema:
        if not is_name(spec.name):
            raise HandshakeError(f"{source}: component name {spec.name!r} is not an identifier")
        if spec.name in names:
            raise HandshakeError(f"{source}: component {spec.name} is described twice")
        names.add(spec.name)
        widest = limits(spec.is_resource)[0]
        for f in spec.fields:
            if not is_name(f.name) or not 1 <= f.width <= widest:
                raise HandshakeError(
                    f"{source}: {spec.name}.{f.name}: unknown dtype or width {f.width}"
                    f" (a {'resource' if spec.is_resource else 'component'} field holds 1-{widest:,})"
                )
            if f.offset + f.dtype.numpy.itemsize * f.width > spec.size:
                raise HandshakeError(f"{source}: {spec.name}.{f.name} lies outside its {spec.size}-byte payload")
        problem = layout_problem(spec)  # the rule world files follow: what runs must save and load
        if problem is not None:
            raise HandshakeError(f"{source}: {problem}")


def check_schema(info: SystemInfo, source: str, world: Mapping[str, ComponentSpec]) -> None:
    """Raises HandshakeError when the library's components disagree with the world's.

    Every component the library knows that the world has must match field by field (the
    world may have more fields: the library sees only its own). Every query term and
    resource must name a component the world has, of the right kind.
    """
    for spec in info.schema:
        have = world.get(spec.name)
        if have is None:
            continue  # unused here; a query or a command naming it is refused below or when it applies
        if have.is_resource != spec.is_resource:
            kind = "a resource" if spec.is_resource else "a component"
            raise HandshakeError(f"{source}: {spec.name} is {kind} in this build, not in the world; rebuild (F5)")
        for f in spec.fields:
            try:
                wf = have.field(f.name)
            except KeyError:
                raise HandshakeError(
                    f"{source}: {spec.name}.{f.name} is in this build, the world has no such field "
                    "(was a change of components.zig refused?)"
                ) from None
            if not wf.same_type(f):
                raise HandshakeError(
                    f"{source}: {spec.name}.{f.name} is {f.describe()} in this build, the world (and the systems "
                    f"running) have {wf.describe()}; build every system against the same components.zig (F5)"
                )
    for query in info.queries:
        for term in query.terms:
            _check_term(source, f"query {query.name}", term.component, term.access, world, resource=False)
    for term in info.resources:
        _check_term(source, "resource", term.component, term.access, world, resource=True)


def _check_term(
    source: str, where: str, name: str, access: int, world: Mapping[str, ComponentSpec], resource: bool
) -> None:
    if access not in Access._value2member_map_ or (
        resource and access not in (Access.READ, Access.WRITE, Access.READ_WRITE)
    ):
        raise HandshakeError(f"{source}: {where}: {name} has access {access}")
    spec = world.get(name)
    if spec is None:
        raise HandshakeError(f"{source}: {where} names component {name}, which nobody declared in components.zig")
    if spec.is_resource != resource:
        raise HandshakeError(f"{source}: {where}: {name} is {'a resource' if spec.is_resource else 'a component'}")
    if not resource and spec.is_tag and access in (Access.READ, Access.WRITE, Access.READ_WRITE):
        raise HandshakeError(f"{source}: {where}: {name} is a tag (no fields); use it in .with")
