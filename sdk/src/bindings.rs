//! Raw bindings to the Golem 1.5 interfaces, generated from `wit/`.
//!
//! Prefer the typed modules of this crate; reach for these when you need an
//! interface function they do not (yet) wrap. Types and functions follow the
//! WIT names: `golem:api/host@1.5.0` is [`golem::api::host`], and so on.
#![allow(missing_docs, clippy::all, unsafe_op_in_unsafe_fn)]

wit_bindgen::generate!({
    path: "../wit",
    world: "reprise:component/bindings",
    generate_all,
    generate_unused_types: true,
    // The export glue is instantiated by the SDK's export macros in the
    // user's crate, one interface at a time.
    pub_export_macro: true,
    default_bindings_module: "reprise::bindings",
    export_macro_name: "export_raw",
});

/// Golem's `uuid` record is a [`uuid::Uuid`].
impl From<uuid::Uuid> for golem::core::types::Uuid {
    fn from(uuid: uuid::Uuid) -> Self {
        let (high_bits, low_bits) = uuid.as_u64_pair();
        golem::core::types::Uuid { high_bits, low_bits }
    }
}

impl From<golem::core::types::Uuid> for uuid::Uuid {
    fn from(uuid: golem::core::types::Uuid) -> Self {
        uuid::Uuid::from_u64_pair(uuid.high_bits, uuid.low_bits)
    }
}
