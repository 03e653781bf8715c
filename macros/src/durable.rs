//! `#[durable]`: parse the options and the function, validate, then wrap the
//! body in the durability protocol. Every problem is reported (spanned) at
//! once, and the original function is still emitted so the IDE keeps working.

use proc_macro2::TokenStream;
use quote::quote;
use syn::{FnArg, ItemFn, Pat, Path};

const FUNCTION_TYPES: &[(&str, &str)] = &[
    ("read-local", "ReadLocal"),
    ("write-local", "WriteLocal"),
    ("read-remote", "ReadRemote"),
    ("write-remote", "WriteRemote"),
    ("write-remote-batched", "WriteRemoteBatched"),
    ("write-remote-transaction", "WriteRemoteTransaction"),
];

struct Options {
    function_type: &'static str,
    interface: Option<String>,
    function: Option<String>,
    krate: Path,
}

fn parse_options(attr: TokenStream, errors: &mut Vec<syn::Error>) -> Options {
    let mut options =
        Options { function_type: "WriteRemote", interface: None, function: None, krate: syn::parse_quote!(::reprise) };
    for opt in crate::options::parse(attr, errors) {
        match opt.key.as_str() {
            "function_type" => match FUNCTION_TYPES.iter().find(|(wit, _)| *wit == opt.value) {
                Some((_, variant)) => options.function_type = variant,
                None => errors.push(syn::Error::new_spanned(
                    &opt.expr,
                    format!(
                        "unknown function type `{}`; expected one of {}",
                        opt.value,
                        FUNCTION_TYPES.iter().map(|(w, _)| format!("`{w}`")).collect::<Vec<_>>().join(", ")
                    ),
                )),
            },
            "interface" => options.interface = Some(opt.value),
            "function" => options.function = Some(opt.value),
            "crate" => {
                if let Some(p) = opt.path_value(errors) {
                    options.krate = p;
                }
            }
            _ => errors.push(opt.unknown(&["function_type", "interface", "function", "crate"])),
        }
    }
    options
}

pub(crate) fn expand(attr: TokenStream, item: TokenStream) -> TokenStream {
    let mut errors = Vec::new();
    let options = parse_options(attr, &mut errors);
    let func: ItemFn = match syn::parse2(item.clone()) {
        Ok(f) => f,
        Err(_) => {
            let e =
                syn::Error::new_spanned(&item, "`#[durable]` applies to functions and methods").into_compile_error();
            return quote!(#item #e);
        }
    };
    let sig = &func.sig;
    if let Some(c) = &sig.constness {
        errors.push(syn::Error::new_spanned(c, "`#[durable]` cannot wrap a `const fn`: it calls the host"));
    }
    if let Some(a) = &sig.asyncness {
        errors.push(syn::Error::new_spanned(
            a,
            "`#[durable]` does not support `async fn`: Reprise agents are synchronous; make the function sync",
        ));
    }
    let mut args = Vec::new();
    for input in &sig.inputs {
        match input {
            FnArg::Receiver(_) => {}
            FnArg::Typed(pt) => match &*pt.pat {
                Pat::Ident(id) if id.subpat.is_none() => args.push(id.ident.clone()),
                other => errors.push(syn::Error::new_spanned(
                    other,
                    "`#[durable]` needs a plain argument name here (the arguments are recorded as the request)",
                )),
            },
        }
    }
    if !errors.is_empty() {
        let errors = errors.into_iter().map(syn::Error::into_compile_error);
        return quote!(#func #(#errors)*);
    }

    let krate = &options.krate;
    let function_type = syn::Ident::new(options.function_type, proc_macro2::Span::call_site());
    let interface = match &options.interface {
        Some(i) => quote!(#i),
        None => quote!(::core::module_path!()),
    };
    let function = options.function.clone().unwrap_or_else(|| sig.ident.to_string());
    let attrs = &func.attrs;
    let vis = &func.vis;
    let block = &func.block;
    let output = match &sig.output {
        syn::ReturnType::Default => quote!(()),
        syn::ReturnType::Type(_, ty) => quote!(#ty),
    };
    // Each argument converts at its own span, so a missing conversion is
    // reported at the argument.
    let conversions = args
        .iter()
        .map(|a| quote::quote_spanned!(a.span()=> #krate::value::IntoValue::add_value(&#a, &mut __reprise_builder)));
    let type_of = args
        .iter()
        .map(|a| quote::quote_spanned!(a.span()=> #krate::value::__private::schema_of(&#a, &mut __reprise_types)));
    quote! {
        #(#attrs)*
        #vis #sig {
            let __reprise_request = {
                let mut __reprise_builder = #krate::value::ValueBuilder::default();
                let mut __reprise_types = #krate::value::TypeBuilder::default();
                let at = __reprise_builder.reserve();
                let items = ::std::vec![#(#conversions),*];
                __reprise_builder.set(at, #krate::value::__private::WitNode::TupleValue(items));
                let tat = __reprise_types.reserve();
                let types = ::std::vec![#(#type_of),*];
                __reprise_types.set(tat, #krate::value::__private::WitTypeNode::TupleType(types));
                #krate::value::__private::ValueAndType { value: __reprise_builder.finish(), typ: __reprise_types.finish() }
            };
            #krate::durability::Durable::new(#interface, #function, #krate::durability::FunctionType::#function_type)
                .run_with_request(__reprise_request, || -> #output #block)
        }
    }
}
