//! `#[agent]`: read an `impl` block (constructor, public methods, doc
//! comments), check it, and implement `reprise::agent::Agent` for the type.
//! Every problem is reported at its token, all at once; the impl block is
//! always emitted unchanged so the rest of the crate still type-checks.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{FnArg, GenericArgument, ImplItem, ImplItemFn, ItemImpl, Pat, Path, PathArguments, ReturnType, Type};

use crate::options::{self, docs};

struct Options {
    name: Option<String>,
    /// Name of the generated client type (default `<Type>Client`).
    client: Option<syn::Ident>,
    krate: Path,
}

/// Items of the generated client that agent methods must not be named after.
const CLIENT_ITEMS: [(&str, &str); 2] =
    [("connect", "makes a client for an agent of this type"), ("remote", "returns the client's `RemoteAgent`")];

fn parse_options(attr: TokenStream, errors: &mut Vec<syn::Error>) -> Options {
    let mut options = Options { name: None, client: None, krate: syn::parse_quote!(::reprise) };
    for opt in options::parse(attr, errors) {
        match opt.key.as_str() {
            "name" if opt.value.is_empty() => errors.push(syn::Error::new_spanned(&opt.expr, "the name is empty")),
            "name" => options.name = Some(opt.value),
            "client" => match syn::parse_str::<syn::Ident>(&opt.value) {
                Ok(ident) => options.client = Some(ident),
                Err(_) => {
                    errors.push(syn::Error::new_spanned(&opt.expr, "the client's name must be a Rust identifier"))
                }
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

/// A parameter: its name and type.
struct Param {
    ident: syn::Ident,
    name: String,
    ty: Type,
}

/// A constructor or method, as the agent type exposes it.
struct Callable {
    ident: syn::Ident,
    name: String,
    description: String,
    params: Vec<Param>,
    /// The return type, `None` for `()`.
    output: Option<Type>,
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
fn is_self(ty: &Type, type_ident: &syn::Ident) -> bool {
    let Type::Path(tp) = ty else { return false };
    tp.qself.is_none() && (tp.path.is_ident("Self") || tp.path.is_ident(type_ident))
}

fn is_unit(ty: &Type) -> bool {
    matches!(ty, Type::Tuple(t) if t.elems.is_empty())
}

fn callable(f: &ImplItemFn, errors: &mut Vec<syn::Error>) -> Callable {
    let sig = &f.sig;
    if let Some(a) = &sig.asyncness {
        errors.push(syn::Error::new_spanned(
            a,
            "agent methods are synchronous (an agent runs one invocation at a time); remove `async`",
        ));
    }
    if !sig.generics.params.is_empty() {
        errors.push(syn::Error::new_spanned(
            &sig.generics,
            "agent constructors and methods cannot be generic: their schemas are fixed when the component is built",
        ));
    }
    let mut params = Vec::new();
    for input in &sig.inputs {
        match input {
            FnArg::Receiver(r) if r.reference.is_none() => errors.push(syn::Error::new_spanned(
                r,
                "agent methods take `&self` or `&mut self`: the agent lives on between invocations",
            )),
            FnArg::Receiver(_) => {}
            FnArg::Typed(pt) => match &*pt.pat {
                Pat::Ident(id) if id.subpat.is_none() => {
                    let name = id.ident.to_string();
                    params.push(Param {
                        ident: id.ident.clone(),
                        name: name.trim_start_matches("r#").to_string(),
                        ty: (*pt.ty).clone(),
                    })
                }
                other => errors.push(syn::Error::new_spanned(
                    other,
                    "agent parameters need a plain name here (it becomes the parameter's name in the schema)",
                )),
            },
        }
    }
    let output = match &sig.output {
        ReturnType::Default => None,
        ReturnType::Type(_, ty) if is_unit(ty) => None,
        ReturnType::Type(_, ty) => Some((**ty).clone()),
    };
    Callable {
        ident: sig.ident.clone(),
        name: sig.ident.to_string().trim_start_matches("r#").to_string(),
        description: docs(&f.attrs),
        params,
        output,
    }
}

fn client_ident(options: &Options, type_ident: &syn::Ident) -> syn::Ident {
    options.client.clone().unwrap_or_else(|| format_ident!("{}Client", type_ident))
}

/// The typed RPC client of the agent type: `connect` with the constructor's
/// parameters, and one method per agent method.
fn client(
    krate: &Path,
    client: &syn::Ident,
    type_name: &str,
    constructor: &Callable,
    methods: &[Callable],
) -> TokenStream {
    let rpc = quote!(#krate::rpc);
    let signature = |params: &[Param]| {
        let decls = params.iter().map(|p| {
            let (ident, ty) = (&p.ident, &p.ty);
            quote!(#ident: #ty)
        });
        let args = params.iter().map(|p| {
            let (ident, ty) = (&p.ident, &p.ty);
            quote_spanned!(ty.span()=> #rpc::arg::<#ty>(&#ident))
        });
        (quote!(#(#decls),*), quote!(#rpc::input(::std::vec![#(#args),*])))
    };
    let (connect_params, connect_input) = signature(&constructor.params);
    let connect_doc = format!(
        "A client for the `{type_name}` agent with these constructor arguments; Golem creates the agent on the first call if it does not exist."
    );
    let client_doc = format!(
        "Calls `{type_name}` agents from another agent, through Golem's RPC (generated by `#[reprise::agent]`; see [`{krate}::rpc`]).",
        krate = quote!(#krate).to_string().replace(' ', "")
    );
    let methods = methods.iter().map(|m| {
        let (ident, name) = (&m.ident, &m.name);
        let doc = if m.description.is_empty() { format!("Calls `{type_name}.{name}`.") } else { m.description.clone() };
        let (params, input) = signature(&m.params);
        let (output, call) = match &m.output {
            Some(ty) => (quote!(#ty), quote!(self.remote.call_returning::<#ty>(#name, #input))),
            None => (quote!(()), quote!(self.remote.call_returning_nothing(#name, #input))),
        };
        quote! {
            #[doc = #doc]
            pub fn #ident(&self, #params) -> ::core::result::Result<#output, #rpc::RpcError> {
                #call
            }
        }
    });
    quote! {
        #[doc = #client_doc]
        #[allow(dead_code, private_interfaces)]
        #[derive(Debug)]
        pub struct #client {
            remote: #rpc::RemoteAgent,
        }

        #[allow(dead_code, private_interfaces)]
        impl #client {
            #[doc = #connect_doc]
            pub fn connect(#connect_params) -> Self {
                #client { remote: #rpc::RemoteAgent::new(#type_name, #connect_input) }
            }

            /// The untyped client underneath (agent id, calls by method name).
            pub fn remote(&self) -> &#rpc::RemoteAgent {
                &self.remote
            }

            #(#methods)*
        }
    }
}

pub(crate) fn expand(attr: TokenStream, item: TokenStream) -> TokenStream {
    let mut errors = Vec::new();
    let options = parse_options(attr, &mut errors);
    let imp: ItemImpl = match syn::parse2(item.clone()) {
        Ok(i) => i,
        Err(_) => {
            let e = syn::Error::new_spanned(&item, "`#[reprise::agent]` goes on the `impl` block of the agent type")
                .into_compile_error();
            return quote!(#item #e);
        }
    };
    if let Some((_, path, _)) = &imp.trait_ {
        errors.push(syn::Error::new_spanned(
            path,
            "`#[reprise::agent]` goes on the type's own `impl` block, not on a trait implementation",
        ));
        let errors = errors.into_iter().map(syn::Error::into_compile_error);
        return quote!(#imp #(#errors)*);
    }
    if !imp.generics.params.is_empty() {
        errors.push(syn::Error::new_spanned(&imp.generics, "agent types cannot be generic"));
    }
    let type_ident = match &*imp.self_ty {
        Type::Path(tp) if tp.qself.is_none() => tp.path.segments.last().map(|s| s.ident.clone()),
        _ => None,
    };
    let Some(type_ident) = type_ident else {
        let e =
            syn::Error::new_spanned(&imp.self_ty, "an agent type must be a named struct or enum").into_compile_error();
        return quote!(#imp #e);
    };

    let mut constructor: Option<(Callable, bool)> = None;
    let mut methods: Vec<Callable> = Vec::new();
    for item in &imp.items {
        let ImplItem::Fn(f) = item else { continue };
        if !matches!(f.vis, syn::Visibility::Public(_)) {
            continue; // private helpers are not part of the agent
        }
        if f.sig.receiver().is_some() {
            let m = callable(f, &mut errors);
            if let Some((item, what)) = CLIENT_ITEMS.iter().find(|(item, _)| m.name == *item) {
                let client = client_ident(&options, &type_ident);
                errors.push(syn::Error::new_spanned(
                    &f.sig.ident,
                    format!(
                        "an agent method cannot be called `{item}`: the generated `{client}::{item}` {what}; rename the method"
                    ),
                ));
            }
            if let Some(first) = methods.iter().find(|other| other.name == m.name) {
                let mut e = syn::Error::new_spanned(&f.sig.ident, format!("a second agent method `{}`", m.name));
                e.combine(syn::Error::new_spanned(&first.ident, "first defined here"));
                errors.push(e);
            }
            methods.push(m);
            continue;
        }
        let returns = match &f.sig.output {
            ReturnType::Type(_, ty) => Some(&**ty),
            ReturnType::Default => None,
        };
        let fallible = match returns {
            Some(ty) if is_self(ty, &type_ident) => false,
            Some(ty) if result_ok_type(ty).is_some_and(|ok| is_self(ok, &type_ident)) => true,
            _ => continue, // a public associated function that is not a constructor
        };
        let c = callable(f, &mut errors);
        if let Some((first, _)) = &constructor {
            let mut e = syn::Error::new_spanned(
                &f.sig.ident,
                format!(
                    "an agent type has one constructor, but `{}` and `{}` both return `Self`; make one of them private",
                    first.name, c.name
                ),
            );
            e.combine(syn::Error::new_spanned(&first.ident, "first constructor here"));
            errors.push(e);
        } else {
            constructor = Some((c, fallible));
        }
    }
    let Some((constructor, fallible)) = constructor else {
        errors.push(syn::Error::new_spanned(
            &imp.self_ty,
            format!(
                "agent type `{type_ident}` has no constructor: add `pub fn new(...) -> Self` (or `-> Result<Self, E>`) to this impl block"
            ),
        ));
        let errors = errors.into_iter().map(syn::Error::into_compile_error);
        return quote!(#imp #(#errors)*);
    };
    if !errors.is_empty() {
        let errors = errors.into_iter().map(syn::Error::into_compile_error);
        return quote!(#imp #(#errors)*);
    }

    let krate = &options.krate;
    let self_ty = &imp.self_ty;
    let type_name = options.name.clone().unwrap_or_else(|| type_ident.to_string());
    let description = docs(&imp.attrs);
    let rt = quote!(#krate::agent::__private);

    let schema_of = |params: &[Param]| {
        let elements = params.iter().map(|p| {
            let (name, ty) = (&p.name, &p.ty);
            quote_spanned!(ty.span()=> #rt::element::<#ty>(#name))
        });
        quote!(::std::vec![#(#elements),*])
    };
    // Decodes the arguments of `c` into locals and evaluates to the call's arguments.
    let decode = |c: &Callable, what: &str| {
        let names: Vec<&String> = c.params.iter().map(|p| &p.name).collect();
        let locals: Vec<syn::Ident> = (0..c.params.len()).map(|i| format_ident!("__reprise_arg{i}")).collect();
        let lets = c.params.iter().zip(&locals).enumerate().map(|(i, (p, local))| {
            let (name, ty) = (&p.name, &p.ty);
            // The callee is named at the type's span, so a missing conversion
            // is reported at the parameter's type.
            quote_spanned!(ty.span()=> let #local: #ty = __reprise_argument(&__reprise_args, #i, #what, #name)?;)
        });
        let decode = quote! {
            use #rt::argument as __reprise_argument;
            let __reprise_args = #rt::arguments(__reprise_input, #what, &[#(#names),*])?;
            #(#lets)*
        };
        (decode, locals)
    };

    let constructor_schema = schema_of(&constructor.params);
    let constructor_description = &constructor.description;
    let constructor_ident = &constructor.ident;
    let (constructor_decode, constructor_args) = decode(&constructor, &format!("the constructor of `{type_name}`"));
    let construct = if fallible {
        quote!(<#self_ty>::#constructor_ident(#(#constructor_args),*).map_err(|e| #rt::constructor_failed(&e)))
    } else {
        quote!(::core::result::Result::Ok(<#self_ty>::#constructor_ident(#(#constructor_args),*)))
    };

    let method_defs = methods.iter().map(|m| {
        let (name, description) = (&m.name, &m.description);
        let input = schema_of(&m.params);
        let output = match &m.output {
            Some(ty) => quote_spanned!(ty.span()=> #rt::returns::<#ty>()),
            None => quote!(#rt::returns_nothing()),
        };
        quote!(#rt::method(#name, #description, #input, #output))
    });
    let arms = methods.iter().map(|m| {
        let (name, ident) = (&m.name, &m.ident);
        let (decode, args) = decode(m, &format!("method `{name}`"));
        let call = quote!(<#self_ty>::#ident(self, #(#args),*));
        let output = match &m.output {
            Some(ty) => {
                let output = quote_spanned!(ty.span()=> __reprise_output::<#ty>(&#call));
                quote!({ use #rt::output as __reprise_output; #output })
            }
            None => quote!({ #call; #rt::no_output() }),
        };
        quote!(#name => { #decode ::core::result::Result::Ok(#output) })
    });
    let method_names = methods.iter().map(|m| &m.name);
    let span = Span::call_site();
    let data_value = quote_spanned!(span=> #krate::bindings::golem::core::types::DataValue);
    let agent_error = quote_spanned!(span=> #krate::agent::AgentError);
    let client = client(krate, &client_ident(&options, &type_ident), &type_name, &constructor, &methods);

    quote! {
        #imp

        #client

        impl #krate::agent::Agent for #self_ty {
            const TYPE_NAME: &'static str = #type_name;

            fn definition() -> #krate::agent::AgentType {
                #rt::agent_type(
                    #type_name,
                    #description,
                    #rt::constructor(#constructor_description, #constructor_schema),
                    ::std::vec![#(#method_defs),*],
                )
            }

            fn construct(__reprise_input: &#data_value) -> ::core::result::Result<Self, #agent_error> {
                #constructor_decode
                #construct
            }

            fn invoke(
                &mut self,
                __reprise_method: &str,
                __reprise_input: &#data_value,
            ) -> ::core::result::Result<#data_value, #agent_error> {
                match __reprise_method {
                    #(#arms)*
                    _ => ::core::result::Result::Err(#rt::unknown_method(#type_name, __reprise_method, &[#(#method_names),*])),
                }
            }
        }
    }
}
