//! The rules of agent types, checked on the model. Functions are checked in
//! source order, so errors come out in the order of the code.

use super::model::{AgentDef, FnDef, FnKind};
use crate::errors::Errors;

/// Items of the generated client that agent methods must not be named after.
const CLIENT_ITEMS: [(&str, &str); 4] = [
    ("connect", "makes a client for an agent of this type"),
    ("connect_phantom", "makes a client for a phantom agent of this type"),
    ("connect_new_phantom", "makes a client for a new phantom agent of this type"),
    ("remote", "returns the client's `RemoteAgent`"),
];

/// The client gives each method `m` the twins `trigger_m`, `async_m`,
/// `schedule_m` and `schedule_cancelable_m`; a method already named like a
/// twin of another would be generated twice.
fn twin_clashes(def: &AgentDef, methods: &[&FnDef], errors: &mut Errors) {
    for f in methods {
        let name = f.ident.to_string();
        for prefix in ["trigger_", "async_", "schedule_", "schedule_cancelable_"] {
            let Some(base) = name.strip_prefix(prefix) else { continue };
            if methods.iter().any(|other| other.ident == base) {
                let client = def.client_ident();
                errors.spanned(
                    &f.ident,
                    format!(
                        "an agent method cannot be called `{name}`: the generated `{client}::{name}` is the {kind} twin of method `{base}`; rename the method",
                        kind = prefix.trim_end_matches('_').replace('_', " ")
                    ),
                );
            }
        }
    }
}

/// Report every rule `def` breaks.
pub(crate) fn check(def: &AgentDef, errors: &mut Errors) {
    if !def.generics.params.is_empty() {
        errors.spanned(&def.generics, "agent types cannot be generic");
    }
    let mut constructor: Option<&FnDef> = None;
    let mut methods: Vec<&FnDef> = Vec::new();
    for f in &def.fns {
        signature(f, errors);
        match &f.kind {
            FnKind::Method { .. } => {
                if let Some((item, what)) = CLIENT_ITEMS.iter().find(|(item, _)| f.name == *item) {
                    let client = def.client_ident();
                    errors.spanned(
                        &f.ident,
                        format!(
                            "an agent method cannot be called `{item}`: the generated `{client}::{item}` {what}; rename the method"
                        ),
                    );
                }
                if let Some(first) = methods.iter().find(|other| other.name == f.name) {
                    let mut e = syn::Error::new_spanned(&f.ident, format!("a second agent method `{}`", f.name));
                    e.combine(syn::Error::new_spanned(&first.ident, "first defined here"));
                    errors.push(e);
                }
                methods.push(f);
            }
            FnKind::Constructor { .. } => match constructor {
                Some(first) => {
                    let mut e = syn::Error::new_spanned(
                        &f.ident,
                        format!(
                            "an agent type has one constructor, but `{}` and `{}` both return `Self`; make one of them private",
                            first.name, f.name
                        ),
                    );
                    e.combine(syn::Error::new_spanned(&first.ident, "first constructor here"));
                    errors.push(e);
                }
                None => constructor = Some(f),
            },
        }
    }
    twin_clashes(def, &methods, errors);
    if constructor.is_none() {
        errors.spanned(
            &def.self_ty,
            format!(
                "agent type `{}` has no constructor: add `pub fn new(...) -> Self` (or `-> Result<Self, E>`) to this impl block",
                def.ident
            ),
        );
    }
}

/// What every constructor and method needs: a fixed signature whose
/// parameters have names; constructors are synchronous (methods may be
/// `async`: they run on wstd's executor).
fn signature(f: &FnDef, errors: &mut Errors) {
    if let (Some(a), FnKind::Constructor { .. }) = (&f.asyncness, &f.kind) {
        errors.spanned(a, "agent constructors are synchronous; remove `async` (methods may be async)");
    }
    if !f.generics.params.is_empty() {
        errors.spanned(
            &f.generics,
            "agent constructors and methods cannot be generic: their schemas are fixed when the component is built",
        );
    }
    if let FnKind::Method { receiver } = &f.kind
        && receiver.reference.is_none()
    {
        errors.spanned(receiver, "agent methods take `&self` or `&mut self`: the agent lives on between invocations");
    }
    for pattern in &f.patterns {
        errors.spanned(
            pattern,
            "agent parameters need a plain name here (it becomes the parameter's name in the schema)",
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agent::model::AgentOptions;
    use proc_macro2::TokenStream;
    use quote::quote;

    fn errors_of(attr: TokenStream, imp: TokenStream) -> Vec<String> {
        let mut errors = Errors::new();
        let options = AgentOptions::parse(attr, &mut errors);
        let imp: syn::ItemImpl = syn::parse2(imp).expect("an impl block");
        if let Some(def) = AgentDef::parse(&imp, options, &mut errors) {
            check(&def, &mut errors);
        }
        errors.finish().err().into_iter().flatten().map(|e| e.to_string()).collect()
    }

    #[test]
    fn a_valid_agent_passes() {
        let errors = errors_of(
            quote!(),
            quote! {
                impl Cart {
                    pub fn new(owner: String) -> Self { todo!() }
                    pub fn add(&mut self, sku: String) {}
                    pub fn total(&self) -> u64 { 0 }
                    fn connect(&self) {}
                }
            },
        );
        assert!(errors.is_empty(), "{errors:?}");
    }

    #[test]
    fn every_broken_rule_is_reported_in_source_order() {
        let errors = errors_of(
            quote!(color = "red"),
            quote! {
                impl<T> Shop {
                    pub fn new() -> Self { Shop }
                    pub async fn open() -> Result<Shop, String> { Ok(Shop) }
                    pub async fn visit(&self) {}
                    pub fn close(self) {}
                    pub fn stock<U>(&self, item: U) {}
                    pub fn price(&self, (sku, qty): (String, u32)) -> u64 { 0 }
                    pub fn remote(&self) {}
                    pub fn visit(&self) {}
                }
            },
        );
        let expected = [
            "unknown option `color`; expected `name`, `client` or `crate`",
            "agent types cannot be generic",
            "agent constructors are synchronous; remove `async` (methods may be async)",
            "an agent type has one constructor, but `new` and `open` both return `Self`; make one of them private",
            "first constructor here",
            "agent methods take `&self` or `&mut self`: the agent lives on between invocations",
            "agent constructors and methods cannot be generic: their schemas are fixed when the component is built",
            "agent parameters need a plain name here (it becomes the parameter's name in the schema)",
            "an agent method cannot be called `remote`: the generated `ShopClient::remote` returns the client's `RemoteAgent`; rename the method",
            "a second agent method `visit`",
            "first defined here",
        ];
        assert_eq!(errors, expected);
    }

    #[test]
    fn a_method_named_like_another_methods_twin_is_refused() {
        let errors = errors_of(
            quote!(client = "Tills"),
            quote! {
                impl Till {
                    pub fn new() -> Self { Till }
                    pub fn open(&self) {}
                    pub fn trigger_open(&self) {}
                    pub async fn async_open(&self) {}
                    pub fn async_close(&self) {}
                }
            },
        );
        assert_eq!(
            errors,
            [
                "an agent method cannot be called `trigger_open`: the generated `Tills::trigger_open` is the trigger twin of method `open`; rename the method",
                "an agent method cannot be called `async_open`: the generated `Tills::async_open` is the async twin of method `open`; rename the method",
            ]
        );
    }

    #[test]
    fn a_missing_constructor_is_reported_with_the_other_errors() {
        let errors = errors_of(
            quote!(),
            quote! {
                impl Counter {
                    fn make() -> Self { Counter }
                    pub fn get(&self, (a, b): (u8, u8)) {}
                }
            },
        );
        assert_eq!(
            errors,
            [
                "agent parameters need a plain name here (it becomes the parameter's name in the schema)",
                "agent type `Counter` has no constructor: add `pub fn new(...) -> Self` (or `-> Result<Self, E>`) to this impl block",
            ]
        );
    }
}
