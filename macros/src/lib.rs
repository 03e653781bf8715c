//! Procedural macros of the Reprise SDK. Use them through `reprise`, which
//! re-exports them.

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
