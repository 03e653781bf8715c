//! The one error collector of the macros: every problem found is kept, in the
//! order found, so the user sees all of them in one build instead of fixing
//! them one compile at a time.

use std::fmt::Display;

use proc_macro2::TokenStream;
use quote::ToTokens;

/// Spanned errors collected while reading and checking a macro's input.
#[derive(Default)]
pub(crate) struct Errors {
    /// All errors so far, combined (`syn::Error` holds several messages).
    error: Option<syn::Error>,
}

impl Errors {
    pub fn new() -> Self {
        Self::default()
    }

    /// Keep `error` (all its messages, if it already combines several).
    pub fn push(&mut self, error: syn::Error) {
        match &mut self.error {
            Some(all) => all.combine(error),
            None => self.error = Some(error),
        }
    }

    /// Keep an error at the span of `tokens`.
    pub fn spanned(&mut self, tokens: impl ToTokens, message: impl Display) {
        self.push(syn::Error::new_spanned(tokens, message));
    }

    /// Keep the error of `result`, if any, and return its value.
    pub fn ok<T>(&mut self, result: syn::Result<T>) -> Option<T> {
        result.map_err(|e| self.push(e)).ok()
    }

    pub fn is_empty(&self) -> bool {
        self.error.is_none()
    }

    /// `Err` with every error collected, `Ok` when there were none.
    pub fn finish(self) -> syn::Result<()> {
        self.error.map_or(Ok(()), Err)
    }

    /// One `compile_error!` per message, in order; nothing when there were none.
    pub fn into_compile_errors(self) -> TokenStream {
        self.error.map(syn::Error::into_compile_error).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proc_macro2::Span;

    fn messages(result: syn::Result<()>) -> Vec<String> {
        match result {
            Ok(()) => Vec::new(),
            Err(e) => e.into_iter().map(|e| e.to_string()).collect(),
        }
    }

    #[test]
    fn keeps_every_error_in_order() {
        let mut errors = Errors::new();
        assert!(errors.is_empty());
        errors.push(syn::Error::new(Span::call_site(), "first"));
        let mut pair = syn::Error::new(Span::call_site(), "second");
        pair.combine(syn::Error::new(Span::call_site(), "third"));
        errors.push(pair);
        assert_eq!(errors.ok(syn::parse_str::<syn::Ident>("x")).map(|i| i.to_string()), Some("x".to_string()));
        assert_eq!(errors.ok(syn::parse_str::<syn::Ident>("1")), None);
        errors.spanned(quote::quote!(a b), "fifth");
        assert!(!errors.is_empty());
        let all = messages(errors.finish());
        assert_eq!(all.len(), 5);
        assert_eq!(all[..3], ["first", "second", "third"]);
        assert_eq!(all[4], "fifth");
    }

    #[test]
    fn no_errors() {
        assert!(Errors::new().finish().is_ok());
        assert!(Errors::new().into_compile_errors().is_empty());
    }

    #[test]
    fn one_compile_error_per_message() {
        let mut errors = Errors::new();
        errors.push(syn::Error::new(Span::call_site(), "one"));
        errors.push(syn::Error::new(Span::call_site(), "two"));
        let tokens = errors.into_compile_errors().to_string();
        assert_eq!(tokens.matches("compile_error").count(), 2, "{tokens}");
    }
}
