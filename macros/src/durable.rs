//! `#[durable]`: parse the options and the function's signature, validate,
//! then wrap the body in the durability protocol. Every problem is reported
//! (spanned) at once, and the original function is still emitted so the IDE
//! keeps working.
//!
//! The body is kept as tokens, never parsed (as tracing's `#[instrument]`
//! does): a half-written body still expands, and the compiler reports its own
//! errors inside it instead of the macro failing on the whole function.

use proc_macro2::TokenStream;
use quote::{ToTokens, quote, quote_spanned};
use syn::parse::{Parse, ParseStream};
use syn::{Attribute, FnArg, Ident, Pat, Path, Signature, Visibility, token};

use crate::errors::Errors;

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

fn parse_options(attr: TokenStream, errors: &mut Errors) -> Options {
    let mut options =
        Options { function_type: "WriteRemote", interface: None, function: None, krate: syn::parse_quote!(::reprise) };
    for opt in crate::options::parse(attr, errors) {
        match opt.key.as_str() {
            "function_type" => match FUNCTION_TYPES.iter().find(|(wit, _)| *wit == opt.value) {
                Some((_, variant)) => options.function_type = variant,
                None => errors.spanned(
                    &opt.expr,
                    format!(
                        "unknown function type `{}`; expected one of {}",
                        opt.value,
                        FUNCTION_TYPES.iter().map(|(w, _)| format!("`{w}`")).collect::<Vec<_>>().join(", ")
                    ),
                ),
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

/// A function or method with its body as unparsed tokens.
struct DurableFn {
    attrs: Vec<Attribute>,
    vis: Visibility,
    sig: Signature,
    brace: token::Brace,
    /// `#![...]` at the start of the body; they stay on the function.
    inner_attrs: Vec<Attribute>,
    body: TokenStream,
}

impl Parse for DurableFn {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let attrs = input.call(Attribute::parse_outer)?;
        let vis = input.parse()?;
        let sig = input.parse()?;
        let content;
        let brace = syn::braced!(content in input);
        let inner_attrs = content.call(Attribute::parse_inner)?;
        let body = content.parse()?;
        Ok(DurableFn { attrs, vis, sig, brace, inner_attrs, body })
    }
}

impl DurableFn {
    /// The body with its braces, at their original spans.
    fn block(&self) -> TokenStream {
        let mut block = TokenStream::new();
        self.brace.surround(&mut block, |tokens| self.body.to_tokens(tokens));
        block
    }
}

/// Check the signature; the names of its arguments, which are recorded as the
/// request.
fn check(sig: &Signature, errors: &mut Errors) -> Vec<Ident> {
    if let Some(c) = &sig.constness {
        errors.spanned(c, "`#[durable]` cannot wrap a `const fn`: it calls the host");
    }
    if let Some(a) = &sig.asyncness {
        errors.spanned(
            a,
            "`#[durable]` does not support `async fn`: Reprise agents are synchronous; make the function sync",
        );
    }
    let mut args = Vec::new();
    for input in &sig.inputs {
        let FnArg::Typed(pt) = input else { continue };
        match &*pt.pat {
            Pat::Ident(id) if id.subpat.is_none() => args.push(id.ident.clone()),
            other => errors.spanned(
                other,
                "`#[durable]` needs a plain argument name here (the arguments are recorded as the request)",
            ),
        }
    }
    args
}

pub(crate) fn expand(attr: TokenStream, item: TokenStream) -> TokenStream {
    let mut errors = Errors::new();
    let options = parse_options(attr, &mut errors);
    let func: DurableFn = match syn::parse2(item.clone()) {
        Ok(f) => f,
        Err(_) => {
            errors.spanned(&item, "`#[durable]` applies to functions and methods");
            let errors = errors.into_compile_errors();
            return quote!(#item #errors);
        }
    };
    let args = check(&func.sig, &mut errors);
    if !errors.is_empty() {
        let errors = errors.into_compile_errors();
        return quote!(#item #errors);
    }

    let krate = &options.krate;
    let sig = &func.sig;
    let function_type = syn::Ident::new(options.function_type, proc_macro2::Span::call_site());
    let interface = match &options.interface {
        Some(i) => quote!(#i),
        None => quote!(::core::module_path!()),
    };
    let function = options.function.clone().unwrap_or_else(|| sig.ident.to_string());
    let (attrs, inner_attrs, vis) = (&func.attrs, &func.inner_attrs, &func.vis);
    let block = func.block();
    let output = match &sig.output {
        syn::ReturnType::Default => quote!(()),
        syn::ReturnType::Type(_, ty) => quote!(#ty),
    };
    // Each argument converts at its own span, so a missing conversion is
    // reported at the argument.
    let conversions = args
        .iter()
        .map(|a| quote_spanned!(a.span()=> #krate::value::IntoValue::add_value(&#a, &mut __reprise_builder)));
    let type_of =
        args.iter().map(|a| quote_spanned!(a.span()=> #krate::value::__private::schema_of(&#a, &mut __reprise_types)));
    quote! {
        #(#attrs)*
        #vis #sig {
            #(#inner_attrs)*
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_broken_body_still_expands_as_tokens() {
        // Missing `;` and an unknown name: not the macro's business.
        let out = expand(quote!(), quote!(fn send(message: u64) -> u64 { let x = message x + y })).to_string();
        assert!(!out.contains("compile_error"), "{out}");
        assert!(out.contains("|| -> u64 { let x = message x + y }"), "{out}");
    }

    #[test]
    fn inner_attributes_stay_at_the_top_of_the_function() {
        let out = expand(
            quote!(),
            quote!(
                fn f() {
                    #![allow(unused)]
                    let a = 1;
                }
            ),
        )
        .to_string();
        assert!(out.starts_with("fn f () { # ! [allow (unused)] let __reprise_request"), "{out}");
        assert!(out.contains("|| -> () { let a = 1 ; }"), "{out}");
    }

    #[test]
    fn every_problem_is_reported_with_the_original_function() {
        let out = expand(
            quote!(retries = "3", function_type = "write-everything"),
            quote!(
                const async fn f((a, b): (u8, u8), c @ _: u8) {}
            ),
        )
        .to_string();
        assert!(out.starts_with("const async fn f"), "{out}");
        assert_eq!(out.matches("compile_error").count(), 6, "{out}");
    }

    #[test]
    fn not_a_function() {
        let out = expand(
            quote!(),
            quote!(
                struct S;
            ),
        )
        .to_string();
        assert!(out.starts_with("struct S ;"), "{out}");
        assert_eq!(out.matches("compile_error").count(), 1, "{out}");
    }
}
