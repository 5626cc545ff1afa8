//! Parse: the struct and impl block under `#[thing]`, read into a model of the Thing.
//!
//! The model is what check and expand need, decided once: each method's kind, each JSON
//! name, each getter joined with its setter, each parameter's identifier. Parsing also removes
//! our inner attributes (`#[property]`, `#[action]`, `#[param]`, parameter doc comments …) from
//! the items, which are re-emitted as written otherwise.

use std::fmt;

use syn::{
    Attribute, FnArg, Ident, ImplItem, ImplItemFn, ItemImpl, ItemStruct, Pat, ReturnType,
    Signature, Type,
};

use crate::attr::{self, ActionArgs, EndpointArgs, ParamArgs, PropertyArgs};
use crate::docs::Docs;
use crate::errors::Errors;
use crate::kw::{self, Symbol};

/// What one of our attributes makes of a method.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum MethodKind {
    Action,
    Endpoint,
    Getter,
    Setter,
    OnStart,
    OnStop,
}

impl MethodKind {
    const ALL: [MethodKind; 6] = [
        MethodKind::Action,
        MethodKind::Endpoint,
        MethodKind::Getter,
        MethodKind::Setter,
        MethodKind::OnStart,
        MethodKind::OnStop,
    ];

    /// The attribute that marks this kind.
    pub fn keyword(self) -> Symbol {
        match self {
            MethodKind::Action => kw::ACTION,
            MethodKind::Endpoint => kw::ENDPOINT,
            MethodKind::Getter => kw::PROPERTY,
            MethodKind::Setter => kw::SETTER,
            MethodKind::OnStart => kw::ON_START,
            MethodKind::OnStop => kw::ON_STOP,
        }
    }

    /// How messages name methods of this kind.
    pub fn plural(self) -> &'static str {
        match self {
            MethodKind::Action => "actions",
            MethodKind::Endpoint => "endpoints",
            MethodKind::Getter => "property getters",
            MethodKind::Setter => "property setters",
            MethodKind::OnStart | MethodKind::OnStop => "lifecycle methods",
        }
    }

    fn of(attr: &Attribute) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.keyword().is(attr))
    }

    /// "`#[action]`, `#[property]`, … and `#[on_stop]`", for messages listing them all.
    fn all_listed() -> String {
        let names: Vec<String> = Self::ALL.iter().map(|k| format!("`{k}`")).collect();
        let (last, rest) = names.split_last().expect("there are method kinds");
        format!("{} and {last}", rest.join(", "))
    }
}

/// `#[action]`, as messages spell it.
impl fmt::Display for MethodKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#[{}]", self.keyword())
    }
}

/// What one of our attributes makes of a field.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    Property,
    Setting,
    Slot,
    Event,
    Stream,
}

impl FieldKind {
    const ALL: [FieldKind; 5] = [
        FieldKind::Property,
        FieldKind::Setting,
        FieldKind::Slot,
        FieldKind::Event,
        FieldKind::Stream,
    ];

    pub fn keyword(self) -> Symbol {
        match self {
            FieldKind::Property => kw::PROPERTY,
            FieldKind::Setting => kw::SETTING,
            FieldKind::Slot => kw::SLOT,
            FieldKind::Event => kw::EVENT,
            FieldKind::Stream => kw::STREAM,
        }
    }

    /// The type the field must have (its last path segment).
    pub fn expected_types(self) -> &'static [&'static str] {
        match self {
            FieldKind::Property => &["Property"],
            FieldKind::Setting => &["Setting"],
            FieldKind::Slot => &["Slot", "OptionalSlot"],
            FieldKind::Event => &["Event"],
            FieldKind::Stream => &["MjpegStream"],
        }
    }

    fn of(attr: &Attribute) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.keyword().is(attr))
    }
}

/// `#[thing] struct …`
pub struct ThingStruct {
    pub item: ItemStruct,
    pub docs: Docs,
    pub fields: Vec<DataField>,
    pub slots: Vec<SlotField>,
    pub events: Vec<EventField>,
    pub streams: Vec<StreamField>,
}

/// A field marked `#[stream]`: an `MjpegStream` served as MJPEG.
pub struct StreamField {
    pub ident: Ident,
    pub name: String,
    pub ty: Type,
    pub docs: Docs,
}

/// A field marked `#[event]`: an `Event<T>` the Thing emits.
pub struct EventField {
    pub ident: Ident,
    pub name: String,
    pub ty: Type,
    /// The `T` of `Event<T>`, when the type is written that way (else `check` reports it).
    pub payload: Option<Type>,
    /// `#[event(unit = "…")]`: the unit of its data, as the `unit` term of the data's schema.
    pub unit: Option<attr::Constraint>,
    pub docs: Docs,
}

impl EventField {
    /// Whether the event carries no payload (`Event<()>`), so its TD entry has no `data`.
    pub fn has_payload(&self) -> bool {
        !matches!(self.payload.as_ref().map(ungroup), Some(Type::Tuple(t)) if t.elems.is_empty())
    }
}

/// A field marked `#[slot]`: a `Slot<T>` or `OptionalSlot<T>` wired to another Thing.
pub struct SlotField {
    pub ident: Ident,
    pub name: String,
    pub ty: Type,
}

/// A field marked `#[property]` or `#[setting]`.
pub struct DataField {
    pub ident: Ident,
    pub name: String,
    pub ty: Type,
    /// `Property` or `Setting`.
    pub kind: FieldKind,
    pub args: PropertyArgs,
    pub docs: Docs,
}

impl DataField {
    pub fn is_setting(&self) -> bool {
        self.kind == FieldKind::Setting
    }
}

/// `#[thing] impl …`
pub struct ThingImpl {
    pub item: ItemImpl,
    pub actions: Vec<Action>,
    pub properties: Vec<FunctionalProperty>,
    pub endpoints: Vec<Endpoint>,
    pub on_start: Option<Method>,
    pub on_stop: Option<Method>,
}

impl ThingImpl {
    /// Whether this impl is generic over the generics of its self type (`impl<T> Counter<T>`):
    /// a mistake the struct's `#[thing]` reports, so this impl is left to the fallback.
    pub fn deferred_to_struct(&self) -> bool {
        !self.item.generics.params.is_empty()
            && matches!(
                ungroup(&self.item.self_ty),
                Type::Path(path) if path.path.segments.last().is_some_and(|s| !s.arguments.is_none())
            )
    }

    /// Every method carrying one of our attributes.
    pub fn methods(&self) -> impl Iterator<Item = &Method> {
        let actions = self.actions.iter().map(|a| &a.method);
        let properties = self
            .properties
            .iter()
            .flat_map(|p| std::iter::once(&p.getter).chain(p.setter.as_ref().map(|s| &s.method)));
        actions
            .chain(properties)
            .chain(self.endpoints.iter().map(|e| &e.method))
            .chain(self.on_start.iter())
            .chain(self.on_stop.iter())
    }
}

/// What every marked method has.
pub struct Method {
    pub kind: MethodKind,
    pub sig: Signature,
    /// The name in the Thing Description: the identifier without any `r#`.
    pub name: String,
    pub docs: Docs,
    /// The return type; `None` for nothing.
    pub output: Option<Type>,
    /// The method's `#[cfg(…)]` attributes, repeated on everything generated for it, so a
    /// configured-out method leaves no call behind.
    pub cfgs: Vec<Attribute>,
}

impl Method {
    fn new(kind: MethodKind, method: &ImplItemFn) -> Self {
        Self {
            kind,
            sig: method.sig.clone(),
            name: json_name(&method.sig.ident),
            docs: Docs::from_attrs(&method.attrs),
            output: output_type(&method.sig.output),
            cfgs: method
                .attrs
                .iter()
                .filter(|a| kw::CFG.is(a))
                .cloned()
                .collect(),
        }
    }

    pub fn ident(&self) -> &Ident {
        &self.sig.ident
    }

    pub fn is_async(&self) -> bool {
        self.sig.asyncness.is_some()
    }

    /// The return type, `()` for nothing.
    pub fn returned_type(&self) -> Type {
        self.output.clone().unwrap_or_else(|| syn::parse_quote!(()))
    }
}

/// A method marked `#[action]`.
pub struct Action {
    pub method: Method,
    pub args: ActionArgs,
    pub params: Vec<Param>,
}

impl Action {
    /// The parameters that make up the JSON input, with their `#[param]` arguments.
    pub fn inputs(&self) -> impl Iterator<Item = (&Param, &ParamArgs)> {
        self.params.iter().filter_map(|param| match &param.role {
            ParamRole::Input(args) => Some((param, args)),
            ParamRole::Injected => None,
        })
    }

    pub fn takes_input(&self) -> bool {
        self.inputs().next().is_some()
    }
}

/// A method marked `#[endpoint]`.
pub struct Endpoint {
    pub method: Method,
    pub args: EndpointArgs,
    /// Where it is served under the Thing: `path = "…"`, else the method's name.
    pub path: String,
    /// The type of its parameter after `self` (the request), if it has one.
    pub request: Option<Type>,
    /// Parameters after the first: each an error.
    pub extra_params: Vec<FnArg>,
}

impl Endpoint {
    /// Where errors about the path point: the path given, else the method's name.
    pub fn path_span(&self) -> proc_macro2::Span {
        attr::lit_span(self.args.path.as_ref(), self.method.ident().span())
    }

    /// The path's first segment, which must not name an affordance of the Thing.
    pub fn first_segment(&self) -> &str {
        self.path.split('/').next().unwrap_or_default()
    }
}

/// A getter (`#[property]` method), joined with its `#[setter(name)]` method if there is one.
pub struct FunctionalProperty {
    pub getter: Method,
    pub args: PropertyArgs,
    pub setter: Option<Setter>,
}

/// A method marked `#[setter(name)]`.
pub struct Setter {
    pub method: Method,
    /// The type of the value parameter, if the signature has exactly one after `self`.
    pub value_ty: Option<Type>,
}

/// A parameter of an action (after the receiver).
pub struct Param {
    pub ident: Ident,
    pub name: String,
    /// The schema title, as pydantic writes it: `step_size` → `Step Size`.
    pub title: String,
    pub ty: Type,
    pub role: ParamRole,
    pub docs: Docs,
}

pub enum ParamRole {
    /// A field of the JSON input.
    Input(ParamArgs),
    /// Built from the invocation (`InvocationId`, `CancelHook`, `Logger`, `Progress`, or
    /// `#[inject]`).
    Injected,
}

/// The type a method returns, or `None` when it returns nothing (`()` included). Whether it is
/// a `Result` is left to the compiler (`__private::Split`): a name can't tell, since an alias
/// such as `io::Result<T>` is one and a struct named `SearchResult` isn't.
fn output_type(output: &ReturnType) -> Option<Type> {
    let ReturnType::Type(_, ty) = output else {
        return None;
    };
    match ungroup(ty) {
        Type::Tuple(tuple) if tuple.elems.is_empty() => None,
        _ => Some((**ty).clone()),
    }
}

/// The JSON name of a field or method: its identifier without any `r#`.
fn json_name(ident: &Ident) -> String {
    let name = ident.to_string();
    name.strip_prefix("r#").map(str::to_owned).unwrap_or(name)
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

/// `ty` without the invisible groups (and parentheses) a type gains when it passes through a
/// `macro_rules!` macro, so matching on its shape sees what the author wrote.
pub fn ungroup(mut ty: &Type) -> &Type {
    loop {
        match ty {
            Type::Group(group) => ty = &group.elem,
            Type::Paren(paren) => ty = &paren.elem,
            _ => return ty,
        }
    }
}

/// The last identifier of a path type: `Property` for `labthings_core::Property<f64>`.
pub fn last_segment(ty: &Type) -> Option<String> {
    match ungroup(ty) {
        Type::Path(path) => path.path.segments.last().map(|s| s.ident.to_string()),
        _ => None,
    }
}

/// Types injected without `#[inject]`, recognised by name.
const INJECTED_BY_NAME: [&str; 4] = ["InvocationId", "CancelHook", "Logger", "Progress"];

fn is_injected_by_name(ty: &Type) -> bool {
    let Type::Path(path) = ungroup(ty) else {
        return false;
    };
    path.qself.is_none()
        && path.path.segments.last().is_some_and(|last| {
            last.arguments.is_none() && INJECTED_BY_NAME.contains(&last.ident.to_string().as_str())
        })
}

pub fn parse_struct(mut item: ItemStruct, errors: &mut Errors) -> ThingStruct {
    let docs = Docs::from_attrs(&item.attrs);
    let mut fields = Vec::new();
    let mut slots = Vec::new();
    let mut events = Vec::new();
    let mut streams = Vec::new();
    for field in item.fields.iter_mut() {
        let ours = take_attrs(&mut field.attrs, |a| FieldKind::of(a).is_some());
        let Some(first) = ours.first() else { continue };
        if let Some(second) = ours.get(1) {
            errors.push(syn::Error::new_spanned(
                second,
                "a field can carry one of `#[property]`, `#[setting]`, `#[event]`, `#[stream]` \
                 and `#[slot]`, once",
            ));
        }
        let kind = FieldKind::of(first).expect("taken because it has a kind");
        let Some(ident) = field.ident.clone() else {
            errors.push(syn::Error::new_spanned(
                first,
                "properties must be named fields: use a struct with `{ name: Property<T> }` fields",
            ));
            continue;
        };
        let name = json_name(&ident);
        let ty = field.ty.clone();
        if kind == FieldKind::Slot {
            errors.ok(attr::check_no_args(first, kw::SLOT));
            slots.push(SlotField { ident, name, ty });
            continue;
        }
        if kind == FieldKind::Event {
            let unit = errors.ok(attr::parse_event_args(first)).flatten();
            let event = EventField {
                ident,
                name,
                unit,
                payload: event_payload(&ty),
                ty,
                docs: Docs::from_attrs(&field.attrs),
            };
            if event.unit.is_some() && !event.has_payload() {
                errors.push(syn::Error::new_spanned(
                    first,
                    "`unit` describes an event's data, and `Event<()>` carries none: remove \
                     `unit = …`, or give the event a payload type such as `Event<f64>`",
                ));
            }
            events.push(event);
            continue;
        }
        if kind == FieldKind::Stream {
            errors.ok(attr::check_stream_args(first));
            streams.push(StreamField {
                ident,
                name,
                ty,
                docs: Docs::from_attrs(&field.attrs),
            });
            continue;
        }
        let args = errors
            .ok(attr::parse_property_args(first, kind.keyword(), false))
            .unwrap_or_default();
        fields.push(DataField {
            ident,
            name,
            ty,
            kind,
            args,
            docs: Docs::from_attrs(&field.attrs),
        });
    }
    ThingStruct {
        item,
        docs,
        fields,
        slots,
        events,
        streams,
    }
}

/// The `T` of a type written `Event<T>` (with any path before `Event`).
fn event_payload(ty: &Type) -> Option<Type> {
    single_type_arg(ty, "Event").cloned()
}

/// The `T` of a type written `Name<T>` (with any path before `Name`).
pub fn single_type_arg<'t>(ty: &'t Type, name: &str) -> Option<&'t Type> {
    let Type::Path(path) = ungroup(ty) else {
        return None;
    };
    let last = path.path.segments.last()?;
    if path.qself.is_some() || last.ident != name {
        return None;
    }
    let syn::PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    let mut args = args.args.iter();
    match (args.next(), args.next()) {
        (Some(syn::GenericArgument::Type(inner)), None) => Some(inner),
        _ => None,
    }
}

pub fn parse_impl(mut item: ItemImpl, errors: &mut Errors) -> ThingImpl {
    let mut actions = Vec::new();
    let mut endpoints = Vec::new();
    let mut getters = Vec::new();
    let mut setters = Vec::new();
    let mut on_start = None;
    let mut on_stop = None;
    for impl_item in item.items.iter_mut() {
        let ImplItem::Fn(method) = impl_item else {
            reject_misplaced_attrs(impl_item, errors);
            continue;
        };
        for event in take_attrs(&mut method.attrs, |a| kw::EVENT.is(a)) {
            errors.push(event_on_method(&event));
        }
        for stream in take_attrs(&mut method.attrs, |a| kw::STREAM.is(a)) {
            errors.push(stream_on_method(&stream));
        }
        let ours = take_attrs(&mut method.attrs, |a| MethodKind::of(a).is_some());
        let Some(first) = ours.first() else { continue };
        if let Some(second) = ours.get(1) {
            errors.push(syn::Error::new_spanned(
                second,
                format!(
                    "a method can carry only one of {}",
                    MethodKind::all_listed()
                ),
            ));
        }
        let kind = MethodKind::of(first).expect("taken because it has a kind");
        match kind {
            MethodKind::Action => {
                let args = errors
                    .ok(attr::parse_action_args(first))
                    .unwrap_or_default();
                let params = parse_params(method, errors);
                actions.push(Action {
                    method: Method::new(kind, method),
                    args,
                    params,
                });
            }
            MethodKind::Endpoint => {
                if let Some(args) = errors.ok(attr::parse_endpoint_args(first)) {
                    let method = Method::new(kind, method);
                    let path = args
                        .path
                        .as_ref()
                        .map_or_else(|| method.name.clone(), syn::LitStr::value);
                    let mut typed = method.sig.inputs.iter().filter_map(|arg| match arg {
                        FnArg::Typed(typed) => Some(typed.clone()),
                        FnArg::Receiver(_) => None,
                    });
                    let request = typed.next().map(|typed| (*typed.ty).clone());
                    let extra_params = typed.map(FnArg::Typed).collect();
                    endpoints.push(Endpoint {
                        method,
                        args,
                        path,
                        request,
                        extra_params,
                    });
                }
            }
            MethodKind::Getter => {
                let args = errors
                    .ok(attr::parse_property_args(first, kw::PROPERTY, true))
                    .unwrap_or_default();
                getters.push(FunctionalProperty {
                    getter: Method::new(kind, method),
                    args,
                    setter: None,
                });
            }
            MethodKind::Setter => {
                if let Some(target) = errors.ok(attr::parse_setter_target(first)) {
                    setters.push((target, Method::new(kind, method)));
                }
            }
            MethodKind::OnStart | MethodKind::OnStop => {
                errors.ok(attr::check_no_args(first, kind.keyword()));
                let slot = if kind == MethodKind::OnStart {
                    &mut on_start
                } else {
                    &mut on_stop
                };
                if slot.is_some() {
                    errors.push(syn::Error::new_spanned(
                        &method.sig.ident,
                        format!("a Thing has at most one `{kind}` method"),
                    ));
                } else {
                    *slot = Some(Method::new(kind, method));
                }
            }
        }
    }
    let properties = join_setters(getters, setters, errors);
    ThingImpl {
        item,
        actions,
        properties,
        endpoints,
        on_start,
        on_stop,
    }
}

/// Give each getter its setter; a setter naming no getter, or a second setter, is an error.
fn join_setters(
    mut properties: Vec<FunctionalProperty>,
    setters: Vec<(Ident, Method)>,
    errors: &mut Errors,
) -> Vec<FunctionalProperty> {
    for (target, method) in setters {
        let name = json_name(&target);
        match properties.iter_mut().find(|p| p.getter.name == name) {
            None => errors.push(syn::Error::new(
                target.span(),
                format!(
                    "`#[setter({name})]` has no getter: add `#[property] fn {name}(&self) -> T` \
                     to this impl block"
                ),
            )),
            Some(property) if property.setter.is_some() => errors.push(syn::Error::new(
                target.span(),
                format!("property `{name}` already has a setter"),
            )),
            Some(property) => {
                let value_ty = single_value_type(&method.sig).cloned();
                property.setter = Some(Setter { method, value_ty });
            }
        }
    }
    properties
}

/// The type of the only parameter after `self`, if there is exactly one.
fn single_value_type(sig: &Signature) -> Option<&Type> {
    let mut typed = sig.inputs.iter().filter_map(|arg| match arg {
        FnArg::Typed(typed) => Some(&*typed.ty),
        FnArg::Receiver(_) => None,
    });
    let first = typed.next();
    if typed.next().is_some() { None } else { first }
}

/// Read an action's parameters (stripping their `#[param]`, `#[inject]` and doc attributes).
fn parse_params(method: &mut ImplItemFn, errors: &mut Errors) -> Vec<Param> {
    let mut params = Vec::new();
    for arg in method.sig.inputs.iter_mut() {
        let FnArg::Typed(typed) = arg else { continue };
        let docs = Docs::from_attrs(&typed.attrs);
        typed.attrs.retain(|a| !kw::DOC.is(a));
        let ours = take_attrs(&mut typed.attrs, |a| kw::PARAM.is(a) || kw::INJECT.is(a));
        let (param_attrs, inject_attrs): (Vec<&Attribute>, Vec<&Attribute>) =
            ours.iter().partition(|a| kw::PARAM.is(a));
        for (attrs, word) in [(&param_attrs, kw::PARAM), (&inject_attrs, kw::INJECT)] {
            if let Some(second) = attrs.get(1) {
                errors.push(syn::Error::new_spanned(
                    second,
                    format!(
                        "a second `#[{word}]` on one parameter: put all of its settings in one \
                         `#[{word}(…)]`"
                    ),
                ));
            }
        }
        for inject in &inject_attrs {
            errors.ok(attr::check_no_args(inject, kw::INJECT));
        }
        let injected = !inject_attrs.is_empty() || is_injected_by_name(&typed.ty);
        let role = match param_attrs.first() {
            Some(param) if injected => {
                errors.push(syn::Error::new_spanned(
                    param,
                    "an injected parameter is built from the invocation; it can't have \
                     `#[param]` settings",
                ));
                ParamRole::Injected
            }
            _ if injected => ParamRole::Injected,
            Some(param) => {
                ParamRole::Input(errors.ok(attr::parse_param_args(param)).unwrap_or_default())
            }
            None => ParamRole::Input(ParamArgs::default()),
        };
        let ident = match &*typed.pat {
            Pat::Ident(pat) if pat.by_ref.is_none() && pat.subpat.is_none() => pat.ident.clone(),
            other => {
                errors.push(syn::Error::new_spanned(
                    other,
                    "action parameters must be plain names (each input parameter becomes a \
                     field of the JSON input); take the whole value and destructure it in the body",
                ));
                continue;
            }
        };
        let name = json_name(&ident);
        params.push(Param {
            title: title_case(&name),
            name,
            ident,
            ty: (*typed.ty).clone(),
            role,
            docs,
        });
    }
    params
}

/// Remove and return the attributes `ours` picks.
fn take_attrs(attrs: &mut Vec<Attribute>, ours: impl Fn(&Attribute) -> bool) -> Vec<Attribute> {
    let (taken, rest): (Vec<_>, Vec<_>) = attrs.drain(..).partition(|a| ours(a));
    *attrs = rest;
    taken
}

/// `#[event]` on a method of the impl block: events are declared on the struct.
fn event_on_method(attr: &Attribute) -> syn::Error {
    syn::Error::new_spanned(
        attr,
        "events are fields of type `Event<T>` on the struct: declare \
         `#[event] name: Event<T>` in the `#[thing]` struct and call `self.name.emit(value)`",
    )
}

/// `#[stream]` on a method of the impl block: streams are declared on the struct.
fn stream_on_method(attr: &Attribute) -> syn::Error {
    syn::Error::new_spanned(
        attr,
        "streams are fields of type `MjpegStream` on the struct: declare \
         `#[stream] name: MjpegStream` in the `#[thing]` struct and call \
         `self.name.add_frame(jpeg)`",
    )
}

fn reject_misplaced_attrs(item: &mut ImplItem, errors: &mut Errors) {
    let attrs = match item {
        ImplItem::Const(c) => &mut c.attrs,
        ImplItem::Type(t) => &mut t.attrs,
        ImplItem::Macro(m) => &mut m.attrs,
        _ => return,
    };
    for event in take_attrs(attrs, |a| kw::EVENT.is(a)) {
        errors.push(event_on_method(&event));
    }
    for stream in take_attrs(attrs, |a| kw::STREAM.is(a)) {
        errors.push(stream_on_method(&stream));
    }
    for misplaced in take_attrs(attrs, |a| MethodKind::of(a).is_some()) {
        errors.push(syn::Error::new_spanned(
            &misplaced,
            format!("{} go on methods (`fn`)", MethodKind::all_listed()),
        ));
    }
}
