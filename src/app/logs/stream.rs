//! One read of a log: `fetch`, then the body as a stream, chunk by chunk as podterm sends
//! it (never the whole response at once), until it ends, fails or is aborted.

use js_sys::{Reflect, Uint8Array};
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortSignal, ReadableStreamDefaultReader, RequestInit, Response};

use crate::app::xterm::js_message;

/// How a read ended.
#[derive(Debug)]
pub enum Outcome {
    /// The body ended: everything asked for was sent (a follow: the container stopped).
    Ended,
    /// podterm answered with an error: its status and its sentence.
    Refused { status: u16, message: String },
    /// The connection failed or dropped.
    Dropped(String),
    /// The page stopped it.
    Aborted,
}

/// Reads `url`: `opened` once podterm has answered yes, then `chunk` with each piece of the
/// body as it arrives.
pub async fn read(
    url: &str,
    signal: &AbortSignal,
    opened: impl FnOnce(),
    mut chunk: impl FnMut(&[u8]),
) -> Outcome {
    let dropped = |e: wasm_bindgen::JsValue| {
        if signal.aborted() {
            Outcome::Aborted
        } else {
            Outcome::Dropped(js_message(&e))
        }
    };
    let Some(window) = web_sys::window() else {
        return Outcome::Dropped("no window".into());
    };
    let init = RequestInit::new();
    init.set_signal(Some(signal));
    let response: Response = match JsFuture::from(window.fetch_with_str_and_init(url, &init)).await
    {
        Ok(response) => response.unchecked_into(),
        Err(e) => return dropped(e),
    };
    if !response.ok() {
        let status = response.status();
        let message = match response.text() {
            Ok(text) => JsFuture::from(text)
                .await
                .ok()
                .and_then(|t| t.as_string())
                .unwrap_or_default(),
            Err(_) => String::new(),
        };
        return Outcome::Refused {
            status,
            message: message.trim().to_string(),
        };
    }
    // Anything but podterm's text (a proxy's page, say) is not a log.
    let kind = response
        .headers()
        .get("content-type")
        .ok()
        .flatten()
        .unwrap_or_default();
    if !kind.starts_with("text/plain") {
        return Outcome::Refused {
            status: 502,
            message: format!("podterm's answer was not a log ({kind})"),
        };
    }
    opened();
    let Some(body) = response.body() else {
        return Outcome::Ended;
    };
    let reader: ReadableStreamDefaultReader = body.get_reader().unchecked_into();
    loop {
        let result = match JsFuture::from(reader.read()).await {
            Ok(result) => result,
            Err(e) => return dropped(e),
        };
        let done = Reflect::get(&result, &"done".into())
            .ok()
            .and_then(|d| d.as_bool())
            .unwrap_or(true);
        if done {
            return Outcome::Ended;
        }
        if let Ok(value) = Reflect::get(&result, &"value".into())
            && let Some(bytes) = value.dyn_ref::<Uint8Array>()
        {
            chunk(&bytes.to_vec());
        }
        if signal.aborted() {
            return Outcome::Aborted;
        }
    }
}
