//! Whom podterm may impersonate for a trusted proxy's user (`--auth proxy`).
//!
//! podterm's service account may impersonate whoever its role allows, so the names a
//! proxy sends are checked here first: a user or group whose name starts with `system:`
//! (the API server's own identities, `system:masters` among them) is refused unless a
//! pattern that itself starts with `system:` allows it, and groups that no pattern allows
//! are not passed on.

/// Patterns with `*` for any run of characters. `*` alone allows every name except the
/// reserved `system:` ones.
#[derive(Debug, Clone)]
pub struct ImpersonationPolicy {
    pub users: Vec<String>,
    pub groups: Vec<String>,
}

/// The prefix of the names Kubernetes keeps for itself.
const RESERVED: &str = "system:";

impl Default for ImpersonationPolicy {
    fn default() -> Self {
        Self {
            users: vec!["*".into()],
            groups: vec!["*".into()],
        }
    }
}

impl ImpersonationPolicy {
    /// The groups to pass on for `user`, or why this person is refused.
    pub fn check(&self, user: &str, groups: &[String]) -> Result<Vec<String>, String> {
        if !allowed(&self.users, user) {
            return Err(if user.starts_with(RESERVED) {
                format!("podterm does not act as the Kubernetes system user {user:?}")
            } else {
                format!("podterm is not set up to act as the user {user:?}")
            });
        }
        if let Some(group) = groups
            .iter()
            .find(|g| g.starts_with(RESERVED) && !allowed(&self.groups, g))
        {
            return Err(format!(
                "podterm does not act for the Kubernetes system group {group:?}"
            ));
        }
        Ok(groups
            .iter()
            .filter(|g| allowed(&self.groups, g))
            .cloned()
            .collect())
    }
}

fn allowed(patterns: &[String], name: &str) -> bool {
    patterns.iter().any(|pattern| {
        // Only an explicit `system:` pattern reaches the reserved names.
        (!name.starts_with(RESERVED) || pattern.starts_with(RESERVED)) && matches(pattern, name)
    })
}

/// Whether `name` matches `pattern`, where `*` stands for any run of characters.
fn matches(pattern: &str, name: &str) -> bool {
    let mut parts = pattern.split('*');
    let first = parts.next().unwrap_or("");
    let Some(mut rest) = name.strip_prefix(first) else {
        return false;
    };
    let parts: Vec<&str> = parts.collect();
    let Some((last, middle)) = parts.split_last() else {
        return rest.is_empty();
    };
    for part in middle {
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    rest.len() >= last.len() && rest.ends_with(last)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(users: &[&str], groups: &[&str]) -> ImpersonationPolicy {
        let v = |x: &[&str]| x.iter().map(|s| s.to_string()).collect();
        ImpersonationPolicy {
            users: v(users),
            groups: v(groups),
        }
    }

    fn groups(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn patterns() {
        assert!(matches("*", "anything"));
        assert!(matches("team-*", "team-a"));
        assert!(!matches("team-*", "ateam-a"));
        assert!(matches("*-admins", "shop-admins"));
        assert!(matches("a*b*c", "axxbyyc"));
        assert!(!matches("a*b*c", "axxbyy"));
        assert!(!matches("ab*ba", "aba"));
        assert!(matches("exact", "exact"));
        assert!(!matches("exact", "exactly"));
    }

    #[test]
    fn system_names_need_an_explicit_pattern() {
        let default = ImpersonationPolicy::default();
        assert_eq!(
            default.check("mallory", &groups(&["developers"])),
            Ok(groups(&["developers"]))
        );
        assert!(
            default
                .check("mallory", &groups(&["developers", "system:masters"]))
                .unwrap_err()
                .contains("system:masters")
        );
        assert!(
            default
                .check("system:kube-controller-manager", &[])
                .is_err()
        );
        let explicit = policy(
            &["*", "system:serviceaccount:ci:*"],
            &["system:serviceaccounts"],
        );
        assert!(explicit.check("system:serviceaccount:ci:bot", &[]).is_ok());
        assert!(explicit.check("system:admin", &[]).is_err());
        assert!(
            explicit
                .check("bot", &groups(&["system:serviceaccounts"]))
                .is_ok()
        );
    }

    #[test]
    fn other_groups_are_left_out_not_refused() {
        let p = policy(&["*"], &["shop-*", "viewers"]);
        assert_eq!(
            p.check("alice", &groups(&["shop-dev", "everyone", "viewers"])),
            Ok(groups(&["shop-dev", "viewers"]))
        );
        assert!(policy(&["alice"], &["*"]).check("bob", &[]).is_err());
    }
}
