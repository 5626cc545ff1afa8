//! pydantic's way of showing values in messages, so 422 bodies read as FastAPI's do.

use serde_json::Value;

/// A value as Python's `repr` shows it (`'text'`, `None`, `True`).
pub(super) fn python_repr(value: &Value) -> String {
    match value {
        Value::String(s) => format!("'{s}'"),
        Value::Null => "None".into(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        other => other.to_string(),
    }
}

/// Alternatives as pydantic lists them: `'a', 'b' or 'c'`.
pub(super) fn python_alternatives(options: &[Value]) -> String {
    let shown: Vec<String> = options.iter().map(python_repr).collect();
    match shown.split_last() {
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
        None => String::new(),
    }
}

/// `1 character`, `2 characters`: pydantic's counted nouns.
pub(super) fn count_noun(count: u64, singular: &'static str, plural: &'static str) -> &'static str {
    if count == 1 { singular } else { plural }
}
