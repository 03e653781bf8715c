//! How typed values become the bytes a key-value bucket or a blob stores.
//!
//! A [`Codec`] turns a `T` into bytes and back. [`JsonCodec`] (feature `json`,
//! on by default) takes any serde type; [`TextCodec`] stores strings as UTF-8
//! and [`BytesCodec`] stores bytes as they are. Implement [`Codec`] for your
//! own format (a binary serde format, say) and use it with
//! [`keyvalue::Bucket::typed_with`](crate::keyvalue::Bucket::typed_with).
//!
//! ```
//! use reprise::codec::{Codec, TextCodec};
//!
//! let bytes = TextCodec::encode(&"hello".to_string()).unwrap();
//! assert_eq!(bytes, b"hello");
//! assert!(TextCodec::decode(&[0xff]).unwrap_err().contains("UTF-8"));
//! ```

/// Encodes `T` to bytes and decodes it back. Errors are messages; the
/// wrappers put them into their typed errors with the key or object name.
pub trait Codec<T> {
    /// A short name used in error messages (`json`, `text`, ...).
    const NAME: &'static str;
    /// `value` as bytes.
    fn encode(value: &T) -> Result<Vec<u8>, String>;
    /// The value stored as `bytes`.
    fn decode(bytes: &[u8]) -> Result<T, String>;
}

/// Any `serde` type as JSON.
#[cfg(feature = "json")]
#[derive(Debug, Clone, Copy, Default)]
pub struct JsonCodec;

#[cfg(feature = "json")]
impl<T: serde::Serialize + serde::de::DeserializeOwned> Codec<T> for JsonCodec {
    const NAME: &'static str = "json";

    fn encode(value: &T) -> Result<Vec<u8>, String> {
        serde_json::to_vec(value).map_err(|e| e.to_string())
    }

    fn decode(bytes: &[u8]) -> Result<T, String> {
        serde_json::from_slice(bytes).map_err(|e| e.to_string())
    }
}

/// Strings as UTF-8; decoding refuses invalid UTF-8.
#[derive(Debug, Clone, Copy, Default)]
pub struct TextCodec;

impl Codec<String> for TextCodec {
    const NAME: &'static str = "text";

    fn encode(value: &String) -> Result<Vec<u8>, String> {
        Ok(value.as_bytes().to_vec())
    }

    fn decode(bytes: &[u8]) -> Result<String, String> {
        String::from_utf8(bytes.to_vec()).map_err(|e| format!("not valid UTF-8: {e}"))
    }
}

/// Bytes as they are.
#[derive(Debug, Clone, Copy, Default)]
pub struct BytesCodec;

impl Codec<Vec<u8>> for BytesCodec {
    const NAME: &'static str = "bytes";

    fn encode(value: &Vec<u8>) -> Result<Vec<u8>, String> {
        Ok(value.clone())
    }

    fn decode(bytes: &[u8]) -> Result<Vec<u8>, String> {
        Ok(bytes.to_vec())
    }
}

#[cfg(all(test, feature = "json"))]
mod tests {
    use super::*;

    #[derive(serde::Serialize, serde::Deserialize, Debug, PartialEq)]
    struct Line {
        sku: String,
        qty: u32,
    }

    #[test]
    fn json_round_trips_and_reports_bad_input() {
        let line = Line { sku: "tea".into(), qty: 2 };
        let bytes = JsonCodec::encode(&line).unwrap();
        assert_eq!(bytes, br#"{"sku":"tea","qty":2}"#);
        assert_eq!(<JsonCodec as Codec<Line>>::decode(&bytes).unwrap(), line);
        let err = <JsonCodec as Codec<Line>>::decode(b"{\"sku\":1}").unwrap_err();
        assert!(err.contains("invalid type"), "{err}");
    }

    #[test]
    fn bytes_are_kept() {
        assert_eq!(BytesCodec::decode(&BytesCodec::encode(&vec![0, 255]).unwrap()).unwrap(), vec![0, 255]);
    }
}
