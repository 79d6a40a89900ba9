//! A small RBAC: the state file's rules decide who may do what, where.

use serde_json::json;

use crate::config::PolicyRule;
use crate::status::ApiError;

/// Who is calling, after authentication and impersonation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub user: String,
    pub groups: Vec<String>,
}

impl Identity {
    pub fn new(user: impl Into<String>, mut groups: Vec<String>) -> Self {
        if !groups.iter().any(|g| g == "system:authenticated") {
            groups.push("system:authenticated".into());
        }
        Self {
            user: user.into(),
            groups,
        }
    }
}

/// One authorization question, as the API server asks it.
#[derive(Debug, Clone)]
pub struct Attributes<'a> {
    pub verb: &'a str,
    /// `pods`, `namespaces`, `users`, `groups`, `selfsubjectaccessreviews`.
    pub resource: &'a str,
    /// `exec` for pods/exec.
    pub subresource: Option<&'a str>,
    pub api_group: &'a str,
    pub namespace: Option<&'a str>,
    pub name: Option<&'a str>,
}

#[derive(Debug, Clone, Default)]
pub struct Policy {
    rules: Vec<PolicyRule>,
}

impl Policy {
    pub fn new(rules: Vec<PolicyRule>) -> Self {
        Self { rules }
    }

    /// The index of the first rule that allows the request, if any.
    pub fn allowing_rule(&self, who: &Identity, attrs: &Attributes) -> Option<usize> {
        let resource = match attrs.subresource {
            Some(sub) => format!("{}/{sub}", attrs.resource),
            None => attrs.resource.to_string(),
        };
        self.rules.iter().position(|rule| {
            let subject = rule.subjects.iter().any(|s| {
                s == "*"
                    || s.strip_prefix("user:") == Some(who.user.as_str())
                    || s.strip_prefix("group:")
                        .is_some_and(|g| who.groups.iter().any(|x| x == g))
            });
            let namespace = rule.namespaces.is_empty()
                || rule.namespaces.iter().any(|n| n == "*")
                || attrs
                    .namespace
                    .is_some_and(|ns| rule.namespaces.iter().any(|n| n == ns));
            let resource = rule.resources.iter().any(|r| r == "*" || *r == resource);
            let verb = rule.verbs.iter().any(|v| v == "*" || v == attrs.verb);
            let name = rule.names.is_empty()
                || attrs
                    .name
                    .is_some_and(|n| rule.names.iter().any(|x| x == n));
            subject && namespace && resource && verb && name
        })
    }

    pub fn allows(&self, who: &Identity, attrs: &Attributes) -> bool {
        self.allowing_rule(who, attrs).is_some()
    }

    /// Ok, or the 403 Status a real API server sends for this request.
    pub fn check(&self, who: &Identity, attrs: &Attributes) -> Result<(), ApiError> {
        if self.allows(who, attrs) {
            Ok(())
        } else {
            Err(forbidden(who, attrs))
        }
    }
}

pub fn forbidden(who: &Identity, attrs: &Attributes) -> ApiError {
    let resource = match attrs.subresource {
        Some(sub) => format!("{}/{sub}", attrs.resource),
        None => attrs.resource.to_string(),
    };
    let target = match attrs.name {
        Some(name) => format!("{} \"{name}\"", attrs.resource),
        None => attrs.resource.to_string(),
    };
    let scope = match attrs.namespace {
        Some(ns) => format!("in the namespace \"{ns}\""),
        None => "at the cluster scope".to_string(),
    };
    let message = format!(
        "{target} is forbidden: User \"{}\" cannot {} resource \"{resource}\" in API group \"{}\" {scope}",
        who.user, attrs.verb, attrs.api_group
    );
    let mut details = json!({"kind": attrs.resource});
    if !attrs.api_group.is_empty() {
        details["group"] = json!(attrs.api_group);
    }
    if let Some(name) = attrs.name {
        details["name"] = json!(name);
    }
    ApiError::new(403, "Forbidden", message).with_details(details)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(
        subjects: &[&str],
        namespaces: &[&str],
        resources: &[&str],
        verbs: &[&str],
    ) -> PolicyRule {
        let v = |x: &[&str]| x.iter().map(|s| s.to_string()).collect();
        PolicyRule {
            subjects: v(subjects),
            namespaces: v(namespaces),
            resources: v(resources),
            verbs: v(verbs),
            names: vec![],
        }
    }

    fn attrs<'a>(
        verb: &'a str,
        resource: &'a str,
        sub: Option<&'a str>,
        ns: Option<&'a str>,
    ) -> Attributes<'a> {
        Attributes {
            verb,
            resource,
            subresource: sub,
            api_group: "",
            namespace: ns,
            name: Some("web"),
        }
    }

    #[test]
    fn rules_match_subject_namespace_resource_and_verb() {
        let policy = Policy::new(vec![
            rule(
                &["group:dev"],
                &["shop"],
                &["pods/exec"],
                &["get", "create"],
            ),
            rule(&["user:root"], &[], &["*"], &["*"]),
        ]);
        let dev = Identity::new("alice", vec!["dev".into()]);
        assert!(policy.allows(&dev, &attrs("get", "pods", Some("exec"), Some("shop"))));
        assert!(!policy.allows(&dev, &attrs("get", "pods", Some("exec"), Some("batch"))));
        assert!(!policy.allows(&dev, &attrs("get", "pods", None, Some("shop"))));
        assert!(!policy.allows(&dev, &attrs("delete", "pods", Some("exec"), Some("shop"))));
        assert!(policy.allows(
            &Identity::new("root", vec![]),
            &attrs("delete", "pods", None, None)
        ));
    }

    #[test]
    fn forbidden_reads_like_the_api_server() {
        let who = Identity::new("bob", vec![]);
        let err = forbidden(&who, &attrs("create", "pods", Some("exec"), Some("shop")));
        assert_eq!(err.code, 403);
        assert_eq!(
            err.message,
            "pods \"web\" is forbidden: User \"bob\" cannot create resource \"pods/exec\" in API group \"\" in the namespace \"shop\""
        );
    }
}
