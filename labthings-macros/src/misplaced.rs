//! Our attributes used outside a `#[thing]` item: they exist as macros only to say so.
//!
//! An `impl` block that lacks `#[thing]` is one mistake however many methods in it are marked,
//! so it is one error, at its first marked method. Each attribute macro sees only its own
//! method, not the block, so it reads the block's earlier lines from the source file (the
//! attribute's span names file and line) and stays silent when a marked method comes first.
//! When the file can't be read, or the layout isn't rustfmt's, it reports: an error too many,
//! never one too few. The method's `#[param]`/`#[inject]` attributes are removed, so rustc
//! doesn't add "expected non-macro attribute" for each.

use proc_macro::{Span, TokenStream};
use quote::quote;
use syn::{FnArg, ImplItemFn};

use crate::kw::{self, Symbol};

/// The attributes that mark a method of a `#[thing]` impl block.
const METHOD_ATTRIBUTES: [Symbol; 6] = [
    kw::ACTION,
    kw::PROPERTY,
    kw::SETTER,
    kw::ENDPOINT,
    kw::ON_START,
    kw::ON_STOP,
];

/// `#[name]` outside a `#[thing]` item: the item back, with one error per block.
pub fn misplaced(name: Symbol, input: TokenStream) -> TokenStream {
    let message = format!(
        "`#[{name}]` only works inside a `#[thing]` item: put `#[thing]` on the struct and on \
         its `impl` block"
    );
    let input = proc_macro2::TokenStream::from(input);
    let Ok(mut method) = syn::parse2::<ImplItemFn>(input.clone()) else {
        return quote!(::core::compile_error!(#message); #input).into();
    };
    for input in &mut method.sig.inputs {
        if let FnArg::Typed(param) = input {
            param
                .attrs
                .retain(|attr| !kw::PARAM.is(attr) && !kw::INJECT.is(attr));
        }
    }
    if !first_marked_in_block(Span::call_site()) {
        return quote!(#method).into();
    }
    quote!(::core::compile_error!(#message); #method).into()
}

/// Whether the attribute at `span` is the first of [`METHOD_ATTRIBUTES`] in its block: no line
/// between the block's opening line and this one, at this one's indentation, starts with one.
fn first_marked_in_block(span: Span) -> bool {
    let Some(text) = span
        .local_file()
        .and_then(|path| std::fs::read_to_string(path).ok())
    else {
        return true;
    };
    let lines: Vec<&str> = text.lines().collect();
    let Some(own) = span.line().checked_sub(1).and_then(|i| lines.get(i)) else {
        return true;
    };
    let indent = |line: &str| line.len() - line.trim_start().len();
    let own_indent = indent(own);
    for line in lines[..span.line() - 1].iter().rev() {
        let text = line.trim_start();
        if text.is_empty() {
            continue;
        }
        if indent(line) < own_indent {
            return true; // the block's opening line
        }
        let marked = METHOD_ATTRIBUTES.iter().any(|attribute| {
            text.strip_prefix("#[")
                .and_then(|rest| rest.strip_prefix(attribute.0))
                .is_some_and(|rest| rest.starts_with([']', '(']))
        });
        if indent(line) == own_indent && marked {
            return false;
        }
    }
    true
}
