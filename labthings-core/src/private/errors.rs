//! Whether an action's error means "cancelled", decided by the compiler for each error type.

/// Whether an action's error means "cancelled". Generated code calls
/// `(&ErrorProbe(&e)).is_cancellation()` with both probe traits in scope: method resolution
/// picks [`ViaErrorSource`] when `E: Error` (so a `Cancelled` wrapped in the author's own error
/// type, as its `source()`, still counts) and falls back to [`ViaAny`] for any other `E`.
pub struct ErrorProbe<'a, E>(pub &'a E);

pub trait ViaErrorSource {
    fn is_cancellation(&self) -> bool;
}

impl<E: std::error::Error + 'static> ViaErrorSource for ErrorProbe<'_, E> {
    fn is_cancellation(&self) -> bool {
        let mut current: Option<&(dyn std::error::Error + 'static)> = Some(self.0);
        while let Some(error) = current {
            if error.is::<crate::Cancelled>() {
                return true;
            }
            current = error.source();
        }
        false
    }
}

pub trait ViaAny {
    fn is_cancellation(&self) -> bool;
}

impl<E: 'static> ViaAny for &ErrorProbe<'_, E> {
    fn is_cancellation(&self) -> bool {
        crate::outcome::is_cancellation(self.0)
    }
}
