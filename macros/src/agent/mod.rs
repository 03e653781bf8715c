//! `#[agent]`: read the `impl` block into a model (`model`), check the model
//! (`validate`), then generate the `Agent` implementation and the client from
//! the model alone (`expand`, `client`). Every problem is reported at its
//! token, all at once; the impl block is always emitted unchanged so the rest
//! of the crate still type-checks.

mod client;
mod expand;
mod handle;
mod model;
mod validate;

use proc_macro2::TokenStream;
use quote::quote;
use syn::ItemImpl;

use crate::errors::Errors;
use model::{AgentDef, AgentOptions};

pub(crate) fn expand(attr: TokenStream, item: TokenStream) -> TokenStream {
    let mut errors = Errors::new();
    let options = AgentOptions::parse(attr, &mut errors);
    let imp: ItemImpl = match syn::parse2(item.clone()) {
        Ok(imp) => imp,
        Err(_) => {
            errors.spanned(&item, "`#[reprise::agent]` goes on the `impl` block of the agent type");
            let errors = errors.into_compile_errors();
            return quote!(#item #errors);
        }
    };
    let generated = match AgentDef::parse(&imp, options, &mut errors) {
        Some(def) => {
            validate::check(&def, &mut errors);
            match (errors.is_empty(), def.constructor()) {
                (true, Some(constructor)) => expand::agent(&def, constructor),
                // Validation has reported what is wrong (a missing constructor included).
                _ => errors.into_compile_errors(),
            }
        }
        None => errors.into_compile_errors(),
    };
    quote!(#imp #generated)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_valid_agent_gets_its_impl_client_and_agent_implementation() {
        let out = expand(
            quote!(),
            quote! {
                impl Cart {
                    pub fn new(owner: String) -> Self { Cart }
                    pub fn add(&mut self, sku: String, count: u32) {}
                }
            },
        )
        .to_string();
        assert!(!out.contains("compile_error"), "{out}");
        assert!(out.starts_with("impl Cart {"), "{out}");
        assert!(out.contains("pub struct CartClient"), "{out}");
        assert!(out.contains("impl :: reprise :: agent :: Agent for Cart"), "{out}");
        assert!(out.contains("\"add\" =>"), "{out}");
    }

    #[test]
    fn errors_come_with_the_impl_block_and_nothing_generated() {
        let out = expand(
            quote!(color = "red"),
            quote! {
                impl Cart {
                    pub fn add(self) {}
                }
            },
        )
        .to_string();
        assert!(out.starts_with("impl Cart {"), "{out}");
        assert_eq!(out.matches("compile_error").count(), 3, "{out}");
        assert!(!out.contains("CartClient"), "{out}");
    }

    #[test]
    fn not_an_impl_block() {
        let out = expand(
            quote!(color = "red"),
            quote!(
                struct Cart;
            ),
        )
        .to_string();
        assert!(out.starts_with("struct Cart ;"), "{out}");
        assert_eq!(out.matches("compile_error").count(), 2, "{out}");
    }
}
