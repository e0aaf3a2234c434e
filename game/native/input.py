"""InputState: the keyboard and mouse as systems see them (`sdk.Input`), one per world.

Events change what is held and collect what was pressed or released since the last step;
`begin_step` publishes that into the one `Input` struct every system's Frame points at,
and `end_step` clears the edges. `snapshot`/`load` copy the published bytes, so a step's
input is recorded with it (probation replay, rewind and replay) and replays exactly.
"""

from __future__ import annotations

from game.native.abi import ffi

KEY_COUNT = 256
KEY_NAMES: tuple[str, ...] = (
    *"abcdefghijklmnopqrstuvwxyz",
    *"0123456789",
    "space", "enter", "escape", "tab", "backspace", "left", "right", "up", "down",
    "left shift", "right shift", "left ctrl", "right ctrl", "left alt", "right alt",
)  # fmt: skip
"""`sdk.Key` in order: index = the key's number in the ABI. Names are pygame's `key.name`."""
KEY_NUMBER = {name: i for i, name in enumerate(KEY_NAMES)}
KEY_NUMBER["return"] = KEY_NUMBER["enter"]  # pygame names the main Enter key "return"


class InputState:
    """What the systems see of the keyboard and mouse. Change it through the methods."""

    def __init__(self) -> None:
        self.struct = ffi.new("Input *")
        self.mouse_x = 0.0
        self.mouse_y = 0.0
        self.buttons = 0
        self.in_window = False
        self._held = [0, 0, 0, 0]
        self._pressed = [0, 0, 0, 0]
        self._released = [0, 0, 0, 0]
        self._buttons_pressed = 0
        self._buttons_released = 0

    def update(self, **fields: float | bool) -> None:
        """Sets any of mouse_x, mouse_y, buttons, in_window. Raises AttributeError for another name."""
        for name, value in fields.items():
            if name not in ("mouse_x", "mouse_y", "buttons", "in_window"):
                raise AttributeError(f"InputState has no field {name!r}")
            if name == "buttons":
                value = int(value)
                self._buttons_pressed |= value & ~self.buttons
                self._buttons_released |= self.buttons & ~value
            setattr(self, name, value)

    def key(self, number: int, down: bool) -> None:
        """Key `number` (an `sdk.Key`) went down or up. Numbers outside 0..255 are ignored."""
        if not 0 <= number < KEY_COUNT:
            return
        word, bit = divmod(number, 64)
        mask = 1 << bit
        if down:
            if not self._held[word] & mask:
                self._pressed[word] |= mask
            self._held[word] |= mask
        else:
            if self._held[word] & mask:
                self._released[word] |= mask
            self._held[word] &= ~mask

    def held(self, number: int) -> bool:
        return bool(self._held[number // 64] >> (number % 64) & 1)

    def begin_step(self) -> None:
        """Publishes the input of the coming step into `struct`."""
        s = self.struct
        s.mouse_x, s.mouse_y = self.mouse_x, self.mouse_y
        s.buttons = self.buttons
        s.buttons_pressed, s.buttons_released = self._buttons_pressed, self._buttons_released
        s.mouse_in_window = int(self.in_window)
        for i in range(4):
            s.keys_held[i] = self._held[i]
            s.keys_pressed[i] = self._pressed[i]
            s.keys_released[i] = self._released[i]

    def end_step(self) -> None:
        """The step consumed the edges: the next one starts with none."""
        self._pressed = [0, 0, 0, 0]
        self._released = [0, 0, 0, 0]
        self._buttons_pressed = self._buttons_released = 0

    def snapshot(self) -> bytes:
        """The published input of this step (120 bytes)."""
        return bytes(ffi.buffer(self.struct))

    def load(self, recorded: bytes) -> None:
        """Publishes a recorded step's input instead of the live one."""
        ffi.buffer(self.struct)[:] = recorded
