//! `impl Thing` for a `#[thing]` impl block: metadata, property access and dispatch to the
//! actions (whose parts are in `action`).

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Attribute, Type};

use super::action::{action_metadata, input_type, prepare_body};
use super::{
    bound_check, constraints, deferred_bounds, in_const, option_str, probe, return_value_check,
    thing_fields_of, value_probe,
};
use crate::ast::{FunctionalProperty, ThingImpl};
use crate::crate_path::CratePath;

/// The last identifier of the impl's self type: the Thing's type name.
fn type_name(ty: &Type) -> String {
    crate::ast::last_segment(ty).unwrap_or_default()
}

pub fn expand_impl(thing: &ThingImpl, krate: &CratePath) -> TokenStream {
    let item = &thing.item;
    let self_ty = &*item.self_ty;
    let type_name = type_name(self_ty);
    let thing_fields = thing_fields_of(self_ty);
    let where_clause = deferred_bounds(self_ty, true);

    let affordances = thing
        .actions
        .iter()
        .map(|a| &a.method)
        .chain(thing.properties.iter().map(|p| &p.getter));
    let duplicate_checks = affordances.map(|method| {
        let name = &method.name;
        let cfgs = &method.cfgs;
        let message = |fields: &str| {
            format!(
                "`{name}` names two affordances: {fields} field and a method of the `#[thing]` \
                 impl have the same name; rename one of them"
            )
        };
        let (data, event, stream) = (
            message("a `#[property]`/`#[setting]`"),
            message("an `#[event]`"),
            message("a `#[stream]`"),
        );
        quote_spanned! {method.ident().span()=>
            #(#cfgs)*
            const _: () = ::core::assert!(
                !__lt::contains(#thing_fields::DATA_PROPERTY_NAMES, #name),
                #data
            );
            #(#cfgs)*
            const _: () = ::core::assert!(
                !__lt::contains(#thing_fields::EVENT_NAMES, #name),
                #event
            );
            #(#cfgs)*
            const _: () = ::core::assert!(
                !__lt::contains(#thing_fields::STREAM_NAMES, #name),
                #stream
            );
        }
    });

    let endpoint_checks = thing
        .endpoints
        .iter()
        .map(|e| super::endpoint::collision_checks(e, &thing_fields));
    let endpoint_metadata = thing.endpoints.iter().map(super::endpoint::metadata);
    let endpoint_arms = thing.endpoints.iter().map(super::endpoint::call_arm);
    let value_checks = value_checks(thing);
    let inputs = thing.actions.iter().map(|action| input_type(action, krate));
    let hooks = lifecycle_hooks(thing);
    let notify = notify_methods(thing);
    // Only a Thing with `notify_<name>()`s needs to be found by them: the others stay off
    // the process-wide list their lookups walk.
    let attach_notifier =
        (!notify.is_empty()).then(|| quote!(__lt::attach_notifier(self, thing_name, &observer);));
    let property_metadata = thing.properties.iter().map(functional_metadata);
    let action_metadata = thing.actions.iter().map(action_metadata);
    let read_arms = thing.properties.iter().map(read_arm);
    let write_arms = thing.properties.iter().map(write_arm);
    let reset_arms = thing.properties.iter().map(|property| {
        let (name, cfgs) = (&property.getter.name, &property.getter.cfgs);
        quote!(#(#cfgs)* #name => ::core::result::Result::Err(__lt::PropertyError::ReadOnly),)
    });
    let action_arms = thing.actions.iter().map(|action| {
        let (name, cfgs) = (&action.method.name, &action.method.cfgs);
        let body = prepare_body(action);
        quote!(#(#cfgs)* #name => { #body })
    });

    let body = quote! {
        const _: ::core::option::Option<&'static str> = #thing_fields::DESCRIPTION;
        #(#duplicate_checks)*
        #(#endpoint_checks)*
        #(#inputs)*
        #notify

        #[automatically_derived]
        impl __lt::Thing for #self_ty #where_clause {
            fn metadata(&self) -> &'static __lt::ThingMetadata {
                #(#value_checks)*
                static METADATA: __lt::OnceLock<__lt::ThingMetadata> = __lt::OnceLock::new();
                METADATA.get_or_init(|| {
                    #[allow(unused_mut)]
                    let mut properties = <Self as __lt::ThingFields>::data_property_metadata();
                    #(#property_metadata)*
                    #[allow(unused_mut)]
                    let mut actions = ::std::vec::Vec::new();
                    #(#action_metadata)*
                    __lt::ThingMetadata {
                        type_name: #type_name,
                        title: ::std::string::String::from(#type_name),
                        description: <Self as __lt::ThingFields>::DESCRIPTION.map(::std::string::String::from),
                        properties,
                        actions,
                        events: <Self as __lt::ThingFields>::event_metadata(),
                        slots: <Self as __lt::ThingFields>::slot_metadata(),
                        streams: <Self as __lt::ThingFields>::stream_metadata(),
                    }
                })
            }

            fn read_property(&self, name: &str) -> ::core::result::Result<__lt::Value, __lt::PropertyError> {
                match name {
                    #(#read_arms)*
                    _ => <Self as __lt::ThingFields>::read_data_property(self, name),
                }
            }

            fn write_property(&self, name: &str, value: __lt::Value) -> ::core::result::Result<(), __lt::PropertyError> {
                let ::core::option::Option::Some(metadata) = self.metadata().property(name) else {
                    return ::core::result::Result::Err(__lt::PropertyError::NotFound);
                };
                match name {
                    #(#write_arms)*
                    _ => <Self as __lt::ThingFields>::write_data_property(self, name, value, &metadata.schema),
                }
            }

            fn reset_property(&self, name: &str) -> ::core::result::Result<(), __lt::PropertyError> {
                match name {
                    #(#reset_arms)*
                    _ => <Self as __lt::ThingFields>::reset_data_property(self, name),
                }
            }

            fn restore_setting(&self, name: &str, value: __lt::Value) -> ::core::result::Result<(), __lt::PropertyError> {
                let ::core::option::Option::Some(metadata) = self.metadata().property(name) else {
                    return ::core::result::Result::Err(__lt::PropertyError::NotFound);
                };
                <Self as __lt::ThingFields>::restore_setting_field(self, name, value, &metadata.schema)
            }

            fn property_default(&self, name: &str) -> ::core::option::Option<__lt::Value> {
                <Self as __lt::ThingFields>::data_property_default(self, name)
            }

            #[allow(unused_variables)]
            fn prepare_action(
                self: __lt::Arc<Self>,
                name: &str,
                input: ::core::option::Option<__lt::Value>,
            ) -> ::core::result::Result<__lt::PreparedAction, __lt::PrepareError> {
                let metadata = self.metadata();
                match name {
                    #(#action_arms)*
                    _ => ::core::result::Result::Err(__lt::PrepareError::NotFound),
                }
            }

            fn endpoints(&self) -> &'static [__lt::EndpointMetadata] {
                const ENDPOINTS: &[__lt::EndpointMetadata] = &[#(#endpoint_metadata)*];
                ENDPOINTS
            }

            #[allow(unused_variables)]
            fn call_endpoint(
                self: __lt::Arc<Self>,
                name: &str,
                request: __lt::EndpointRequest,
            ) -> ::core::option::Option<__lt::EndpointCall> {
                match name {
                    #(#endpoint_arms)*
                    _ => ::core::option::Option::None,
                }
            }

            fn attach(&self, thing_name: &str, observer: __lt::Arc<dyn __lt::PropertyObserver>) {
                #attach_notifier
                <Self as __lt::ThingFields>::attach_fields(self, thing_name, self.metadata(), observer)
            }

            fn wire_slot(
                &self,
                name: &str,
                target: __lt::Arc<dyn __lt::Any + ::core::marker::Send + ::core::marker::Sync>,
            ) -> ::core::result::Result<(), __lt::WrongSlotType> {
                <Self as __lt::ThingFields>::wire_slot_field(self, name, target)
            }

            fn mjpeg_stream(&self, name: &str) -> ::core::option::Option<&__lt::MjpegStream> {
                <Self as __lt::ThingFields>::stream_field(self, name)
            }

            #hooks
        }
    };
    let wrapped = in_const(krate, body);
    let client = super::client::for_impl(thing, krate);
    quote!(#item #wrapped #client)
}

/// The serde/schemars check of every type that crosses the wire, each at its own type.
fn value_checks(thing: &ThingImpl) -> Vec<TokenStream> {
    let mut checks = Vec::new();
    let with_cfgs = |cfgs: &[Attribute], check: TokenStream| quote!(#(#cfgs)* #check);
    for action in &thing.actions {
        let method = &action.method;
        for (param, _) in action.inputs() {
            checks.push(with_cfgs(
                &method.cfgs,
                bound_check(&param.ty, "ActionParameter"),
            ));
        }
        if let Some(returned) = &method.output {
            checks.push(with_cfgs(&method.cfgs, return_value_check(returned)));
        }
    }
    for property in &thing.properties {
        let getter = &property.getter;
        if let Some(returned) = &getter.output {
            checks.push(with_cfgs(&getter.cfgs, return_value_check(returned)));
            let not_blob = super::not_blob_check(value_probe(returned), returned);
            checks.push(with_cfgs(&getter.cfgs, not_blob));
        }
        if let Some(setter) = &property.setter
            && let Some(ty) = &setter.value_ty
        {
            checks.push(with_cfgs(
                &setter.method.cfgs,
                bound_check(ty, "SetterValue"),
            ));
        }
    }
    checks
}

/// `on_start` / `on_stop` overrides calling the marked methods.
fn lifecycle_hooks(thing: &ThingImpl) -> TokenStream {
    let start = thing.on_start.as_ref().map(|hook| {
        let (method, cfgs) = (hook.ident(), &hook.cfgs);
        let call = match &hook.output {
            Some(returned) => quote_spanned! {returned.span()=>
                __lt::bounds::StartResult::into_start_result(self.#method())
            },
            None => quote!({ self.#method(); ::core::result::Result::Ok(()) }),
        };
        quote! {
            #(#cfgs)*
            fn on_start(&self) -> ::core::result::Result<(), __lt::Failure> {
                #call
            }
        }
    });
    let stop = thing.on_stop.as_ref().map(|hook| {
        let (method, cfgs) = (hook.ident(), &hook.cfgs);
        quote! {
            #(#cfgs)*
            fn on_stop(&self) {
                self.#method();
            }
        }
    });
    quote!(#start #stop)
}

/// `properties.push(…)` for a getter (and setter).
fn functional_metadata(property: &FunctionalProperty) -> TokenStream {
    let getter = &property.getter;
    let (name, cfgs) = (&getter.name, &getter.cfgs);
    let title = getter.docs.title().unwrap_or_else(|| name.clone());
    let description = option_str(getter.docs.full());
    let read_only = property.setter.is_none();
    let schema = value_probe(&getter.returned_type());
    let uses_lock = !property.args.no_lock;
    let constraints = constraints(&property.args.constraints);
    let metadata = quote! {
        __lt::property_metadata(
            #schema.data_schema(),
            #name, #title, #description, #read_only, __lt::PropertyKind::Functional, #uses_lock, #constraints,
        )
    };
    let metadata = match property.args.observe_every {
        Some(micros) => {
            let min_change = match &property.args.min_change {
                Some(value) => quote!(::core::option::Option::Some((#value) as f64)),
                None => quote!(::core::option::Option::None),
            };
            quote!(__lt::observed_every(#metadata, #micros, #min_change))
        }
        None => metadata,
    };
    quote! {
        #(#cfgs)*
        properties.push(#metadata);
    }
}

/// `notify_<name>()` for every polled getter: the Thing's own code saying a reading changed
/// (a hardware callback, the end of an action), published at once if it did.
fn notify_methods(thing: &ThingImpl) -> TokenStream {
    let methods = thing
        .properties
        .iter()
        .filter(|p| p.args.observe_every.is_some())
        .map(|property| {
            let getter = &property.getter;
            let (name, cfgs) = (&getter.name, &getter.cfgs);
            let method =
                quote::format_ident!("notify_{}", getter.ident(), span = getter.ident().span());
            let doc = format!(
                "Read `{name}` now and publish the reading to its observers if it changed \
                 (generated by `#[property(observe_every = …)]`). Call it when the Thing knows \
                 the value changed; it calls the getter on this thread."
            );
            quote! {
                #(#cfgs)*
                #[doc = #doc]
                #[allow(dead_code)]
                pub fn #method(&self) {
                    __lt::notify_property(self, #name)
                }
            }
        })
        .collect::<Vec<_>>();
    if methods.is_empty() {
        return TokenStream::new();
    }
    let item = &thing.item;
    let self_ty = &*item.self_ty;
    let (impl_generics, _, where_clause) = item.generics.split_for_impl();
    quote! {
        impl #impl_generics #self_ty #where_clause {
            #(#methods)*
        }
    }
}

fn read_arm(property: &FunctionalProperty) -> TokenStream {
    let getter = &property.getter;
    let (name, cfgs, method) = (&getter.name, &getter.cfgs, getter.ident());
    let returned = getter.returned_type();
    let (split, value) = (probe(&returned), value_probe(&returned));
    let read = quote! {
        __lt::accessor_result(#split.split(self.#method()).map(|value| #value.property_value(value)))
    };
    quote!(#(#cfgs)* #name => #read,)
}

fn write_arm(property: &FunctionalProperty) -> TokenStream {
    let getter = &property.getter;
    let (name, cfgs) = (&getter.name, &getter.cfgs);
    let Some(setter) = &property.setter else {
        return quote!(#(#cfgs)* #name => ::core::result::Result::Err(__lt::PropertyError::ReadOnly),);
    };
    let method = setter.method.ident();
    let setter_cfgs = &setter.method.cfgs;
    // `check` has refused a setter without exactly one value parameter.
    let Some(value_ty) = &setter.value_ty else {
        return TokenStream::new();
    };
    let probe = probe(value_ty);
    let call = match &setter.method.output {
        Some(returned) => {
            let split = self::probe(returned);
            quote! {
                __lt::accessor_result(#split.split(self.#method(value)).map(|_| ::core::result::Result::Ok(())))
            }
        }
        None => quote!({ self.#method(value); ::core::result::Result::Ok(()) }),
    };
    quote! {
        #(#cfgs)* #(#setter_cfgs)*
        #name => {
            let value = __lt::decode_setter_value(&metadata.schema, value, |value| #probe.decode(value))?;
            #call
        }
    }
}
