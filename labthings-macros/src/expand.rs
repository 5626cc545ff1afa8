//! Emit: the code `#[thing]` generates for a Thing that passed every check.
//!
//! Everything generated sits in `const _: () = { … };` (see [`in_const`]) and reaches the
//! runtime only through `::labthings_core::__private`, so nothing leaks into the user's
//! namespace and nothing the user names can shadow what we call.
//!
//! Each author type meets its serde/schemars bound exactly once, in a check spanned at the type
//! the author wrote (`<T as __lt::bounds::…>::CHECKED`); every other use goes through an
//! autoref `Probe`, which compiles whatever the type, so a missing derive is one error.

use proc_macro2::{Group, Span, TokenStream, TokenTree};
use quote::{ToTokens, format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Attribute, Ident, Type};

use crate::ast::{Action, FunctionalProperty, Method, ParamRole, ThingImpl, ThingStruct};
use crate::attr::Constraint;

/// Wrap generated items in `const _: () = { … };` with the runtime in scope as `__lt`, and the
/// probe traits imported for method resolution.
pub fn in_const(body: TokenStream) -> TokenStream {
    quote! {
        const _: () = {
            use ::labthings_core::__private as __lt;
            #[allow(unused_imports)]
            use __lt::{
                Decode as _, DecodeUnchecked as _, Describe as _, DescribeUnchecked as _,
                Emit as _, EmitUnchecked as _, Split as _, SplitPlain as _,
            };

            #body
        };
    }
}

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

/// `tokens` with every span set to `span`, so an error about them points there.
fn respan(tokens: TokenStream, span: Span) -> TokenStream {
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
fn bound_check(ty: &Type, bound: &str) -> TokenStream {
    let bound = Ident::new(bound, Span::call_site());
    quote_spanned! {ty.span()=>
        let () = <#ty as __lt::bounds::#bound>::CHECKED;
    }
}

/// `(&__lt::Probe::<ty>::new())`, spanned at `ty`.
fn probe(ty: &Type) -> TokenStream {
    quote_spanned!(ty.span()=> (&__lt::Probe::<#ty>::new()))
}

/// A probe of the value a method returns: `T` for a `Result<T, E>`, else the return type.
fn value_probe(returned: &Type) -> TokenStream {
    let probe = probe(returned);
    quote_spanned!(returned.span()=> (&#probe.value_probe()))
}

/// The check that the value `returned` carries can be sent to clients, at the return type.
fn return_value_check(returned: &Type) -> TokenStream {
    let probe = probe(returned);
    quote_spanned! {returned.span()=>
        __lt::bounds::ReturnValue::check(&#probe.value_probe());
    }
}

pub fn expand_struct(thing: &ThingStruct) -> TokenStream {
    let item = &thing.item;
    let ident = &item.ident;
    let description = option_str(thing.docs.full());
    let names: Vec<&String> = thing.fields.iter().map(|f| &f.name).collect();

    // Every field, marked or not, is shared between the server's threads: one error per field
    // that isn't, pointing at the field's name.
    let thread_safety = item.fields.iter().map(|field| {
        let span = field
            .ident
            .as_ref()
            .map_or_else(|| field.ty.span(), Ident::span);
        let ty = respan(field.ty.to_token_stream(), span);
        quote_spanned!(span=> const _: () = <#ty as __lt::bounds::ThreadSafe>::CHECKED;)
    });

    let metadata = thing.fields.iter().map(|field| {
        let (ty, name) = (&field.ty, &field.name);
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
                __lt::data_schema::<<#ty as __lt::PropertyField>::Value>(),
                #name, #title, #description, #read_only, __lt::PropertyKind::#kind, #uses_lock, #constraints,
            )
        }
    });
    let read_arms = thing.fields.iter().map(|field| {
        let (ident, name) = (&field.ident, &field.name);
        quote!(#name => __lt::read_data(&self.#ident),)
    });
    let write_arms = thing.fields.iter().map(|field| {
        let (ident, name) = (&field.ident, &field.name);
        if field.args.read_only {
            quote!(#name => ::core::result::Result::Err(__lt::PropertyError::ReadOnly),)
        } else {
            quote!(#name => __lt::write_data(&self.#ident, value, schema),)
        }
    });
    let restore_arms = thing
        .fields
        .iter()
        .filter(|field| field.is_setting())
        .map(|field| {
            let (ident, name) = (&field.ident, &field.name);
            quote!(#name => __lt::write_data(&self.#ident, value, schema),)
        });
    let reset_arms = thing.fields.iter().map(|field| {
        let (ident, name) = (&field.ident, &field.name);
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
    let default_arms = thing.fields.iter().map(|field| {
        let (ident, name) = (&field.ident, &field.name);
        quote!(#name => __lt::default_json(&self.#ident),)
    });
    let bind_calls = thing.fields.iter().map(|field| {
        let (ident, name) = (&field.ident, &field.name);
        quote! {
            if let ::core::option::Option::Some(property) = metadata.property(#name) {
                __lt::bind(&self.#ident, thing, property, &observer);
            }
        }
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

        #[automatically_derived]
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
    let wrapped = in_const(body);
    quote!(#item #wrapped)
}

/// The last identifier of the impl's self type: the Thing's type name.
fn type_name(ty: &Type) -> String {
    crate::ast::last_segment(ty).unwrap_or_default()
}

/// `where for<'__lt> T: Send + Sync + ThingFields`: the bounds `impl Thing` needs, written
/// so that when one fails the impl is absent instead of an error. Each failure is reported
/// once elsewhere, at the author's token: a field that isn't `Send + Sync` at that field, a
/// struct without `#[thing]` by [`thing_fields_check`]. (The `for<'__lt>` stops rustc treating
/// the bound as a trivially false one to reject.)
pub fn deferred_bounds(self_ty: &Type, thing_fields: bool) -> TokenStream {
    let fields = thing_fields.then(|| quote!(+ __lt::ThingFields));
    quote! {
        where for<'__lt> #self_ty: ::core::marker::Send + ::core::marker::Sync + 'static #fields
    }
}

/// `<T as ThingFields>`, spanned at the impl's self type, so every error about a struct missing
/// `#[thing]` is the same error at the same token (and rustc shows it once).
fn thing_fields_of(self_ty: &Type) -> TokenStream {
    let span = self_ty.span();
    let self_ty = respan(self_ty.to_token_stream(), span);
    quote_spanned!(span=> <#self_ty as __lt::ThingFields>)
}

pub fn expand_impl(thing: &ThingImpl) -> TokenStream {
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
        let message = format!(
            "`{name}` names two affordances: a `#[property]`/`#[setting]` field and a method of \
             the `#[thing]` impl have the same name; rename one of them"
        );
        quote_spanned! {method.ident().span()=>
            #(#cfgs)*
            const _: () = ::core::assert!(
                !__lt::contains(#thing_fields::DATA_PROPERTY_NAMES, #name),
                #message
            );
        }
    });

    let value_checks = value_checks(thing);
    let inputs = thing.actions.iter().map(input_type);
    let hooks = lifecycle_hooks(thing);
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
        #(#inputs)*

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
                        slots: <Self as __lt::ThingFields>::slot_metadata(),
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
    let wrapped = in_const(body);
    quote!(#item #wrapped)
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
    quote! {
        #(#cfgs)*
        properties.push(__lt::property_metadata(
            #schema.data_schema(),
            #name, #title, #description, #read_only, __lt::PropertyKind::Functional, #uses_lock, #constraints,
        ));
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

fn input_type_ident(action: &Action) -> Ident {
    format_ident!("__LabthingsInput_{}", action.method.name)
}

fn param_codec_ident(action: &Action, param: &str) -> Ident {
    format_ident!("__LabthingsParam_{}_{}", action.method.name, param)
}

fn default_fn_ident(action: &Action, param: &str) -> Ident {
    format_ident!("__labthings_default_{}_{}", action.method.name, param)
}

/// The hidden input type of an action with parameters: one `Param<codec>` field per input
/// parameter (see `__private::ParamCodec`), plus the functions giving defaults.
fn input_type(action: &Action) -> TokenStream {
    if !action.takes_input() {
        return TokenStream::new();
    }
    let cfgs = &action.method.cfgs;
    let ident = input_type_ident(action);
    let mut support = Vec::new();
    let fields: Vec<TokenStream> = action
        .inputs()
        .map(|(param, args)| {
            let (field, ty, title) = (&param.ident, &param.ty, &param.title);
            let codec = param_codec_ident(action, &param.name);
            support.push(quote! {
                #(#cfgs)*
                #[allow(non_camel_case_types)]
                struct #codec;
                #(#cfgs)*
                __lt::param_codec!(#codec, #ty);
            });
            let description = param.docs.full().map(|text| quote!(description = #text,));
            let default = args.default.as_ref().map(|expr| {
                let function = default_fn_ident(action, &param.name);
                let wrapped = format_ident!("{}_param", function);
                support.push(quote_spanned! {expr.span()=>
                    #(#cfgs)*
                    #[allow(non_snake_case)]
                    fn #function() -> #ty { #expr }
                });
                support.push(quote! {
                    #(#cfgs)*
                    #[allow(non_snake_case)]
                    fn #wrapped() -> __lt::Param<#codec> { __lt::Param(#function()) }
                });
                let path = wrapped.to_string();
                quote!(#[serde(default = #path)])
            });
            quote! {
                #default
                #[schemars(title = #title, #description)]
                #field: __lt::Param<#codec>
            }
        })
        .collect();
    quote! {
        #(#support)*
        #(#cfgs)*
        #[derive(__lt::serde::Deserialize, __lt::schemars::JsonSchema)]
        #[serde(crate = "::labthings_core::__private::serde", deny_unknown_fields)]
        #[schemars(crate = "::labthings_core::__private::schemars")]
        #[allow(non_camel_case_types)]
        struct #ident {
            #(#fields),*
        }
    }
}

/// `actions.push(…)` for one action.
fn action_metadata(action: &Action) -> TokenStream {
    let method = &action.method;
    let (name, cfgs) = (&method.name, &method.cfgs);
    let title = method.docs.title().unwrap_or_else(|| name.clone());
    let description = option_str(method.docs.rest_or_title().as_deref());
    let takes_input = action.takes_input();
    let input_schema = if takes_input {
        let ident = input_type_ident(action);
        let per_field = action.inputs().map(|(param, args)| {
            let field = &param.name;
            let list = constraints(&args.constraints);
            quote!((#field, #list))
        });
        quote!(__lt::action_input_schema::<#ident>(#name, &[#(#per_field),*]))
    } else {
        quote!(__lt::no_input_schema(#name))
    };
    let output_schema = value_probe(&method.returned_type());
    let is_async = method.is_async();
    let uses_lock = !action.args.no_lock && !is_async;
    quote! {
        #(#cfgs)*
        actions.push(__lt::ActionMetadata {
            name: #name,
            title: ::std::string::String::from(#title),
            description: #description.map(::std::string::String::from),
            takes_input: #takes_input,
            input_schema: #input_schema,
            output_schema: #output_schema.data_schema(),
            is_async: #is_async,
            uses_global_lock: #uses_lock,
        });
    }
}

/// The arm of `prepare_action` for one action: validate the input, then package the call.
fn prepare_body(action: &Action) -> TokenStream {
    let method: &Method = &action.method;
    let (ident, name) = (method.ident(), &method.name);
    let is_async = method.is_async();
    let ctx = if is_async {
        quote!(&__ctx)
    } else {
        quote!(__ctx)
    };

    let lookup = quote! {
        let ::core::option::Option::Some(action) = metadata.action(#name) else {
            return ::core::result::Result::Err(__lt::PrepareError::NotFound);
        };
    };
    let parse = if action.takes_input() {
        let input_ty = input_type_ident(action);
        let fields = action.inputs().enumerate().map(|(i, (param, _))| {
            let local = format_ident!("__input_{}", i);
            let field = &param.ident;
            quote!(#field: __lt::Param(#local))
        });
        quote! {
            #lookup
            let (input, parsed): (__lt::Value, #input_ty) = __lt::parse_input(action, input)?;
            let #input_ty { #(#fields),* } = parsed;
        }
    } else {
        quote! {
            #lookup
            let input = __lt::parse_no_input(action, input)?;
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
                    let #local: #ty = <#ty as __lt::FromInvocation>::resolve(#ctx);
                });
                quote!(#local)
            }
        })
        .collect();

    let call = if is_async {
        quote!(self.#ident(#(#args),*).await)
    } else {
        quote!(self.#ident(#(#args),*))
    };
    let returned = method.returned_type();
    let (split, value) = (probe(&returned), value_probe(&returned));
    let outcome = quote! {
        match #split.split(#call) {
            ::core::result::Result::Ok(value) => #value.outcome(value),
            // Unreachable when the method returns no `Result` (the error is `Infallible`).
            #[allow(unreachable_patterns)]
            ::core::result::Result::Err(error) => {
                #[allow(unused_imports)]
                use __lt::{ViaAny as _, ViaErrorSource as _};
                let cancelled = (&__lt::ErrorProbe(&error)).is_cancellation();
                __lt::Outcome::from_error(error, cancelled)
            }
        }
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
