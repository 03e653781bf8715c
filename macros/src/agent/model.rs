//! The model of an agent type, read from the `impl` block: its options, doc
//! comments, public constructors and methods. Reading rejects only what cannot
//! be modelled (not an inherent impl of a named type); the rules of agent
//! types are checked by `validate`, on the model.

use proc_macro2::TokenStream;
use quote::format_ident;
use syn::{FnArg, GenericArgument, Generics, Ident, ImplItem, ImplItemFn, ItemImpl, Pat, Path, PathArguments};
use syn::{Receiver, ReturnType, Token, Type};

use crate::errors::Errors;
use crate::options::{self, docs};

/// `#[agent(name = "...", client = "...", crate = "...")]`.
pub(crate) struct AgentOptions {
    /// The agent type's name (default: the Rust type's name).
    pub name: Option<String>,
    /// The generated client type's name (default `<Type>Client`).
    pub client: Option<Ident>,
    pub krate: Path,
}

impl AgentOptions {
    pub fn parse(attr: TokenStream, errors: &mut Errors) -> Self {
        let mut options = AgentOptions { name: None, client: None, krate: syn::parse_quote!(::reprise) };
        for opt in options::parse(attr, errors) {
            match opt.key.as_str() {
                "name" if opt.value.is_empty() => errors.spanned(&opt.expr, "the name is empty"),
                "name" => options.name = Some(opt.value),
                "client" => match syn::parse_str::<Ident>(&opt.value) {
                    Ok(ident) => options.client = Some(ident),
                    Err(_) => errors.spanned(&opt.expr, "the client's name must be a Rust identifier"),
                },
                "crate" => {
                    if let Some(p) = opt.path_value(errors) {
                        options.krate = p;
                    }
                }
                _ => errors.push(opt.unknown(&["name", "client", "crate"])),
            }
        }
        options
    }
}

/// An agent type as its `impl` block declares it.
pub(crate) struct AgentDef {
    pub options: AgentOptions,
    /// The type after `impl`, as written.
    pub self_ty: Type,
    /// The type's name (the last segment of its path).
    pub ident: Ident,
    /// The impl block's generics (agent types cannot have any).
    pub generics: Generics,
    pub description: String,
    /// Public constructors and methods, in source order. Private functions
    /// and other associated functions are helpers, not part of the agent.
    pub fns: Vec<FnDef>,
}

pub(crate) enum FnKind {
    /// Returns `Self` or, when `fallible`, `Result<Self, E>`.
    Constructor {
        fallible: bool,
    },
    Method {
        receiver: Receiver,
    },
}

/// A public constructor or method.
pub(crate) struct FnDef {
    pub kind: FnKind,
    pub ident: Ident,
    /// The name in the agent type (without `r#`).
    pub name: String,
    pub description: String,
    pub asyncness: Option<Token![async]>,
    pub generics: Generics,
    /// The parameters with a plain name, in order.
    pub params: Vec<ParamDef>,
    /// Parameters written as patterns: they have no name for the schema.
    pub patterns: Vec<Pat>,
    /// The return type, `None` for `()`.
    pub output: Option<Type>,
}

/// A parameter: its Rust name, its name in the schema, its type.
pub(crate) struct ParamDef {
    pub ident: Ident,
    pub name: String,
    pub ty: Type,
}

impl AgentDef {
    /// Read `imp`; `None` (with the error) when it is not an inherent impl of
    /// a named type.
    pub fn parse(imp: &ItemImpl, options: AgentOptions, errors: &mut Errors) -> Option<Self> {
        if let Some((_, path, _)) = &imp.trait_ {
            errors.spanned(
                path,
                "`#[reprise::agent]` goes on the type's own `impl` block, not on a trait implementation",
            );
            return None;
        }
        let ident = match &*imp.self_ty {
            Type::Path(tp) if tp.qself.is_none() => tp.path.segments.last().map(|s| s.ident.clone()),
            _ => None,
        };
        let Some(ident) = ident else {
            errors.spanned(&imp.self_ty, "an agent type must be a named struct or enum");
            return None;
        };
        let fns = imp
            .items
            .iter()
            .filter_map(|item| match item {
                ImplItem::Fn(f) if matches!(f.vis, syn::Visibility::Public(_)) => FnDef::parse(f, &ident),
                _ => None,
            })
            .collect();
        Some(AgentDef {
            options,
            self_ty: (*imp.self_ty).clone(),
            ident,
            generics: imp.generics.clone(),
            description: docs(&imp.attrs),
            fns,
        })
    }

    /// The agent type's name in Golem.
    pub fn type_name(&self) -> String {
        self.options.name.clone().unwrap_or_else(|| self.ident.to_string())
    }

    pub fn client_ident(&self) -> Ident {
        self.options.client.clone().unwrap_or_else(|| format_ident!("{}Client", self.ident))
    }

    /// The host-side calls type of tests (`reprise::testing`).
    pub fn call_ident(&self) -> Ident {
        format_ident!("{}Call", self.ident)
    }

    /// The host-side handle type of tests (`reprise::testing`).
    pub fn handle_ident(&self) -> Ident {
        format_ident!("{}Handle", self.ident)
    }

    /// The first constructor (validation makes sure there is exactly one).
    pub fn constructor(&self) -> Option<&FnDef> {
        self.fns.iter().find(|f| matches!(f.kind, FnKind::Constructor { .. }))
    }

    pub fn methods(&self) -> impl Iterator<Item = &FnDef> {
        self.fns.iter().filter(|f| matches!(f.kind, FnKind::Method { .. }))
    }
}

impl FnDef {
    /// Read a public function of the impl block of `type_ident`; `None` when it
    /// is neither a method nor a constructor.
    fn parse(f: &ImplItemFn, type_ident: &Ident) -> Option<Self> {
        let sig = &f.sig;
        let kind = match (sig.receiver(), &sig.output) {
            (Some(receiver), _) => FnKind::Method { receiver: receiver.clone() },
            (None, ReturnType::Type(_, ty)) if is_self(ty, type_ident) => FnKind::Constructor { fallible: false },
            (None, ReturnType::Type(_, ty)) if result_ok_type(ty).is_some_and(|ok| is_self(ok, type_ident)) => {
                FnKind::Constructor { fallible: true }
            }
            _ => return None,
        };
        let mut params = Vec::new();
        let mut patterns = Vec::new();
        for input in &sig.inputs {
            let FnArg::Typed(pt) = input else { continue };
            match &*pt.pat {
                Pat::Ident(id) if id.subpat.is_none() => {
                    params.push(ParamDef { ident: id.ident.clone(), name: unraw(&id.ident), ty: (*pt.ty).clone() })
                }
                other => patterns.push(other.clone()),
            }
        }
        let output = match &sig.output {
            ReturnType::Type(_, ty) if !is_unit(ty) => Some((**ty).clone()),
            _ => None,
        };
        Some(FnDef {
            kind,
            ident: sig.ident.clone(),
            name: unraw(&sig.ident),
            description: docs(&f.attrs),
            asyncness: sig.asyncness,
            generics: sig.generics.clone(),
            params,
            patterns,
            output,
        })
    }

    pub fn is_fallible(&self) -> bool {
        matches!(self.kind, FnKind::Constructor { fallible: true })
    }
}

/// The name without `r#` (`r#type` is `type` in the schema).
fn unraw(ident: &Ident) -> String {
    ident.to_string().trim_start_matches("r#").to_string()
}

/// `Result<T, E>` → `Some(T)`; the last path segment decides.
fn result_ok_type(ty: &Type) -> Option<&Type> {
    let Type::Path(tp) = ty else { return None };
    let last = tp.path.segments.last()?;
    if last.ident != "Result" {
        return None;
    }
    let PathArguments::AngleBracketed(args) = &last.arguments else { return None };
    match args.args.first()? {
        GenericArgument::Type(t) => Some(t),
        _ => None,
    }
}

/// Whether `ty` names the agent type itself (`Self` or its name).
fn is_self(ty: &Type, type_ident: &Ident) -> bool {
    let Type::Path(tp) = ty else { return false };
    tp.qself.is_none() && (tp.path.is_ident("Self") || tp.path.is_ident(type_ident))
}

fn is_unit(ty: &Type) -> bool {
    matches!(ty, Type::Tuple(t) if t.elems.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::{ToTokens, quote};

    fn parse(attr: TokenStream, imp: TokenStream) -> (Option<AgentDef>, Errors) {
        let mut errors = Errors::new();
        let options = AgentOptions::parse(attr, &mut errors);
        let imp: ItemImpl = syn::parse2(imp).expect("an impl block");
        (AgentDef::parse(&imp, options, &mut errors), errors)
    }

    fn text(t: impl ToTokens) -> String {
        t.to_token_stream().to_string()
    }

    #[test]
    fn reads_constructor_methods_and_docs() {
        let (def, errors) = parse(
            quote!(name = "shop", client = "ShopRpc"),
            quote! {
                /// A shop.
                impl Shop {
                    /// Opens the shop.
                    pub fn open(owner: String) -> Result<Self, String> { todo!() }
                    pub fn default_owner() -> String { todo!() }
                    fn helper(&self) {}
                    /// Sells.
                    pub fn sell(&mut self, r#type: String, mut count: u32) -> u64 { 0 }
                    pub fn close(&self) -> () {}
                }
            },
        );
        assert!(errors.is_empty());
        let def = def.expect("a model");
        assert_eq!(def.type_name(), "shop");
        assert_eq!(def.client_ident(), "ShopRpc");
        assert_eq!(def.ident, "Shop");
        assert_eq!(def.description, "A shop.");
        let names: Vec<&str> = def.fns.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["open", "sell", "close"]);

        let open = def.constructor().expect("a constructor");
        assert!(open.is_fallible());
        assert_eq!(open.description, "Opens the shop.");
        assert_eq!(open.params.len(), 1);
        assert_eq!(text(&open.params[0].ty), "String");
        assert_eq!(text(open.output.as_ref().expect("an output")), "Result < Self , String >");

        let methods: Vec<&FnDef> = def.methods().collect();
        let sell = methods[0];
        assert!(matches!(&sell.kind, FnKind::Method { receiver } if receiver.mutability.is_some()));
        let params: Vec<(String, &str)> = sell.params.iter().map(|p| (p.ident.to_string(), p.name.as_str())).collect();
        assert_eq!(params, [("r#type".to_string(), "type"), ("count".to_string(), "count")]);
        assert_eq!(text(sell.output.as_ref().expect("an output")), "u64");
        assert!(methods[1].output.is_none(), "`()` is no output");
    }

    #[test]
    fn keeps_what_validation_rejects() {
        let (def, errors) = parse(
            quote!(),
            quote! {
                impl<T> Shop<T> {
                    pub fn new() -> Shop<T> { todo!() }
                    pub fn make() -> Shop { todo!() }
                    pub async fn visit<U>(self, (a, b): (u32, u32), c @ _: u8) {}
                }
            },
        );
        assert!(errors.is_empty());
        let def = def.expect("a model");
        assert_eq!(def.type_name(), "Shop");
        assert_eq!(def.client_ident(), "ShopClient");
        assert_eq!(def.generics.params.len(), 1);
        // `Shop<T>` is not the bare name, so `new` is not a constructor.
        assert_eq!(def.constructor().map(|c| c.name.as_str()), Some("make"));
        let visit = def.methods().next().expect("a method");
        assert!(visit.asyncness.is_some());
        assert_eq!(visit.generics.params.len(), 1);
        assert!(visit.params.is_empty());
        assert_eq!(visit.patterns.len(), 2);
        assert!(matches!(&visit.kind, FnKind::Method { receiver } if receiver.reference.is_none()));
    }

    #[test]
    fn rejects_what_is_not_an_agent_impl() {
        let (def, errors) = parse(quote!(), quote!(impl Greeter for Shop {}));
        assert!(def.is_none());
        assert!(errors.finish().is_err());
        let (def, errors) = parse(
            quote!(),
            quote!(
                impl (u32, u32) {}
            ),
        );
        assert!(def.is_none());
        assert!(errors.finish().is_err());
    }

    #[test]
    fn reports_every_bad_option() {
        let (def, errors) = parse(quote!(name = "", client = "not an ident", color = "red"), quote!(impl Shop {}));
        assert!(def.is_some());
        let messages: Vec<String> = errors.finish().err().into_iter().flatten().map(|e| e.to_string()).collect();
        assert_eq!(
            messages,
            [
                "the name is empty",
                "the client's name must be a Rust identifier",
                "unknown option `color`; expected `name`, `client` or `crate`"
            ]
        );
    }
}
