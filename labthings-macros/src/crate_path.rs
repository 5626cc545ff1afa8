//! Where generated code finds `labthings-core`: `::labthings_core`, unless the Thing says
//! otherwise with `#[thing(crate = path)]` (serde's `#[serde(crate = "…")]`, for the same
//! reason). A crate that renames the dependency (`lt = { package = "labthings-core", … }`), or
//! reaches it through another crate's re-export, has no `::labthings_core` to name.

use proc_macro2::TokenStream;
use quote::{ToTokens, quote};
use syn::parse::{Parse, ParseStream};
use syn::{LitStr, Path, Token};

use crate::kw;

/// The path of `labthings-core` as the user's crate sees it.
pub struct CratePath(Path);

impl Default for CratePath {
    fn default() -> Self {
        Self(syn::parse_quote!(::labthings_core))
    }
}

impl CratePath {
    /// `#[thing]`'s arguments: nothing, or `crate = path` (the path bare or, as serde takes
    /// it, in a string).
    pub fn from_args(args: TokenStream) -> syn::Result<Self> {
        if args.is_empty() {
            return Ok(Self::default());
        }
        syn::parse2(args.clone()).map_err(|_| {
            syn::Error::new_spanned(
                &args,
                format!(
                    "`#[{thing}]` takes one argument, `crate = path`, and only when \
                     `labthings-core` is not reachable as `::labthings_core` (a renamed or \
                     re-exported dependency); a Thing's name is given where it is served, \
                     `ThingServer::new().thing(\"name\", …)`; its description comes from `///` \
                     comments",
                    thing = kw::THING
                ),
            )
        })
    }

    /// `path::__private::name` as a string, for the `crate = "…"` of serde and schemars.
    pub fn private_str(&self, name: &str) -> String {
        let path = &self.0;
        format!("{}::__private::{name}", quote!(#path)).replace(' ', "")
    }
}

impl Parse for CratePath {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        input.parse::<Token![crate]>()?;
        input.parse::<Token![=]>()?;
        let path = if input.peek(LitStr) {
            input.parse::<LitStr>()?.parse_with(Path::parse_mod_style)?
        } else {
            Path::parse_mod_style(input)?
        };
        Ok(Self(path))
    }
}

impl ToTokens for CratePath {
    fn to_tokens(&self, tokens: &mut TokenStream) {
        self.0.to_tokens(tokens);
    }
}
