//! How an action's return value becomes the end state of its invocation.
//!
//! `T` or `Ok(T)` → completed with `T` as output; `Err(Cancelled)` → cancelled; any other
//! `Err(e)` → error titled with `e`'s type name and detailed with its `Display`; a panic →
//! error titled `Panic`, caught so it never takes a worker thread down with it.
//!
//! An output holding [`Blob`]s (the output itself, or values inside it) completes as
//! [`Outcome::CompletedWithBlobs`]: the JSON has each blob's link, and the blobs ride along so
//! the invocation can keep them (and serve them) for as long as it is kept.

use std::any::Any;
use std::fmt::Display;
use std::panic::{AssertUnwindSafe, catch_unwind};

use serde::Serialize;
use serde_json::Value;

use crate::blob::{self, Blob};
use crate::cancel::Cancelled;

/// How an invocation ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// It finished with this output.
    Completed(Value),
    /// Completed with an output that holds blobs: the value has their links (`href`
    /// `blob/<id>`, made absolute by the server), the blobs are the data they name.
    CompletedWithBlobs(Value, Vec<Blob>),
    /// It was cancelled.
    Cancelled,
    /// It failed (an error or a panic).
    Failed(Failure),
}

/// Why an invocation failed: the `title` and `detail` of its ProblemDetails.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The error's type name (e.g. `RuntimeError`, `io::Error` → `Error`), or `Panic`.
    pub title: String,
    /// The error's message.
    pub detail: String,
}

impl Outcome {
    /// The outcome of an action that returned a plain value.
    pub fn from_value<T: Serialize>(value: T) -> Self {
        match blob::collect(|| serde_json::to_value(value)) {
            (Ok(value), blobs) if blobs.is_empty() => Outcome::Completed(value),
            (Ok(value), blobs) => Outcome::CompletedWithBlobs(value, blobs),
            (Err(error), _) => Outcome::Failed(Failure {
                title: "OutputSerializationError".into(),
                detail: format!("the action's output could not be serialised to JSON: {error}"),
            }),
        }
    }

    /// The outcome of an action that returned a `Result`.
    pub fn from_result<T: Serialize, E: Display + 'static>(result: Result<T, E>) -> Self {
        match result {
            Ok(value) => Self::from_value(value),
            Err(error) if is_cancellation(&error) => Outcome::Cancelled,
            Err(error) => Outcome::Failed(Failure {
                title: short_type_name::<E>(),
                detail: error.to_string(),
            }),
        }
    }

    /// The outcome of an action that returned `Err(error)`; `cancelled` says whether the error
    /// is (or wraps, through `Error::source`) a [`Cancelled`].
    pub fn from_error<E: Display>(error: E, cancelled: bool) -> Self {
        if cancelled {
            Outcome::Cancelled
        } else {
            Outcome::Failed(Failure {
                title: short_type_name::<E>(),
                detail: error.to_string(),
            })
        }
    }

    /// Run an action body, turning a panic into a failure.
    pub fn catching(body: impl FnOnce() -> Outcome) -> Self {
        catch_unwind(AssertUnwindSafe(body)).unwrap_or_else(|payload| Self::from_panic(&*payload))
    }

    /// The failure describing a caught panic.
    pub fn from_panic(payload: &(dyn Any + Send)) -> Self {
        let detail = if let Some(message) = payload.downcast_ref::<&str>() {
            (*message).to_owned()
        } else if let Some(message) = payload.downcast_ref::<String>() {
            message.clone()
        } else {
            "the action panicked".to_owned()
        };
        Outcome::Failed(Failure {
            title: "Panic".into(),
            detail,
        })
    }
}

/// Whether an action's error means "cancelled": `Cancelled` itself, or a boxed error holding it.
pub(crate) fn is_cancellation<E: 'static>(error: &E) -> bool {
    let error: &dyn Any = error;
    if error.is::<Cancelled>() {
        return true;
    }
    if let Some(boxed) = error.downcast_ref::<Box<dyn std::error::Error + Send + Sync>>() {
        return boxed.is::<Cancelled>();
    }
    if let Some(boxed) = error.downcast_ref::<Box<dyn std::error::Error>>() {
        return boxed.is::<Cancelled>();
    }
    false
}

/// `std::io::Error` → `Error`, `my_crate::StageError<u8>` → `StageError`.
fn short_type_name<E>() -> String {
    let full = std::any::type_name::<E>();
    let without_generics = full.split('<').next().unwrap_or(full);
    without_generics
        .rsplit("::")
        .next()
        .unwrap_or(without_generics)
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[derive(Debug)]
    struct StageError;
    impl Display for StageError {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("limit switch hit")
        }
    }

    #[test]
    fn maps_values_results_and_panics() {
        assert_eq!(Outcome::from_value(3), Outcome::Completed(json!(3)));
        assert_eq!(Outcome::from_value(()), Outcome::Completed(Value::Null));
        let blob = Blob::jpeg(vec![0xFF]);
        let Outcome::CompletedWithBlobs(value, blobs) =
            Outcome::from_result::<_, Cancelled>(Ok(blob.clone()))
        else {
            panic!("a blob output carries its blob");
        };
        assert_eq!(
            (value["media_type"].as_str(), blobs),
            (Some("image/jpeg"), vec![blob])
        );
        assert_eq!(
            Outcome::from_result::<i32, Cancelled>(Err(Cancelled)),
            Outcome::Cancelled
        );
        let boxed: Result<(), Box<dyn std::error::Error + Send + Sync>> = Err(Box::new(Cancelled));
        assert_eq!(Outcome::from_result(boxed), Outcome::Cancelled);
        assert_eq!(
            Outcome::from_result::<(), _>(Err(StageError)),
            Outcome::Failed(Failure {
                title: "StageError".into(),
                detail: "limit switch hit".into()
            })
        );
        let panicked = Outcome::catching(|| panic!("motor {} stalled", 2));
        assert_eq!(
            panicked,
            Outcome::Failed(Failure {
                title: "Panic".into(),
                detail: "motor 2 stalled".into()
            })
        );
    }
}
