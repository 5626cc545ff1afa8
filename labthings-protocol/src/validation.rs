//! The wire model of validation errors: pydantic's `detail[]` entries, as FastAPI sends them
//! in a 422 body, as the core writes them and the client reads them.

use std::borrow::Cow;
use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One step of the path to the offending part of the input.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum LocSegment {
    /// A field of an object.
    Field(String),
    /// An item of an array.
    Index(usize),
}

impl From<&str> for LocSegment {
    fn from(name: &str) -> Self {
        LocSegment::Field(name.to_owned())
    }
}

/// One problem with the input, in pydantic's shape (`detail[]` of a 422 body).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ValidationIssue {
    /// The machine-readable kind, such as `int_parsing` or `extra_forbidden`.
    #[serde(rename = "type")]
    pub kind: Cow<'static, str>,
    /// Path from the validated value's root; the server puts `"body"` in front.
    pub loc: Vec<LocSegment>,
    /// The human-readable message, such as `Input should be a valid integer`.
    pub msg: String,
    /// The offending input (`null` when a server leaves it out).
    #[serde(default)]
    pub input: Value,
    /// What the failed check compared against (pydantic's `ctx`), if anything.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ctx: Option<Value>,
}

impl ValidationIssue {
    /// `loc` joined with dots, as `body.duration`.
    pub fn location(&self) -> String {
        let segments: Vec<String> = self
            .loc
            .iter()
            .map(|segment| match segment {
                LocSegment::Field(name) => name.clone(),
                LocSegment::Index(index) => index.to_string(),
            })
            .collect();
        segments.join(".")
    }
}

/// `location: msg`, or `msg` alone for the value as a whole.
impl fmt::Display for ValidationIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.loc.is_empty() {
            return f.write_str(&self.msg);
        }
        write!(f, "{}: {}", self.location(), self.msg)
    }
}

/// All the problems found in one input; never empty.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidationErrors(pub Vec<ValidationIssue>);

impl ValidationErrors {
    /// A single issue about the value as a whole.
    pub fn single(kind: &'static str, msg: impl Into<String>, input: Value) -> Self {
        Self(vec![ValidationIssue {
            kind: Cow::Borrowed(kind),
            loc: Vec::new(),
            msg: msg.into(),
            input,
            ctx: None,
        }])
    }

    /// Put `segment` in front of every issue's path.
    pub fn prefixed(mut self, segment: LocSegment) -> Self {
        for issue in &mut self.0 {
            issue.loc.insert(0, segment.clone());
        }
        self
    }
}

impl fmt::Display for ValidationErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        IssueList(&self.0).fmt(f)
    }
}

/// Issues written as one line, `; `-separated: how the server logs a refused input and how the
/// client's error says it.
pub struct IssueList<'a>(pub &'a [ValidationIssue]);

impl fmt::Display for IssueList<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, issue) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{issue}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ValidationErrors {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_422_detail_reads_back_as_written() {
        let issue = ValidationIssue {
            kind: "int_parsing".into(),
            loc: vec!["body".into(), LocSegment::Index(2)],
            msg: "Input should be a valid integer".into(),
            input: Value::from("x"),
            ctx: None,
        };
        let json = serde_json::to_value(&issue).unwrap();
        assert_eq!(
            json.to_string(),
            r#"{"type":"int_parsing","loc":["body",2],"msg":"Input should be a valid integer","input":"x"}"#
        );
        assert_eq!(
            serde_json::from_value::<ValidationIssue>(json).unwrap(),
            issue
        );
        assert_eq!(issue.to_string(), "body.2: Input should be a valid integer");
    }
}
