//! Exporting the Golem interfaces a component implements.
//!
//! The agent and plugin macros build on these; use them directly only when
//! you implement a raw binding trait yourself.

/// The encoded `agent` world, emitted into the component by [`export_raw_agent!`].
// A const (not a static) so the export macros can copy it into a static of
// the user's crate, where the linker keeps it.
#[allow(clippy::large_const_arrays)]
#[doc(hidden)]
pub const AGENT_WORLD: [u8; include_bytes!(concat!(env!("OUT_DIR"), "/agent-world.bin")).len()] =
    *include_bytes!(concat!(env!("OUT_DIR"), "/agent-world.bin"));

/// The encoded `plugin` world, emitted into the component by [`export_raw_oplog_processor!`].
#[allow(clippy::large_const_arrays)]
#[doc(hidden)]
pub const PLUGIN_WORLD: [u8; include_bytes!(concat!(env!("OUT_DIR"), "/plugin-world.bin")).len()] =
    *include_bytes!(concat!(env!("OUT_DIR"), "/plugin-world.bin"));

/// Export a type implementing the raw
/// [`Guest`](crate::bindings::exports::golem::agent::guest::Guest) trait as
/// this component's `golem:agent/guest@1.5.0`.
///
/// ```ignore
/// use reprise::bindings::exports::golem::agent::guest::Guest;
///
/// struct MyAgent;
/// impl Guest for MyAgent { /* initialize, invoke, get_definition, discover_agent_types */ }
///
/// reprise::export_raw_agent!(MyAgent);
/// ```
#[macro_export]
macro_rules! export_raw_agent {
    ($ty:ident) => {
        $crate::bindings::exports::golem::agent::guest::__export_golem_agent_guest_1_5_0_cabi!(
            $ty with_types_in $crate::bindings::exports::golem::agent::guest
        );
        const _: () = {
            // Tells the component linker that this module exports the agent
            // interface (and which imports it may use).
            #[cfg(target_arch = "wasm32")]
            #[unsafe(link_section = "component-type:reprise:agent-world")]
            #[used]
            static REPRISE_AGENT_WORLD: [u8; $crate::export::AGENT_WORLD.len()] = $crate::export::AGENT_WORLD;
        };
    };
}

/// Export a type implementing the raw
/// [`Guest`](crate::bindings::exports::golem::api::oplog_processor::Guest)
/// trait as this component's `golem:api/oplog-processor@1.5.0`.
#[macro_export]
macro_rules! export_raw_oplog_processor {
    ($ty:ident) => {
        $crate::bindings::exports::golem::api::oplog_processor::__export_golem_api_oplog_processor_1_5_0_cabi!(
            $ty with_types_in $crate::bindings::exports::golem::api::oplog_processor
        );
        const _: () = {
            #[cfg(target_arch = "wasm32")]
            #[unsafe(link_section = "component-type:reprise:plugin-world")]
            #[used]
            static REPRISE_PLUGIN_WORLD: [u8; $crate::export::PLUGIN_WORLD.len()] = $crate::export::PLUGIN_WORLD;
        };
    };
}
