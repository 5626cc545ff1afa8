//! The arguments of our attributes: `#[property(read_only, minimum = 0)]`, `#[setting(…)]`,
//! `#[param(default = 5.0)]`, `#[setter(name)]`, `#[inject]`.

use syn::spanned::Spanned;
use syn::{Attribute, Expr, ExprLit, ExprUnary, Ident, Lit, UnOp};

/// A constraint on a value, checked on writes and shown in the schema.
#[derive(Clone)]
pub struct Constraint {
    /// The JSON Schema keyword, e.g. `exclusiveMinimum`.
    pub keyword: &'static str,
    pub value: Expr,
}

/// (argument, JSON Schema keyword, what the value must be)
const CONSTRAINTS: [(&str, &str, ValueKind); 8] = [
    ("minimum", "minimum", ValueKind::Number),
    ("maximum", "maximum", ValueKind::Number),
    ("exclusive_minimum", "exclusiveMinimum", ValueKind::Number),
    ("exclusive_maximum", "exclusiveMaximum", ValueKind::Number),
    ("multiple_of", "multipleOf", ValueKind::Number),
    ("min_length", "minLength", ValueKind::Count),
    ("max_length", "maxLength", ValueKind::Count),
    ("pattern", "pattern", ValueKind::Text),
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
}

/// Arguments of `#[action]`.
#[derive(Default, Clone)]
pub struct ActionArgs {
    /// The action doesn't take the server's global lock.
    pub no_lock: bool,
}

/// Arguments of `#[param]`.
#[derive(Default, Clone)]
pub struct ParamArgs {
    pub default: Option<Expr>,
    pub constraints: Vec<Constraint>,
}

fn constraint_names() -> String {
    CONSTRAINTS
        .iter()
        .map(|(name, _, _)| *name)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Parse `name = value` as a constraint, if `name` is one.
fn parse_constraint(meta: &syn::meta::ParseNestedMeta<'_>) -> syn::Result<Option<Constraint>> {
    let Some((_, keyword, kind)) = CONSTRAINTS
        .iter()
        .find(|(name, _, _)| meta.path.is_ident(name))
    else {
        return Ok(None);
    };
    let value: Expr = meta.value()?.parse()?;
    check_constraint_value(&value, *kind, meta.path.get_ident())?;
    Ok(Some(Constraint { keyword, value }))
}

fn check_constraint_value(value: &Expr, kind: ValueKind, name: Option<&Ident>) -> syn::Result<()> {
    let name = name.map(ToString::to_string).unwrap_or_default();
    let ok = match (kind, value) {
        (
            ValueKind::Number,
            Expr::Lit(ExprLit {
                lit: Lit::Int(_) | Lit::Float(_),
                ..
            }),
        ) => true,
        (
            ValueKind::Number,
            Expr::Unary(ExprUnary {
                op: UnOp::Neg(_),
                expr,
                ..
            }),
        ) => {
            matches!(
                &**expr,
                Expr::Lit(ExprLit {
                    lit: Lit::Int(_) | Lit::Float(_),
                    ..
                })
            )
        }
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
    Err(syn::Error::new(
        value.span(),
        format!("`{name}` must be {expected}"),
    ))
}

/// Parse the arguments of `#[property(…)]` or `#[setting(…)]` (`which` names the attribute).
pub fn parse_property_args(attr: &Attribute, which: &str) -> syn::Result<PropertyArgs> {
    let mut args = PropertyArgs::default();
    if matches!(attr.meta, syn::Meta::Path(_)) {
        return Ok(args);
    }
    attr.parse_nested_meta(|meta| {
        if meta.path.is_ident("read_only") {
            args.read_only = true;
            return Ok(());
        }
        if meta.path.is_ident("no_lock") {
            args.no_lock = true;
            return Ok(());
        }
        if let Some(constraint) = parse_constraint(&meta)? {
            args.constraints.push(constraint);
            return Ok(());
        }
        Err(meta.error(format!(
            "unknown argument `{}` to `#[{which}]`; valid arguments are: read_only, no_lock, {}",
            path_text(&meta.path),
            constraint_names()
        )))
    })?;
    Ok(args)
}

/// Parse the arguments of `#[param(…)]`.
pub fn parse_param_args(attr: &Attribute) -> syn::Result<ParamArgs> {
    let mut args = ParamArgs::default();
    attr.parse_nested_meta(|meta| {
        if meta.path.is_ident("default") {
            args.default = Some(meta.value()?.parse()?);
            return Ok(());
        }
        if let Some(constraint) = parse_constraint(&meta)? {
            args.constraints.push(constraint);
            return Ok(());
        }
        Err(meta.error(format!(
            "unknown argument `{}` to `#[param]`; valid arguments are: default, {}",
            path_text(&meta.path),
            constraint_names()
        )))
    })?;
    Ok(args)
}

/// Parse `#[setter(property_name)]`.
pub fn parse_setter_target(attr: &Attribute) -> syn::Result<Ident> {
    attr.parse_args::<Ident>().map_err(|_| {
        syn::Error::new(
            attr.span(),
            "`#[setter]` names the property it sets, e.g. `#[setter(temperature)]`",
        )
    })
}

/// Parse the arguments of `#[action(…)]`.
pub fn parse_action_args(attr: &Attribute) -> syn::Result<ActionArgs> {
    let mut args = ActionArgs::default();
    if matches!(attr.meta, syn::Meta::Path(_)) {
        return Ok(args);
    }
    attr.parse_nested_meta(|meta| {
        if meta.path.is_ident("no_lock") {
            args.no_lock = true;
            return Ok(());
        }
        Err(meta.error(format!(
            "unknown argument `{}` to `#[action]`; the valid argument is: no_lock \
             (document the action with `///` comments, configure parameters with `#[param(…)]`)",
            path_text(&meta.path)
        )))
    })?;
    Ok(args)
}

/// `#[slot]`, `#[on_start]` and `#[on_stop]` take no arguments.
pub fn check_no_args(attr: &Attribute, name: &str) -> syn::Result<()> {
    match &attr.meta {
        syn::Meta::Path(_) => Ok(()),
        other => Err(syn::Error::new_spanned(
            other,
            format!("`#[{name}]` takes no arguments"),
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

/// Whether `attr` is `#[name]` or `#[name(…)]` for one of our attribute names.
pub fn is(attr: &Attribute, name: &str) -> bool {
    attr.path().is_ident(name)
}
