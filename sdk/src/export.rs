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
        $crate::__agent_world_section!();
    };
}

/// The `component-type` custom section of the `agent` world.
#[doc(hidden)]
#[macro_export]
macro_rules! __agent_world_section {
    () => {
        const _: () = {
            // Tells the component linker that this module exports the agent
            // interface (and which imports it may use). No `#[used]`: on wasm
            // the custom section is emitted from the static's value anyway,
            // and `#[used]` would also keep a copy of the bytes in the data
            // segment (linear memory).
            #[cfg(target_arch = "wasm32")]
            #[unsafe(link_section = "component-type:reprise:agent-world")]
            static REPRISE_AGENT_WORLD: [u8; $crate::export::AGENT_WORLD.len()] = $crate::export::AGENT_WORLD;
        };
    };
}

/// `golem:agent/guest@1.5.0` for [`export_agents!`](crate::export_agents):
/// like [`export_raw_agent!`], except that `get-definition` runs through the
/// `discover-agent-types` glue and `initialize` through the `invoke` glue (see
/// [`get_definition_cabi`](crate::agent::__private::get_definition_cabi) and
/// [`initialize_cabi`](crate::agent::__private::initialize_cabi)), so the
/// component holds one copy of each lifting and lowering, not two.
#[doc(hidden)]
#[macro_export]
macro_rules! __export_agent_guest {
    ($ty:ident) => {
        // Exports only in the component: a native build of the crate (its
        // types used by host-side tests) links beside other agent crates.
        #[cfg(target_family = "wasm")]
        const _: () = {
            use $crate::bindings::exports::golem::agent::guest as __glue;

            #[unsafe(export_name = "golem:agent/guest@1.5.0#initialize")]
            unsafe extern "C" fn __reprise_initialize(arg0: *mut u8) -> *mut u8 {
                unsafe { $crate::agent::__private::initialize_cabi::<$ty>(arg0) }
            }
            #[unsafe(export_name = "cabi_post_golem:agent/guest@1.5.0#initialize")]
            unsafe extern "C" fn __reprise_post_initialize(arg0: *mut u8) {
                // `initialize_cabi` returned the `invoke` glue's return area.
                unsafe { __glue::__post_return_invoke::<$ty>(arg0) }
            }
            #[unsafe(export_name = "golem:agent/guest@1.5.0#invoke")]
            unsafe extern "C" fn __reprise_invoke(arg0: *mut u8) -> *mut u8 {
                unsafe { __glue::_export_invoke_cabi::<$ty>(arg0) }
            }
            #[unsafe(export_name = "cabi_post_golem:agent/guest@1.5.0#invoke")]
            unsafe extern "C" fn __reprise_post_invoke(arg0: *mut u8) {
                unsafe { __glue::__post_return_invoke::<$ty>(arg0) }
            }
            #[unsafe(export_name = "golem:agent/guest@1.5.0#get-definition")]
            unsafe extern "C" fn __reprise_get_definition() -> *mut u8 {
                unsafe { $crate::agent::__private::get_definition_cabi::<$ty>() }
            }
            #[unsafe(export_name = "cabi_post_golem:agent/guest@1.5.0#get-definition")]
            unsafe extern "C" fn __reprise_post_get_definition(arg0: *mut u8) {
                unsafe { $crate::agent::__private::post_return_get_definition::<$ty>(arg0) }
            }
            #[unsafe(export_name = "golem:agent/guest@1.5.0#discover-agent-types")]
            unsafe extern "C" fn __reprise_discover_agent_types() -> *mut u8 {
                unsafe { __glue::_export_discover_agent_types_cabi::<$ty>() }
            }
            #[unsafe(export_name = "cabi_post_golem:agent/guest@1.5.0#discover-agent-types")]
            unsafe extern "C" fn __reprise_post_discover_agent_types(arg0: *mut u8) {
                unsafe { __glue::__post_return_discover_agent_types::<$ty>(arg0) }
            }
        };
        $crate::__agent_world_section!();
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
            static REPRISE_PLUGIN_WORLD: [u8; $crate::export::PLUGIN_WORLD.len()] = $crate::export::PLUGIN_WORLD;
        };
    };
}
