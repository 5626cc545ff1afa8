//! For unit tests: the `Thing` methods a hand-written test Thing does not care about, each
//! refusing (`NotFound`) or doing nothing, so a test spells out only what it exercises.

/// Expands, inside `impl Thing for …`, to `write_property`, `reset_property`,
/// `restore_setting`, `property_default`, `prepare_action`, `attach` and `wire_slot`.
macro_rules! refuse_the_rest {
    () => {
        fn write_property(
            &self,
            _: &str,
            _: serde_json::Value,
        ) -> Result<(), labthings_core::PropertyError> {
            Err(labthings_core::PropertyError::NotFound)
        }
        fn reset_property(&self, _: &str) -> Result<(), labthings_core::PropertyError> {
            Err(labthings_core::PropertyError::NotFound)
        }
        fn restore_setting(
            &self,
            _: &str,
            _: serde_json::Value,
        ) -> Result<(), labthings_core::PropertyError> {
            Err(labthings_core::PropertyError::NotFound)
        }
        fn property_default(&self, _: &str) -> Option<serde_json::Value> {
            None
        }
        fn prepare_action(
            self: std::sync::Arc<Self>,
            _: &str,
            _: Option<serde_json::Value>,
        ) -> Result<labthings_core::PreparedAction, labthings_core::PrepareError> {
            Err(labthings_core::PrepareError::NotFound)
        }
        fn attach(&self, _: &str, _: std::sync::Arc<dyn labthings_core::PropertyObserver>) {}
        fn wire_slot(
            &self,
            _: &str,
            _: std::sync::Arc<dyn std::any::Any + Send + Sync>,
        ) -> Result<(), labthings_core::WrongSlotType> {
            Ok(())
        }
    };
}

pub(crate) use refuse_the_rest;
