//! What `#[thing]` emits when it has reported an error: the item as written (our attributes
//! stripped) plus a stub of the impl it would have generated, so that code using the Thing
//! still type-checks and the author sees our one error, not a cascade about the missing impl
//! (as thiserror's `fallback.rs` does).

use proc_macro2::TokenStream;
use quote::quote;
use syn::{ItemImpl, ItemStruct, Type};

use crate::crate_path::CratePath;
use crate::expand::{deferred_bounds, in_const, thing_fields_of};

/// The struct, and a `ThingFields` impl that declares nothing.
pub fn for_struct(item: &ItemStruct, krate: &CratePath) -> TokenStream {
    let ident = &item.ident;
    let (impl_generics, ty_generics, where_clause) = item.generics.split_for_impl();
    let body = quote! {
        #[automatically_derived]
        impl #impl_generics __lt::ThingFields for #ident #ty_generics #where_clause {
            const DATA_PROPERTY_NAMES: &'static [&'static str] = &[];
            const EVENT_NAMES: &'static [&'static str] = &[];
            const DESCRIPTION: ::core::option::Option<&'static str> = ::core::option::Option::None;
            fn data_property_metadata() -> ::std::vec::Vec<__lt::PropertyMetadata> {
                ::core::unreachable!()
            }
            fn event_metadata() -> ::std::vec::Vec<__lt::EventMetadata> {
                ::core::unreachable!()
            }
            fn slot_metadata() -> ::std::vec::Vec<__lt::SlotMetadata> {
                ::core::unreachable!()
            }
            fn wire_slot_field(
                &self,
                _: &str,
                _: __lt::Arc<dyn __lt::Any + ::core::marker::Send + ::core::marker::Sync>,
            ) -> ::core::result::Result<(), __lt::WrongSlotType> {
                ::core::unreachable!()
            }
            fn read_data_property(&self, _: &str) -> ::core::result::Result<__lt::Value, __lt::PropertyError> {
                ::core::unreachable!()
            }
            fn write_data_property(&self, _: &str, _: __lt::Value, _: &__lt::Value) -> ::core::result::Result<(), __lt::PropertyError> {
                ::core::unreachable!()
            }
            fn restore_setting_field(&self, _: &str, _: __lt::Value, _: &__lt::Value) -> ::core::result::Result<(), __lt::PropertyError> {
                ::core::unreachable!()
            }
            fn reset_data_property(&self, _: &str) -> ::core::result::Result<(), __lt::PropertyError> {
                ::core::unreachable!()
            }
            fn data_property_default(&self, _: &str) -> ::core::option::Option<__lt::Value> {
                ::core::unreachable!()
            }
            fn attach_fields(
                &self,
                _: &str,
                _: &'static __lt::ThingMetadata,
                _: __lt::Arc<dyn __lt::PropertyObserver>,
            ) {
                ::core::unreachable!()
            }
        }
    };
    let stub = in_const(krate, body);
    // The typed client's type, without methods, so that code naming it isn't a second error.
    let client = crate::expand::client::client_type(item, krate);
    quote!(#item #stub #client)
}

/// The impl block, and a `Thing` impl that does nothing. Its bounds are deferred like the real
/// one's, so a Thing that also fails them gets no second error here. With `needs_struct`, it
/// requires the struct's `ThingFields`, so an impl whose mistake is left to the struct's
/// `#[thing]` still fails to build when that attribute is missing.
pub fn for_impl(item: &ItemImpl, needs_struct: bool, krate: &CratePath) -> TokenStream {
    let self_ty: &Type = &item.self_ty;
    let (impl_generics, _, _) = item.generics.split_for_impl();
    let bounds = deferred_bounds(self_ty, false);
    let extra = item.generics.where_clause.as_ref().map(|w| {
        let predicates = &w.predicates;
        quote!(, #predicates)
    });
    let struct_check = needs_struct.then(|| {
        let thing_fields = thing_fields_of(self_ty);
        quote!(let _ = #thing_fields::DESCRIPTION;)
    });
    let body = quote! {
        #[automatically_derived]
        impl #impl_generics __lt::Thing for #self_ty #bounds #extra {
            fn metadata(&self) -> &'static __lt::ThingMetadata {
                #struct_check
                ::core::unreachable!()
            }
            fn read_property(&self, _: &str) -> ::core::result::Result<__lt::Value, __lt::PropertyError> {
                ::core::unreachable!()
            }
            fn write_property(&self, _: &str, _: __lt::Value) -> ::core::result::Result<(), __lt::PropertyError> {
                ::core::unreachable!()
            }
            fn reset_property(&self, _: &str) -> ::core::result::Result<(), __lt::PropertyError> {
                ::core::unreachable!()
            }
            fn restore_setting(&self, _: &str, _: __lt::Value) -> ::core::result::Result<(), __lt::PropertyError> {
                ::core::unreachable!()
            }
            fn property_default(&self, _: &str) -> ::core::option::Option<__lt::Value> {
                ::core::unreachable!()
            }
            fn prepare_action(
                self: __lt::Arc<Self>,
                _: &str,
                _: ::core::option::Option<__lt::Value>,
            ) -> ::core::result::Result<__lt::PreparedAction, __lt::PrepareError> {
                ::core::unreachable!()
            }
            fn attach(&self, _: &str, _: __lt::Arc<dyn __lt::PropertyObserver>) {
                ::core::unreachable!()
            }
            fn wire_slot(
                &self,
                _: &str,
                _: __lt::Arc<dyn __lt::Any + ::core::marker::Send + ::core::marker::Sync>,
            ) -> ::core::result::Result<(), __lt::WrongSlotType> {
                ::core::unreachable!()
            }
        }
    };
    let stub = in_const(krate, body);
    let client = crate::expand::client::for_failed_impl(item, krate);
    quote!(#item #stub #client)
}
