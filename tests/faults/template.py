"""The faulty system's source: `faulty.zig.in` with its name, trigger file and order filled in.

The template is not under `ecs_systems/` (build.zig builds every file there); a test writes
`render(...)` into a copy of the project as `ecs_systems/<name>.zig` and builds that. Which
fault fires, and where, is decided at run time by the trigger file's content (see the
template's header), so one build serves the whole fault matrix.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

TEMPLATE = Path(__file__).with_name("faulty.zig.in")

ENTRIES = ("plugin_entry", "run", "save_state", "load_state", "shutdown")
"""The entry points a trigger can name (`<entry> <fault>`): the template's `Entry` enum."""

FAULTS = ("segv", "bus", "panic", "trap", "abort", "stack", "hang", "fpe")
"""The faults a trigger can name: the template's `Fault` enum."""

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_I32 = range(-(2**31), 2**31)
_PLACEHOLDER = re.compile(r"@@(NAME|TRIGGER|ORDER|KIND)@@")


def render(name: str, trigger: Path, order: int = 25, kind: str = "simulation") -> str:
    """The Zig source of a system `name` (pipeline position `order`) that reads the trigger
    file `trigger` in every entry point. `trigger` must be absolute: a relative path would be
    resolved against the cwd of whichever process loads the library."""
    if not _NAME.fullmatch(name):
        raise ValueError(f"system name {name!r}: use letters, digits and _ (it names the file and the Api)")
    if not isinstance(order, int) or isinstance(order, bool) or order not in _I32:
        raise ValueError(f"order {order!r}: an i32 is expected")
    path = os.fsencode(trigger)
    if not os.path.isabs(path):
        raise ValueError(f"trigger {trigger}: an absolute path is expected")
    if b"\0" in path:
        raise ValueError(f"trigger {trigger!r}: a path cannot contain NUL")
    if kind not in ("simulation", "render"):
        raise ValueError(f"kind {kind!r}: simulation or render")
    values = {"NAME": name, "TRIGGER": zig_string(path), "ORDER": str(order), "KIND": kind}
    source = TEMPLATE.read_text()
    missing = [key for key in values if f"@@{key}@@" not in source]
    if missing:
        raise RuntimeError(f"{TEMPLATE.name} lost its placeholders {missing}")
    # One pass, so a value that happens to contain a placeholder is not substituted again.
    return _PLACEHOLDER.sub(lambda m: values[m[1]], source)


def zig_string(raw: bytes) -> str:
    """`raw` as the inside of a Zig string literal: printable ASCII as is, the rest escaped,
    so any path (spaces, quotes, non-UTF-8 bytes) arrives byte for byte."""
    out = []
    for byte in raw:
        char = chr(byte)
        if char in '"\\':
            out.append("\\" + char)
        elif 0x20 <= byte < 0x7F:
            out.append(char)
        else:
            out.append(f"\\x{byte:02x}")
    return "".join(out)


def arm(trigger: Path, entry: str, fault: str, step: int | None = None) -> None:
    """Writes the trigger `<entry> <fault> [<step>]` atomically (a temporary, then a rename):
    the library reads the file at every call, and must never see half of it."""
    if entry not in ENTRIES or fault not in FAULTS:
        raise ValueError(f"{entry} {fault}: entries are {ENTRIES}, faults {FAULTS}")
    if step is not None and (entry != "run" or step < 0):
        raise ValueError("a step applies to run only, and is >= 0")
    text = f"{entry} {fault}" + (f" {step}" if step is not None else "") + "\n"
    temporary = trigger.with_name(trigger.name + ".tmp")
    temporary.write_text(text)
    os.replace(temporary, trigger)


def disarm(trigger: Path) -> None:
    """No trigger file: every entry point behaves normally."""
    trigger.unlink(missing_ok=True)
