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

use crate::attr::{self, ParamArgs, PropertyArgs};
use crate::docs::Docs;
use crate::errors::Errors;

/// `#[thing] struct …`
pub struct ThingStruct {
    pub item: ItemStruct,
    pub docs: Docs,
    pub fields: Vec<DataField>,
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
}

/// A method marked `#[action]`.
pub struct Action {
    pub sig: Signature,
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
        if let Type::Tuple(tuple) = &**ty {
            if tuple.elems.is_empty() {
                return ReturnKind::Unit;
            }
        }
        if let Type::Path(path) = &**ty {
            if let Some(last) = path.path.segments.last() {
                if last.ident.to_string().ends_with("Result") {
                    if let PathArguments::AngleBracketed(args) = &last.arguments {
                        if let Some(GenericArgument::Type(ok)) = args.args.first() {
                            return ReturnKind::Result(ok.clone());
                        }
                    }
                }
            }
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

const FIELD_ATTRS: [&str; 2] = ["property", "setting"];
const METHOD_ATTRS: [&str; 3] = ["action", "property", "setter"];

pub fn parse_struct(mut item: ItemStruct, errors: &mut Errors) -> ThingStruct {
    let docs = Docs::from_attrs(&item.attrs);
    let mut fields = Vec::new();
    for field in item.fields.iter_mut() {
        let ours: Vec<Attribute> = take_attrs(&mut field.attrs, &FIELD_ATTRS);
        let Some(first) = ours.first() else { continue };
        if let Some(second) = ours.get(1) {
            errors.push(syn::Error::new(
                second.span(),
                "a field can be either `#[property]` or `#[setting]`, once",
            ));
        }
        let Some(ident) = field.ident.clone() else {
            errors.push(syn::Error::new(
                first.span(),
                "properties must be named fields: use a struct with `{ name: Property<T> }` fields",
            ));
            continue;
        };
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
    ThingStruct { item, docs, fields }
}

pub fn parse_impl(mut item: ItemImpl, errors: &mut Errors) -> ThingImpl {
    let mut actions = Vec::new();
    let mut getters = Vec::new();
    let mut setters = Vec::new();
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
                "a method can carry only one of `#[action]`, `#[property]` and `#[setter]`",
            ));
        }
        if attr::is(first, "action") {
            errors.ok(attr::check_action_args(first));
            actions.push(parse_action(method, errors));
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
    }
}

fn parse_action(method: &mut ImplItemFn, errors: &mut Errors) -> Action {
    let docs = Docs::from_attrs(&method.attrs);
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
            "`#[action]`, `#[property]` and `#[setter]` go on methods (`fn`)",
        ));
    }
}
