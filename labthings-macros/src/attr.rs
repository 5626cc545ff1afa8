//! The arguments of our attributes: `#[property(read_only, minimum = 0)]`, `#[setting(…)]`,
//! `#[action(no_lock)]`, `#[param(default = 5.0)]`, `#[setter(name)]`,
//! `#[endpoint(get, path = "…")]`, and the bare ones.
//!
//! Every argument may be given once: a repeat is an error rather than "last one wins", since
//! `minimum = 0, minimum = 5` is a slip the author wants to hear about.

use proc_macro2::Span;
use syn::meta::ParseNestedMeta;
use syn::spanned::Spanned;
use syn::{Attribute, Expr, ExprLit, ExprUnary, Ident, Lit, LitStr, Meta, UnOp};

use crate::kw::{self, Symbol};

/// A constraint on a value, checked on writes and shown in the schema.
#[derive(Clone)]
pub struct Constraint {
    /// The JSON Schema keyword, e.g. `exclusiveMinimum`.
    pub keyword: &'static str,
    pub value: Expr,
}

impl Constraint {
    /// The value when it is a string literal (a `unit`'s term), for generated docs.
    pub fn text(&self) -> Option<String> {
        match &self.value {
            Expr::Lit(ExprLit {
                lit: Lit::Str(text),
                ..
            }) => Some(text.value()),
            _ => None,
        }
    }
}

/// (argument, JSON Schema keyword, what the value must be)
const CONSTRAINTS: [(Symbol, &str, ValueKind); 8] = [
    (Symbol("minimum"), "minimum", ValueKind::Number),
    (Symbol("maximum"), "maximum", ValueKind::Number),
    (
        Symbol("exclusive_minimum"),
        "exclusiveMinimum",
        ValueKind::Number,
    ),
    (
        Symbol("exclusive_maximum"),
        "exclusiveMaximum",
        ValueKind::Number,
    ),
    (Symbol("multiple_of"), "multipleOf", ValueKind::Number),
    (Symbol("min_length"), "minLength", ValueKind::Count),
    (Symbol("max_length"), "maxLength", ValueKind::Count),
    (Symbol("pattern"), "pattern", ValueKind::Text),
];

#[derive(Clone, Copy, PartialEq)]
enum ValueKind {
    Number,
    Count,
    Text,
}

/// Arguments of `#[property]` / `#[setting]`.
#[derive(Default, Clone)]
pub struct PropertyArgs {
    pub read_only: bool,
    /// Writes don't take the server's global lock.
    pub no_lock: bool,
    pub constraints: Vec<Constraint>,
    /// `observe_every = "500ms"` on a getter, in microseconds.
    pub observe_every: Option<u64>,
    /// `min_change = 0.1` on a getter with `observe_every`.
    pub min_change: Option<Expr>,
}

impl PropertyArgs {
    /// The TD `unit` term of `unit = "…"` (one of the `constraints`), for the client's docs.
    pub fn unit(&self) -> Option<String> {
        self.constraints
            .iter()
            .find(|constraint| constraint.keyword == kw::UNIT.0)
            .and_then(Constraint::text)
    }
}

/// Arguments of `#[action]`.
#[derive(Default, Clone)]
pub struct ActionArgs {
    /// The action doesn't take the server's global lock.
    pub no_lock: bool,
    /// The action runs where it was invoked, not on the action pool: the `inline` word, kept
    /// for errors about it.
    pub inline: Option<syn::Path>,
}

/// The HTTP methods `#[endpoint]` accepts, as written there and as `EndpointMethod` names them.
pub const HTTP_METHODS: [(Symbol, &str); 5] = [
    (Symbol("get"), "Get"),
    (Symbol("put"), "Put"),
    (Symbol("post"), "Post"),
    (Symbol("delete"), "Delete"),
    (Symbol("patch"), "Patch"),
];

/// Arguments of `#[endpoint]`.
pub struct EndpointArgs {
    /// The HTTP method word (`get`), and its `EndpointMethod` variant (`Get`).
    pub http_method: (Symbol, &'static str),
    /// The path under the Thing's, when given (else the method's name).
    pub path: Option<LitStr>,
    pub content_type: Option<LitStr>,
    /// The endpoint doesn't take the server's global lock.
    pub no_lock: bool,
}

/// Arguments of `#[param]`.
#[derive(Default, Clone)]
pub struct ParamArgs {
    pub default: Option<Expr>,
    /// The title in the input schema, instead of the name title-cased as pydantic does.
    pub title: Option<syn::LitStr>,
    pub constraints: Vec<Constraint>,
}

/// The arguments met so far in one attribute, to refuse a repeat.
struct Given {
    attr: Symbol,
    names: Vec<String>,
}

impl Given {
    fn new(attr: Symbol) -> Self {
        Self {
            attr,
            names: Vec::new(),
        }
    }

    fn first_time(&mut self, meta: &ParseNestedMeta<'_>) -> syn::Result<()> {
        let name = path_text(&meta.path);
        if self.names.contains(&name) {
            return Err(meta.error(format!(
                "`{name}` is given twice in `#[{}(…)]`; keep one",
                self.attr
            )));
        }
        self.names.push(name);
        Ok(())
    }
}

fn constraint_names() -> String {
    CONSTRAINTS
        .iter()
        .map(|(name, _, _)| name.0)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Parse `name = value` as a constraint, if `name` is one.
fn parse_constraint(meta: &ParseNestedMeta<'_>) -> syn::Result<Option<Constraint>> {
    let Some((name, keyword, kind)) = CONSTRAINTS.iter().find(|(name, _, _)| meta.path == *name)
    else {
        return Ok(None);
    };
    let value: Expr = meta.value()?.parse()?;
    check_constraint_value(&value, *kind, *name)?;
    Ok(Some(Constraint { keyword, value }))
}

fn is_number(expr: &Expr) -> bool {
    matches!(
        expr,
        Expr::Lit(ExprLit {
            lit: Lit::Int(_) | Lit::Float(_),
            ..
        })
    )
}

fn check_constraint_value(value: &Expr, kind: ValueKind, name: Symbol) -> syn::Result<()> {
    let ok = match (kind, value) {
        (
            ValueKind::Number,
            Expr::Unary(ExprUnary {
                op: UnOp::Neg(_),
                expr,
                ..
            }),
        ) => is_number(expr),
        (ValueKind::Number, value) => is_number(value),
        (
            ValueKind::Count,
            Expr::Lit(ExprLit {
                lit: Lit::Int(_), ..
            }),
        ) => true,
        (
            ValueKind::Text,
            Expr::Lit(ExprLit {
                lit: Lit::Str(_), ..
            }),
        ) => true,
        _ => false,
    };
    if ok {
        return Ok(());
    }
    let expected = match kind {
        ValueKind::Number => "a number literal, e.g. `0` or `-2.5`",
        ValueKind::Count => "a non-negative integer literal, e.g. `3`",
        ValueKind::Text => "a string literal holding a regular expression, e.g. `\"^[a-z]+$\"`",
    };
    Err(syn::Error::new_spanned(
        value,
        format!("`{name}` must be {expected}"),
    ))
}

/// `unit = "°C"`: a symbol from the protocol's table, or a prefixed term or IRI, as the TD's
/// `unit` term (a constraint-like schema keyword, so it lands wherever constraints do).
fn parse_unit(meta: &ParseNestedMeta<'_>) -> syn::Result<Constraint> {
    let text = string_value(meta, kw::UNIT, "mm")?;
    let given = text.value();
    let Some(term) = labthings_protocol::units::term(&given) else {
        return Err(syn::Error::new(
            text.span(),
            format!(
                "unknown unit `{}`: use one of {}, or a prefixed term or IRI such as \
                 \"om:micrometre\" or \"http://qudt.org/vocab/unit/MicroM\"",
                given,
                labthings_protocol::units::symbols()
            ),
        ));
    };
    let term = LitStr::new(term, text.span());
    Ok(Constraint {
        keyword: kw::UNIT.0,
        value: syn::parse_quote!(#term),
    })
}

/// The shortest polling interval `observe_every` accepts: a getter called more often than
/// this is a busy loop, not an observation.
const SHORTEST_OBSERVE: std::time::Duration = std::time::Duration::from_millis(10);

/// `observe_every = "500ms"`: a humantime duration (`"100ms"`, `"2s"`, `"1m 30s"`), parsed
/// here so a bad one is a compile error at the literal.
fn parse_observe_every(meta: &ParseNestedMeta<'_>) -> syn::Result<u64> {
    let text = string_value(meta, kw::OBSERVE_EVERY, "500ms")?;
    let every = humantime::parse_duration(&text.value()).map_err(|error| {
        syn::Error::new(
            text.span(),
            format!(
                "`{}` must be a duration such as \"500ms\", \"2s\" or \"1m 30s\": {error}",
                kw::OBSERVE_EVERY
            ),
        )
    })?;
    if every < SHORTEST_OBSERVE {
        return Err(syn::Error::new(
            text.span(),
            format!(
                "`{}` must be at least 10ms: a getter polled more often is a busy loop",
                kw::OBSERVE_EVERY
            ),
        ));
    }
    u64::try_from(every.as_micros())
        .map_err(|_| syn::Error::new(text.span(), "this interval is too long"))
}

/// Parse the arguments of `#[property(…)]` or `#[setting(…)]` (`which` names the attribute);
/// `getter` says whether they annotate a method (only getters are polled).
pub fn parse_property_args(
    attr: &Attribute,
    which: Symbol,
    getter: bool,
) -> syn::Result<PropertyArgs> {
    let mut args = PropertyArgs::default();
    if matches!(attr.meta, Meta::Path(_)) {
        return Ok(args);
    }
    let mut given = Given::new(which);
    let mut min_change_span = None;
    attr.parse_nested_meta(|meta| {
        given.first_time(&meta)?;
        if meta.path == kw::UNIT {
            args.constraints.push(parse_unit(&meta)?);
            return Ok(());
        }
        if meta.path == kw::OBSERVE_EVERY || meta.path == kw::MIN_CHANGE {
            if !getter {
                return Err(meta.error(format!(
                    "`{}` is for getters (`#[{}] fn …`): a `#[{which}]` field is observable \
                     already, every write to it is announced",
                    path_text(&meta.path),
                    kw::PROPERTY
                )));
            }
            if meta.path == kw::OBSERVE_EVERY {
                args.observe_every = Some(parse_observe_every(&meta)?);
            } else {
                min_change_span = Some(meta.path.span());
                let value: Expr = meta.value()?.parse()?;
                check_constraint_value(&value, ValueKind::Number, kw::MIN_CHANGE)?;
                args.min_change = Some(value);
            }
            return Ok(());
        }
        if meta.path == kw::READ_ONLY {
            args.read_only = true;
            return Ok(());
        }
        if meta.path == kw::NO_LOCK {
            args.no_lock = true;
            return Ok(());
        }
        if let Some(constraint) = parse_constraint(&meta)? {
            args.constraints.push(constraint);
            return Ok(());
        }
        let polling = if getter {
            format!(", {}, {}", kw::OBSERVE_EVERY, kw::MIN_CHANGE)
        } else {
            String::new()
        };
        Err(meta.error(format!(
            "unknown argument `{}` to `#[{which}]`; valid arguments are: {}, {}, {}, {}{polling}",
            path_text(&meta.path),
            kw::READ_ONLY,
            kw::NO_LOCK,
            kw::UNIT,
            constraint_names()
        )))
    })?;
    if let Some(span) = min_change_span
        && args.observe_every.is_none()
    {
        return Err(syn::Error::new(
            span,
            format!(
                "`{}` applies to a polled getter: add `{} = \"500ms\"` too",
                kw::MIN_CHANGE,
                kw::OBSERVE_EVERY
            ),
        ));
    }
    Ok(args)
}

/// Parse the arguments of `#[param(…)]`.
pub fn parse_param_args(attr: &Attribute) -> syn::Result<ParamArgs> {
    let mut args = ParamArgs::default();
    let mut given = Given::new(kw::PARAM);
    attr.parse_nested_meta(|meta| {
        given.first_time(&meta)?;
        if meta.path == kw::DEFAULT {
            args.default = Some(meta.value()?.parse()?);
            return Ok(());
        }
        if meta.path == kw::UNIT {
            args.constraints.push(parse_unit(&meta)?);
            return Ok(());
        }
        if meta.path == kw::TITLE {
            args.title = Some(meta.value()?.parse()?);
            return Ok(());
        }
        if let Some(constraint) = parse_constraint(&meta)? {
            args.constraints.push(constraint);
            return Ok(());
        }
        Err(meta.error(format!(
            "unknown argument `{}` to `#[{}]`; valid arguments are: {}, {}, {}, {}",
            path_text(&meta.path),
            kw::PARAM,
            kw::DEFAULT,
            kw::UNIT,
            kw::TITLE,
            constraint_names()
        )))
    })?;
    Ok(args)
}

/// Parse `#[setter(property_name)]`.
pub fn parse_setter_target(attr: &Attribute) -> syn::Result<Ident> {
    attr.parse_args::<Ident>().map_err(|_| {
        syn::Error::new_spanned(
            &attr.meta,
            format!(
                "`#[{}]` names the property it sets, and nothing else, e.g. `#[{}(temperature)]`",
                kw::SETTER,
                kw::SETTER
            ),
        )
    })
}

/// Parse the arguments of `#[action(…)]`.
pub fn parse_action_args(attr: &Attribute) -> syn::Result<ActionArgs> {
    let mut args = ActionArgs::default();
    if matches!(attr.meta, Meta::Path(_)) {
        return Ok(args);
    }
    let mut given = Given::new(kw::ACTION);
    attr.parse_nested_meta(|meta| {
        given.first_time(&meta)?;
        if meta.path == kw::NO_LOCK {
            args.no_lock = true;
            return Ok(());
        }
        if meta.path == kw::INLINE {
            args.inline = Some(meta.path.clone());
            return Ok(());
        }
        Err(meta.error(format!(
            "unknown argument `{}` to `#[{}]`; the valid arguments are: {}, {} \
             (document the action with `///` comments, configure parameters with `#[{}(…)]`)",
            path_text(&meta.path),
            kw::ACTION,
            kw::NO_LOCK,
            kw::INLINE,
            kw::PARAM
        )))
    })?;
    Ok(args)
}

fn http_method_list() -> String {
    HTTP_METHODS
        .iter()
        .map(|(word, _)| format!("`{word}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Parse the arguments of `#[endpoint(get, path = "…", content_type = "…", no_lock)]`.
pub fn parse_endpoint_args(attr: &Attribute) -> syn::Result<EndpointArgs> {
    let usage = format!(
        "`#[{endpoint}]` needs the HTTP method it answers, one of {}, e.g. \
         `#[{endpoint}(get, path = \"snapshot.jpg\")]`",
        http_method_list(),
        endpoint = kw::ENDPOINT
    );
    if matches!(attr.meta, Meta::Path(_)) {
        return Err(syn::Error::new_spanned(attr, usage));
    }
    let mut http_method = None;
    let mut path = None;
    let mut content_type = None;
    let mut no_lock = false;
    let mut given = Given::new(kw::ENDPOINT);
    attr.parse_nested_meta(|meta| {
        if let Some(word) = HTTP_METHODS.iter().find(|(word, _)| meta.path == *word) {
            if let Some((first, _)) = http_method {
                return Err(meta.error(format!(
                    "an endpoint answers one HTTP method, and this one answers `{first}`: write \
                     another method with `#[{}({}, path = …)]` for the same path",
                    kw::ENDPOINT,
                    word.0
                )));
            }
            http_method = Some(*word);
            return Ok(());
        }
        given.first_time(&meta)?;
        if meta.path == kw::PATH {
            path = Some(string_value(&meta, kw::PATH, "snapshot.jpg")?);
            return Ok(());
        }
        if meta.path == kw::CONTENT_TYPE {
            content_type = Some(string_value(&meta, kw::CONTENT_TYPE, "image/jpeg")?);
            return Ok(());
        }
        if meta.path == kw::NO_LOCK {
            no_lock = true;
            return Ok(());
        }
        let name = path_text(&meta.path);
        let hint = if HTTP_METHODS
            .iter()
            .any(|(word, _)| word.0 == name.to_ascii_lowercase())
        {
            format!(
                " (HTTP methods are written in lower case: `{}`)",
                name.to_ascii_lowercase()
            )
        } else {
            String::new()
        };
        Err(meta.error(format!(
            "unknown argument `{name}` to `#[{}]`{hint}; valid arguments are an HTTP method ({}), \
             {} = \"…\", {} = \"…\" and {}",
            kw::ENDPOINT,
            http_method_list(),
            kw::PATH,
            kw::CONTENT_TYPE,
            kw::NO_LOCK
        )))
    })?;
    let Some(http_method) = http_method else {
        return Err(syn::Error::new_spanned(&attr.meta, usage));
    };
    Ok(EndpointArgs {
        http_method,
        path,
        content_type,
        no_lock,
    })
}

/// The string literal after `name =`.
fn string_value(meta: &ParseNestedMeta<'_>, name: Symbol, example: &str) -> syn::Result<LitStr> {
    let value: Expr = meta.value()?.parse()?;
    match value {
        Expr::Lit(ExprLit {
            lit: Lit::Str(text),
            ..
        }) => Ok(text),
        other => Err(syn::Error::new_spanned(
            other,
            format!("`{name}` takes a string literal, e.g. `{name} = \"{example}\"`"),
        )),
    }
}

/// Why `media_type` can't be a response's `Content-Type`, if it can't.
pub fn content_type_problem(media_type: &str) -> Option<&'static str> {
    let valid = media_type
        .split_once('/')
        .is_some_and(|(kind, subtype)| !kind.trim().is_empty() && !subtype.trim().is_empty())
        && media_type.chars().all(|c| c == ' ' || c.is_ascii_graphic());
    (!valid).then_some(
        "`content_type` must be a media type, `type/subtype` in ASCII, e.g. `\"image/jpeg\"`",
    )
}

/// A span to point at for a path, given or not.
pub fn lit_span(lit: Option<&LitStr>, otherwise: Span) -> Span {
    lit.map_or(otherwise, LitStr::span)
}

/// `#[slot]`, `#[inject]`, `#[on_start]` and `#[on_stop]` take no arguments.
pub fn check_no_args(attr: &Attribute, name: Symbol) -> syn::Result<()> {
    match &attr.meta {
        Meta::Path(_) => Ok(()),
        other => Err(syn::Error::new_spanned(
            other,
            format!("`#[{name}]` takes no arguments: write `#[{name}]`"),
        )),
    }
}

/// `#[event(unit = "…")]`: the unit of the event's data, or nothing (title and description come
/// from doc comments). Returns the `unit` as a schema constraint for the data's schema.
pub fn parse_event_args(attr: &Attribute) -> syn::Result<Option<Constraint>> {
    if matches!(attr.meta, Meta::Path(_)) {
        return Ok(None);
    }
    let mut unit = None;
    let mut given = Given::new(kw::EVENT);
    attr.parse_nested_meta(|meta| {
        given.first_time(&meta)?;
        if meta.path == kw::UNIT {
            unit = Some(parse_unit(&meta)?);
            return Ok(());
        }
        Err(meta.error(format!(
            "unknown argument `{}` to `#[{}]`: it takes only `unit = \"…\"` (the unit of its \
             data); document the event with `///` comments (they become its title and \
             description)",
            path_text(&meta.path),
            kw::EVENT
        )))
    })?;
    Ok(unit)
}

/// `#[stream]` takes no arguments: its title and description come from doc comments.
pub fn check_stream_args(attr: &Attribute) -> syn::Result<()> {
    let name = kw::STREAM;
    match &attr.meta {
        Meta::Path(_) => Ok(()),
        other => Err(syn::Error::new_spanned(
            other,
            format!(
                "`#[{name}]` takes no arguments: write `#[{name}]`, and document the stream with \
                 `///` comments (they become its title and description)"
            ),
        )),
    }
}

fn path_text(path: &syn::Path) -> String {
    path.segments
        .iter()
        .map(|s| s.ident.to_string())
        .collect::<Vec<_>>()
        .join("::")
}
