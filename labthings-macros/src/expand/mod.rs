//! Emit: the code `#[thing]` generates for a Thing that passed every check, one file per
//! generated impl: `fields` (the struct's `ThingFields`), `thing` (the impl block's `Thing`),
//! `action` (what each action adds: its hidden input type, metadata and call), `endpoint`
//! (the same for each `#[endpoint]`) and `client`
//! (the typed `<Thing>Client`, kept only with `labthings-core`'s `client` feature).
//!
//! Everything generated sits in `const _: () = { … };` (see [`in_const`]) and reaches the
//! runtime only through `::labthings_core::__private` (or the `crate = …` path the Thing gives), so nothing leaks into the user's
//! namespace and nothing the user names can shadow what we call.
//!
//! Each author type meets its serde/schemars bound exactly once, in a check spanned at the type
//! the author wrote (a trait of `labthings_core::bounds`); every other use goes through an
//! autoref `Probe`, which compiles whatever the type, so a missing derive is one error.

mod action;
pub mod client;
mod endpoint;
mod fields;
mod thing;

use proc_macro2::{Group, Span, TokenStream, TokenTree};
use quote::{ToTokens, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Ident, Type};

use crate::attr::Constraint;
use crate::crate_path::CratePath;

pub use fields::expand_struct;
pub use thing::expand_impl;

/// Wrap generated items in `const _: () = { … };` with the runtime in scope as `__lt`, and the
/// probe traits imported for method resolution.
pub fn in_const(krate: &CratePath, body: TokenStream) -> TokenStream {
    quote! {
        const _: () = {
            use #krate::__private as __lt;
            #[allow(unused_imports)]
            use __lt::{
                DataProperty as _, DataPropertyUnchecked as _, Decode as _, DecodeUnchecked as _,
                Describe as _, DescribeUnchecked as _, Emit as _, EmitUnchecked as _,
                PropertyValueCheck as _, Split as _, SplitPlain as _,
            };

            #body
        };
    }
}

pub(super) fn option_str(text: Option<&str>) -> TokenStream {
    match text {
        Some(text) => quote!(::core::option::Option::Some(#text)),
        None => quote!(::core::option::Option::<&'static str>::None),
    }
}

pub(super) fn constraints(list: &[Constraint]) -> TokenStream {
    let items = list
        .iter()
        .map(|Constraint { keyword, value }| quote!((#keyword, __lt::json!(#value))));
    quote!(&[#(#items),*])
}

/// `tokens` with every span set to `span`, so an error about them points there.
pub(super) fn respan(tokens: TokenStream, span: Span) -> TokenStream {
    tokens
        .into_iter()
        .map(|mut token| {
            if let TokenTree::Group(group) = &token {
                let mut inner = Group::new(group.delimiter(), respan(group.stream(), span));
                inner.set_span(span);
                token = TokenTree::Group(inner);
            } else {
                token.set_span(span);
            }
            token
        })
        .collect()
}

/// The one check of `ty` against `bound` (a trait of `labthings_core::bounds`), at `ty`.
pub(super) fn bound_check(ty: &Type, bound: &str) -> TokenStream {
    let bound = Ident::new(bound, Span::call_site());
    quote_spanned! {ty.span()=>
        let () = <#ty as __lt::bounds::#bound>::CHECKED;
    }
}

/// `(&__lt::Probe::<ty>::new())`, spanned at `ty`.
pub(super) fn probe(ty: &Type) -> TokenStream {
    quote_spanned!(ty.span()=> (&__lt::Probe::<#ty>::new()))
}

/// A probe of the value a method returns: `T` for a `Result<T, E>`, else the return type.
pub(super) fn value_probe(returned: &Type) -> TokenStream {
    let probe = probe(returned);
    quote_spanned!(returned.span()=> (&#probe.value_probe()))
}

/// The check that the value `returned` carries can be sent to clients, at the return type.
pub(super) fn return_value_check(returned: &Type) -> TokenStream {
    let probe = probe(returned);
    quote_spanned! {returned.span()=>
        __lt::bounds::ReturnValue::check(&#probe.value_probe());
    }
}

/// The check that a property's value (the `T` of a getter's `Result<T, E>`, or its return
/// type) isn't a `Blob`, at the type (see `__private::PropertyValueCheck`).
pub(super) fn not_blob_check(value_probe: TokenStream, ty: &Type) -> TokenStream {
    quote_spanned! {ty.span()=>
        #value_probe.property_value_check();
    }
}

/// `where for<'__lt> T: Send + Sync + ThingFields`: the bounds `impl Thing` needs, written
/// so that when one fails the impl is absent instead of an error. Each failure is reported
/// once elsewhere, at the author's token: a field that isn't `Send + Sync` at that field, a
/// struct without `#[thing]` by [`thing_fields_of`]. (The `for<'__lt>` stops rustc treating
/// the bound as a trivially false one to reject.)
pub fn deferred_bounds(self_ty: &Type, thing_fields: bool) -> TokenStream {
    let fields = thing_fields.then(|| quote!(+ __lt::ThingFields));
    quote! {
        where for<'__lt> #self_ty: ::core::marker::Send + ::core::marker::Sync + 'static #fields
    }
}

/// `<T as ThingFields>`, spanned at the impl's self type, so every error about a struct missing
/// `#[thing]` is the same error at the same token (and rustc shows it once).
pub fn thing_fields_of(self_ty: &Type) -> TokenStream {
    let span = self_ty.span();
    let self_ty = respan(self_ty.to_token_stream(), span);
    quote_spanned!(span=> <#self_ty as __lt::ThingFields>)
}
