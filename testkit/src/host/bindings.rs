//! Host-side bindings for the Golem 1.5 interfaces, generated from `wit/`: the
//! same files and the same world (`reprise:component/bindings`) the guest SDK's
//! bindings come from.
#![allow(missing_docs, missing_debug_implementations, clippy::all)]

wasmtime::component::bindgen!({
    path: "../wit",
    world: "reprise:component/bindings",
    // Host functions may trap the guest (divergence, `trap`, broken handles)
    // without that being part of the interface's own error type.
    imports: { default: trappable },
    with: {
        // WASI I/O and clocks are served by wasmtime-wasi; share its types.
        "wasi:io": wasmtime_wasi::p2::bindings::sync::io,
        "wasi:clocks": wasmtime_wasi::p2::bindings::clocks,
    },
    require_store_data_send: true,
});
