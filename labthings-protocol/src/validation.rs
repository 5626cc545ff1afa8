//! The wire model of validation errors: pydantic's `detail[]` entries, as FastAPI sends them
//! in a 422 body.

use std::fmt;

use serde::Serialize;
use serde_json::Value;

/// One step of the path to the offending part of the input.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum LocSegment {
    Field(String),
    Index(usize),
}

impl From<&str> for LocSegment {
    fn from(name: &str) -> Self {
        LocSegment::Field(name.to_owned())
    }
}

/// One problem with the input, in pydantic's shape (`detail[]` of a 422 body).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ValidationIssue {
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// Path from the validated value's root; the server puts `"body"` in front.
    pub loc: Vec<LocSegment>,
    pub msg: String,
    pub input: Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ctx: Option<Value>,
}

impl fmt::Display for ValidationIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.loc.is_empty() {
            return f.write_str(&self.msg);
        }
        for (i, segment) in self.loc.iter().enumerate() {
            if i > 0 {
                f.write_str(".")?;
            }
            match segment {
                LocSegment::Field(name) => f.write_str(name)?,
                LocSegment::Index(index) => write!(f, "{index}")?,
            }
        }
        write!(f, ": {}", self.msg)
    }
}

/// All the problems found in one input; never empty.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidationErrors(pub Vec<ValidationIssue>);

impl ValidationErrors {
    /// A single issue about the value as a whole.
    pub fn single(kind: &'static str, msg: impl Into<String>, input: Value) -> Self {
        Self(vec![ValidationIssue {
            kind,
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
