//! Lever timestamps are integer milliseconds since the Unix epoch. Some documented examples
//! print them as strings, so every timestamp field here accepts a number or a numeric string
//! and always serialises as a number.

use serde::Serializer;
use serde::de::{self, Deserializer, Visitor};
use std::fmt;

/// Milliseconds since the Unix epoch.
pub type Millis = i64;

/// Current time in Lever's representation.
pub fn now_millis() -> Millis {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(now.as_millis()).unwrap_or(i64::MAX)
}

struct MillisVisitor;

impl<'de> Visitor<'de> for MillisVisitor {
    type Value = Option<Millis>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("milliseconds since the epoch as a number or a numeric string")
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Some(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        i64::try_from(v)
            .map(Some)
            .map_err(|_| E::custom("timestamp out of range"))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        if v.is_finite() && v.fract() == 0.0 {
            Ok(Some(v as i64))
        } else {
            Err(E::custom(format!(
                "timestamp {v} is not a whole number of milliseconds"
            )))
        }
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        let v = v.trim();
        if v.is_empty() {
            return Ok(None);
        }
        v.parse::<i64>()
            .map(Some)
            .map_err(|_| E::custom(format!("timestamp {v:?} is not a number of milliseconds")))
    }
    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(MillisVisitor)
    }
}

/// `#[serde(with = "lever_model::timestamp::required")]` for a timestamp that is always present.
pub mod required {
    use super::*;

    pub fn serialize<S: Serializer>(v: &Millis, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_i64(*v)
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Millis, D::Error> {
        d.deserialize_any(MillisVisitor)?
            .ok_or_else(|| de::Error::custom("timestamp is missing"))
    }
}

/// `#[serde(with = "lever_model::timestamp::optional")]` for a nullable timestamp.
pub mod optional {
    use super::*;

    pub fn serialize<S: Serializer>(v: &Option<Millis>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(v) => s.serialize_i64(*v),
            None => s.serialize_none(),
        }
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Millis>, D::Error> {
        d.deserialize_any(MillisVisitor)
    }
}

#[cfg(test)]
mod tests {
    use serde::{Deserialize, Serialize};

    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    struct T {
        #[serde(with = "super::required")]
        a: i64,
        #[serde(with = "super::optional", default)]
        b: Option<i64>,
    }

    #[test]
    fn numbers_and_strings_are_both_accepted() {
        let t: T = serde_json::from_str(r#"{"a":1431454330072,"b":"1431454330073"}"#).unwrap();
        assert_eq!(
            t,
            T {
                a: 1431454330072,
                b: Some(1431454330073)
            }
        );
        let t: T = serde_json::from_str(r#"{"a":"12","b":null}"#).unwrap();
        assert_eq!(t, T { a: 12, b: None });
        let t: T = serde_json::from_str(r#"{"a":12}"#).unwrap();
        assert_eq!(t.b, None);
        assert_eq!(
            serde_json::to_string(&T { a: 1, b: Some(2) }).unwrap(),
            r#"{"a":1,"b":2}"#
        );
    }

    #[test]
    fn garbage_is_rejected_with_a_clear_message() {
        let err = serde_json::from_str::<T>(r#"{"a":"yesterday"}"#).unwrap_err();
        assert!(
            err.to_string().contains("not a number of milliseconds"),
            "{err}"
        );
    }
}
