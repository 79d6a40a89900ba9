//! Server functions: what the dashboard needs from the cluster, one call per page state.

use leptos::prelude::*;
use leptos::server_fn::codec::Post;
use leptos::server_fn::{Bytes, ContentType, Decodes, Encodes, Format, FormatType};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::model::{ClusterContext, Namespaces, PodWindow};

/// server_fn's `Json` output encoding, but decoded from `&str` rather than `&[u8]`: the
/// page's resources read their server-rendered values from `&str`, and serde_json's
/// deserializers are compiled once per input type, so this keeps the wasm from carrying
/// two copies of them. Same bytes and content type on the wire.
pub struct JsonText;

/// JSON on the wire, written by serde_json; the two encodings differ only in how the page
/// reads it.
macro_rules! written_as_json {
    ($encoding:ty) => {
        impl ContentType for $encoding {
            const CONTENT_TYPE: &'static str = "application/json";
        }

        impl FormatType for $encoding {
            const FORMAT_TYPE: Format = Format::Text;
        }

        impl<T: Serialize> Encodes<T> for $encoding {
            type Error = serde_json::Error;

            fn encode(output: &T) -> Result<Bytes, Self::Error> {
                serde_json::to_vec(output).map(Bytes::from)
            }
        }
    };
}

written_as_json!(JsonText);

impl<T: DeserializeOwned> Decodes<T> for JsonText {
    type Error = serde_json::Error;

    fn decode(bytes: Bytes) -> Result<T, Self::Error> {
        let text = std::str::from_utf8(&bytes).map_err(serde::de::Error::custom)?;
        serde_json::from_str(text)
    }
}

/// JSON as [`JsonText`] sends it, read in the browser by the browser's own parser
/// (`JSON.parse`) rather than serde_json: the terminal's own page (its server functions
/// and their resources) then has no serde_json in its first load (64 KB of wasm, 29 KB
/// gzip, with the float formatting its errors bring). The server writes it with
/// serde_json. For a server function's output and a `OnceResource`'s value alike.
pub struct BrowserJson;

written_as_json!(BrowserJson);

impl<T: ReadJson> Decodes<T> for BrowserJson {
    type Error = String;

    fn decode(bytes: Bytes) -> Result<T, Self::Error> {
        let text = std::str::from_utf8(&bytes).map_err(|e| e.to_string())?;
        read_json(text)
    }
}

impl<T: Serialize> leptos::server::codee::Encoder<T> for BrowserJson {
    type Error = serde_json::Error;
    type Encoded = String;

    fn encode(value: &T) -> Result<String, Self::Error> {
        serde_json::to_string(value)
    }
}

impl<T: ReadJson> leptos::server::codee::Decoder<T> for BrowserJson {
    type Error = String;
    type Encoded = str;

    fn decode(text: &str) -> Result<T, Self::Error> {
        read_json(text)
    }
}

/// What [`BrowserJson`] reads: in the browser from the value `JSON.parse` gives, in the
/// JSON serde writes for it; elsewhere with serde_json.
pub trait ReadJson: DeserializeOwned {
    #[cfg(feature = "hydrate")]
    fn from_js(value: &wasm_bindgen::JsValue) -> Option<Self>;
}

fn read_json<T: ReadJson>(text: &str) -> Result<T, String> {
    #[cfg(feature = "hydrate")]
    {
        let value = js_sys::JSON::parse(text).map_err(|_| "not JSON".to_string())?;
        T::from_js(&value).ok_or_else(|| "unexpected JSON".to_string())
    }
    #[cfg(not(feature = "hydrate"))]
    {
        serde_json::from_str(text).map_err(|e| e.to_string())
    }
}

/// An object's field (`None` for anything but an object, e.g. `null`).
#[cfg(feature = "hydrate")]
fn field(object: &wasm_bindgen::JsValue, name: &str) -> Option<wasm_bindgen::JsValue> {
    if !object.is_object() {
        return None;
    }
    js_sys::Reflect::get(object, &wasm_bindgen::JsValue::from_str(name)).ok()
}

impl ReadJson for String {
    #[cfg(feature = "hydrate")]
    fn from_js(value: &wasm_bindgen::JsValue) -> Option<Self> {
        value.as_string()
    }
}

impl<T: ReadJson> ReadJson for Option<T> {
    #[cfg(feature = "hydrate")]
    fn from_js(value: &wasm_bindgen::JsValue) -> Option<Self> {
        if value.is_null() {
            Some(None)
        } else {
            T::from_js(value).map(Some)
        }
    }
}

/// serde's `{"Ok": …}` or `{"Err": …}`.
impl<T: ReadJson, E: ReadJson> ReadJson for Result<T, E> {
    #[cfg(feature = "hydrate")]
    fn from_js(value: &wasm_bindgen::JsValue) -> Option<Self> {
        match (field(value, "Ok"), field(value, "Err")) {
            (Some(ok), _) if !ok.is_undefined() => T::from_js(&ok).map(Ok),
            (_, Some(err)) if !err.is_undefined() => E::from_js(&err).map(Err),
            _ => None,
        }
    }
}

/// Everything the dashboard shows for one context and namespace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dashboard {
    pub version: String,
    /// Serving the built-in demo cluster.
    pub demo: bool,
    pub contexts: Vec<ClusterContext>,
    /// The context shown (the current one when none was asked for).
    pub context: String,
    pub namespaces: Result<Namespaces, String>,
    pub namespace: String,
    /// The first pods (by name) matching the filter asked for, with the counts.
    pub pods: Result<PodWindow, String>,
    /// Why the person may not open shells in this namespace, if they may not.
    pub exec_denied: Option<String>,
    /// The ways in besides a shell, as the namespace allows them (see `app::ways_in`).
    #[serde(default)]
    pub ways: crate::app::ways_in::Ways,
    /// Who is logged in, as podterm knows them.
    pub user: String,
    /// The context shown needs a login of its own (user-token logins are per context).
    pub login_for: Option<String>,
}

/// The dashboard for a context and namespace (the current ones when not given), with the
/// first `limit` pods (by name; clamped to what one list shows) whose name, status or
/// container names contain `filter`.
#[server(endpoint = "dashboard", output = Post<JsonText>)]
pub async fn load_dashboard(
    context: Option<String>,
    namespace: Option<String>,
    filter: Option<String>,
    limit: Option<usize>,
) -> Result<Dashboard, ServerFnError> {
    use crate::server::cluster::{access, pods};
    use crate::server::{caller, state};
    let state = state()?;
    let caller = caller()?;
    let contexts = state.clusters.contexts();
    let context = context
        .filter(|c| !c.is_empty())
        .or_else(|| state.clusters.current())
        .ok_or_else(|| ServerFnError::new("no cluster contexts are configured"))?;
    let mut view = Dashboard {
        version: env!("CARGO_PKG_VERSION").into(),
        demo: state.demo,
        contexts,
        context: context.clone(),
        namespaces: Err(String::new()),
        namespace: namespace.clone().unwrap_or_default(),
        pods: Err(String::new()),
        exec_denied: None,
        ways: crate::app::ways_in::Ways {
            debug_image: state.debug.default.clone(),
            ..Default::default()
        },
        user: caller.identity.name().to_string(),
        login_for: None,
    };
    let cluster = match state.clusters.get(Some(&context), &caller.identity).await {
        Ok(cluster) => cluster,
        Err(e) => {
            if let crate::server::cluster::clusters::ClusterError::OtherLogin { wanted, .. } = &e {
                view.login_for = Some(wanted.clone());
            }
            view.namespaces = Err(e.to_string());
            view.pods = Err(e.to_string());
            return Ok(view);
        }
    };
    let namespace = namespace
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| cluster.default_namespace.clone());
    view.namespace = namespace.clone();
    let filter = filter.unwrap_or_default();
    let limit = crate::model::window_limit(limit);
    let valid = crate::names::validate_label(&namespace);
    // Independent questions to the cluster, asked at once.
    let (namespaces, listed, exec, debug, attach) = futures::join!(
        pods::namespaces(&cluster),
        async {
            match &valid {
                Err(e) => Err(format!("{namespace:?} is not a valid namespace name: {e}")),
                Ok(()) => {
                    state
                        .clusters
                        .watches
                        .window(&cluster, &namespace, &filter, limit)
                        .await
                }
            }
        },
        async {
            match &valid {
                Err(_) => Ok(()),
                Ok(()) => access::may_exec(&cluster, &namespace, None).await,
            }
        },
        async {
            match &valid {
                Err(_) => Ok(()),
                Ok(()) => access::may_debug(&cluster, &namespace, None).await,
            }
        },
        async {
            match &valid {
                Err(_) => Ok(()),
                Ok(()) => access::may_attach(&cluster, &namespace, None).await,
            }
        },
    );
    // A namespace that is not there has no pods: say so, rather than "no pods".
    let missing = namespaces
        .as_ref()
        .is_ok_and(|ns| ns.listable && !ns.names.contains(&namespace));
    view.namespaces = namespaces.map_err(|f| f.message);
    view.pods = match listed {
        Ok(window) if missing && window.total == 0 => Err(format!(
            "There is no namespace {namespace} in {context}. Pick one from the Namespace list above."
        )),
        other => other,
    };
    if view.pods.is_ok() {
        view.exec_denied = exec.err().map(|failure| failure.message);
        view.ways.debug_denied = debug.err().map(|failure| failure.message);
        view.ways.attach_denied = attach.err().map(|failure| failure.message);
    }
    Ok(view)
}

/// The container a deep link that names none opens: the pod's default one.
#[server(endpoint = "pod", output = Post<BrowserJson>)]
pub async fn default_container(
    context: Option<String>,
    namespace: String,
    pod: String,
) -> Result<String, ServerFnError> {
    use crate::server::cluster::{kube_errors::classify, pods::summarize};
    use k8s_openapi::api::core::v1::Pod;
    crate::names::validate_label(&namespace)
        .map_err(|e| ServerFnError::new(format!("namespace {namespace:?}: {e}")))?;
    crate::names::validate_subdomain(&pod)
        .map_err(|e| ServerFnError::new(format!("pod {pod:?}: {e}")))?;
    let (_, cluster) = person_cluster(context).await?;
    let api: kube::Api<Pod> = kube::Api::namespaced(cluster.client.clone(), &namespace);
    let found = api.get(&pod).await.map_err(|e| {
        let failure = classify(&e);
        ServerFnError::new(match failure.reason {
            crate::protocol::ErrorReason::NotFound => {
                format!("there is no pod {pod} in namespace {namespace}")
            }
            _ => failure.message,
        })
    })?;
    summarize(&found)
        .default_container
        .ok_or_else(|| ServerFnError::new(format!("pod {pod} has no containers")))
}

/// Where a terminal cannot start: the container's state, last end, last log lines, and
/// the ways in the person may take.
#[server(endpoint = "insight", output = Post<JsonText>)]
pub async fn container_insight(
    context: Option<String>,
    namespace: String,
    pod: String,
    container: String,
) -> Result<crate::model::ContainerInsight, ServerFnError> {
    use crate::server::cluster::insight::insight;
    crate::names::validate_place(&namespace, &pod, &container).map_err(ServerFnError::new)?;
    let (state, cluster) = person_cluster(context).await?;
    insight(&cluster, &namespace, &pod, &container, &state.debug.default)
        .await
        .map_err(|f| ServerFnError::new(f.message))
}

/// The server's state and the calling person's client for a context (the current one
/// when `None`).
#[cfg(feature = "ssr")]
async fn person_cluster(
    context: Option<String>,
) -> Result<
    (
        crate::server::AppState,
        crate::server::cluster::clusters::Cluster,
    ),
    ServerFnError,
> {
    use crate::server::{caller, state};
    let state = state()?;
    let caller = caller()?;
    let cluster = state
        .clusters
        .get(context.as_deref(), &caller.identity)
        .await
        .map_err(|e| ServerFnError::new(e.to_string()))?;
    Ok((state, cluster))
}

/// What a terminal's own page shows around it, as the dashboard does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageInfo {
    pub version: String,
    pub demo: bool,
    /// The context the terminal runs in (the current one when the link names none).
    pub context: String,
    pub user: String,
}

impl ReadJson for PageInfo {
    #[cfg(feature = "hydrate")]
    fn from_js(value: &wasm_bindgen::JsValue) -> Option<Self> {
        let text = |name| field(value, name)?.as_string();
        Some(PageInfo {
            version: text("version")?,
            demo: field(value, "demo")?.as_bool()?,
            context: text("context")?,
            user: text("user")?,
        })
    }
}

#[server(endpoint = "page", output = Post<BrowserJson>)]
pub async fn page_bar(context: Option<String>) -> Result<PageInfo, ServerFnError> {
    use crate::server::{caller, state};
    let state = state()?;
    let caller = caller()?;
    let context = context
        .filter(|c| !c.is_empty())
        .or_else(|| state.clusters.current())
        .unwrap_or_default();
    Ok(PageInfo {
        version: env!("CARGO_PKG_VERSION").into(),
        demo: state.demo,
        context,
        user: caller.identity.name().to_string(),
    })
}
