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
        // WASI I/O is served by wasmtime-wasi; share its stream and pollable types.
        "wasi:io": wasmtime_wasi::p2::bindings::sync::io,
        // Resources the testkit implements, with its own representations.
        "wasi:keyvalue/types.bucket": crate::host::keyvalue::BucketHandle,
        "wasi:keyvalue/types.outgoing-value": crate::host::keyvalue::OutgoingValue,
        "wasi:keyvalue/types.incoming-value": crate::host::keyvalue::IncomingValue,
        "wasi:keyvalue/wasi-keyvalue-error.error": crate::host::keyvalue::KvError,
        "golem:api/host.get-agents": crate::host::golem_host::AgentEnumeration,
        "golem:agent/host.wasm-rpc": crate::host::rpc::RpcClient,
        "golem:agent/host.future-invoke-result": crate::host::rpc::RpcFuture,
        "golem:agent/host.cancellation-token": crate::host::rpc::RpcCancellation,
        "golem:api/context.span": crate::host::context::SpanHandle,
        "golem:api/oplog.get-oplog": crate::host::oplog_api::OplogCursor,
        "golem:api/oplog.search-oplog": crate::host::oplog_api::OplogCursor,
        "golem:api/context.invocation-context": crate::host::context::ContextSnapshot,
        "wasi:blobstore/container.container": crate::host::blobstore::ContainerHandle,
        "wasi:blobstore/container.stream-object-names": crate::host::blobstore::ObjectNames,
        "wasi:blobstore/types.outgoing-value": crate::host::blobstore::OutgoingBlob,
        "wasi:blobstore/types.incoming-value": crate::host::blobstore::IncomingBlob,
    },
    // Oplog entries are the generated Golem types themselves, stored and
    // compared as they are.
    additional_derives: [serde::Serialize, serde::Deserialize, PartialEq],
    require_store_data_send: true,
});
