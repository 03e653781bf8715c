//! Procedural macros of the Reprise SDK. Use them through `reprise`, which
//! re-exports them.

mod agent;
mod durable;
mod errors;
mod options;
mod value;

use proc_macro::TokenStream;

/// Derive Golem value conversion (`Schema`, `IntoValue`, `FromValue` of
/// `reprise::value`) for a struct or enum; see `reprise::Value`.
#[proc_macro_derive(Value, attributes(reprise))]
pub fn derive_value(input: TokenStream) -> TokenStream {
    value::expand(syn::parse_macro_input!(input as syn::DeriveInput))
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// Make a function durable: live, its body runs and its arguments and result
/// are recorded in the oplog; on replay the recorded result is returned
/// without running the body. See `reprise::durable`.
#[proc_macro_attribute]
pub fn durable(attr: TokenStream, item: TokenStream) -> TokenStream {
    durable::expand(attr.into(), item.into()).into()
}

/// Turn the `impl` block of a type into a Golem agent type: its public
/// constructor (returning `Self` or `Result<Self, E>`) and its public
/// `&self`/`&mut self` methods. See `reprise::agent`.
#[proc_macro_attribute]
pub fn agent(attr: TokenStream, item: TokenStream) -> TokenStream {
    agent::expand(attr.into(), item.into()).into()
}
