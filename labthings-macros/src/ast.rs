//! Parse: the struct and impl block under `#[thing]`, read into a model of the Thing.
//!
//! Parsing also removes our inner attributes (`#[property]`, `#[action]`, `#[param]`, parameter
//! doc comments …) from the items, which are re-emitted as written otherwise.

use proc_macro2::Span;
use syn::spanned::Spanned;
use syn::{
    Attribute, FnArg, GenericArgument, Ident, ImplItem, ImplItemFn, ItemImpl, ItemStruct, Pat,
    PathArguments, ReturnType, Signature, Type,
};

use crate::attr::{self, ActionArgs, ParamArgs, PropertyArgs};
use crate::docs::Docs;
use crate::errors::Errors;

/// `#[thing] struct …`
pub struct ThingStruct {
    pub item: ItemStruct,
    pub docs: Docs,
    pub fields: Vec<DataField>,
    pub slots: Vec<SlotField>,
}

/// A field marked `#[slot]`: a `Slot<T>` or `OptionalSlot<T>` wired to another Thing.
pub struct SlotField {
    pub ident: Ident,
    pub ty: Type,
}

/// A field marked `#[property]` or `#[setting]`.
pub struct DataField {
    pub ident: Ident,
    pub ty: Type,
    pub is_setting: bool,
    pub args: PropertyArgs,
    pub docs: Docs,
}

/// `#[thing] impl …`
pub struct ThingImpl {
    pub item: ItemImpl,
    pub actions: Vec<Action>,
    pub getters: Vec<Getter>,
    pub setters: Vec<Setter>,
    /// `#[on_start]` and `#[on_stop]` methods (at most one of each is allowed).
    pub on_start: Vec<Hook>,
    pub on_stop: Vec<Hook>,
}

/// A lifecycle method.
pub struct Hook {
    pub sig: Signature,
    pub output: ReturnKind,
}

/// A method marked `#[action]`.
pub struct Action {
    pub sig: Signature,
    pub args: ActionArgs,
    pub docs: Docs,
    pub params: Vec<Param>,
    pub output: ReturnKind,
}

/// A parameter of an action (after the receiver).
pub struct Param {
    pub pat: Pat,
    pub ty: Type,
    pub role: ParamRole,
    pub docs: Docs,
}

pub enum ParamRole {
    /// A field of the JSON input.
    Input(ParamArgs),
    /// Built from the invocation (`InvocationId`, `CancelHook`, `Logger`, or `#[inject]`).
    Injected,
}

/// What a method returns, as far as the outcome is concerned.
pub enum ReturnKind {
    Unit,
    Value(Type),
    /// `Result<T, E>` (or an alias ending in `Result`): `T` is the output.
    Result(Type),
}

impl ReturnKind {
    fn of(output: &ReturnType) -> Self {
        let ReturnType::Type(_, ty) = output else {
            return ReturnKind::Unit;
        };
        if let Type::Tuple(tuple) = &**ty
            && tuple.elems.is_empty()
        {
            return ReturnKind::Unit;
        }
        if let Type::Path(path) = &**ty
            && let Some(last) = path.path.segments.last()
            && last.ident.to_string().ends_with("Result")
            && let PathArguments::AngleBracketed(args) = &last.arguments
            && let Some(GenericArgument::Type(ok)) = args.args.first()
        {
            return ReturnKind::Result(ok.clone());
        }
        ReturnKind::Value((**ty).clone())
    }

    /// The type of the produced value.
    pub fn value_type(&self) -> Type {
        match self {
            ReturnKind::Unit => syn::parse_quote!(()),
            ReturnKind::Value(ty) | ReturnKind::Result(ty) => ty.clone(),
        }
    }

    pub fn is_result(&self) -> bool {
        matches!(self, ReturnKind::Result(_))
    }
}

/// A method marked `#[property]`: the getter of a functional property.
pub struct Getter {
    pub sig: Signature,
    pub docs: Docs,
    pub args: PropertyArgs,
    pub output: ReturnKind,
    pub attr_span: Span,
}

/// A method marked `#[setter(name)]`.
pub struct Setter {
    pub target: Ident,
    pub sig: Signature,
    pub output: ReturnKind,
}

impl Setter {
    /// The type of the value parameter, if the signature has exactly one after `self`.
    pub fn value_type(&self) -> Option<&Type> {
        let mut typed = self.sig.inputs.iter().filter_map(|arg| match arg {
            FnArg::Typed(typed) => Some(&*typed.ty),
            FnArg::Receiver(_) => None,
        });
        let first = typed.next();
        if typed.next().is_some() { None } else { first }
    }
}

/// The JSON name of a field or method: its identifier without any `r#`.
pub fn json_name(ident: &Ident) -> String {
    let name = ident.to_string();
    name.strip_prefix("r#").map(str::to_owned).unwrap_or(name)
}

/// Types injected without `#[inject]`, recognised by name.
const INJECTED_BY_NAME: [&str; 3] = ["InvocationId", "CancelHook", "Logger"];

fn is_injected_by_name(ty: &Type) -> bool {
    let Type::Path(path) = ty else { return false };
    path.qself.is_none()
        && path.path.segments.last().is_some_and(|last| {
            last.arguments.is_none() && INJECTED_BY_NAME.contains(&last.ident.to_string().as_str())
        })
}

const FIELD_ATTRS: [&str; 3] = ["property", "setting", "slot"];
const METHOD_ATTRS: [&str; 5] = ["action", "property", "setter", "on_start", "on_stop"];

pub fn parse_struct(mut item: ItemStruct, errors: &mut Errors) -> ThingStruct {
    let docs = Docs::from_attrs(&item.attrs);
    let mut fields = Vec::new();
    let mut slots = Vec::new();
    for field in item.fields.iter_mut() {
        let ours: Vec<Attribute> = take_attrs(&mut field.attrs, &FIELD_ATTRS);
        let Some(first) = ours.first() else { continue };
        if let Some(second) = ours.get(1) {
            errors.push(syn::Error::new(
                second.span(),
                "a field can carry one of `#[property]`, `#[setting]` and `#[slot]`, once",
            ));
        }
        let Some(ident) = field.ident.clone() else {
            errors.push(syn::Error::new(
                first.span(),
                "properties must be named fields: use a struct with `{ name: Property<T> }` fields",
            ));
            continue;
        };
        if attr::is(first, "slot") {
            errors.ok(attr::check_no_args(first, "slot"));
            slots.push(SlotField {
                ident,
                ty: field.ty.clone(),
            });
            continue;
        }
        let is_setting = attr::is(first, "setting");
        let which = if is_setting { "setting" } else { "property" };
        let args = errors
            .ok(attr::parse_property_args(first, which))
            .unwrap_or_default();
        fields.push(DataField {
            ident,
            ty: field.ty.clone(),
            is_setting,
            args,
            docs: Docs::from_attrs(&field.attrs),
        });
    }
    ThingStruct {
        item,
        docs,
        fields,
        slots,
    }
}

pub fn parse_impl(mut item: ItemImpl, errors: &mut Errors) -> ThingImpl {
    let mut actions = Vec::new();
    let mut getters = Vec::new();
    let mut setters = Vec::new();
    let mut on_start = Vec::new();
    let mut on_stop = Vec::new();
    for impl_item in item.items.iter_mut() {
        let ImplItem::Fn(method) = impl_item else {
            reject_misplaced_attrs(impl_item, errors);
            continue;
        };
        let ours = take_attrs(&mut method.attrs, &METHOD_ATTRS);
        let Some(first) = ours.first() else { continue };
        if let Some(second) = ours.get(1) {
            errors.push(syn::Error::new(
                second.span(),
                "a method can carry only one of `#[action]`, `#[property]`, `#[setter]`, `#[on_start]` and `#[on_stop]`",
            ));
        }
        if attr::is(first, "action") {
            let args = errors
                .ok(attr::parse_action_args(first))
                .unwrap_or_default();
            actions.push(parse_action(method, args, errors));
        } else if attr::is(first, "on_start") || attr::is(first, "on_stop") {
            let is_start = attr::is(first, "on_start");
            errors.ok(attr::check_no_args(
                first,
                if is_start { "on_start" } else { "on_stop" },
            ));
            let hook = Hook {
                sig: method.sig.clone(),
                output: ReturnKind::of(&method.sig.output),
            };
            if is_start {
                on_start.push(hook)
            } else {
                on_stop.push(hook)
            }
        } else if attr::is(first, "property") {
            let args = errors
                .ok(attr::parse_property_args(first, "property"))
                .unwrap_or_default();
            getters.push(Getter {
                sig: method.sig.clone(),
                docs: Docs::from_attrs(&method.attrs),
                args,
                output: ReturnKind::of(&method.sig.output),
                attr_span: first.span(),
            });
        } else if let Some(target) = errors.ok(attr::parse_setter_target(first)) {
            setters.push(Setter {
                target,
                sig: method.sig.clone(),
                output: ReturnKind::of(&method.sig.output),
            });
        }
    }
    ThingImpl {
        item,
        actions,
        getters,
        setters,
        on_start,
        on_stop,
    }
}

fn parse_action(method: &mut ImplItemFn, args: ActionArgs, errors: &mut Errors) -> Action {
    let docs = Docs::from_attrs(&method.attrs);
    let action_args = args;
    let mut params = Vec::new();
    for arg in method.sig.inputs.iter_mut() {
        let FnArg::Typed(typed) = arg else { continue };
        let param_docs = Docs::from_attrs(&typed.attrs);
        typed.attrs.retain(|a| !a.path().is_ident("doc"));
        let ours = take_attrs(&mut typed.attrs, &["param", "inject"]);
        let injected = ours.iter().any(|a| attr::is(a, "inject")) || is_injected_by_name(&typed.ty);
        let mut args = ParamArgs::default();
        for a in ours.iter().filter(|a| attr::is(a, "param")) {
            if injected {
                errors.push(syn::Error::new(
                    a.span(),
                    "an injected parameter is built from the invocation; it can't have `#[param]` settings",
                ));
            } else if let Some(parsed) = errors.ok(attr::parse_param_args(a)) {
                args = parsed;
            }
        }
        let role = if injected {
            ParamRole::Injected
        } else {
            ParamRole::Input(args)
        };
        params.push(Param {
            pat: (*typed.pat).clone(),
            ty: (*typed.ty).clone(),
            role,
            docs: param_docs,
        });
    }
    Action {
        sig: method.sig.clone(),
        args: action_args,
        docs,
        params,
        output: ReturnKind::of(&method.sig.output),
    }
}

/// Remove and return the attributes named in `names`.
fn take_attrs(attrs: &mut Vec<Attribute>, names: &[&str]) -> Vec<Attribute> {
    let (ours, rest): (Vec<_>, Vec<_>) = attrs
        .drain(..)
        .partition(|a| names.iter().any(|n| a.path().is_ident(n)));
    *attrs = rest;
    ours
}

fn reject_misplaced_attrs(item: &mut ImplItem, errors: &mut Errors) {
    let attrs = match item {
        ImplItem::Const(c) => &mut c.attrs,
        ImplItem::Type(t) => &mut t.attrs,
        ImplItem::Macro(m) => &mut m.attrs,
        _ => return,
    };
    for misplaced in take_attrs(attrs, &METHOD_ATTRS) {
        errors.push(syn::Error::new(
            misplaced.span(),
            "`#[action]`, `#[property]`, `#[setter]`, `#[on_start]` and `#[on_stop]` go on methods (`fn`)",
        ));
    }
}
