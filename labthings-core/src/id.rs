//! The identity of one action invocation.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A unique id for one invocation of an action (a random UUID v4).
///
/// Every injected resource of an invocation (its [`CancelHook`](crate::CancelHook), its
/// [`Logger`](crate::Logger), and every parameter typed `InvocationId`) carries the same id.
/// It serialises as the hyphenated UUID string, as on the wire.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct InvocationId(Uuid);

impl InvocationId {
    /// A fresh random id.
    pub fn new() -> Self {
        Self(Uuid::new_v4())
    }

    /// The underlying UUID.
    pub fn as_uuid(&self) -> &Uuid {
        &self.0
    }
}

impl Default for InvocationId {
    fn default() -> Self {
        Self::new()
    }
}

impl From<Uuid> for InvocationId {
    fn from(uuid: Uuid) -> Self {
        Self(uuid)
    }
}

impl FromStr for InvocationId {
    type Err = uuid::Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Uuid::parse_str(s).map(Self)
    }
}

impl fmt::Display for InvocationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0.hyphenated(), f)
    }
}

impl fmt::Debug for InvocationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "InvocationId({})", self.0.hyphenated())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn displays_and_serialises_as_hyphenated_uuid() {
        let id: InvocationId = "7e36a07a-3e1b-432c-ae06-a6be8be997aa".parse().unwrap();
        assert_eq!(id.to_string(), "7e36a07a-3e1b-432c-ae06-a6be8be997aa");
        assert_eq!(
            serde_json::to_string(&id).unwrap(),
            "\"7e36a07a-3e1b-432c-ae06-a6be8be997aa\""
        );
        assert_ne!(InvocationId::new(), InvocationId::new());
        assert_eq!(InvocationId::new().as_uuid().get_version_num(), 4);
    }
}
