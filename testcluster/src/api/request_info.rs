//! What a request asks for, read from its method and path as the API server's
//! RequestInfo does: the verb, API group, resource, subresource, namespace and name.

use axum::http::Method;

use crate::rbac::Attributes;

/// A resource request's attributes (owned); None for non-resource paths like `/api`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestInfo {
    pub verb: String,
    pub api_group: String,
    pub resource: String,
    pub subresource: Option<String>,
    pub namespace: Option<String>,
    pub name: Option<String>,
}

impl RequestInfo {
    pub fn parse(method: &Method, path: &str, query: Option<&str>) -> Option<Self> {
        let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
        let (api_group, mut rest) = match segments.as_slice() {
            ["api", _version, rest @ ..] => ("", rest),
            ["apis", group, _version, rest @ ..] => (*group, rest),
            _ => return None,
        };
        let mut watch = false;
        if rest.first() == Some(&"watch") {
            watch = true;
            rest = &rest[1..];
        }
        let (namespace, rest) = match rest {
            ["namespaces", ns, rest @ ..] if !rest.is_empty() => (Some(*ns), rest),
            _ => (None, rest),
        };
        let (resource, name, subresource) = match rest {
            [resource] => (*resource, None, None),
            [resource, name] => (*resource, Some(*name), None),
            [resource, name, sub] => (*resource, Some(*name), Some(*sub)),
            _ => return None,
        };
        let watch_param = query.is_some_and(|q| {
            form_urlencoded::parse(q.as_bytes())
                .any(|(k, v)| k == "watch" && matches!(v.as_ref(), "true" | "1"))
        });
        let verb = match *method {
            Method::GET | Method::HEAD if watch || watch_param => "watch",
            Method::GET | Method::HEAD if name.is_some() => "get",
            Method::GET | Method::HEAD => "list",
            Method::POST => "create",
            Method::PUT => "update",
            Method::PATCH => "patch",
            Method::DELETE if name.is_some() => "delete",
            Method::DELETE => "deletecollection",
            _ => return None,
        };
        Some(Self {
            verb: verb.into(),
            api_group: api_group.into(),
            resource: resource.into(),
            subresource: subresource.map(str::to_string),
            namespace: namespace.map(str::to_string),
            name: name.map(str::to_string),
        })
    }

    /// The same question with another verb (e.g. `impersonate-on:user-info:list`).
    pub fn attributes<'a>(&'a self, verb: &'a str) -> Attributes<'a> {
        Attributes {
            verb,
            resource: &self.resource,
            subresource: self.subresource.as_deref(),
            api_group: &self.api_group,
            namespace: self.namespace.as_deref(),
            name: self.name.as_deref(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_read_as_the_api_server_reads_them() {
        let info = |method: Method, path: &str, query: Option<&str>| {
            RequestInfo::parse(&method, path, query).map(|i| {
                (
                    i.verb,
                    i.api_group,
                    i.resource,
                    i.subresource,
                    i.namespace,
                    i.name,
                )
            })
        };
        let s = |v: &str| v.to_string();
        assert_eq!(
            info(Method::GET, "/api/v1/namespaces/shop/pods", None),
            Some((s("list"), s(""), s("pods"), None, Some(s("shop")), None))
        );
        assert_eq!(
            info(Method::GET, "/api/v1/namespaces/shop/pods", Some("watch=1")),
            Some((s("watch"), s(""), s("pods"), None, Some(s("shop")), None))
        );
        assert_eq!(
            info(
                Method::GET,
                "/api/v1/namespaces/shop/pods/web/exec",
                Some("command=sh")
            ),
            Some((
                s("get"),
                s(""),
                s("pods"),
                Some(s("exec")),
                Some(s("shop")),
                Some(s("web"))
            ))
        );
        assert_eq!(
            info(Method::GET, "/api/v1/namespaces/shop", None),
            Some((
                s("get"),
                s(""),
                s("namespaces"),
                None,
                None,
                Some(s("shop"))
            ))
        );
        assert_eq!(
            info(
                Method::POST,
                "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
                None
            ),
            Some((
                s("create"),
                s("authorization.k8s.io"),
                s("selfsubjectaccessreviews"),
                None,
                None,
                None
            ))
        );
        assert_eq!(info(Method::GET, "/api", None), None);
        assert_eq!(info(Method::GET, "/version", None), None);
    }
}
