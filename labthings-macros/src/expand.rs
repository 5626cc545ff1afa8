//! Emit: the code `#[thing]` generates.
//!
//! Everything generated sits in `const _: () = { … };` and reaches the runtime only through
//! `::labthings_core::__private`, so nothing leaks into the user's namespace and nothing the
//! user names can shadow what we call.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Ident, Pat, Type};

use crate::ast::{Action, Getter, ParamRole, ReturnKind, ThingImpl, ThingStruct, json_name};
use crate::attr::Constraint;
use crate::docs::Docs;

fn option_str(text: Option<&str>) -> TokenStream {
    match text {
        Some(text) => quote!(::core::option::Option::Some(#text)),
        None => quote!(::core::option::Option::<&'static str>::None),
    }
}

fn constraints(list: &[Constraint]) -> TokenStream {
    let items = list
        .iter()
        .map(|Constraint { keyword, value }| quote!((#keyword, __lt::json!(#value))));
    quote!(&[#(#items),*])
}

/// pydantic's field titles: `step_size` → `Step Size`.
fn title_case(name: &str) -> String {
    name.split('_')
        .filter(|w| !w.is_empty())
        .map(|word| {
            let mut chars = word.chars();
            match chars.next() {
                Some(first) => first.to_uppercase().chain(chars).collect::<String>(),
                None => String::new(),
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

pub fn expand_struct(thing: &ThingStruct) -> TokenStream {
    let item = &thing.item;
    let ident = &item.ident;
    let description = option_str(thing.docs.full());
    let names: Vec<String> = thing.fields.iter().map(|f| json_name(&f.ident)).collect();

    let metadata = thing.fields.iter().zip(&names).map(|(field, name)| {
        let ty = &field.ty;
        let title = field.docs.title().unwrap_or_else(|| name.clone());
        let description = option_str(field.docs.full());
        let read_only = field.args.read_only;
        let kind = if field.is_setting {
            quote!(Setting)
        } else {
            quote!(Data)
        };
        let uses_lock = !field.args.no_lock;
        let constraints = constraints(&field.args.constraints);
        quote! {
            __lt::property_metadata::<<#ty as __lt::PropertyField>::Value>(
                #name, #title, #description, #read_only, __lt::PropertyKind::#kind, #uses_lock, #constraints,
            )
        }
    });
    let fields: Vec<&Ident> = thing.fields.iter().map(|f| &f.ident).collect();
    let read_arms = fields
        .iter()
        .zip(&names)
        .map(|(field, name)| quote!(#name => __lt::read_data(&self.#field),));
    let write_arms = thing.fields.iter().zip(&names).map(|(field, name)| {
        let ident = &field.ident;
        if field.args.read_only {
            quote!(#name => ::core::result::Result::Err(__lt::PropertyError::ReadOnly),)
        } else {
            quote!(#name => __lt::write_data(&self.#ident, value, schema),)
        }
    });
    let restore_arms = thing
        .fields
        .iter()
        .zip(&names)
        .filter(|(field, _)| field.is_setting)
        .map(|(field, name)| {
            let ident = &field.ident;
            quote!(#name => __lt::write_data(&self.#ident, value, schema),)
        });
    let reset_arms = thing.fields.iter().zip(&names).map(|(field, name)| {
        let ident = &field.ident;
        if field.args.read_only {
            quote!(#name => ::core::result::Result::Err(__lt::PropertyError::ReadOnly),)
        } else {
            quote! {
                #name => {
                    __lt::PropertyField::property(&self.#ident).reset();
                    ::core::result::Result::Ok(())
                }
            }
        }
    });
    let default_arms = fields
        .iter()
        .zip(&names)
        .map(|(field, name)| quote!(#name => __lt::default_json(&self.#field),));
    let bind_calls = fields.iter().zip(&names).map(|(field, name)| {
        quote! {
            if let ::core::option::Option::Some(property) = metadata.property(#name) {
                __lt::bind(&self.#field, thing, property, &observer);
            }
        }
    });
    let slot_names: Vec<String> = thing
        .slots
        .iter()
        .map(|slot| json_name(&slot.ident))
        .collect();
    let slot_metadata = thing.slots.iter().zip(&slot_names).map(|(slot, name)| {
        let ty = &slot.ty;
        quote!(__lt::slot_metadata::<#ty>(#name))
    });
    let slot_arms = thing.slots.iter().zip(&slot_names).map(|(slot, name)| {
        let field = &slot.ident;
        quote!(#name => __lt::SlotField::fill(&self.#field, target),)
    });
    let bounds_check = quote_spanned! {ident.span()=>
        const _: () = __lt::assert_thing_bounds::<#ident>();
    };

    quote! {
        #item

        const _: () = {
            use ::labthings_core::__private as __lt;

            #bounds_check

            impl __lt::ThingFields for #ident {
                const DATA_PROPERTY_NAMES: &'static [&'static str] = &[#(#names),*];
                const DESCRIPTION: ::core::option::Option<&'static str> = #description;

                fn data_property_metadata() -> ::std::vec::Vec<__lt::PropertyMetadata> {
                    ::std::vec![#(#metadata),*]
                }

                fn slot_metadata() -> ::std::vec::Vec<__lt::SlotMetadata> {
                    ::std::vec![#(#slot_metadata),*]
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
                fn attach_data_properties(
                    &self,
                    thing: &str,
                    metadata: &'static __lt::ThingMetadata,
                    observer: __lt::Arc<dyn __lt::PropertyObserver>,
                ) {
                    #(#bind_calls)*
                }
            }
        };
    }
}

/// The last identifier of the impl's self type: the Thing's type name.
fn type_name(ty: &Type) -> String {
    match ty {
        Type::Path(path) => path
            .path
            .segments
            .last()
            .map(|s| s.ident.to_string())
            .unwrap_or_default(),
        _ => String::new(),
    }
}

pub fn expand_impl(thing: &ThingImpl) -> TokenStream {
    let item = &thing.item;
    let self_ty = &item.self_ty;
    let type_name = type_name(self_ty);

    let duplicate_checks = affordance_names(thing).map(|(name, span)| {
        let message = format!(
            "`{name}` names two affordances: a `#[property]`/`#[setting]` field and a method of \
             the `#[thing]` impl have the same name; rename one of them"
        );
        quote_spanned! {span=>
            const _: () = ::core::assert!(
                !__lt::contains(<#self_ty as __lt::ThingFields>::DATA_PROPERTY_NAMES, #name),
                #message
            );
        }
    });

    let getter_metadata = thing
        .getters
        .iter()
        .map(|getter| getter_metadata(thing, getter));
    let getter_arms = thing.getters.iter().map(|getter| {
        let method = &getter.sig.ident;
        let name = json_name(method);
        let convert = if getter.output.is_result() {
            quote!(getter_result)
        } else {
            quote!(getter_value)
        };
        quote!(#name => __lt::#convert(self.#method()),)
    });
    let functional_write_arms = thing.getters.iter().map(|getter| {
        let name = json_name(&getter.sig.ident);
        match thing.setters.iter().find(|s| json_name(&s.target) == name) {
            Some(setter) => {
                let method = &setter.sig.ident;
                let value_ty = setter
                    .value_type()
                    .cloned()
                    .unwrap_or_else(|| getter.output.value_type());
                let call = if setter.output.is_result() {
                    quote!(__lt::setter_result(self.#method(value)))
                } else {
                    quote!({ self.#method(value); ::core::result::Result::Ok(()) })
                };
                quote! {
                    #name => {
                        let value = __lt::decode_value::<#value_ty>(&metadata.schema, value)?;
                        #call
                    }
                }
            }
            None => quote!(#name => ::core::result::Result::Err(__lt::PropertyError::ReadOnly),),
        }
    });
    let functional_names = thing.getters.iter().map(|g| json_name(&g.sig.ident));

    let inputs = thing.actions.iter().map(input_type);
    let hooks = lifecycle_hooks(thing);
    let action_metadata = thing.actions.iter().map(action_metadata);
    let action_arms = thing.actions.iter().enumerate().map(|(index, action)| {
        let name = json_name(&action.sig.ident);
        let body = prepare_body(action, index);
        quote!(#name => { #body })
    });

    quote! {
        #item

        const _: () = {
            use ::labthings_core::__private as __lt;

            #(#duplicate_checks)*
            #(#inputs)*

            impl __lt::Thing for #self_ty {
                fn metadata(&self) -> &'static __lt::ThingMetadata {
                    static METADATA: __lt::OnceLock<__lt::ThingMetadata> = __lt::OnceLock::new();
                    METADATA.get_or_init(|| {
                        #[allow(unused_mut)]
                        let mut properties = <Self as __lt::ThingFields>::data_property_metadata();
                        #(properties.push(#getter_metadata);)*
                        __lt::ThingMetadata {
                            type_name: #type_name,
                            title: ::std::string::String::from(#type_name),
                            description: <Self as __lt::ThingFields>::DESCRIPTION.map(::std::string::String::from),
                            properties,
                            actions: ::std::vec![#(#action_metadata),*],
                            events: ::std::vec::Vec::new(),
                            slots: <Self as __lt::ThingFields>::slot_metadata(),
                        }
                    })
                }

                fn read_property(&self, name: &str) -> ::core::result::Result<__lt::Value, __lt::PropertyError> {
                    match name {
                        #(#getter_arms)*
                        _ => <Self as __lt::ThingFields>::read_data_property(self, name),
                    }
                }

                fn write_property(&self, name: &str, value: __lt::Value) -> ::core::result::Result<(), __lt::PropertyError> {
                    let ::core::option::Option::Some(metadata) = self.metadata().property(name) else {
                        return ::core::result::Result::Err(__lt::PropertyError::NotFound);
                    };
                    match name {
                        #(#functional_write_arms)*
                        _ => <Self as __lt::ThingFields>::write_data_property(self, name, value, &metadata.schema),
                    }
                }

                fn reset_property(&self, name: &str) -> ::core::result::Result<(), __lt::PropertyError> {
                    match name {
                        #(#functional_names => ::core::result::Result::Err(__lt::PropertyError::ReadOnly),)*
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

                fn attach(&self, thing_name: &str, observer: __lt::Arc<dyn __lt::PropertyObserver>) {
                    <Self as __lt::ThingFields>::attach_data_properties(self, thing_name, self.metadata(), observer)
                }

                fn wire_slot(
                    &self,
                    name: &str,
                    target: __lt::Arc<dyn __lt::Any + ::core::marker::Send + ::core::marker::Sync>,
                ) -> ::core::result::Result<(), __lt::WrongSlotType> {
                    <Self as __lt::ThingFields>::wire_slot_field(self, name, target)
                }

                #hooks
            }
        };
    }
}

/// `on_start` / `on_stop` overrides calling the marked methods.
fn lifecycle_hooks(thing: &ThingImpl) -> TokenStream {
    let start = thing.on_start.first().map(|hook| {
        let method = &hook.sig.ident;
        let call = if hook.output.is_result() {
            quote!(__lt::lifecycle_result(self.#method()))
        } else {
            quote!({ self.#method(); ::core::result::Result::Ok(()) })
        };
        quote! {
            fn on_start(&self) -> ::core::result::Result<(), __lt::Failure> {
                #call
            }
        }
    });
    let stop = thing.on_stop.first().map(|hook| {
        let method = &hook.sig.ident;
        quote! {
            fn on_stop(&self) {
                self.#method();
            }
        }
    });
    quote!(#start #stop)
}

fn affordance_names(thing: &ThingImpl) -> impl Iterator<Item = (String, Span)> + '_ {
    let actions = thing.actions.iter().map(|a| &a.sig.ident);
    let getters = thing.getters.iter().map(|g| &g.sig.ident);
    actions
        .chain(getters)
        .map(|ident| (json_name(ident), ident.span()))
}

fn getter_metadata(thing: &ThingImpl, getter: &Getter) -> TokenStream {
    let name = json_name(&getter.sig.ident);
    let title = getter.docs.title().unwrap_or_else(|| name.clone());
    let description = option_str(getter.docs.full());
    let read_only = !thing.setters.iter().any(|s| json_name(&s.target) == name);
    let value_ty = getter.output.value_type();
    let uses_lock = !getter.args.no_lock;
    let constraints = constraints(&getter.args.constraints);
    quote! {
        __lt::property_metadata::<#value_ty>(
            #name, #title, #description, #read_only, __lt::PropertyKind::Functional, #uses_lock, #constraints,
        )
    }
}

fn input_type_ident(action: &Action) -> Ident {
    format_ident!("__LabthingsInput_{}", json_name(&action.sig.ident))
}

fn default_fn_ident(action: &Action, param: &Ident) -> Ident {
    format_ident!(
        "__labthings_default_{}_{}",
        json_name(&action.sig.ident),
        json_name(param)
    )
}

fn param_ident(pat: &Pat) -> Option<&Ident> {
    match pat {
        Pat::Ident(pat) => Some(&pat.ident),
        _ => None,
    }
}

/// The input parameters of an action: (identifier, type, docs, #[param] args).
fn input_params(
    action: &Action,
) -> impl Iterator<Item = (&Ident, &Type, &Docs, &crate::attr::ParamArgs)> {
    action.params.iter().filter_map(|param| match &param.role {
        ParamRole::Input(args) => {
            param_ident(&param.pat).map(|ident| (ident, &param.ty, &param.docs, args))
        }
        ParamRole::Injected => None,
    })
}

/// The hidden input type of an action with parameters (and the functions giving defaults).
fn input_type(action: &Action) -> TokenStream {
    if input_params(action).next().is_none() {
        return TokenStream::new();
    }
    let ident = input_type_ident(action);
    let mut default_fns = Vec::new();
    let fields = input_params(action).map(|(name, ty, docs, args)| {
        let json = json_name(name);
        let title = title_case(&json);
        let description = docs.full().map(|text| quote!(description = #text,));
        let default = args.default.as_ref().map(|expr| {
            let function = default_fn_ident(action, name);
            default_fns.push(quote_spanned! {expr.span()=>
                #[allow(non_snake_case)]
                fn #function() -> #ty { #expr }
            });
            let path = function.to_string();
            quote!(#[serde(default = #path)])
        });
        quote! {
            #default
            #[schemars(title = #title, #description)]
            #name: #ty
        }
    });
    let fields: Vec<TokenStream> = fields.collect();
    quote! {
        #[derive(__lt::serde::Deserialize, __lt::schemars::JsonSchema)]
        #[serde(crate = "::labthings_core::__private::serde", deny_unknown_fields)]
        #[schemars(crate = "::labthings_core::__private::schemars")]
        #[allow(non_camel_case_types)]
        struct #ident {
            #(#fields),*
        }
        #(#default_fns)*
    }
}

fn action_metadata(action: &Action) -> TokenStream {
    let name = json_name(&action.sig.ident);
    let title = action.docs.title().unwrap_or_else(|| name.clone());
    let description = option_str(action.docs.rest_or_title().as_deref());
    let takes_input = input_params(action).next().is_some();
    let input_schema = if takes_input {
        let ident = input_type_ident(action);
        let per_field = input_params(action).map(|(param, _, _, args)| {
            let field = json_name(param);
            let list = constraints(&args.constraints);
            quote!((#field, #list))
        });
        quote!(__lt::action_input_schema::<#ident>(#name, &[#(#per_field),*]))
    } else {
        quote!(__lt::no_input_schema(#name))
    };
    let output_ty = action.output.value_type();
    let is_async = action.sig.asyncness.is_some();
    let uses_lock = !action.args.no_lock && !is_async;
    quote! {
        __lt::ActionMetadata {
            name: #name,
            title: ::std::string::String::from(#title),
            description: #description.map(::std::string::String::from),
            takes_input: #takes_input,
            input_schema: #input_schema,
            output_schema: __lt::data_schema::<#output_ty>(),
            is_async: #is_async,
            uses_global_lock: #uses_lock,
        }
    }
}

/// The arm of `prepare_action` for one action: validate the input, then package the call.
fn prepare_body(action: &Action, index: usize) -> TokenStream {
    let method = &action.sig.ident;
    let is_async = action.sig.asyncness.is_some();
    let ctx = if is_async {
        quote!(&__ctx)
    } else {
        quote!(__ctx)
    };

    let parse = if input_params(action).next().is_some() {
        let ident = input_type_ident(action);
        let fields = input_params(action).enumerate().map(|(i, (name, ..))| {
            let local = format_ident!("__input_{}", i);
            quote!(#name: #local)
        });
        quote! {
            let (input, parsed): (__lt::Value, #ident) = __lt::parse_input(&metadata.actions[#index], input)?;
            let #ident { #(#fields),* } = parsed;
        }
    } else {
        quote! {
            let input = __lt::parse_no_input(&metadata.actions[#index], input)?;
        }
    };

    let mut input_index = 0_usize;
    let mut resolves = Vec::new();
    let args: Vec<TokenStream> = action
        .params
        .iter()
        .enumerate()
        .map(|(i, param)| match param.role {
            ParamRole::Input(_) => {
                let local = format_ident!("__input_{}", input_index);
                input_index += 1;
                quote!(#local)
            }
            ParamRole::Injected => {
                let local = format_ident!("__injected_{}", i);
                let ty = &param.ty;
                resolves.push(quote_spanned! {ty.span()=>
                    let #local: #ty = __lt::resolve::<#ty>(#ctx);
                });
                quote!(#local)
            }
        })
        .collect();

    let call = if is_async {
        quote!(self.#method(#(#args),*).await)
    } else {
        quote!(self.#method(#(#args),*))
    };
    let outcome = match action.output {
        ReturnKind::Result(_) => quote! {
            match #call {
                ::core::result::Result::Ok(value) => __lt::Outcome::from_value(value),
                ::core::result::Result::Err(error) => {
                    #[allow(unused_imports)]
                    use __lt::{ViaAny as _, ViaErrorSource as _};
                    let cancelled = (&__lt::ErrorProbe(&error)).is_cancellation();
                    __lt::Outcome::from_error(error, cancelled)
                }
            }
        },
        ReturnKind::Unit | ReturnKind::Value(_) => quote!(__lt::Outcome::from_value(#call)),
    };
    let body = if is_async {
        quote! {
            __lt::ActionBody::Async(::std::boxed::Box::new(move |__ctx: __lt::InvocationContext| {
                __lt::async_body(async move {
                    #(#resolves)*
                    #outcome
                })
            }))
        }
    } else {
        quote! {
            __lt::ActionBody::Blocking(__lt::BlockingBody::new(::std::boxed::Box::new(move |__ctx: &__lt::InvocationContext| {
                #(#resolves)*
                #outcome
            })))
        }
    };
    quote! {
        #parse
        ::core::result::Result::Ok(__lt::PreparedAction { input, body: #body })
    }
}
