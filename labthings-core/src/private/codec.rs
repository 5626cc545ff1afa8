//! How the hidden input type of an action holds each parameter, without requiring anything
//! of the author's type beyond the one check at the parameter.

use std::borrow::Cow;

use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// How the hidden input type of an action holds one parameter. `#[thing]` implements it (with
/// [`param_codec!`](crate::param_codec)) for a marker type per parameter, so that the hidden
/// type's derives never require anything of the author's type: the one check that does is
/// spanned at the parameter.
pub trait ParamCodec {
    type Value;
    fn decode<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Self::Value, D::Error>;
    fn encode<S: Serializer>(value: &Self::Value, serializer: S) -> Result<S::Ok, S::Error>;
    fn inline_schema() -> bool;
    fn schema_name() -> Cow<'static, str>;
    fn schema_id() -> Cow<'static, str>;
    fn json_schema(generator: &mut SchemaGenerator) -> Schema;
    fn non_optional_json_schema(generator: &mut SchemaGenerator) -> Schema;
    fn is_option() -> bool;
}

/// Implement [`ParamCodec`] for `$marker`, holding a `$ty`, through the [`Probe`](crate::probe::Probe)s.
#[doc(hidden)]
#[macro_export]
macro_rules! param_codec {
    ($marker:ident, $ty:ty) => {
        const _: () = {
            #[allow(unused_imports)]
            use $crate::__private::{
                Decode as _, DecodeUnchecked as _, Describe as _, DescribeUnchecked as _,
                Encode as _, EncodeUnchecked as _,
            };
            impl $crate::__private::ParamCodec for $marker {
                type Value = $ty;
                fn decode<'de, D: $crate::__private::serde::Deserializer<'de>>(
                    deserializer: D,
                ) -> ::core::result::Result<$ty, D::Error> {
                    (&$crate::__private::Probe::<$ty>::new()).decode(deserializer)
                }
                fn encode<S: $crate::__private::serde::Serializer>(
                    value: &$ty,
                    serializer: S,
                ) -> ::core::result::Result<S::Ok, S::Error> {
                    (&$crate::__private::Probe::<$ty>::new()).encode(value, serializer)
                }
                fn inline_schema() -> bool {
                    (&$crate::__private::Probe::<$ty>::new()).inline_schema()
                }
                fn schema_name() -> ::std::borrow::Cow<'static, str> {
                    (&$crate::__private::Probe::<$ty>::new()).schema_name()
                }
                fn schema_id() -> ::std::borrow::Cow<'static, str> {
                    (&$crate::__private::Probe::<$ty>::new()).schema_id()
                }
                fn json_schema(
                    generator: &mut $crate::__private::schemars::SchemaGenerator,
                ) -> $crate::__private::schemars::Schema {
                    (&$crate::__private::Probe::<$ty>::new()).json_schema(generator)
                }
                fn non_optional_json_schema(
                    generator: &mut $crate::__private::schemars::SchemaGenerator,
                ) -> $crate::__private::schemars::Schema {
                    (&$crate::__private::Probe::<$ty>::new()).non_optional_json_schema(generator)
                }
                fn is_option() -> bool {
                    (&$crate::__private::Probe::<$ty>::new()).is_option()
                }
            }
        };
    };
}
pub use crate::param_codec;

/// One action parameter in the hidden input type; see [`ParamCodec`].
pub struct Param<C: ParamCodec>(pub C::Value);

impl<'de, C: ParamCodec> Deserialize<'de> for Param<C> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        C::decode(deserializer).map(Param)
    }
}

impl<C: ParamCodec> Serialize for Param<C> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        C::encode(&self.0, serializer)
    }
}

impl<C: ParamCodec> JsonSchema for Param<C> {
    fn inline_schema() -> bool {
        C::inline_schema()
    }
    fn schema_name() -> Cow<'static, str> {
        C::schema_name()
    }
    fn schema_id() -> Cow<'static, str> {
        C::schema_id()
    }
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        C::json_schema(generator)
    }
    fn _schemars_private_non_optional_json_schema(generator: &mut SchemaGenerator) -> Schema {
        C::non_optional_json_schema(generator)
    }
    fn _schemars_private_is_option() -> bool {
        C::is_option()
    }
}
