//! An invocation's status, as the invocation routes, the WebSocket `actionStatus` message and
//! the SSE action streams spell it.

use serde::{Deserialize, Serialize};

/// Where an invocation is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum InvocationStatus {
    /// Accepted, not yet started.
    Pending,
    /// Started.
    Running,
    /// Finished with an output.
    Completed,
    /// Finished because it was cancelled.
    Cancelled,
    /// Finished with an error.
    Error,
    /// A status a client does not know (from a newer server). Never sent.
    #[serde(other)]
    Unknown,
}

impl InvocationStatus {
    /// Whether the invocation has finished (completed, cancelled or failed).
    pub fn is_finished(self) -> bool {
        matches!(
            self,
            InvocationStatus::Completed | InvocationStatus::Cancelled | InvocationStatus::Error
        )
    }

    /// The wire spelling, as serde writes it (`pending`, `running`, …), for messages.
    pub fn as_str(self) -> &'static str {
        match self {
            InvocationStatus::Pending => "pending",
            InvocationStatus::Running => "running",
            InvocationStatus::Completed => "completed",
            InvocationStatus::Cancelled => "cancelled",
            InvocationStatus::Error => "error",
            InvocationStatus::Unknown => "unknown",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wire_spelling_is_serdes_and_an_unknown_status_is_not_final() {
        for (status, spelled) in [
            (InvocationStatus::Pending, "pending"),
            (InvocationStatus::Running, "running"),
            (InvocationStatus::Completed, "completed"),
            (InvocationStatus::Cancelled, "cancelled"),
            (InvocationStatus::Error, "error"),
        ] {
            let json = serde_json::to_value(status).unwrap();
            assert_eq!(json, spelled);
            assert_eq!(status.as_str(), spelled);
            assert_eq!(
                serde_json::from_value::<InvocationStatus>(json).unwrap(),
                status
            );
        }
        let status: InvocationStatus = serde_json::from_str(r#""paused""#).unwrap();
        assert_eq!(status, InvocationStatus::Unknown);
        assert!(!status.is_finished());
    }
}
