//! Host-side bindings for the Golem 1.5 interfaces, generated from `wit/`: the
//! same files and the same world (`reprise:component/bindings`) the guest SDK's
//! bindings come from.
#![allow(missing_docs, missing_debug_implementations, clippy::all)]

mod resources;

pub use resources::*;

wasmtime::component::bindgen!({
    path: "../wit",
    world: "reprise:component/bindings",
    // Host functions may trap the guest (divergence, `trap`, broken handles)
    // without that being part of the interface's own error type.
    imports: { default: trappable },
    with: {
        // WASI I/O is served by wasmtime-wasi; share its stream and pollable types.
        "wasi:io": wasmtime_wasi::p2::bindings::sync::io,
        // Resources the testkit implements, with its own representations.
        "wasi:keyvalue/types.bucket": crate::bindings::BucketHandle,
        "wasi:keyvalue/types.outgoing-value": crate::bindings::OutgoingValue,
        "wasi:keyvalue/types.incoming-value": crate::bindings::IncomingValue,
        "wasi:keyvalue/wasi-keyvalue-error.error": crate::bindings::KvError,
        "golem:api/host.get-agents": crate::bindings::AgentEnumeration,
        "golem:api/host.get-promise-result": crate::bindings::PromiseAwait,
        "golem:agent/host.wasm-rpc": crate::bindings::RpcClient,
        "golem:agent/host.future-invoke-result": crate::bindings::RpcFuture,
        "golem:agent/host.cancellation-token": crate::bindings::RpcCancellation,
        "golem:api/context.span": crate::bindings::SpanHandle,
        "golem:api/oplog.get-oplog": crate::bindings::OplogCursor,
        "golem:api/oplog.search-oplog": crate::bindings::OplogCursor,
        "golem:api/context.invocation-context": crate::bindings::ContextSnapshot,
        "wasi:blobstore/container.container": crate::bindings::ContainerHandle,
        "wasi:blobstore/container.stream-object-names": crate::bindings::ObjectNames,
        "wasi:blobstore/types.outgoing-value": crate::bindings::OutgoingBlob,
        "wasi:blobstore/types.incoming-value": crate::bindings::IncomingBlob,
    },
    // Oplog entries are the generated Golem types themselves, stored and
    // compared as they are.
    additional_derives: [serde::Serialize, serde::Deserialize, PartialEq],
    require_store_data_send: true,
});
