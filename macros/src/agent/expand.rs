//! The `reprise::agent::Agent` implementation of a validated model.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;

use super::model::{AgentDef, FnDef, ParamDef};
use super::{client, handle};

/// The `Agent` implementation and the typed client of `def`, whose (one)
/// constructor is `constructor`.
pub(crate) fn agent(def: &AgentDef, constructor: &FnDef) -> TokenStream {
    let krate = &def.options.krate;
    let self_ty = &def.self_ty;
    let type_name = def.type_name();
    let description = &def.description;
    let rt = quote!(#krate::agent::__private);

    let schema_of = |params: &[ParamDef]| {
        let elements = params.iter().map(|p| {
            let (name, ty) = (&p.name, &p.ty);
            quote_spanned!(ty.span()=> #rt::element::<#ty>(#name))
        });
        quote!(::std::vec![#(#elements),*])
    };
    // Decodes the arguments of `f` into locals and evaluates to the call's arguments.
    let decode = |f: &FnDef, what: &str| {
        let names: Vec<&String> = f.params.iter().map(|p| &p.name).collect();
        let locals: Vec<syn::Ident> = (0..f.params.len()).map(|i| format_ident!("__reprise_arg{i}")).collect();
        let lets = f.params.iter().zip(&locals).enumerate().map(|(i, (p, local))| {
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
    let (constructor_decode, constructor_args) = decode(constructor, &format!("the constructor of `{type_name}`"));
    let construct = if constructor.is_fallible() {
        quote!(<#self_ty>::#constructor_ident(#(#constructor_args),*).map_err(|e| #rt::constructor_failed(&e)))
    } else {
        quote!(::core::result::Result::Ok(<#self_ty>::#constructor_ident(#(#constructor_args),*)))
    };

    let method_defs = def.methods().map(|m| {
        let (name, description) = (&m.name, &m.description);
        let input = schema_of(&m.params);
        let output = match &m.output {
            Some(ty) => quote_spanned!(ty.span()=> #rt::returns::<#ty>()),
            None => quote!(#rt::returns_nothing()),
        };
        quote!(#rt::method(#name, #description, #input, #output))
    });
    let arms = def.methods().map(|m| {
        let (name, ident) = (&m.name, &m.ident);
        let (decode, args) = decode(m, &format!("method `{name}`"));
        let call = match m.asyncness {
            // The invocation waits for it: wstd's executor runs it, with
            // whatever it awaits (RPC calls, HTTP, sleeps) side by side.
            Some(_) => quote!(#rt::block_on(<#self_ty>::#ident(self, #(#args),*))),
            None => quote!(<#self_ty>::#ident(self, #(#args),*)),
        };
        let output = match &m.output {
            Some(ty) => {
                let output = quote_spanned!(ty.span()=> __reprise_output::<#ty>(&#call));
                quote!({ use #rt::output as __reprise_output; #output })
            }
            None => quote!({ #call; #rt::no_output() }),
        };
        quote!(#name => { #decode ::core::result::Result::Ok(#output) })
    });
    let method_names = def.methods().map(|m| &m.name);
    let span = Span::call_site();
    let data_value = quote_spanned!(span=> #krate::bindings::golem::core::types::DataValue);
    let agent_error = quote_spanned!(span=> #krate::agent::AgentError);
    let client = client::client(def, constructor);
    let handle = handle::handle(def, constructor);

    quote! {
        #client
        #handle

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
