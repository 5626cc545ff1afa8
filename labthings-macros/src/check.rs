//! Check: the rules a Thing must follow, each broken rule a compile error at the offending
//! token with a message that names the fix.
//!
//! Rules about pairing (a setter without a getter, a second `#[on_start]`) are enforced while
//! parsing, where the pairs are made; the rules here look at one finished model.

use std::collections::HashSet;

use labthings_protocol::paths::{RESERVED_AFFORDANCE_NAMES, endpoint_path_problem};
use syn::spanned::Spanned;
use syn::{FnArg, Ident, ReceiverKind, Type};

use crate::ast::{
    Action, Endpoint, FieldKind, Method, MethodKind, ParamRole, ThingImpl, ThingStruct,
    last_segment, single_type_arg, ungroup,
};
use crate::attr;
use crate::errors::Errors;

const NOT_GENERIC: &str = "a Thing can't be generic: the server describes each Thing type once; \
                           make a concrete struct for each instrument";

pub fn check_struct(thing: &ThingStruct, errors: &mut Errors) {
    let generics = &thing.item.generics;
    if !generics.params.is_empty() || generics.where_clause.is_some() {
        errors.push(syn::Error::new_spanned(generics, NOT_GENERIC));
    }
    for slot in &thing.slots {
        check_field_type(&slot.ty, FieldKind::Slot, errors);
    }
    for field in &thing.fields {
        check_field_type(&field.ty, field.kind, errors);
        check_not_reserved(&field.ident, &field.name, errors);
    }
    for event in &thing.events {
        // `Event<T>` exactly: the payload type is read from the field's type.
        if event.payload.is_none() {
            wrong_field_type(&event.ty, FieldKind::Event, errors);
        }
        check_not_reserved(&event.ident, &event.name, errors);
    }
    for stream in &thing.streams {
        check_field_type(&stream.ty, FieldKind::Stream, errors);
        check_not_reserved(&stream.ident, &stream.name, errors);
    }
}

fn check_not_reserved(ident: &Ident, name: &str, errors: &mut Errors) {
    if RESERVED_AFFORDANCE_NAMES.contains(&name) {
        errors.push(syn::Error::new(
            ident.span(),
            format!(
                "`{name}` can't name an affordance: the server reserves `{}` for its own routes \
                 under each Thing; rename it",
                RESERVED_AFFORDANCE_NAMES.join("`, `")
            ),
        ));
    }
}

fn check_field_type(ty: &Type, kind: FieldKind, errors: &mut Errors) {
    // A property or setting may be shared with the Thing's own threads: `Arc<Setting<T>>`.
    let shared = matches!(kind, FieldKind::Property | FieldKind::Setting)
        .then(|| single_type_arg(ty, "Arc"))
        .flatten();
    let last = last_segment(shared.unwrap_or(ty));
    if kind
        .expected_types()
        .contains(&last.as_deref().unwrap_or_default())
    {
        return;
    }
    wrong_field_type(ty, kind, errors);
}

fn wrong_field_type(ty: &Type, kind: FieldKind, errors: &mut Errors) {
    let message = match kind {
        FieldKind::Event => "an `#[event]` field must have type `Event<T>`, where `T` is the \
                             payload sent to subscribers (`Event<()>` for none)"
            .to_owned(),
        FieldKind::Stream => "a `#[stream]` field must have type `MjpegStream`, a live stream \
                              of JPEG frames served as MJPEG"
            .to_owned(),
        FieldKind::Slot => "a `#[slot]` field must have type `Slot<T>` (required) or \
                            `OptionalSlot<T>`, where `T` is the type of the other Thing"
            .to_owned(),
        FieldKind::Property | FieldKind::Setting => {
            let expected = kind.expected_types()[0];
            format!(
                "a `#[{}]` field must have type `{expected}<T>` (or `Arc<{expected}<T>>` to share \
                 it with a thread); for a value computed on demand, write a `#[property]` getter method in the `#[thing]` impl block",
                kind.keyword()
            )
        }
    };
    errors.push(syn::Error::new_spanned(ty, message));
}

pub fn check_impl(thing: &ThingImpl, errors: &mut Errors) {
    let item = &thing.item;
    if let Some((path, _)) = &item.trait_ {
        errors.push(syn::Error::new_spanned(
            path,
            "`#[thing]` goes on the inherent `impl` block of the Thing (`impl MyThing { … }`), not on a trait impl",
        ));
    }
    // `impl<T> Counter<T>` is generic because its struct is, and `#[thing]` on that struct says
    // so; saying it here too would be a second error for one mistake (see `deferred_to_struct`).
    if !item.generics.params.is_empty() && !thing.deferred_to_struct() {
        errors.push(syn::Error::new_spanned(&item.generics, NOT_GENERIC));
    }
    for method in thing.methods() {
        check_receiver(method, errors);
        check_not_generic(method, errors);
    }
    let affordances = thing.actions.iter().map(|a| &a.method);
    for method in affordances.chain(thing.properties.iter().map(|p| &p.getter)) {
        check_not_reserved(method.ident(), &method.name, errors);
    }
    for hook in thing.on_start.iter().chain(&thing.on_stop) {
        check_hook(hook, errors);
    }
    for action in &thing.actions {
        check_action(action, errors);
    }
    check_endpoints(thing, errors);
    for property in &thing.properties {
        check_getter(&property.getter, errors);
        if let Some(setter) = &property.setter
            && setter.value_ty.is_none()
        {
            errors.push(syn::Error::new_spanned(
                &setter.method.sig.inputs,
                format!(
                    "a setter takes `&self` and the new value: `fn set_{}(&self, value: T)`",
                    property.getter.name
                ),
            ));
        }
    }
}

/// An endpoint's path is valid and its own: no other endpoint answers the same method there,
/// and its first segment names no affordance declared in this impl block and no route the
/// server reserves (the struct's affordances are checked by the compiler: see
/// `expand::endpoint`). Its signature is `&self` and at most the request.
fn check_endpoints(thing: &ThingImpl, errors: &mut Errors) {
    let mut seen: Vec<&Endpoint> = Vec::new();
    for endpoint in &thing.endpoints {
        let span = endpoint.path_span();
        if let Some(problem) = endpoint_path_problem(&endpoint.path) {
            errors.push(syn::Error::new(span, problem));
            continue;
        }
        if let Some(content_type) = &endpoint.args.content_type
            && let Some(problem) = attr::content_type_problem(&content_type.value())
        {
            errors.push(syn::Error::new(content_type.span(), problem));
        }
        let method = endpoint.args.http_method.0;
        if let Some(twin) = seen
            .iter()
            .find(|e| e.path == endpoint.path && e.args.http_method.0 == method)
        {
            errors.push(syn::Error::new(
                span,
                format!(
                    "`{} {}` is already answered by the endpoint `{}`: give one of them another \
                     path or HTTP method",
                    method.0.to_ascii_uppercase(),
                    endpoint.path,
                    twin.method.name
                ),
            ));
        }
        seen.push(endpoint);
        let first = endpoint.first_segment();
        if RESERVED_AFFORDANCE_NAMES.contains(&first) {
            errors.push(syn::Error::new(
                span,
                format!(
                    "an endpoint's path can't start with `{first}`: the server reserves `{}` for \
                     its own routes under each Thing",
                    RESERVED_AFFORDANCE_NAMES.join("`, `")
                ),
            ));
        }
        let affordances = thing
            .actions
            .iter()
            .map(|a| (&a.method.name, "action"))
            .chain(
                thing
                    .properties
                    .iter()
                    .map(|p| (&p.getter.name, "property")),
            );
        for (name, what) in affordances {
            if name == first {
                errors.push(syn::Error::new(
                    span,
                    format!(
                        "the endpoint's path `{}` is under the {what} `{name}`, which is served \
                         at the same URL: give the endpoint another path",
                        endpoint.path
                    ),
                ));
            }
        }
        if let Some(extra) = endpoint.extra_params.first() {
            errors.push(syn::Error::new_spanned(
                extra,
                "an endpoint takes `&self` and at most one parameter, the request: \
                 `request: EndpointRequest` (its method, headers, query and body)",
            ));
        }
    }
}

fn check_getter(getter: &Method, errors: &mut Errors) {
    if let Some(asyncness) = getter.sig.asyncness {
        errors.push(syn::Error::new(
            asyncness.span(),
            "property getters can't be `async`: make it a plain `fn` (the server runs it off the async runtime), or use an `#[action]`",
        ));
    }
    if let Some(first) = getter
        .sig
        .inputs
        .iter()
        .find(|a| matches!(a, FnArg::Typed(_)))
    {
        errors.push(syn::Error::new_spanned(
            first,
            "a `#[property]` getter takes only `&self`; to make the property writable, add a \
             `#[setter(name)] fn set_name(&self, value: T)` method; for inputs, use an `#[action]`",
        ));
    }
    if getter.output.is_none() {
        errors.push(syn::Error::new(
            getter.ident().span(),
            "a `#[property]` getter must return the property's value, e.g. `-> f64`",
        ));
    }
}

fn check_hook(hook: &Method, errors: &mut Errors) {
    let kind = hook.kind;
    if let Some(asyncness) = &hook.sig.asyncness {
        errors.push(syn::Error::new_spanned(
            asyncness,
            format!("`{kind}` methods can't be `async`: they run once, before or after serving, on a plain thread"),
        ));
    }
    if let Some(extra) = hook
        .sig
        .inputs
        .iter()
        .find(|a| matches!(a, FnArg::Typed(_)))
    {
        errors.push(syn::Error::new_spanned(
            extra,
            format!("`{kind}` methods take only `&self`"),
        ));
        // One mistake, one error: the return type is judged once the signature is right.
        return;
    }
    // What an `#[on_start]` method returns is checked by the compiler (`bounds::StartResult`),
    // which can tell a `Result` from a type merely named like one.
    if kind == MethodKind::OnStop && hook.output.is_some() {
        errors.push(syn::Error::new_spanned(
            &hook.sig.output,
            "`#[on_stop]` methods return nothing: report problems through `tracing`",
        ));
    }
}

fn check_action(action: &Action, errors: &mut Errors) {
    let mut seen = HashSet::new();
    for param in &action.params {
        if !seen.insert(param.name.as_str()) {
            errors.push(syn::Error::new(
                param.ident.span(),
                format!("parameter `{}` appears twice", param.name),
            ));
        }
        if let ParamRole::Input(_) = param.role
            && let Some(problem) = unsupported_input_type(&param.ty)
        {
            errors.push(syn::Error::new_spanned(&param.ty, problem));
        }
    }
    if let Some(inline) = &action.args.inline {
        check_inline(action, inline, errors);
    }
}

/// `#[action(inline)]` is for a short plain `fn` that nothing needs to stop.
fn check_inline(action: &Action, inline: &syn::Path, errors: &mut Errors) {
    if action.method.is_async() {
        errors.push(syn::Error::new_spanned(
            inline,
            "an `async fn` action already runs without a thread of its own; `inline` is for a \
             short plain `fn`: remove `inline`",
        ));
    }
    let cancel = action.params.iter().find(|param| {
        matches!(param.role, ParamRole::Injected)
            && last_segment(&param.ty).as_deref() == Some("CancelHook")
    });
    if let Some(cancel) = cancel {
        errors.push(syn::Error::new_spanned(
            &cancel.ty,
            "an `inline` action has finished before its invocation is answered, so nothing \
             can cancel it: drop the `CancelHook` parameter, or remove `inline` to run the \
             action on the action pool",
        ));
    }
}

fn unsupported_input_type(ty: &Type) -> Option<&'static str> {
    match ungroup(ty) {
        Type::Reference(_) => Some(
            "action inputs are deserialized from JSON, so they must be owned: use `String` for \
             `&str`, `Vec<T>` for `&[T]`",
        ),
        Type::ImplTrait(_) => {
            Some("action inputs need a concrete type: the server builds a JSON schema from it")
        }
        Type::Infer(_) => Some("action inputs need an explicit type"),
        _ => None,
    }
}

fn check_receiver(method: &Method, errors: &mut Errors) {
    let (kind, sig) = (method.kind, &method.sig);
    let what = match kind {
        MethodKind::Getter | MethodKind::Setter => "property methods",
        other => other.plural(),
    };
    let Some(receiver) = sig.receiver() else {
        errors.push(syn::Error::new(
            sig.ident.span(),
            format!(
                "`{kind}` methods need a `&self` receiver: `fn {}(&self, …)`",
                sig.ident
            ),
        ));
        return;
    };
    let problem = match &receiver.kind {
        ReceiverKind::Reference(_, _, Some(_)) => format!(
            "{what} take `&self`, not `&mut self`: the server calls them from many threads at \
             once; keep changing state in `Property` fields or behind a `Mutex`"
        ),
        ReceiverKind::Value => format!(
            "{what} take `&self`, not `self`: the Thing is shared by every request, so it can't be moved out"
        ),
        ReceiverKind::Typed(..) => format!("{what} take plain `&self`"),
        _ => return,
    };
    errors.push(syn::Error::new_spanned(receiver, problem));
}

fn check_not_generic(method: &Method, errors: &mut Errors) {
    let generics = &method.sig.generics;
    if !generics.params.is_empty() || generics.where_clause.is_some() {
        errors.push(syn::Error::new_spanned(
            generics,
            format!(
                "{} can't be generic: the server needs each parameter's concrete type to \
                 describe and decode it; use concrete types (or an enum)",
                method.kind.plural()
            ),
        ));
    }
}
