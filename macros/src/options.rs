//! `#[macro(key = "value", ...)]` options, shared by the attribute macros.

use proc_macro2::TokenStream;
use quote::ToTokens;
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::{Expr, Lit, Meta, Path, Token};

use crate::errors::Errors;

/// One `key = "value"` option.
pub(crate) struct Opt {
    /// The key, as written.
    pub key: String,
    /// The key's path (for error spans).
    pub path: Path,
    /// The string value.
    pub value: String,
    /// The value's expression (for error spans).
    pub expr: Expr,
}

impl Opt {
    /// The value as a path (for `crate = "..."`).
    pub fn path_value(&self, errors: &mut Errors) -> Option<Path> {
        syn::parse_str::<Path>(&self.value).map_err(|e| errors.spanned(&self.expr, format!("not a path: {e}"))).ok()
    }

    /// An "unknown option" error listing the `known` ones.
    pub fn unknown(&self, known: &[&str]) -> syn::Error {
        let mut known: Vec<String> = known.iter().map(|k| format!("`{k}`")).collect();
        let last = known.pop().unwrap_or_default();
        let expected = if known.is_empty() { last } else { format!("{} or {last}", known.join(", ")) };
        syn::Error::new_spanned(&self.path, format!("unknown option `{}`; expected {expected}", self.key))
    }
}

/// Parse the options; malformed ones are reported in `errors` and skipped.
pub(crate) fn parse(attr: TokenStream, errors: &mut Errors) -> Vec<Opt> {
    let Some(metas) = errors.ok(Punctuated::<Meta, Token![,]>::parse_terminated.parse2(attr)) else {
        return Vec::new();
    };
    let mut options = Vec::new();
    for meta in metas {
        let Meta::NameValue(nv) = &meta else {
            errors.spanned(&meta, "expected `option = \"value\"`");
            continue;
        };
        match &nv.value {
            Expr::Lit(lit) if matches!(lit.lit, Lit::Str(_)) => {
                let Lit::Str(s) = &lit.lit else { continue };
                options.push(Opt {
                    key: nv.path.to_token_stream().to_string(),
                    path: nv.path.clone(),
                    value: s.value(),
                    expr: nv.value.clone(),
                });
            }
            other => errors.spanned(other, "expected a string literal"),
        }
    }
    options
}

/// The text of the doc comments among `attrs`, lines joined and trimmed.
pub(crate) fn docs(attrs: &[syn::Attribute]) -> String {
    let lines: Vec<String> = attrs
        .iter()
        .filter(|a| a.path().is_ident("doc"))
        .filter_map(|a| match &a.meta {
            Meta::NameValue(nv) => match &nv.value {
                Expr::Lit(lit) => match &lit.lit {
                    Lit::Str(s) => Some(s.value().trim().to_string()),
                    _ => None,
                },
                _ => None,
            },
            _ => None,
        })
        .collect();
    lines.join("\n").trim().to_string()
}
