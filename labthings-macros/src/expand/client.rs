//! The typed client, `<Thing>Client`: one method per affordance, with the Thing's own types,
//! over a `labthings_client::ThingClient`. Methods return a boxed `ClientFuture` rather than
//! being `async fn`s: an `async fn`'s opaque future repeats its `where` clause, so a failed
//! bound would be reported three times at a call (the method, the call, the `.await`).
//!
//! Everything here is emitted inside `::labthings_core::__private::client_items! { … }`, which
//! keeps it when `labthings-core` has its `client` feature and drops it otherwise: the feature
//! is evaluated in `labthings-core`, so a Thing crate declares nothing and a server-only build
//! never compiles the client. The struct's `#[thing]` emits the client type, its constructors
//! and the methods of the fields (data properties, settings, events); the impl's `#[thing]`
//! emits a hidden type with the methods of the actions and functional properties, which the
//! client dereferences to through `<Thing as ClientActions>::Actions`. So the impl block never
//! names the client type, and a struct missing its `#[thing]` is still one error.
//!
//! Each method requires what it sends to be `Serialize` and what it reads to be `Deserialize`
//! in its own `where` clause (`for<'__lt>` keeps rustc from rejecting a bound that fails as
//! trivially false), so a Thing whose output type can't be decoded still builds, and calling
//! that one method is the one error.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{GenericArgument, Ident, ItemImpl, ItemStruct, PathArguments, Type};

use crate::ast::{Action, FunctionalProperty, ThingImpl, ThingStruct, ungroup};
use crate::attr;
use crate::crate_path::CratePath;

/// `Counter` → `CounterClient`.
fn client_ident(thing: &Ident) -> Ident {
    format_ident!("{}Client", thing)
}

/// Wrap `items` so that they exist only with the `client` feature of `labthings-core`.
fn gated(krate: &CratePath, items: TokenStream) -> TokenStream {
    quote! {
        #krate::__private::client_items! {
            #items
        }
    }
}

/// `const _: () = { … }` with the runtime in scope.
fn in_const(krate: &CratePath, body: TokenStream) -> TokenStream {
    quote! {
        const _: () = {
            use #krate::__private as __lt;
            #body
        };
    }
}

/// The first type argument of the last segment of `ty`, if it is written `Name<T, …>`.
fn first_type_arg<'t>(ty: &'t Type, names: &[&str]) -> Option<&'t Type> {
    let Type::Path(path) = ungroup(ty) else {
        return None;
    };
    let last = path.path.segments.last()?;
    if path.qself.is_some() || !names.iter().any(|name| last.ident == name) {
        return None;
    }
    let PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    args.args.iter().find_map(|arg| match arg {
        GenericArgument::Type(ty) => Some(ty),
        _ => None,
    })
}

/// What the client returns for a method returning `returned`: the `T` of `Result<T, E>` (or of
/// `io::Result<T>`, whatever the path), else `returned`. An alias with another name is returned
/// whole, and decodes only if its error type does (else calling the method is the error, whose
/// note says to write `Result<T, E>`); a type merely named `Result` fails `ClientValue`.
fn success_type(returned: &Type) -> Type {
    first_type_arg(returned, &["Result"])
        .cloned()
        .unwrap_or_else(|| returned.clone())
}

/// The type the client decodes for an action output of type `output`: every `Blob` in it
/// (alone, or as a type argument: `Option<Blob>`, `Vec<Blob>`, a tuple) becomes
/// `labthings_client::RemoteBlob`, the link that downloads itself. Also returns the `Blob`s
/// replaced, each to be checked to be `labthings_core::Blob` (see `bounds::ServerBlob`).
fn client_output(output: &Type) -> (Type, Vec<Type>) {
    fn replace(ty: &mut Type, replaced: &mut Vec<Type>) {
        let is_blob = matches!(&*ty, Type::Path(path) if path.qself.is_none()
        && path.path.segments.last().is_some_and(|last| {
            last.ident == "Blob" && matches!(last.arguments, PathArguments::None)
        }));
        if is_blob {
            let span = ty.span();
            replaced.push(ty.clone());
            *ty = syn::parse_quote_spanned!(span=> __lt::labthings_client::RemoteBlob);
            return;
        }
        match ty {
            Type::Path(path) if path.qself.is_none() => {
                if let Some(PathArguments::AngleBracketed(args)) = path
                    .path
                    .segments
                    .last_mut()
                    .map(|last| &mut last.arguments)
                {
                    for arg in args.args.iter_mut() {
                        if let GenericArgument::Type(ty) = arg {
                            replace(ty, replaced);
                        }
                    }
                }
            }
            Type::Tuple(tuple) => tuple.elems.iter_mut().for_each(|ty| replace(ty, replaced)),
            Type::Array(array) => replace(&mut array.elem, replaced),
            Type::Paren(paren) => replace(&mut paren.elem, replaced),
            Type::Group(group) => replace(&mut group.elem, replaced),
            _ => {}
        }
    }
    let mut mapped = output.clone();
    let mut replaced = Vec::new();
    replace(&mut mapped, &mut replaced);
    (mapped, replaced)
}

/// Each type `client_output` took for a `Blob` must be `labthings_core::Blob`.
fn server_blobs(replaced: &[Type]) -> Vec<TokenStream> {
    replaced
        .iter()
        .map(|ty| quote_spanned!(ty.span()=> for<'__lt> #ty: __lt::bounds::ServerBlob))
        .collect()
}

fn readable(ty: &Type) -> TokenStream {
    quote_spanned!(ty.span()=> for<'__lt> #ty: __lt::bounds::ClientReadable)
}

/// The method returning `returned` gives `output` on success (see `bounds::ClientValue`).
fn fits(returned: &Type, output: &Type) -> TokenStream {
    quote_spanned!(returned.span()=> for<'__lt> #returned: __lt::bounds::ClientValue<#output>)
}

fn writable(ty: &Type) -> TokenStream {
    quote_spanned!(ty.span()=> for<'__lt> #ty: __lt::bounds::ClientWritable)
}

/// "\n\nIn °C (`om:degreeCelsius`)." for a property with a unit, else "".
fn unit_note(term: Option<&str>) -> String {
    term.map_or_else(String::new, |term| {
        let symbol = labthings_protocol::units::symbol(term);
        format!("\n\nIn {symbol} (`{term}`).")
    })
}

/// "Read the property `name`.", then the affordance's own documentation.
fn doc_line(kind: &str, name: &str, docs: Option<&str>) -> String {
    match docs {
        Some(docs) => format!("{kind} `{name}`.\n\n{docs}"),
        None => format!("{kind} `{name}`."),
    }
}

/// The client type and its constructors: what exists whatever the Thing declares (also
/// emitted by the fallback, so that code naming the client sees no second error).
///
/// The actions' methods live on `<Thing as ClientActions>::Actions`, which the impl block's
/// `#[thing]` declares; everything needing it has the bound deferred (`for<'__lt>`), so a
/// struct without a `#[thing]` impl block still builds, and connecting its client is the one
/// error.
pub fn client_type(item: &ItemStruct, krate: &CratePath) -> TokenStream {
    let (thing, vis) = (&item.ident, &item.vis);
    if !item.generics.params.is_empty() {
        // A generic Thing is an error reported elsewhere; it has no client.
        return TokenStream::new();
    }
    let ident = client_ident(thing);
    let has_actions = quote!(for<'__lt> #thing: __lt::bounds::ClientActions);
    let actions = quote!(<#thing as __lt::bounds::ClientActions>::Actions);
    let doc = format!(
        "A typed client for a remote `{thing}`: one method per affordance, with the Thing's \
         own types (generated by `#[thing]` with the `client` feature of `labthings-core`).\n\n\
         The methods of properties and events are below; those of the actions (`name(…)`, \
         `start_name(…)`) and functional properties are declared by the `#[thing]` impl \
         block, on the type this client dereferences to: each takes the action's input \
         parameters and gives its success type."
    );
    let body = in_const(
        krate,
        quote! {
            #[allow(dead_code)]
            impl #ident {
                /// Fetch the Thing Description at `url` (such as `http://host:5000/counter/`) and
                /// make a client for it. For a token or a timeout, connect with
                /// `ThingClient::builder()` and convert the client with `From`.
                pub fn connect(url: &str) -> __lt::ClientFuture<'_, Self>
                where #has_actions
                {
                    ::std::boxed::Box::pin(async move {
                        __lt::labthings_client::ThingClient::from_url(url)
                            .await
                            .map(Self::from)
                    })
                }

                /// The untyped client underneath, for what the Thing Description offers beyond
                /// these methods.
                pub fn thing_client(&self) -> &__lt::labthings_client::ThingClient {
                    &self.client
                }
            }

            impl ::core::convert::From<__lt::labthings_client::ThingClient> for #ident
            where #has_actions
            {
                fn from(client: __lt::labthings_client::ThingClient) -> Self {
                    let actions: #actions = ::core::convert::From::from(::core::clone::Clone::clone(&client));
                    Self { actions: __lt::Arc::new(actions), client }
                }
            }

            /// The methods of the Thing's actions and functional properties.
            impl ::core::ops::Deref for #ident
            where #has_actions
            {
                type Target = #actions;
                fn deref(&self) -> &Self::Target {
                    self.actions
                        .downcast_ref()
                        .expect("`From` stores the actions of this Thing")
                }
            }

            impl ::core::fmt::Debug for #ident {
                fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                    f.debug_tuple(::core::stringify!(#ident)).field(&self.client).finish()
                }
            }
        },
    );
    gated(
        krate,
        quote! {
            #[doc = #doc]
            #[derive(Clone)]
            #[allow(dead_code)]
            #vis struct #ident {
                client: #krate::__private::labthings_client::ThingClient,
                actions: #krate::__private::Arc<
                    dyn ::core::any::Any + ::core::marker::Send + ::core::marker::Sync,
                >,
            }
            #body
        },
    )
}

/// The client of a `#[thing]` struct: its type, and the methods of its data properties,
/// settings and events.
pub fn for_struct(thing: &ThingStruct, krate: &CratePath) -> TokenStream {
    let ident = client_ident(&thing.item.ident);
    let mut methods = Vec::new();
    for field in &thing.fields {
        let (getter, name) = (&field.ident, &field.name);
        let value = first_type_arg(&field.ty, &["Property", "Setting"])
            .map(|ty| quote!(#ty))
            .unwrap_or_else(|| {
                let ty = &field.ty;
                quote!(<#ty as __lt::PropertyField>::Value)
            });
        let value_ty: Type = syn::parse2(value).expect("a type");
        let (read, write) = (readable(&value_ty), writable(&value_ty));
        let read_doc = doc_line("Read the property", name, field.docs.full())
            + &unit_note(field.args.unit().as_deref());
        let observe_doc =
            format!("Observe the property `{name}`: each new value, as the server pushes it.");
        let observe = format_ident!("observe_{}", name);
        methods.push(quote! {
            #[doc = #read_doc]
            pub fn #getter(&self) -> __lt::ClientFuture<'_, #value_ty>
            where #read
            {
                ::std::boxed::Box::pin(self.client.read(#name))
            }

            #[doc = #observe_doc]
            pub fn #observe(&self) -> __lt::ClientFuture<'_, __lt::labthings_client::Observation<#value_ty>>
            where #read
            {
                ::std::boxed::Box::pin(self.client.observe(#name))
            }
        });
        if !field.args.read_only {
            let setter = format_ident!("set_{}", name);
            let doc = format!("Write the property `{name}`.");
            methods.push(quote! {
                #[doc = #doc]
                pub fn #setter(&self, value: &#value_ty) -> __lt::ClientFuture<'_, ()>
                where #write
                {
                    __lt::write_property(&self.client, #name, value)
                }
            });
        }
    }
    for event in &thing.events {
        let Some(payload) = &event.payload else {
            continue;
        };
        let name = &event.name;
        let method = format_ident!("subscribe_{}", name);
        let unit = event.unit.as_ref().and_then(attr::Constraint::text);
        let doc = doc_line("Subscribe to the event", name, event.docs.full())
            + &unit_note(unit.as_deref());
        let read = readable(payload);
        methods.push(quote! {
            #[doc = #doc]
            pub fn #method(&self) -> __lt::ClientFuture<'_, __lt::labthings_client::Observation<#payload>>
            where #read
            {
                ::std::boxed::Box::pin(self.client.subscribe(#name))
            }
        });
    }
    let client_type = client_type(&thing.item, krate);
    let methods = gated(
        krate,
        in_const(
            krate,
            quote! {
                #[allow(dead_code)]
                impl #ident {
                    #(#methods)*
                }
            },
        ),
    );
    quote!(#client_type #methods)
}

/// The methods of a `#[thing]` impl block's actions and functional properties.
pub fn for_impl(thing: &ThingImpl, krate: &CratePath) -> TokenStream {
    let self_ty = &thing.item.self_ty;
    let doc = format!(
        "The methods of a typed client of `{}` for its actions and functional properties.",
        quote!(#self_ty).to_string().replace(' ', "")
    );
    let actions = thing.actions.iter().map(action_methods);
    let properties = thing.properties.iter().map(property_methods);
    // Named after the Thing for messages ("required by a bound in `CounterClientActions::…`");
    // inside `const _`, it can't clash with anything.
    let holder = format_ident!(
        "{}ClientActions",
        crate::ast::last_segment(self_ty).unwrap_or_else(|| "Thing".to_owned())
    );
    gated(
        krate,
        in_const(
            krate,
            quote! {
                #[doc = #doc]
                #[derive(Clone, Debug)]
                pub struct #holder {
                    client: __lt::labthings_client::ThingClient,
                }

                impl ::core::convert::From<__lt::labthings_client::ThingClient> for #holder {
                    fn from(client: __lt::labthings_client::ThingClient) -> Self {
                        Self { client }
                    }
                }

                impl __lt::bounds::ClientActions for #self_ty {
                    type Actions = #holder;
                }

                #[allow(dead_code)]
                impl #holder {
                    #(#actions)*
                    #(#properties)*
                }
            },
        ),
    )
}

/// The client part of a `#[thing]` impl block that had an error: no methods.
pub fn for_failed_impl(item: &ItemImpl, krate: &CratePath) -> TokenStream {
    let self_ty = &item.self_ty;
    let (impl_generics, _, where_clause) = item.generics.split_for_impl();
    gated(
        krate,
        in_const(
            krate,
            quote! {
                impl #impl_generics __lt::bounds::ClientActions for #self_ty #where_clause {
                    type Actions = __lt::NoClientActions;
                }
            },
        ),
    )
}

fn action_methods(action: &Action) -> TokenStream {
    let method = &action.method;
    let (ident, name, cfgs) = (method.ident(), &method.name, &method.cfgs);
    let returned = method.returned_type();
    let output = success_type(&returned);
    // What the client gives back: the Thing's type, with its `Blob`s as `RemoteBlob`s.
    let (decoded, blobs) = client_output(&output);
    let blobs = server_blobs(&blobs);
    let inputs: Vec<(&Ident, &String, &Type)> = action
        .inputs()
        .map(|(param, _)| (&param.ident, &param.name, &param.ty))
        .collect();
    let params = inputs.iter().map(|(ident, _, ty)| quote!(#ident: #ty));
    let params = quote!(#(#params),*);
    let sent: Vec<TokenStream> = inputs.iter().map(|(_, _, ty)| writable(ty)).collect();
    let read = readable(&decoded);
    let fits = fits(&returned, &output);
    let fields = inputs
        .iter()
        .map(|(ident, key, _)| quote!(.field(#key, &#ident)));
    // Encoded before the future is made, so that it holds JSON, not the parameters.
    let build_input = quote! {
        let __input = __lt::ClientInput::new() #(#fields)* .finish();
    };
    let blob_note = if blobs.is_empty() {
        ""
    } else {
        " A `Blob` comes back as a `RemoteBlob`: its link, which `.bytes().await` downloads."
    };
    let invoke_doc = format!(
        "{}\n\nWaits for the invocation to finish.{blob_note}",
        doc_line("Invoke the action", name, method.docs.full())
    );
    let start = format_ident!("start_{}", name);
    let start_doc = format!(
        "Start the action `{name}` and return at once with a handle on the invocation (to \
         poll, cancel, read the log of, or `wait::<{}>()` for).",
        quote!(#decoded)
            .to_string()
            .replace(' ', "")
            .replace("__lt::labthings_client::", "")
    );
    quote! {
        #(#cfgs)*
        #[doc = #invoke_doc]
        #[allow(clippy::too_many_arguments)]
        pub fn #ident(&self, #params) -> __lt::ClientFuture<'_, #decoded>
        where #(#sent,)* #read, #fits #(, #blobs)*
        {
            #build_input
            ::std::boxed::Box::pin(async move { self.client.invoke(#name, &__input?).await })
        }

        #(#cfgs)*
        #[doc = #start_doc]
        #[allow(clippy::too_many_arguments)]
        pub fn #start(&self, #params) -> __lt::ClientFuture<'_, __lt::labthings_client::Invocation>
        where #(#sent),*
        {
            #build_input
            ::std::boxed::Box::pin(async move { self.client.start(#name, &__input?).await })
        }
    }
}

fn property_methods(property: &FunctionalProperty) -> TokenStream {
    let getter = &property.getter;
    let (ident, name, cfgs) = (getter.ident(), &getter.name, &getter.cfgs);
    let returned = getter.returned_type();
    let output = success_type(&returned);
    let read = readable(&output);
    let fits = fits(&returned, &output);
    let unit = unit_note(property.args.unit().as_deref());
    let doc = doc_line("Read the property", name, getter.docs.full()) + &unit;
    // A polled getter is observable: the client observes it as it does a data property.
    let observe = property.args.observe_every.map(|_| {
        let method = format_ident!("observe_{}", name);
        let doc = format!(
            "Observe the property `{name}`: each new reading, as the server (which polls it \
             while observed) pushes it.{unit}"
        );
        quote! {
            #(#cfgs)*
            #[doc = #doc]
            pub fn #method(&self) -> __lt::ClientFuture<'_, __lt::labthings_client::Observation<#output>>
            where #read
            {
                ::std::boxed::Box::pin(self.client.observe(#name))
            }
        }
    });
    let setter = property.setter.as_ref().and_then(|setter| {
        let value_ty = setter.value_ty.as_ref()?;
        let method = format_ident!("set_{}", name);
        let setter_cfgs = &setter.method.cfgs;
        let doc = format!("Write the property `{name}`.");
        let write = writable(value_ty);
        Some(quote! {
            #(#cfgs)* #(#setter_cfgs)*
            #[doc = #doc]
            pub fn #method(&self, value: &#value_ty) -> __lt::ClientFuture<'_, ()>
            where #write
            {
                __lt::write_property(&self.client, #name, value)
            }
        })
    });
    quote! {
        #(#cfgs)*
        #[doc = #doc]
        pub fn #ident(&self) -> __lt::ClientFuture<'_, #output>
        where #read, #fits
        {
            ::std::boxed::Box::pin(self.client.read(#name))
        }
        #observe
        #setter
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The doc comment generated right before `fn <method>` in `code`.
    fn doc_of<'c>(code: &'c str, method: &str) -> &'c str {
        let at = code
            .find(&format!("fn {method}"))
            .unwrap_or_else(|| panic!("no fn {method} in {code}"));
        let doc = code[..at]
            .rfind("doc =")
            .expect("a doc attribute before it");
        &code[doc..at]
    }

    #[test]
    fn a_unit_is_in_the_typed_clients_docs_of_its_event_and_property() {
        let mut errors = crate::errors::Errors::default();
        let thing = crate::ast::parse_struct(
            syn::parse_quote! {
                struct Stage {
                    #[event(unit = "mm")]
                    moved: Event<f64>,
                    #[property(unit = "mm")]
                    position: f64,
                    #[event]
                    stopped: Event<f64>,
                }
            },
            &mut errors,
        );
        assert!(errors.is_empty());
        let code = for_struct(&thing, &CratePath::default()).to_string();
        let note = "In mm (`om:millimetre`).";
        assert!(doc_of(&code, "subscribe_moved").contains(note), "{code}");
        assert!(doc_of(&code, "position").contains(note), "{code}");
        assert!(
            !doc_of(&code, "subscribe_stopped").contains("In "),
            "{code}"
        );
    }
}
