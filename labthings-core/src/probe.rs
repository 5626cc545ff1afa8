//! The zero-sized stand-in for a type that generated code and the bounds work with, and the
//! function type that encodes an event's payload. A leaf: [`crate::bounds`] checks a probe's
//! type, and `__private`'s autoref traits (`private/probe.rs`) are implemented on it, so
//! neither needs the other's module to name it.

use std::marker::PhantomData;

use serde_json::Value;

/// Stands for the type `T` in method resolution; holds nothing.
pub struct Probe<T>(PhantomData<fn() -> T>);

impl<T> Probe<T> {
    #[allow(clippy::new_without_default)]
    pub const fn new() -> Self {
        Probe(PhantomData)
    }
}

/// How an event payload becomes JSON.
pub type Encoder<T> = fn(&T) -> Result<Value, serde_json::Error>;
