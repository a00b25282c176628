//! The JSON objects of the services config and of webhook alerts are read as objects only.

use std::fmt;
use std::marker::PhantomData;

use serde::de::value::MapAccessDeserializer;
use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};

/// Deserializes `T` from a map only, in human-readable formats (JSON). serde's derived structs
/// also take a sequence of their fields in order, which read `["api", "application", "high",
/// ["db"]]` as a service and an array as an alert, where the data tools' contract names
/// objects. Compact formats (bincode and the like) write structs as sequences and read them so.
pub(crate) fn from_map<'de, D, T>(d: D, what: &'static str) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    struct MapOnly<T>(PhantomData<T>, &'static str);
    impl<'de, T: Deserialize<'de>> Visitor<'de> for MapOnly<T> {
        type Value = T;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(f, "{} object", self.1)
        }
        fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
            T::deserialize(MapAccessDeserializer::new(map))
        }
    }
    if d.is_human_readable() {
        d.deserialize_map(MapOnly(PhantomData, what))
    } else {
        T::deserialize(d)
    }
}
