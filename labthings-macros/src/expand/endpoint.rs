//! What each `#[endpoint]` adds to `impl Thing`: its entry in `endpoints()`, the arm of
//! `call_endpoint` that binds the request to the method, and the compile-time checks that its
//! path is under none of the struct's affordances.

use proc_macro2::{Ident, Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;

use super::option_str;
use crate::ast::Endpoint;

/// One `EndpointMetadata` (a constant expression: `endpoints()` returns a static slice).
pub(super) fn metadata(endpoint: &Endpoint) -> TokenStream {
    let method = &endpoint.method;
    let (name, cfgs, path) = (&method.name, &method.cfgs, &endpoint.path);
    let variant = Ident::new(endpoint.args.http_method.1, Span::call_site());
    let title = option_str(method.docs.title().as_deref());
    let description = option_str(method.docs.full());
    let content_type = option_str(
        endpoint
            .args
            .content_type
            .as_ref()
            .map(|l| l.value())
            .as_deref(),
    );
    let is_async = method.is_async();
    let uses_lock = !endpoint.args.no_lock && !is_async;
    quote! {
        #(#cfgs)*
        __lt::EndpointMetadata {
            name: #name,
            method: __lt::EndpointMethod::#variant,
            path: #path,
            title: #title,
            description: #description,
            content_type: #content_type,
            is_async: #is_async,
            uses_global_lock: #uses_lock,
        },
    }
}

/// The arm of `call_endpoint` for one endpoint: the request handed over (through
/// `bounds::EndpointParameter`, so a parameter of another type is one error, at that type), the
/// method called and its return value converted (through `IntoEndpointResponse`, at the return
/// type).
pub(super) fn call_arm(endpoint: &Endpoint) -> TokenStream {
    let method = &endpoint.method;
    let (ident, name, cfgs) = (method.ident(), &method.name, &method.cfgs);
    let args = endpoint.request.as_ref().map(|ty| {
        quote_spanned!(ty.span()=> <#ty as __lt::bounds::EndpointParameter>::from_request(request))
    });
    let call = if method.is_async() {
        quote!(self.#ident(#args).await)
    } else {
        quote!(self.#ident(#args))
    };
    let returned = method.returned_type();
    let respond = quote_spanned! {returned.span()=>
        <#returned as __lt::IntoEndpointResponse>::into_endpoint_response(#call)
    };
    let body = if method.is_async() {
        quote! {
            __lt::EndpointCall::Async(::std::boxed::Box::pin(async move { #respond }))
        }
    } else {
        quote! {
            __lt::EndpointCall::Blocking(::std::boxed::Box::new(move || #respond))
        }
    };
    let unused = endpoint.request.is_none().then(|| quote!(let _ = request;));
    quote! {
        #(#cfgs)*
        #name => {
            #unused
            ::core::option::Option::Some(#body)
        }
    }
}

/// The endpoint's path must not start under an affordance the struct declares (a data property,
/// an event, a stream): checked by the compiler against the struct's `ThingFields`, at the path.
pub(super) fn collision_checks(endpoint: &Endpoint, thing_fields: &TokenStream) -> TokenStream {
    let first = endpoint.first_segment();
    let cfgs = &endpoint.method.cfgs;
    let message = |what: &str| {
        format!(
            "the endpoint's path `{}` is under the {what} `{first}`, which is served at the same \
             URL: give the endpoint another path",
            endpoint.path
        )
    };
    let checks = [
        ("DATA_PROPERTY_NAMES", message("property")),
        ("EVENT_NAMES", message("event")),
        ("STREAM_NAMES", message("stream")),
    ]
    .into_iter()
    .map(|(names, message)| {
        let names = Ident::new(names, Span::call_site());
        quote_spanned! {endpoint.path_span()=>
            #(#cfgs)*
            const _: () = ::core::assert!(!__lt::contains(#thing_fields::#names, #first), #message);
        }
    });
    quote!(#(#checks)*)
}
