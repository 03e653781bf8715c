//! Names and ids as Golem forms them, defined once for every layer: the
//! interfaces a component exports, kebab-case type names, agent ids
//! (`type(args)`), UUIDs.

use crate::bindings::golem::agent::common::AgentType;
use crate::bindings::golem::core::types::Uuid;
use crate::data::constructor_types;
use crate::value::{Type, Value};

/// The interface an agent component exports.
pub const AGENT_INTERFACE: &str = "golem:agent/guest@1.5.0";

/// The interface an oplog-processor plugin component exports.
pub const PROCESSOR_INTERFACE: &str = "golem:api/oplog-processor@1.5.0";

/// Golem's kebab-case form of a name (agent ids, matching type names):
/// `ShoppingCart` → `shopping-cart`, `HTTPProxy` → `http-proxy`,
/// `snake_case` → `snake-case`, `probe` → `probe`.
pub fn kebab_case(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let mut out = String::with_capacity(name.len() + 4);
    for (i, c) in chars.iter().enumerate() {
        if c.is_uppercase() {
            let prev = i.checked_sub(1).map(|p| chars[p]);
            let next = chars.get(i + 1);
            let boundary = prev.is_some_and(|p| p.is_lowercase() || p.is_ascii_digit())
                || (prev.is_some_and(char::is_uppercase) && next.is_some_and(|n| n.is_lowercase()));
            if boundary && !out.ends_with('-') {
                out.push('-');
            }
            out.extend(c.to_lowercase());
        } else if *c == '_' || *c == ' ' {
            out.push('-');
        } else {
            out.push(*c);
        }
    }
    out
}

/// Whether `name` names the agent type `definition` (as defined, or in
/// kebab-case as in ids).
pub(crate) fn names_agent_type(definition: &AgentType, name: &str) -> bool {
    definition.type_name == name || kebab_case(&definition.type_name) == name
}

/// The agent id Golem forms: the type name in kebab-case and the
/// constructor arguments in compact WAVE, `shopping-cart("alice")`.
/// Arguments that do not fit the declared constructor (the constructor will
/// refuse them) are shown as they are.
pub fn agent_id(definition: &AgentType, args: &[Value]) -> String {
    let params = constructor_types(definition)
        .and_then(|t| crate::wave::render_compact(args, &t).ok())
        .unwrap_or_else(|| args.iter().map(|a| format!("{a:?}")).collect::<Vec<_>>().join(","));
    format!("{}({params})", kebab_case(&definition.type_name))
}

/// `id` (`type(args)`) as the id of its phantom `phantom`, if there is
/// one: `type(args)[uuid]`.
pub(crate) fn with_phantom(id: String, phantom: Option<&Uuid>) -> String {
    match phantom {
        Some(uuid) => format!("{id}[{}]", uuid_to_string(uuid)),
        None => id,
    }
}

/// `id` without the phantom id it may end in: `type(args)`.
pub(crate) fn without_phantom(id: &str) -> &str {
    match split_agent_id(id) {
        Ok((_, _, Some(phantom))) => &id.trim()[..id.trim().len() - phantom.len() - 2],
        _ => id,
    }
}

/// Split `type(params)[uuid]` into its parts.
pub(crate) fn split_agent_id(id: &str) -> Result<(&str, &str, Option<&str>), String> {
    let id = id.trim();
    let open = id.find('(').ok_or("an agent id looks like `type(args)` or `type(args)[uuid]`")?;
    // A phantom id follows the argument list in brackets.
    let phantom_split = id.strip_suffix(']').and_then(|s| s.rfind(")[").map(|at| (&s[..=at], &s[at + 2..])));
    let (body, phantom) = match phantom_split {
        Some((body, uuid)) => (body, Some(uuid)),
        None => (id, None),
    };
    let params = body
        .get(open + 1..)
        .and_then(|rest| rest.strip_suffix(')'))
        .ok_or("the argument list is not closed with `)`")?;
    let name = id[..open].trim();
    if name.is_empty() {
        return Err("the agent type name is empty".into());
    }
    Ok((name, params, phantom))
}

/// Parse the compact WAVE argument list of an agent id.
pub(crate) fn parse_agent_id_params(params: &str, types: &[Type]) -> Result<Vec<Value>, String> {
    match types.len() {
        0 if params.trim().is_empty() => Ok(Vec::new()),
        0 => Err(format!("the constructor takes no arguments, got `{params}`")),
        // Several arguments read as one tuple.
        1 => Ok(vec![crate::wave::parse(params, &types[0]).map_err(|e| e.to_string())?]),
        _ => match crate::wave::parse(&format!("({params})"), &Type::Tuple(types.to_vec())) {
            Ok(Value::Tuple(values)) => Ok(values),
            Ok(other) => Err(format!("unexpected arguments {other:?}")),
            Err(e) => Err(e.to_string()),
        },
    }
}

/// The two halves of a UUID.
pub(crate) fn uuid_from_u128(v: u128) -> Uuid {
    Uuid { high_bits: (v >> 64) as u64, low_bits: v as u64 }
}

/// A version-4 UUID made of two random words (the version and variant bits
/// set as RFC 9562 requires).
pub(crate) fn uuid_v4(high: u64, low: u64) -> Uuid {
    Uuid { high_bits: (high & !0xF000) | 0x4000, low_bits: (low & !(0b11 << 62)) | (0b10 << 62) }
}

/// Parse the canonical `8-4-4-4-12` hex form (either case).
pub(crate) fn parse_uuid(text: &str) -> Result<Uuid, String> {
    let groups: Vec<&str> = text.split('-').collect();
    let lengths: Vec<usize> = groups.iter().map(|g| g.len()).collect();
    if lengths != [8, 4, 4, 4, 12] {
        return Err(format!("`{text}` is not a UUID (expected 8-4-4-4-12 hex digits)"));
    }
    let hex: String = groups.concat();
    let value = u128::from_str_radix(&hex, 16).map_err(|_| format!("`{text}` is not a UUID (non-hex digits)"))?;
    Ok(uuid_from_u128(value))
}

/// The 128 bits of a UUID (the inverse of [`uuid_from_u128`]).
pub(crate) fn u128_from_uuid(uuid: &Uuid) -> u128 {
    (u128::from(uuid.high_bits) << 64) | u128::from(uuid.low_bits)
}

/// The canonical lower-case `8-4-4-4-12` form.
pub(crate) fn uuid_to_string(uuid: &Uuid) -> String {
    let h = format!("{:032x}", u128_from_uuid(uuid));
    format!("{}-{}-{}-{}-{}", &h[0..8], &h[8..12], &h[12..16], &h[16..20], &h[20..32])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phantom_ids_are_appended_and_taken_off() {
        let uuid = uuid_from_u128(0x0123_4567_89ab_cdef_0123_4567_89ab_cdef);
        let id = with_phantom(r#"cart("a[1]")"#.to_string(), Some(&uuid));
        assert_eq!(id, r#"cart("a[1]")[01234567-89ab-cdef-0123-456789abcdef]"#);
        assert_eq!(without_phantom(&id), r#"cart("a[1]")"#);
        assert_eq!(without_phantom(r#"cart("a[1]")"#), r#"cart("a[1]")"#);
        assert_eq!(with_phantom("cart()".to_string(), None), "cart()");
    }

    #[test]
    fn type_names_become_kebab_case() {
        for (name, kebab) in [
            ("ShoppingCart", "shopping-cart"),
            ("Counter", "counter"),
            ("probe", "probe"),
            ("HTTPProxy", "http-proxy"),
            ("Agent2Go", "agent2-go"),
            ("snake_case", "snake-case"),
        ] {
            assert_eq!(kebab_case(name), kebab);
        }
    }

    #[test]
    fn uuids_round_trip_and_bad_text_is_an_error() {
        let text = "67e55044-10b1-426f-9247-bb680e5fe0c8";
        let uuid = parse_uuid(text).expect("valid");
        assert_eq!(uuid.high_bits, 0x67e5_5044_10b1_426f);
        assert_eq!(uuid_to_string(&uuid), text);
        assert_eq!(parse_uuid(&text.to_uppercase()).map(|u| uuid_to_string(&u)).as_deref(), Ok(text));
        assert!(parse_uuid("67e55044-10b1-426f-9247").unwrap_err().contains("8-4-4-4-12"));
        assert!(parse_uuid("zze55044-10b1-426f-9247-bb680e5fe0c8").unwrap_err().contains("non-hex"));
        assert!(parse_uuid("0195e3a41b2c-4d5e-8f90-a1b2c3d4e5f6-").is_err());
    }

    #[test]
    fn agent_ids_split_into_parts() {
        assert_eq!(split_agent_id(r#"counter("a")"#), Ok(("counter", r#""a""#, None)));
        assert_eq!(
            split_agent_id(r#"cart("a",2)[0195e3a4-1b2c-4d5e-8f90-a1b2c3d4e5f6]"#),
            Ok(("cart", r#""a",2"#, Some("0195e3a4-1b2c-4d5e-8f90-a1b2c3d4e5f6")))
        );
        assert!(split_agent_id("counter").is_err());
        assert!(split_agent_id("(1)").is_err());
        assert!(split_agent_id("counter(1").is_err());
        // A phantom suffix before the argument list opens is refused, not sliced.
        assert!(split_agent_id("x)[(]").is_err());
    }

    #[test]
    fn parameters_parse_with_their_types() {
        assert_eq!(parse_agent_id_params(r#""a""#, &[Type::String]), Ok(vec![Value::string("a")]));
        assert_eq!(
            parse_agent_id_params(r#""a",2"#, &[Type::String, Type::U32]),
            Ok(vec![Value::string("a"), Value::U32(2)])
        );
        assert_eq!(parse_agent_id_params("", &[]), Ok(vec![]));
        assert!(parse_agent_id_params("1", &[]).is_err());
        assert!(parse_agent_id_params("x", &[Type::U8]).is_err());
    }
}
