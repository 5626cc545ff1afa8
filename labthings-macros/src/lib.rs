//! Attribute macros for `labthings-core`. Use them through `labthings_core::prelude`.
//!
//! `#[thing]` on a struct reads its `#[property]` / `#[setting]` / `#[event]` / `#[slot]`
//! fields; `#[thing]` on the struct's `impl` block reads its `#[action]`, `#[property]`,
//! `#[setter]` and `#[endpoint]` methods and implements `labthings_core::Thing`. Each runs in three steps, one module each: `ast`
//! parses into a model of the Thing (and strips our inner attributes), `check` reports misuse
//! with spans, and `expand` emits code; after an error, `fallback` emits stub impls instead, so
//! one mistake is one error. The inner attributes exist as macros only to explain themselves
//! when used outside a `#[thing]` impl.

#![warn(missing_docs)]

use proc_macro::TokenStream;
use quote::quote;
use syn::{Item, parse_macro_input};

mod ast;
mod attr;
mod check;
mod crate_path;
mod docs;
mod errors;
mod expand;
mod fallback;
mod kw;
mod misplaced;

use errors::Errors;
use misplaced::misplaced;

/// Marks a Thing: put it on the struct (declaring `#[property]` / `#[setting]` / `#[event]`
/// fields) and on its `impl` block (declaring `#[action]`, `#[property]` and `#[setter]`
/// methods).
#[proc_macro_attribute]
pub fn thing(args: TokenStream, input: TokenStream) -> TokenStream {
    let args = proc_macro2::TokenStream::from(args);
    let item = parse_macro_input!(input as Item);
    let mut errors = Errors::default();
    let krate = errors
        .ok(crate_path::CratePath::from_args(args))
        .unwrap_or_default();
    // Parse, check, then emit; after any error, emit a stub impl instead, so the one error
    // reported is not followed by others about the impl being absent.
    let output = match item {
        Item::Struct(item) => {
            let thing = ast::parse_struct(item, &mut errors);
            check::check_struct(&thing, &mut errors);
            if errors.is_empty() {
                expand::expand_struct(&thing, &krate)
            } else {
                fallback::for_struct(&thing.item, &krate)
            }
        }
        Item::Impl(item) => {
            let thing = ast::parse_impl(item, &mut errors);
            check::check_impl(&thing, &mut errors);
            if errors.is_empty() && !thing.deferred_to_struct() {
                expand::expand_impl(&thing, &krate)
            } else {
                // With no error of its own, the impl still needs the struct's `#[thing]`, which
                // reports the mistake; without it, this is where the author hears of it.
                fallback::for_impl(&thing.item, errors.is_empty(), &krate)
            }
        }
        other => {
            errors.push(syn::Error::new_spanned(
                &other,
                format!(
                    "`#[{}]` goes on a struct and on that struct's `impl` block",
                    kw::THING
                ),
            ));
            quote!(#other)
        }
    };
    let compile_errors = errors.to_compile_errors();
    quote!(#output #compile_errors).into()
}

/// Marks a method of a `#[thing]` impl block as an action.
#[proc_macro_attribute]
pub fn action(_args: TokenStream, input: TokenStream) -> TokenStream {
    misplaced(kw::ACTION, input)
}

/// Marks a method of a `#[thing]` impl block as a custom HTTP endpoint under the Thing:
/// `#[endpoint(get, path = "snapshot.jpg", content_type = "image/jpeg")]`.
#[proc_macro_attribute]
pub fn endpoint(_args: TokenStream, input: TokenStream) -> TokenStream {
    misplaced(kw::ENDPOINT, input)
}

/// Marks a `Property<T>` field, or a getter method, of a `#[thing]` as a property.
#[proc_macro_attribute]
pub fn property(_args: TokenStream, input: TokenStream) -> TokenStream {
    misplaced(kw::PROPERTY, input)
}

/// Marks a `Setting<T>` field of a `#[thing]` struct as a persisted setting.
#[proc_macro_attribute]
pub fn setting(_args: TokenStream, input: TokenStream) -> TokenStream {
    misplaced(kw::SETTING, input)
}

/// Marks an `Event<T>` field of a `#[thing]` struct as an event: `self.name.emit(value)`
/// announces it to subscribers. `#[event(unit = "°C")]` gives its data a unit of measure.
#[proc_macro_attribute]
pub fn event(_args: TokenStream, input: TokenStream) -> TokenStream {
    misplaced(kw::EVENT, input)
}

/// Marks an `MjpegStream` field of a `#[thing]` struct as a live MJPEG stream, served at
/// `T<name>`: `self.name.add_frame(jpeg)` sends a frame to its watchers.
#[proc_macro_attribute]
pub fn stream(_args: TokenStream, input: TokenStream) -> TokenStream {
    misplaced(kw::STREAM, input)
}

/// Marks the setter method of a functional property: `#[setter(name)]`.
#[proc_macro_attribute]
pub fn setter(_args: TokenStream, input: TokenStream) -> TokenStream {
    misplaced(kw::SETTER, input)
}

/// Marks an action parameter as injected from the invocation (its type implements
/// `FromInvocation`).
#[proc_macro_attribute]
pub fn inject(_args: TokenStream, input: TokenStream) -> TokenStream {
    misplaced(kw::INJECT, input)
}

/// Marks a `Slot<T>` / `OptionalSlot<T>` field: a reference to another Thing, wired by the
/// server.
#[proc_macro_attribute]
pub fn slot(_args: TokenStream, input: TokenStream) -> TokenStream {
    misplaced(kw::SLOT, input)
}

/// Marks the method a Thing runs before the server starts serving.
#[proc_macro_attribute]
pub fn on_start(_args: TokenStream, input: TokenStream) -> TokenStream {
    misplaced(kw::ON_START, input)
}

/// Marks the method a Thing runs after the server stops serving.
#[proc_macro_attribute]
pub fn on_stop(_args: TokenStream, input: TokenStream) -> TokenStream {
    misplaced(kw::ON_STOP, input)
}

/// Declares a default and constraints for an action parameter.
#[proc_macro_attribute]
pub fn param(_args: TokenStream, input: TokenStream) -> TokenStream {
    misplaced(kw::PARAM, input)
}
