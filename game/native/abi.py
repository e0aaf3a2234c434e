"""The Python mirror of the ABI contract in `ecs_systems/sdk/sdk.zig`.

That file is the contract (model, entry point, call order, ownership, status codes); this
one only restates its structs for cffi. `tests/native/test_abi.py` pins every size and
offset to the same numbers as the SDK's own layout test.
"""

from __future__ import annotations

import enum

import cffi
import numpy as np

from game.world.commands import Op as Op  # the command kinds live with the commands; re-exported

ABI_VERSION = 2
MESSAGE_CAPACITY = 1024
PANIC_CAPACITY = 256


class Status(enum.IntEnum):
    OK = 0
    FAILED = 1
    BAD_COLUMNS = 2
    BAD_TARGET = 3


class Kind(enum.IntEnum):
    SIMULATION = 0
    RENDER = 1
    DEMO = 2
    SCHEMA = 3


class Access(enum.IntEnum):
    READ = 1
    WRITE = 2
    READ_WRITE = 3
    WITH = 4
    WITHOUT = 5


CDEF = """
typedef struct {
    const char *name; uint32_t dtype; uint32_t width; uint32_t offset; uint32_t _reserved;
    double default_value;
} FieldDecl;

typedef struct {
    const char *name; const FieldDecl *fields; uint32_t field_count; uint32_t size;
    uint32_t is_resource; uint32_t _reserved;
} ComponentDecl;

typedef struct { uint32_t component; uint32_t access; } TermDecl;

typedef struct { const char *name; const TermDecl *terms; uint32_t term_count; uint32_t _reserved; } QueryDecl;

typedef struct { const char *name; float default_value; float min; float max; float step; } TunableDecl;

typedef struct {
    uint32_t frame; uint32_t input; uint32_t table_view; uint32_t query_view; uint32_t command;
    uint32_t commands; uint32_t component_decl; uint32_t field_decl; uint32_t query_decl; uint32_t target;
    uint32_t entity_index; uint32_t tunable_decl;
} Layout;

typedef struct { const uint64_t *count; const uint64_t *entities; uint8_t **columns; } TableView;

typedef struct { const TableView *tables; uint32_t table_count; uint32_t column_count; } QueryView;

typedef struct {
    float mouse_x; float mouse_y; uint32_t buttons; uint32_t buttons_pressed; uint32_t buttons_released;
    uint32_t mouse_in_window; uint64_t keys_held[4]; uint64_t keys_pressed[4]; uint64_t keys_released[4];
} Input;

typedef struct { uint32_t op; uint32_t component; uint64_t entity; uint64_t mask; uint64_t data_offset; } Command;

typedef struct {
    Command *records; uint64_t cap; uint64_t len; uint8_t *data; uint64_t data_cap; uint64_t data_len;
    uint64_t dropped;
} Commands;

typedef struct {
    uint8_t *pixels; uint32_t width; uint32_t height; uint32_t pitch; uint32_t _reserved;
} Target;

typedef struct { const uint32_t *generations; const int32_t *tables; uint64_t len; } EntityIndex;

typedef struct {
    float dt; uint32_t _reserved; uint64_t step; float world_width; float world_height;
    const QueryView *queries; uint32_t query_count; uint32_t resource_count;
    uint8_t **resources; const Input *input; Commands *commands;
    Target target;
    uint8_t *message; uint64_t message_cap; uint64_t message_len;
    EntityIndex entities;
    const float *tunables; uint32_t tunable_count; uint32_t _reserved2;
} Frame;

typedef struct {
    uint32_t abi_version; uint32_t api_size; const char *name; uint32_t build_id;
    uint32_t kind; int32_t order; uint32_t schema_count; const ComponentDecl *schema;
    uint32_t query_count; uint32_t resource_count; const QueryDecl *queries; const TermDecl *resources;
    int32_t (*run)(Frame *frame);
    void (*shutdown)(void);
    uint32_t state_version; uint32_t _reserved;
    int32_t (*save_state)(uint8_t *buf, uint64_t cap, uint64_t *len);
    int32_t (*load_state)(const uint8_t *buf, uint64_t len, uint32_t version);
    Layout layout;
    uint32_t tunable_count; uint32_t _reserved2; const TunableDecl *tunables;
} Api;

const Api *plugin_entry(void);

/* Kept by sdk.panic for the host to read after a guarded call ends in a trap. */
extern uint8_t sdk_panic_message[256];
extern uint32_t sdk_panic_length;
extern uintptr_t sdk_panic_address;
"""

ffi = cffi.FFI()
ffi.cdef(CDEF)

LAYOUT = {
    name: ffi.sizeof(struct)
    for name, struct in (
        ("frame", "Frame"),
        ("input", "Input"),
        ("table_view", "TableView"),
        ("query_view", "QueryView"),
        ("command", "Command"),
        ("commands", "Commands"),
        ("component_decl", "ComponentDecl"),
        ("field_decl", "FieldDecl"),
        ("query_decl", "QueryDecl"),
        ("target", "Target"),
        ("entity_index", "EntityIndex"),
        ("tunable_decl", "TunableDecl"),
    )
}
"""The size of every ABI struct on the host side: a library's `Api.layout` must match it."""

COMMAND_DTYPE = np.dtype(
    [
        ("op", np.uint32),
        ("component", np.uint32),
        ("entity", np.uint64),
        ("mask", np.uint64),
        ("data_offset", np.uint64),
    ]
)
"""`sdk.Command` as numpy sees it: the host decodes a whole command buffer at once."""
