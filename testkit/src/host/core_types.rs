//! `golem:core/types@1.5.0`: the UUID helpers.

use super::HostState;
use super::bindings::golem::core::types::{Host, Uuid};

/// Parse the canonical `8-4-4-4-12` hex form (either case).
pub(crate) fn parse_uuid(text: &str) -> Result<Uuid, String> {
    let groups: Vec<&str> = text.split('-').collect();
    let lengths: Vec<usize> = groups.iter().map(|g| g.len()).collect();
    if lengths != [8, 4, 4, 4, 12] {
        return Err(format!("`{text}` is not a UUID (expected 8-4-4-4-12 hex digits)"));
    }
    let hex: String = groups.concat();
    let value = u128::from_str_radix(&hex, 16).map_err(|_| format!("`{text}` is not a UUID (non-hex digits)"))?;
    Ok(Uuid { high_bits: (value >> 64) as u64, low_bits: value as u64 })
}

/// The canonical lower-case `8-4-4-4-12` form.
pub(crate) fn uuid_to_string(uuid: &Uuid) -> String {
    let v = (u128::from(uuid.high_bits) << 64) | u128::from(uuid.low_bits);
    let h = format!("{v:032x}");
    format!("{}-{}-{}-{}-{}", &h[0..8], &h[8..12], &h[12..16], &h[16..20], &h[20..32])
}

impl Host for HostState {
    fn parse_uuid(&mut self, uuid: String) -> wasmtime::Result<Result<Uuid, String>> {
        Ok(parse_uuid(&uuid))
    }

    fn uuid_to_string(&mut self, uuid: Uuid) -> wasmtime::Result<String> {
        Ok(uuid_to_string(&uuid))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids_round_trip_and_bad_text_is_an_error() {
        let text = "67e55044-10b1-426f-9247-bb680e5fe0c8";
        let uuid = parse_uuid(text).expect("valid");
        assert_eq!(uuid.high_bits, 0x67e5_5044_10b1_426f);
        assert_eq!(uuid_to_string(&uuid), text);
        assert_eq!(parse_uuid(&text.to_uppercase()).map(|u| uuid_to_string(&u)).as_deref(), Ok(text));
        assert!(parse_uuid("67e55044-10b1-426f-9247").unwrap_err().contains("8-4-4-4-12"));
        assert!(parse_uuid("zze55044-10b1-426f-9247-bb680e5fe0c8").unwrap_err().contains("non-hex"));
    }
}
