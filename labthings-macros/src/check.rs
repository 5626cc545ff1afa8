//! Check: the rules a Thing must follow, each broken rule a compile error at the offending
//! token with a message that names the fix.

use std::collections::HashMap;

use syn::spanned::Spanned;
use syn::{FnArg, Pat, Signature, Type};

use crate::ast::{Action, Hook, ParamRole, ReturnKind, ThingImpl, ThingStruct, json_name};
use crate::errors::Errors;

pub fn check_struct(thing: &ThingStruct, errors: &mut Errors) {
    let generics = &thing.item.generics;
    if !generics.params.is_empty() || generics.where_clause.is_some() {
        errors.push(syn::Error::new_spanned(
            generics,
            "a Thing can't be generic: the server describes each Thing type once; \
             make a concrete struct for each instrument",
        ));
    }
    for slot in &thing.slots {
        let last = last_segment(&slot.ty);
        if !matches!(last.as_deref(), Some("Slot" | "OptionalSlot")) {
            errors.push(syn::Error::new_spanned(
                &slot.ty,
                "a `#[slot]` field must have type `Slot<T>` (required) or `OptionalSlot<T>`, \
                 where `T` is the type of the other Thing",
            ));
        }
    }
    for field in &thing.fields {
        let last = last_segment(&field.ty);
        let expected = if field.is_setting {
            "Setting"
        } else {
            "Property"
        };
        if last.as_deref() != Some(expected) {
            errors.push(syn::Error::new_spanned(
                &field.ty,
                format!(
                    "a `#[{}]` field must have type `{expected}<T>`; for a value computed on \
                     demand, write a `#[property]` getter method in the `#[thing]` impl block",
                    expected.to_lowercase()
                ),
            ));
        }
    }
}

pub fn check_impl(thing: &ThingImpl, errors: &mut Errors) {
    let item = &thing.item;
    for (hooks, name) in [(&thing.on_start, "on_start"), (&thing.on_stop, "on_stop")] {
        for extra in hooks.iter().skip(1) {
            errors.push(syn::Error::new_spanned(
                &extra.sig.ident,
                format!("a Thing has at most one `#[{name}]` method"),
            ));
        }
        for hook in hooks {
            check_hook(hook, name, errors);
        }
    }
    if let Some((_, path, _)) = &item.trait_ {
        errors.push(syn::Error::new_spanned(
            path,
            "`#[thing]` goes on the inherent `impl` block of the Thing (`impl MyThing { … }`), not on a trait impl",
        ));
    }
    if !item.generics.params.is_empty() {
        errors.push(syn::Error::new_spanned(
            &item.generics,
            "a Thing can't be generic",
        ));
    }
    for action in &thing.actions {
        check_action(action, errors);
    }
    let mut getter_names = HashMap::new();
    for getter in &thing.getters {
        check_receiver(&getter.sig, "#[property]", errors);
        check_not_generic(&getter.sig, "property getters", errors);
        if let Some(asyncness) = getter.sig.asyncness {
            errors.push(syn::Error::new(
                asyncness.span(),
                "property getters can't be `async`: make it a plain `fn` (the server runs it off the async runtime), or use an `#[action]`",
            ));
        }
        let extra: Vec<&FnArg> = getter
            .sig
            .inputs
            .iter()
            .filter(|a| matches!(a, FnArg::Typed(_)))
            .collect();
        if let Some(first) = extra.first() {
            errors.push(syn::Error::new_spanned(
                first,
                "a `#[property]` getter takes only `&self`; to make the property writable, add a \
                 `#[setter(name)] fn set_name(&self, value: T)` method; for inputs, use an `#[action]`",
            ));
        }
        if matches!(getter.output, ReturnKind::Unit) {
            errors.push(syn::Error::new(
                getter.sig.ident.span(),
                "a `#[property]` getter must return the property's value, e.g. `-> f64`",
            ));
        }
        getter_names.insert(json_name(&getter.sig.ident), getter.attr_span);
    }
    let mut set = HashMap::new();
    for setter in &thing.setters {
        check_receiver(&setter.sig, "#[setter]", errors);
        check_not_generic(&setter.sig, "property setters", errors);
        let target = json_name(&setter.target);
        if !getter_names.contains_key(&target) {
            errors.push(syn::Error::new(
                setter.target.span(),
                format!(
                    "`#[setter({target})]` has no getter: add `#[property] fn {target}(&self) -> T` \
                     to this impl block"
                ),
            ));
        }
        if set.insert(target.clone(), ()).is_some() {
            errors.push(syn::Error::new(
                setter.target.span(),
                format!("property `{target}` already has a setter"),
            ));
        }
        if setter.value_type().is_none() {
            errors.push(syn::Error::new_spanned(
                &setter.sig.inputs,
                format!(
                    "a setter takes `&self` and the new value: `fn set_{target}(&self, value: T)`"
                ),
            ));
        }
    }
}

fn last_segment(ty: &Type) -> Option<String> {
    match ty {
        Type::Path(path) => path.path.segments.last().map(|s| s.ident.to_string()),
        _ => None,
    }
}

fn check_hook(hook: &Hook, name: &str, errors: &mut Errors) {
    check_receiver(&hook.sig, &format!("#[{name}]"), errors);
    check_not_generic(&hook.sig, "lifecycle methods", errors);
    if let Some(asyncness) = &hook.sig.asyncness {
        errors.push(syn::Error::new_spanned(
            asyncness,
            format!("`#[{name}]` methods can't be `async`: they run once, before or after serving, on a plain thread"),
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
            format!("`#[{name}]` methods take only `&self`"),
        ));
    }
    if matches!(hook.output, ReturnKind::Value(_)) || (name == "on_stop" && hook.output.is_result())
    {
        errors.push(syn::Error::new_spanned(
            &hook.sig.output,
            if name == "on_start" {
                "`#[on_start]` methods return nothing or `Result<(), E>` (an error stops the server starting)"
            } else {
                "`#[on_stop]` methods return nothing: report problems through `tracing`"
            },
        ));
    }
}

fn check_action(action: &Action, errors: &mut Errors) {
    check_receiver(&action.sig, "#[action]", errors);
    check_not_generic(&action.sig, "actions", errors);
    let mut seen = HashMap::new();
    for param in &action.params {
        match &param.pat {
            Pat::Ident(pat) if pat.by_ref.is_none() && pat.subpat.is_none() => {
                let name = json_name(&pat.ident);
                if seen.insert(name.clone(), ()).is_some() {
                    errors.push(syn::Error::new(
                        pat.ident.span(),
                        format!("parameter `{name}` appears twice"),
                    ));
                }
            }
            other => errors.push(syn::Error::new_spanned(
                other,
                "action parameters must be plain names (each input parameter becomes a field of \
                 the JSON input); take the whole value and destructure it in the body",
            )),
        }
        if let ParamRole::Input(_) = param.role
            && let Some(problem) = unsupported_input_type(&param.ty)
        {
            errors.push(syn::Error::new_spanned(&param.ty, problem));
        }
    }
}

fn unsupported_input_type(ty: &Type) -> Option<&'static str> {
    match ty {
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

fn check_receiver(sig: &Signature, attr: &str, errors: &mut Errors) {
    let what = match attr {
        "#[action]" => "actions",
        "#[property]" | "#[setter]" => "property methods",
        _ => "lifecycle methods",
    };
    match sig.receiver() {
        None => errors.push(syn::Error::new(
            sig.ident.span(),
            format!("`{attr}` methods need a `&self` receiver: `fn {}(&self, …)`", sig.ident),
        )),
        Some(receiver) if receiver.mutability.is_some() && receiver.reference.is_some() => {
            errors.push(syn::Error::new_spanned(
                receiver,
                format!(
                    "{what} take `&self`, not `&mut self`: the server calls them from many threads at \
                     once; keep changing state in `Property` fields or behind a `Mutex`"
                ),
            ))
        }
        Some(receiver) if receiver.reference.is_none() && receiver.colon_token.is_none() => {
            errors.push(syn::Error::new_spanned(
                receiver,
                format!("{what} take `&self`, not `self`: the Thing is shared by every request, so it can't be moved out"),
            ))
        }
        Some(receiver) if receiver.colon_token.is_some() => errors.push(syn::Error::new_spanned(
            receiver,
            format!("{what} take plain `&self`"),
        )),
        Some(_) => {}
    }
}

fn check_not_generic(sig: &Signature, what: &str, errors: &mut Errors) {
    if !sig.generics.params.is_empty() || sig.generics.where_clause.is_some() {
        errors.push(syn::Error::new_spanned(
            &sig.generics,
            format!(
                "{what} can't be generic: the server needs each parameter's concrete type to \
                 describe and decode it; use concrete types (or an enum)"
            ),
        ));
    }
}
