//! Server events as the page reads them.

use wasm_bindgen::prelude::*;

use crate::protocol::{ErrorReason, ServerEvent};

/// Reads a server event with the browser's JSON parser: serde_json's support for tagged
/// enums would add about 10 KB to the wasm. Accepts the JSON `ServerEvent` describes;
/// numbers must be integers in range (offsets below 2^53, which no session reaches).
pub(super) fn parse_event(text: &str) -> Option<ServerEvent> {
    let event = js_sys::JSON::parse(text).ok()?;
    // Reflect.get fails on anything but an object, e.g. `null`.
    let field = |name: &str| js_sys::Reflect::get(&event, &JsValue::from_str(name)).ok();
    let string = |name: &str| field(name)?.as_string();
    let integer = |name: &str, min: f64, max: f64| {
        field(name)?
            .as_f64()
            .filter(|n| n.fract() == 0.0 && (min..=max).contains(n))
    };
    Some(match string("type")?.as_str() {
        "attached" => ServerEvent::Attached {
            session: string("session")?,
            offset: integer("offset", 0.0, js_sys::Number::MAX_SAFE_INTEGER)? as u64,
            resumed: field("resumed")?.as_bool()?,
        },
        "pong" => ServerEvent::Pong,
        "exit" => ServerEvent::Exit {
            code: integer("code", i32::MIN.into(), i32::MAX.into())? as i32,
        },
        "error" => ServerEvent::Error {
            reason: ErrorReason::from_name(&string("reason")?)?,
            message: string("message")?,
        },
        _ => return None,
    })
}
