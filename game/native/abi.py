"""The Python mirror of the ABI contract in `ecs_systems/sdk/sdk.zig`.

That file is the contract (entry point, call order, ownership, status codes); this one
only restates its structs for cffi. `tests/native/test_abi.py` pins every size and
offset to the same numbers as the SDK's own layout test.
"""

from __future__ import annotations

import enum

import cffi

ABI_VERSION = 1
MESSAGE_CAPACITY = 1024


class Status(enum.IntEnum):
    OK = 0
    FAILED = 1
    BAD_COLUMNS = 2
    BAD_TARGET = 3


class Kind(enum.IntEnum):
    SIMULATION = 0
    RENDER = 1
    DEMO = 2


class Access(enum.IntEnum):
    READ = 1
    WRITE = 2
    READ_WRITE = 3


CDEF = """
typedef struct {
    const char *name; uint32_t dtype; uint32_t width; uint32_t access; uint32_t _reserved;
    double default_value;
} ColumnDecl;

typedef struct {
    uint8_t *ptr; uint64_t len; uint64_t stride; uint32_t dtype; uint32_t width;
} Column;

typedef struct {
    float mouse_x; float mouse_y; uint32_t buttons; uint32_t mouse_in_window;
} Input;

typedef struct {
    uint8_t *pixels; uint32_t width; uint32_t height; uint32_t pitch; uint32_t _reserved;
} Target;

typedef struct {
    float dt; uint32_t _reserved; uint64_t step; uint64_t count;
    Column *columns; uint32_t column_count; float world_width; float world_height;
    Input input; Target target;
    uint8_t *message; uint64_t message_cap; uint64_t message_len;
} Frame;

typedef struct {
    uint32_t abi_version; uint32_t api_size; const char *name; uint32_t build_id;
    uint32_t kind; int32_t order; uint32_t column_count; const ColumnDecl *columns;
    int32_t (*run)(Frame *frame);
    void (*shutdown)(void);
    uint32_t state_version; uint32_t _reserved;
    int32_t (*save_state)(uint8_t *buf, uint64_t cap, uint64_t *len);
    int32_t (*load_state)(const uint8_t *buf, uint64_t len, uint32_t version);
} Api;

const Api *plugin_entry(void);
"""

ffi = cffi.FFI()
ffi.cdef(CDEF)
