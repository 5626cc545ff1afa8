//! `impl ThingFields` for a `#[thing]` struct: its data properties, settings, events, streams
//! and slots.

use proc_macro2::TokenStream;
use quote::{ToTokens, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Ident, Type};

use super::{constraints, in_const, option_str, probe, respan};
use crate::ast::{ThingStruct, single_type_arg};
use crate::crate_path::CratePath;

pub fn expand_struct(thing: &ThingStruct, krate: &CratePath) -> TokenStream {
    let item = &thing.item;
    let ident = &item.ident;
    let description = option_str(thing.docs.full());
    let names: Vec<&String> = thing.fields.iter().map(|f| &f.name).collect();

    // Every field, marked or not, is shared between the server's threads: one error per field
    // that isn't, pointing at the field's name. A property's or setting's field is checked
    // through its value instead, once, for everything a value needs (threads included), so
    // that a value type lacking derives is one error that names them.
    let thread_safety = item.fields.iter().map(|field| {
        if let Some(property) = thing
            .fields
            .iter()
            .find(|p| field.ident.as_ref() == Some(&p.ident))
        {
            return property_value_check(&property.ty);
        }
        let span = field
            .ident
            .as_ref()
            .map_or_else(|| field.ty.span(), Ident::span);
        let ty = respan(field.ty.to_token_stream(), span);
        quote_spanned!(span=> const _: () = <#ty as __lt::bounds::ThreadSafe>::CHECKED;)
    });

    // A data property can't hold a `Blob`: one check per field, at its type.
    let not_blob_checks = thing.fields.iter().map(|field| {
        let ty = &field.ty;
        let value = quote_spanned!(ty.span()=> (&__lt::Probe::<<#ty as __lt::PropertyField>::Value>::new()));
        super::not_blob_check(value, ty)
    });
    let metadata = thing.fields.iter().map(|field| {
        let (value, name) = (data_probe(&field.ty), &field.name);
        let title = field.docs.title().unwrap_or_else(|| name.clone());
        let description = option_str(field.docs.full());
        let read_only = field.args.read_only;
        let kind = if field.is_setting() {
            quote!(Setting)
        } else {
            quote!(Data)
        };
        let uses_lock = !field.args.no_lock;
        let constraints = constraints(&field.args.constraints);
        quote! {
            __lt::property_metadata(
                #value.property_schema(),
                #name, #title, #description, #read_only, __lt::PropertyKind::#kind, #uses_lock, #constraints,
            )
        }
    });
    let read_arms = thing.fields.iter().map(|field| {
        let (ident, name, value) = (&field.ident, &field.name, data_probe(&field.ty));
        quote!(#name => #value.read_data(&self.#ident),)
    });
    let write_arms = thing.fields.iter().map(|field| {
        let (ident, name, value) = (&field.ident, &field.name, data_probe(&field.ty));
        if field.args.read_only {
            quote!(#name => ::core::result::Result::Err(__lt::PropertyError::ReadOnly),)
        } else {
            quote!(#name => #value.write_data(&self.#ident, value, schema),)
        }
    });
    let restore_arms = thing
        .fields
        .iter()
        .filter(|field| field.is_setting())
        .map(|field| {
            let (ident, name, value) = (&field.ident, &field.name, data_probe(&field.ty));
            quote!(#name => #value.write_data(&self.#ident, value, schema),)
        });
    let reset_arms = thing.fields.iter().map(|field| {
        let (ident, name, value) = (&field.ident, &field.name, data_probe(&field.ty));
        if field.args.read_only {
            quote!(#name => ::core::result::Result::Err(__lt::PropertyError::ReadOnly),)
        } else {
            quote! {
                #name => {
                    #value.reset_data(&self.#ident);
                    ::core::result::Result::Ok(())
                }
            }
        }
    });
    let default_arms = thing.fields.iter().map(|field| {
        let (ident, name, value) = (&field.ident, &field.name, data_probe(&field.ty));
        quote!(#name => #value.default_json(&self.#ident),)
    });
    let bind_calls = thing.fields.iter().map(|field| {
        let (ident, name, value) = (&field.ident, &field.name, data_probe(&field.ty));
        quote! {
            if let ::core::option::Option::Some(property) = metadata.property(#name) {
                #value.bind_data(&self.#ident, thing, property, &observer);
            }
        }
    });
    let event_names: Vec<&String> = thing.events.iter().map(|e| &e.name).collect();
    // The payload's one serde/schemars check, at the `T` of `Event<T>`.
    let payload_checks = thing.events.iter().filter_map(|event| {
        let payload = event.payload.as_ref()?;
        Some(quote_spanned! {payload.span()=>
            const _: () = <#payload as __lt::bounds::EventPayload>::CHECKED;
        })
    });
    let event_metadata = thing.events.iter().map(|event| {
        let name = &event.name;
        let title = event.docs.title().unwrap_or_else(|| name.clone());
        let description = option_str(event.docs.full());
        let schema = match &event.payload {
            Some(payload) if event.has_payload() => {
                let probe = probe(payload);
                quote!(::core::option::Option::Some(#probe.data_schema()))
            }
            _ => quote!(::core::option::Option::None),
        };
        let unit = constraints(event.unit.as_slice());
        quote!(__lt::event_metadata(#name, #title, #description, #schema, #unit))
    });
    let bind_events = thing.events.iter().filter_map(|event| {
        let (ident, name) = (&event.ident, &event.name);
        let encoder = probe(event.payload.as_ref()?);
        Some(quote!(__lt::bind_event(&self.#ident, thing, #name, &observer, #encoder.encoder());))
    });
    let stream_names: Vec<&String> = thing.streams.iter().map(|s| &s.name).collect();
    let stream_metadata = thing.streams.iter().map(|stream| {
        let name = &stream.name;
        let title = stream.docs.title().unwrap_or_else(|| name.clone());
        let description = option_str(stream.docs.full());
        quote!(__lt::stream_metadata(#name, #title, #description))
    });
    let stream_arms = thing.streams.iter().map(|stream| {
        let (ident, name) = (&stream.ident, &stream.name);
        quote!(#name => ::core::option::Option::Some(&self.#ident),)
    });
    let slot_metadata = thing.slots.iter().map(|slot| {
        let (ty, name) = (&slot.ty, &slot.name);
        quote!(__lt::slot_metadata::<#ty>(#name))
    });
    let slot_arms = thing.slots.iter().map(|slot| {
        let (ident, name) = (&slot.ident, &slot.name);
        quote!(#name => __lt::SlotField::fill(&self.#ident, target),)
    });

    let body = quote! {
        #(#thread_safety)*
        #[allow(dead_code)]
        fn __labthings_property_value_checks() {
            #(#not_blob_checks)*
        }
        #(#payload_checks)*

        #[automatically_derived]
        impl __lt::ThingFields for #ident {
            const DATA_PROPERTY_NAMES: &'static [&'static str] = &[#(#names),*];
            const EVENT_NAMES: &'static [&'static str] = &[#(#event_names),*];
            const DESCRIPTION: ::core::option::Option<&'static str> = #description;

            fn data_property_metadata() -> ::std::vec::Vec<__lt::PropertyMetadata> {
                ::std::vec![#(#metadata),*]
            }

            fn event_metadata() -> ::std::vec::Vec<__lt::EventMetadata> {
                ::std::vec![#(#event_metadata),*]
            }

            fn slot_metadata() -> ::std::vec::Vec<__lt::SlotMetadata> {
                ::std::vec![#(#slot_metadata),*]
            }

            const STREAM_NAMES: &'static [&'static str] = &[#(#stream_names),*];

            fn stream_metadata() -> ::std::vec::Vec<__lt::StreamMetadata> {
                ::std::vec![#(#stream_metadata),*]
            }

            fn stream_field(&self, name: &str) -> ::core::option::Option<&__lt::MjpegStream> {
                match name {
                    #(#stream_arms)*
                    _ => ::core::option::Option::None,
                }
            }

            #[allow(unused_variables)]
            fn wire_slot_field(
                &self,
                name: &str,
                target: __lt::Arc<dyn __lt::Any + ::core::marker::Send + ::core::marker::Sync>,
            ) -> ::core::result::Result<(), __lt::WrongSlotType> {
                match name {
                    #(#slot_arms)*
                    _ => ::core::result::Result::Ok(()),
                }
            }

            fn read_data_property(&self, name: &str) -> ::core::result::Result<__lt::Value, __lt::PropertyError> {
                match name {
                    #(#read_arms)*
                    _ => ::core::result::Result::Err(__lt::PropertyError::NotFound),
                }
            }

            #[allow(unused_variables)]
            fn write_data_property(&self, name: &str, value: __lt::Value, schema: &__lt::Value) -> ::core::result::Result<(), __lt::PropertyError> {
                match name {
                    #(#write_arms)*
                    _ => ::core::result::Result::Err(__lt::PropertyError::NotFound),
                }
            }

            #[allow(unused_variables)]
            fn restore_setting_field(&self, name: &str, value: __lt::Value, schema: &__lt::Value) -> ::core::result::Result<(), __lt::PropertyError> {
                match name {
                    #(#restore_arms)*
                    _ => ::core::result::Result::Err(__lt::PropertyError::NotFound),
                }
            }

            fn reset_data_property(&self, name: &str) -> ::core::result::Result<(), __lt::PropertyError> {
                match name {
                    #(#reset_arms)*
                    _ => ::core::result::Result::Err(__lt::PropertyError::NotFound),
                }
            }

            fn data_property_default(&self, name: &str) -> ::core::option::Option<__lt::Value> {
                match name {
                    #(#default_arms)*
                    _ => ::core::option::Option::None,
                }
            }

            #[allow(unused_variables)]
            fn attach_fields(
                &self,
                thing: &str,
                metadata: &'static __lt::ThingMetadata,
                observer: __lt::Arc<dyn __lt::PropertyObserver>,
            ) {
                #(#bind_calls)*
                #(#bind_events)*
            }
        }
    };
    let wrapped = in_const(krate, body);
    let client = super::client::for_struct(thing, krate);
    quote!(#item #wrapped #client)
}

/// `(&__lt::Probe::<V>::new())` for the value `V` of a property field of type `ty`: its data
/// property operations (`__private::DataProperty`) resolve whatever `V` is.
fn data_probe(ty: &Type) -> TokenStream {
    quote_spanned!(ty.span()=> (&__lt::Probe::<<#ty as __lt::PropertyField>::Value>::new()))
}

/// The one check of a property field's value (`bounds::PropertyValue`), at the `T` of
/// `Property<T>`/`Setting<T>` as written, else at the field's type.
fn property_value_check(ty: &Type) -> TokenStream {
    let value = ["Property", "Setting"]
        .into_iter()
        .find_map(|name| single_type_arg(ty, name));
    match value {
        Some(value) => quote_spanned! {value.span()=>
            const _: () = <#value as __lt::bounds::PropertyValue>::CHECKED;
        },
        None => quote_spanned! {ty.span()=>
            const _: () = <<#ty as __lt::PropertyField>::Value as __lt::bounds::PropertyValue>::CHECKED;
        },
    }
}
