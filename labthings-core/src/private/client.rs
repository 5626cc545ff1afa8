//! What the typed clients `#[thing]` generates are made of (with the `client` feature).

#[cfg(feature = "client")]
use serde::Serialize;
#[cfg(feature = "client")]
use serde_json::Value;

#[cfg(feature = "client")]
pub use labthings_client;

/// `client_items! { … }`: the typed client `#[thing]` generates, kept with the `client`
/// feature and dropped without it. The feature is this crate's, so a server-only build never
/// compiles (or depends on) `labthings-client`, and the Thing crate declares nothing.
#[cfg(feature = "client")]
#[doc(hidden)]
#[macro_export]
macro_rules! __labthings_client_items {
    ($($items:tt)*) => { $($items)* };
}

#[cfg(not(feature = "client"))]
#[doc(hidden)]
#[macro_export]
macro_rules! __labthings_client_items {
    ($($items:tt)*) => {};
}

pub use crate::__labthings_client_items as client_items;

#[cfg(feature = "client")]
pub use crate::bounds::ClientActions;

/// `client.write(name, value)`, with `value` encoded before the future is made (so that the
/// future holds JSON, not a borrow of `value`).
#[cfg(feature = "client")]
pub fn write_property<'a, V: Serialize + ?Sized>(
    client: &'a labthings_client::ThingClient,
    name: &'static str,
    value: &V,
) -> crate::ClientFuture<'a, ()> {
    match serde_json::to_value(value) {
        Ok(value) => Box::pin(async move { client.write(name, &value).await }),
        Err(error) => Box::pin(std::future::ready(Err(labthings_client::Error::Encode(
            error,
        )))),
    }
}

#[cfg(feature = "client")]
pub use crate::ClientFuture;

/// An action's input as a typed client sends it: one JSON member per input parameter, named
/// as the server's hidden input type names its fields.
#[cfg(feature = "client")]
pub struct ClientInput(Result<serde_json::Map<String, Value>, labthings_client::Error>);

#[cfg(feature = "client")]
impl ClientInput {
    #[allow(clippy::new_without_default)]
    pub fn new() -> Self {
        ClientInput(Ok(serde_json::Map::new()))
    }

    pub fn field<V: Serialize + ?Sized>(mut self, name: &str, value: &V) -> Self {
        if let Ok(input) = &mut self.0 {
            match serde_json::to_value(value) {
                Ok(value) => {
                    input.insert(name.to_owned(), value);
                }
                Err(error) => self.0 = Err(labthings_client::Error::Encode(error)),
            }
        }
        self
    }

    pub fn finish(self) -> Result<serde_json::Map<String, Value>, labthings_client::Error> {
        self.0
    }
}

/// The actions of a typed client whose impl block had an error: none.
#[cfg(feature = "client")]
#[derive(Clone, Debug)]
pub struct NoClientActions;

#[cfg(feature = "client")]
impl From<labthings_client::ThingClient> for NoClientActions {
    fn from(_: labthings_client::ThingClient) -> Self {
        NoClientActions
    }
}
