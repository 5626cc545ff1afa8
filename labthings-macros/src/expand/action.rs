//! What each action adds to `impl Thing`: its hidden input type, its metadata, and the arm of
//! `prepare_action` that decodes the input and packages the call.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::Ident;
use syn::spanned::Spanned;

use super::{constraints, option_str, probe, value_probe};
use crate::ast::{Action, Method, ParamRole};
use crate::crate_path::CratePath;

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
pub(super) fn input_type(action: &Action, krate: &CratePath) -> TokenStream {
    if !action.takes_input() {
        return TokenStream::new();
    }
    let cfgs = &action.method.cfgs;
    let ident = input_type_ident(action);
    let mut support = Vec::new();
    let fields: Vec<TokenStream> = action
        .inputs()
        .map(|(param, args)| {
            let (field, ty) = (&param.ident, &param.ty);
            let title = args
                .title
                .as_ref()
                .map_or_else(|| param.title.clone(), syn::LitStr::value);
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
    let (serde_crate, schemars_crate) = (krate.private_str("serde"), krate.private_str("schemars"));
    quote! {
        #(#support)*
        #(#cfgs)*
        #[derive(__lt::serde::Deserialize, __lt::schemars::JsonSchema)]
        #[serde(crate = #serde_crate, deny_unknown_fields)]
        #[schemars(crate = #schemars_crate)]
        #[allow(non_camel_case_types)]
        struct #ident {
            #(#fields),*
        }
    }
}

/// `actions.push(…)` for one action.
pub(super) fn action_metadata(action: &Action) -> TokenStream {
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
pub(super) fn prepare_body(action: &Action) -> TokenStream {
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
        let variant = if action.args.inline.is_some() {
            quote!(Inline)
        } else {
            quote!(Blocking)
        };
        quote! {
            __lt::ActionBody::#variant(__lt::BlockingBody::new(::std::boxed::Box::new(move |__ctx: &__lt::InvocationContext| {
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
