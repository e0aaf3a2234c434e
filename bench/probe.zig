//! Same-bytes bandwidth probe: a[i] += b[i], 16 lanes at a time. Run as pos_x += vel_x and
//! pos_y += vel_y over the store's own columns, it reads and writes exactly the bytes the
//! movement system does, so it marks the memory-bandwidth limit movement can reach.
export fn probe_add(a: [*]f32, b: [*]const f32, n: usize) void {
    const lanes = 16;
    const V = @Vector(lanes, f32);
    var i: usize = 0;
    while (i + lanes <= n) : (i += lanes) {
        const va: V = a[i..][0..lanes].*;
        const vb: V = b[i..][0..lanes].*;
        a[i..][0..lanes].* = va + vb;
    }
    while (i < n) : (i += 1) a[i] += b[i];
}
