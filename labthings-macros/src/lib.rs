//! Attribute macros for `labthings-core`. Use them through `labthings_core::prelude`.
//!
//! `#[thing]` on a struct reads its `#[property]` / `#[setting]` fields; `#[thing]` on the
//! struct's `impl` block reads its `#[action]`, `#[property]` and `#[setter]` methods and
//! implements `labthings_core::Thing`. Each runs in three steps, one module each:
//! [`ast`] parses (and strips our inner attributes), [`check`] reports misuse with spans, and
//! [`expand`] emits code. The inner attributes exist as macros only to explain themselves
//! when used outside a `#[thing]` impl.

use proc_macro::TokenStream;
use quote::quote;
use syn::{Item, parse_macro_input};

mod ast;
mod attr;
mod check;
mod docs;
mod errors;
mod expand;

use errors::Errors;

/// Marks a Thing: put it on the struct (declaring `#[property]` / `#[setting]` fields) and on
/// its `impl` block (declaring `#[action]`, `#[property]` and `#[setter]` methods).
#[proc_macro_attribute]
pub fn thing(args: TokenStream, input: TokenStream) -> TokenStream {
    let args = proc_macro2::TokenStream::from(args);
    let item = parse_macro_input!(input as Item);
    let mut errors = Errors::default();
    if !args.is_empty() {
        errors.push(syn::Error::new_spanned(
            &args,
            "`#[thing]` takes no arguments",
        ));
    }
    let output = match item {
        Item::Struct(item) => {
            let thing = ast::parse_struct(item, &mut errors);
            check::check_struct(&thing, &mut errors);
            if errors.is_empty() {
                expand::expand_struct(&thing)
            } else {
                emit_plain(&thing.item)
            }
        }
        Item::Impl(item) => {
            let thing = ast::parse_impl(item, &mut errors);
            check::check_impl(&thing, &mut errors);
            if errors.is_empty() {
                expand::expand_impl(&thing)
            } else {
                emit_plain(&thing.item)
            }
        }
        other => {
            errors.push(syn::Error::new_spanned(
                &other,
                "`#[thing]` goes on a struct and on that struct's `impl` block",
            ));
            emit_plain(&other)
        }
    };
    let compile_errors = errors.to_compile_errors();
    quote!(#output #compile_errors).into()
}

/// On error, emit the item itself (our attributes already stripped), so the user sees our
/// message rather than a cascade of errors about the item's absence.
fn emit_plain(item: &impl quote::ToTokens) -> proc_macro2::TokenStream {
    quote!(#item)
}

fn misplaced(name: &str, input: TokenStream) -> TokenStream {
    let input = proc_macro2::TokenStream::from(input);
    let message = format!(
        "`#[{name}]` only works inside a `#[thing]` item: put `#[thing]` on the struct and on \
         its `impl` block"
    );
    quote!(::core::compile_error!(#message); #input).into()
}

/// Marks a method of a `#[thing]` impl block as an action.
#[proc_macro_attribute]
pub fn action(_args: TokenStream, input: TokenStream) -> TokenStream {
    misplaced("action", input)
}

/// Marks a `Property<T>` field, or a getter method, of a `#[thing]` as a property.
#[proc_macro_attribute]
pub fn property(_args: TokenStream, input: TokenStream) -> TokenStream {
    misplaced("property", input)
}

/// Marks a `Setting<T>` field of a `#[thing]` struct as a persisted setting.
#[proc_macro_attribute]
pub fn setting(_args: TokenStream, input: TokenStream) -> TokenStream {
    misplaced("setting", input)
}

/// Marks the setter method of a functional property: `#[setter(name)]`.
#[proc_macro_attribute]
pub fn setter(_args: TokenStream, input: TokenStream) -> TokenStream {
    misplaced("setter", input)
}

/// Marks an action parameter as injected from the invocation (its type implements
/// `FromInvocation`).
#[proc_macro_attribute]
pub fn inject(_args: TokenStream, input: TokenStream) -> TokenStream {
    misplaced("inject", input)
}

/// Marks a `Slot<T>` / `OptionalSlot<T>` field: a reference to another Thing, wired by the
/// server.
#[proc_macro_attribute]
pub fn slot(_args: TokenStream, input: TokenStream) -> TokenStream {
    misplaced("slot", input)
}

/// Marks the method a Thing runs before the server starts serving.
#[proc_macro_attribute]
pub fn on_start(_args: TokenStream, input: TokenStream) -> TokenStream {
    misplaced("on_start", input)
}

/// Marks the method a Thing runs after the server stops serving.
#[proc_macro_attribute]
pub fn on_stop(_args: TokenStream, input: TokenStream) -> TokenStream {
    misplaced("on_stop", input)
}

/// Declares a default and constraints for an action parameter.
#[proc_macro_attribute]
pub fn param(_args: TokenStream, input: TokenStream) -> TokenStream {
    misplaced("param", input)
}
