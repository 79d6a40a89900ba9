//! The page's own requests to podterm's JSON routes (`/api/files/…`, `/api/debug/…`; the
//! server functions have theirs): `fetch`, the answer read as JSON, a refusal kept with its
//! status for each part of the page to put in its own words.

/// Why a request failed: podterm's status and its sentence, or status 0 when podterm could
/// not be reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub status: u16,
    pub message: String,
}

impl Failure {
    pub fn new(status: u16, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into().trim().to_string(),
        }
    }
}

#[cfg(feature = "hydrate")]
pub use browser::*;

#[cfg(feature = "hydrate")]
mod browser {
    use serde::de::DeserializeOwned;
    use wasm_bindgen::JsCast;
    use wasm_bindgen_futures::JsFuture;

    use super::Failure;

    /// The status of a request that did not reach podterm.
    pub const UNREACHABLE: u16 = 0;

    /// Sends `method` to `url` (under the site's base) and reads its JSON answer.
    pub async fn fetch_json<T: DeserializeOwned>(method: &str, url: &str) -> Result<T, Failure> {
        let unreachable = |_| Failure::new(UNREACHABLE, "");
        let window = web_sys::window().ok_or_else(|| Failure::new(UNREACHABLE, "no window"))?;
        let url = format!("{}{url}", crate::app::base());
        let init = web_sys::RequestInit::new();
        init.set_method(method);
        let request = web_sys::Request::new_with_str_and_init(&url, &init).map_err(unreachable)?;
        let response: web_sys::Response = JsFuture::from(window.fetch_with_request(&request))
            .await
            .map_err(unreachable)?
            .unchecked_into();
        let text = JsFuture::from(response.text().map_err(unreachable)?)
            .await
            .map_err(unreachable)?
            .as_string()
            .unwrap_or_default();
        if !response.ok() {
            return Err(refused(response.status(), &text));
        }
        read(&text)
    }

    /// An answer's JSON, or the failure that says podterm's answer made no sense.
    pub fn read<T: DeserializeOwned>(text: &str) -> Result<T, Failure> {
        serde_json::from_str(text)
            .map_err(|_| Failure::new(502, "podterm's answer was not understood"))
    }

    /// podterm's refusal; a 401 is a login that ended, whatever the body says.
    pub fn refused(status: u16, text: &str) -> Failure {
        match status {
            401 => Failure::new(401, "your login has ended"),
            _ => Failure::new(status, text),
        }
    }
}
