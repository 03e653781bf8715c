//! `#[derive(Value)]`: parse the item, then expand the three conversion traits.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote};
use syn::meta::ParseNestedMeta;
use syn::{Data, DeriveInput, Fields, Ident, Path, Token};

use crate::errors::Errors;

/// Kebab-case WIT name of a Rust identifier (`OrderLine` → `order-line`, `unit_price` → `unit-price`).
pub(crate) fn kebab(ident: &Ident) -> String {
    let raw = ident.to_string();
    let raw = raw.strip_prefix("r#").unwrap_or(&raw);
    let mut out = String::new();
    let chars: Vec<char> = raw.chars().collect();
    for (i, c) in chars.iter().enumerate() {
        if *c == '_' {
            if !out.ends_with('-') && !out.is_empty() {
                out.push('-');
            }
        } else if c.is_uppercase() {
            let prev_lower = i > 0 && (chars[i - 1].is_lowercase() || chars[i - 1].is_ascii_digit());
            let next_lower = chars.get(i + 1).is_some_and(|n| n.is_lowercase());
            let prev_upper = i > 0 && chars[i - 1].is_uppercase();
            if !out.is_empty() && !out.ends_with('-') && (prev_lower || (prev_upper && next_lower)) {
                out.push('-');
            }
            out.extend(c.to_lowercase());
        } else {
            out.push(*c);
        }
    }
    out
}

/// `#[reprise(crate = path)]`, default `::reprise`.
fn crate_path(input: &DeriveInput, errors: &mut Errors) -> Path {
    let mut path: Path = syn::parse_quote!(::reprise);
    for attr in input.attrs.iter().filter(|a| a.path().is_ident("reprise")) {
        let parsed = attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("crate") {
                path = meta.value()?.parse::<syn::LitStr>()?.parse()?;
            } else {
                errors.push(meta.error("unknown `reprise` option; expected `crate = \"path\"`"));
                skip_value(&meta)?;
            }
            Ok(())
        });
        errors.ok(parsed);
    }
    path
}

/// Skip the value of an unknown option (`= ...` or `(...)`), so the options
/// after it are still read.
fn skip_value(meta: &ParseNestedMeta) -> syn::Result<()> {
    if meta.input.peek(Token![=]) {
        meta.value()?.parse::<syn::Expr>()?;
    } else if meta.input.peek(syn::token::Paren) {
        meta.input.parse::<proc_macro2::TokenTree>()?;
    }
    Ok(())
}

pub(crate) fn expand(input: DeriveInput) -> syn::Result<TokenStream> {
    let mut errors = Errors::new();
    let krate = crate_path(&input, &mut errors);
    let name = &input.ident;
    let wit_name = kebab(name);
    let v = quote!(#krate::value);
    let t = quote!(#krate::value::__private);

    let (schema_body, into_body, from_body) = match &input.data {
        Data::Struct(s) => struct_bodies(&s.fields, &wit_name, &v, &t),
        Data::Enum(e) => enum_bodies(e, &wit_name, &v, &t, &mut errors),
        Data::Union(u) => {
            errors.push(syn::Error::new(
                u.union_token.span,
                "`Value` cannot be derived for unions; use a struct or an enum",
            ));
            Bodies::default()
        }
    };
    errors.finish()?;

    let mut generics = input.generics.clone();
    let params: Vec<Ident> = generics.type_params().map(|p| p.ident.clone()).collect();
    let where_clause = generics.make_where_clause();
    for p in &params {
        where_clause.predicates.push(syn::parse_quote!(#p: #v::Schema + #v::IntoValue + #v::FromValue));
    }
    let (impl_generics, ty_generics, where_clause) = generics.split_for_impl();

    Ok(quote! {
        #[automatically_derived]
        impl #impl_generics #v::Schema for #name #ty_generics #where_clause {
            fn add_type(b: &mut #v::TypeBuilder) -> #v::NodeIndex {
                #schema_body
            }
        }
        #[automatically_derived]
        impl #impl_generics #v::IntoValue for #name #ty_generics #where_clause {
            fn add_value(&self, b: &mut #v::ValueBuilder) -> #v::NodeIndex {
                #into_body
            }
        }
        #[automatically_derived]
        impl #impl_generics #v::FromValue for #name #ty_generics #where_clause {
            fn read(r: &#v::ValueReader<'_>, at: #v::NodeIndex) -> ::core::result::Result<Self, #v::ValueError> {
                #from_body
            }
        }
    })
}

type Bodies = (TokenStream, TokenStream, TokenStream);

fn struct_bodies(fields: &Fields, wit_name: &str, v: &TokenStream, t: &TokenStream) -> Bodies {
    match fields {
        Fields::Named(named) => {
            let idents: Vec<&Ident> = named.named.iter().filter_map(|f| f.ident.as_ref()).collect();
            let types: Vec<&syn::Type> = named.named.iter().map(|f| &f.ty).collect();
            let names: Vec<String> = idents.iter().map(|i| kebab(i)).collect();
            let paths: Vec<String> = names.iter().map(|n| format!(".{n}")).collect();
            let count = idents.len();
            let indexes = 0..count;
            let expected = format!("record `{wit_name}` with {count} field(s)");
            (
                quote! {
                    let at = b.reserve();
                    let fields = ::std::vec![#((::std::string::String::from(#names), <#types as #v::Schema>::add_type(b))),*];
                    b.set(at, #t::WitTypeNode::RecordType(fields));
                    b.name(at, #wit_name, ::core::option::Option::None)
                },
                quote! {
                    let at = b.reserve();
                    let fields = ::std::vec![#(#v::IntoValue::add_value(&self.#idents, b)),*];
                    b.set(at, #t::WitNode::RecordValue(fields))
                },
                quote! {
                    match r.node(at)? {
                        #t::WitNode::RecordValue(fields) if fields.len() == #count => ::core::result::Result::Ok(Self {
                            #(#idents: #v::FromValue::read(r, fields[#indexes]).map_err(|e| e.within(#paths))?,)*
                        }),
                        other => ::core::result::Result::Err(#v::ValueError::new(#expected, #v::describe(other))),
                    }
                },
            )
        }
        Fields::Unnamed(unnamed) if unnamed.unnamed.len() == 1 => {
            // A newtype is its inner value.
            let ty = &unnamed.unnamed[0].ty;
            (
                quote!(<#ty as #v::Schema>::add_type(b)),
                quote!(#v::IntoValue::add_value(&self.0, b)),
                quote!(::core::result::Result::Ok(Self(#v::FromValue::read(r, at)?))),
            )
        }
        Fields::Unnamed(unnamed) => {
            let types: Vec<&syn::Type> = unnamed.unnamed.iter().map(|f| &f.ty).collect();
            let count = types.len();
            let indexes: Vec<syn::Index> = (0..count).map(syn::Index::from).collect();
            let positions = 0..count;
            let paths: Vec<String> = (0..count).map(|i| format!(".{i}")).collect();
            let expected = format!("tuple `{wit_name}` of {count}");
            (
                quote! {
                    let at = b.reserve();
                    let items = ::std::vec![#(<#types as #v::Schema>::add_type(b)),*];
                    b.set(at, #t::WitTypeNode::TupleType(items));
                    b.name(at, #wit_name, ::core::option::Option::None)
                },
                quote! {
                    let at = b.reserve();
                    let items = ::std::vec![#(#v::IntoValue::add_value(&self.#indexes, b)),*];
                    b.set(at, #t::WitNode::TupleValue(items))
                },
                quote! {
                    match r.node(at)? {
                        #t::WitNode::TupleValue(items) if items.len() == #count => ::core::result::Result::Ok(Self(
                            #(#v::FromValue::read(r, items[#positions]).map_err(|e| e.within(#paths))?,)*
                        )),
                        other => ::core::result::Result::Err(#v::ValueError::new(#expected, #v::describe(other))),
                    }
                },
            )
        }
        Fields::Unit => (
            quote!(b.leaf(#t::WitTypeNode::TupleType(::std::vec::Vec::new()))),
            quote!(b.leaf(#t::WitNode::TupleValue(::std::vec::Vec::new()))),
            quote! {
                match r.node(at)? {
                    #t::WitNode::TupleValue(items) if items.is_empty() => ::core::result::Result::Ok(Self),
                    other => ::core::result::Result::Err(#v::ValueError::new("an empty tuple", #v::describe(other))),
                }
            },
        ),
    }
}

/// The bodies for enum `e`; none (with the error) for an enum without variants.
fn enum_bodies(e: &syn::DataEnum, wit_name: &str, v: &TokenStream, t: &TokenStream, errors: &mut Errors) -> Bodies {
    if e.variants.is_empty() {
        errors.push(syn::Error::new(Span::call_site(), "`Value` cannot be derived for an enum without variants"));
        return Bodies::default();
    }
    let names: Vec<String> = e.variants.iter().map(|var| kebab(&var.ident)).collect();
    let count = names.len();

    // Only unit variants: a WIT enum.
    if e.variants.iter().all(|var| matches!(var.fields, Fields::Unit)) {
        let idents: Vec<&Ident> = e.variants.iter().map(|var| &var.ident).collect();
        let cases: Vec<u32> = (0..count as u32).collect();
        let expected = format!("enum `{wit_name}` (a case below {count})");
        return (
            quote! {
                let at = b.leaf(#t::WitTypeNode::EnumType(::std::vec![#(::std::string::String::from(#names)),*]));
                b.name(at, #wit_name, ::core::option::Option::None)
            },
            quote! {
                let case: u32 = match self { #(Self::#idents => #cases,)* };
                b.leaf(#t::WitNode::EnumValue(case))
            },
            quote! {
                match r.node(at)? {
                    #(#t::WitNode::EnumValue(#cases) => ::core::result::Result::Ok(Self::#idents),)*
                    other => ::core::result::Result::Err(#v::ValueError::new(#expected, #v::describe(other))),
                }
            },
        );
    }

    // Otherwise a WIT variant; payloads of several fields become a tuple
    // (tuple variants) or a record (struct variants).
    let mut type_cases = Vec::new();
    let mut into_arms = Vec::new();
    let mut from_arms = Vec::new();
    for (case, (var, case_name)) in e.variants.iter().zip(&names).enumerate() {
        let case = case as u32;
        let ident = &var.ident;
        let path = format!(".{case_name}");
        match &var.fields {
            Fields::Unit => {
                type_cases.push(quote!((::std::string::String::from(#case_name), ::core::option::Option::None)));
                into_arms.push(
                    quote!(Self::#ident => b.set(at, #t::WitNode::VariantValue((#case, ::core::option::Option::None)))),
                );
                from_arms.push(quote!(#t::WitNode::VariantValue((#case, ::core::option::Option::None)) => ::core::result::Result::Ok(Self::#ident)));
            }
            Fields::Unnamed(f) if f.unnamed.len() == 1 => {
                let ty = &f.unnamed[0].ty;
                type_cases.push(quote!((::std::string::String::from(#case_name), ::core::option::Option::Some(<#ty as #v::Schema>::add_type(b)))));
                into_arms.push(quote!(Self::#ident(x) => {
                    let payload = #v::IntoValue::add_value(x, b);
                    b.set(at, #t::WitNode::VariantValue((#case, ::core::option::Option::Some(payload))))
                }));
                from_arms.push(quote!(#t::WitNode::VariantValue((#case, ::core::option::Option::Some(p))) =>
                    ::core::result::Result::Ok(Self::#ident(#v::FromValue::read(r, *p).map_err(|e| e.within(#path))?))));
            }
            Fields::Unnamed(f) => {
                let types: Vec<&syn::Type> = f.unnamed.iter().map(|f| &f.ty).collect();
                let n = types.len();
                let binds: Vec<Ident> = (0..n).map(|i| format_ident!("f{i}")).collect();
                let positions = 0..n;
                let item_paths: Vec<String> = (0..n).map(|i| format!("{path}.{i}")).collect();
                type_cases.push(quote!((::std::string::String::from(#case_name), ::core::option::Option::Some({
                    let tuple = b.reserve();
                    let items = ::std::vec![#(<#types as #v::Schema>::add_type(b)),*];
                    b.set(tuple, #t::WitTypeNode::TupleType(items))
                }))));
                into_arms.push(quote!(Self::#ident(#(#binds),*) => {
                    let tuple = b.reserve();
                    let items = ::std::vec![#(#v::IntoValue::add_value(#binds, b)),*];
                    b.set(tuple, #t::WitNode::TupleValue(items));
                    b.set(at, #t::WitNode::VariantValue((#case, ::core::option::Option::Some(tuple))))
                }));
                from_arms.push(quote!(#t::WitNode::VariantValue((#case, ::core::option::Option::Some(p))) => match r.node(*p)? {
                    #t::WitNode::TupleValue(items) if items.len() == #n => ::core::result::Result::Ok(Self::#ident(
                        #(#v::FromValue::read(r, items[#positions]).map_err(|e| e.within(#item_paths))?),*
                    )),
                    other => ::core::result::Result::Err(#v::ValueError::new(format!("a tuple of {}", #n), #v::describe(other)).within(#path)),
                }));
            }
            Fields::Named(f) => {
                let idents: Vec<&Ident> = f.named.iter().filter_map(|f| f.ident.as_ref()).collect();
                let types: Vec<&syn::Type> = f.named.iter().map(|f| &f.ty).collect();
                let field_names: Vec<String> = idents.iter().map(|i| kebab(i)).collect();
                let n = idents.len();
                let positions = 0..n;
                let field_paths: Vec<String> = field_names.iter().map(|fname| format!("{path}.{fname}")).collect();
                type_cases.push(quote!((::std::string::String::from(#case_name), ::core::option::Option::Some({
                    let record = b.reserve();
                    let fields = ::std::vec![#((::std::string::String::from(#field_names), <#types as #v::Schema>::add_type(b))),*];
                    b.set(record, #t::WitTypeNode::RecordType(fields))
                }))));
                into_arms.push(quote!(Self::#ident { #(#idents),* } => {
                    let record = b.reserve();
                    let fields = ::std::vec![#(#v::IntoValue::add_value(#idents, b)),*];
                    b.set(record, #t::WitNode::RecordValue(fields));
                    b.set(at, #t::WitNode::VariantValue((#case, ::core::option::Option::Some(record))))
                }));
                from_arms.push(quote!(#t::WitNode::VariantValue((#case, ::core::option::Option::Some(p))) => match r.node(*p)? {
                    #t::WitNode::RecordValue(fields) if fields.len() == #n => ::core::result::Result::Ok(Self::#ident {
                        #(#idents: #v::FromValue::read(r, fields[#positions]).map_err(|e| e.within(#field_paths))?,)*
                    }),
                    other => ::core::result::Result::Err(#v::ValueError::new(format!("a record of {}", #n), #v::describe(other)).within(#path)),
                }));
            }
        }
    }
    let expected = format!("variant `{wit_name}` (a case below {count}, with its payload)");
    (
        quote! {
            let at = b.reserve();
            let cases = ::std::vec![#(#type_cases),*];
            b.set(at, #t::WitTypeNode::VariantType(cases));
            b.name(at, #wit_name, ::core::option::Option::None)
        },
        quote! {
            let at = b.reserve();
            match self { #(#into_arms,)* }
        },
        quote! {
            match r.node(at)? {
                #(#from_arms,)*
                other => ::core::result::Result::Err(#v::ValueError::new(#expected, #v::describe(other))),
            }
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errors_of(input: TokenStream) -> Vec<String> {
        let input: DeriveInput = syn::parse2(input).expect("an item");
        expand(input).err().into_iter().flatten().map(|e| e.to_string()).collect()
    }

    #[test]
    fn every_problem_is_reported() {
        let errors = errors_of(quote! {
            #[reprise(color = "red", crate = "my::reprise", size(1))]
            #[reprise(shape)]
            union Bits { a: u32 }
        });
        let unknown = "unknown `reprise` option; expected `crate = \"path\"`";
        assert_eq!(
            errors,
            [unknown, unknown, unknown, "`Value` cannot be derived for unions; use a struct or an enum"]
        );
    }

    #[test]
    fn an_enum_without_variants() {
        assert_eq!(
            errors_of(quote!(
                enum Never {}
            )),
            ["`Value` cannot be derived for an enum without variants"]
        );
    }

    #[test]
    fn a_struct_with_its_crate_path() {
        let input: DeriveInput = syn::parse2(quote! {
            #[reprise(crate = "my::reprise")]
            struct OrderLine { unit_price: u64 }
        })
        .expect("an item");
        let out = expand(input).map(|t| t.to_string()).unwrap_or_default();
        assert!(out.contains("impl my :: reprise :: value :: Schema for OrderLine"), "{out}");
        assert!(out.contains("\"unit-price\""), "{out}");
    }

    #[test]
    fn kebab_case_names() {
        let k = |s: &str| kebab(&syn::parse_str::<Ident>(s).expect("an identifier"));
        assert_eq!(k("OrderLine"), "order-line");
        assert_eq!(k("unit_price"), "unit-price");
        assert_eq!(k("HTTPServer"), "http-server");
        assert_eq!(k("r#type"), "type");
    }
}
