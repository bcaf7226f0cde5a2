//! Bytes as lower-case hex on the wire: a roster file's bytes, which need not be UTF-8, so
//! that a file that is not gets the same error through the daemon as locally. Used as
//! `#[serde(with = "crate::remote::hex")]`.

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serializer};

use super::protocol::{from_hex, to_hex};

pub fn serialize<S: Serializer>(bytes: &[u8], serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&to_hex(bytes))
}

pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<u8>, D::Error> {
    let text = String::deserialize(deserializer)?;
    from_hex(&text).ok_or_else(|| D::Error::custom("the file's bytes are not hex"))
}
