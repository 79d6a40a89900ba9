//! Kubernetes object name rules (DNS-1123), checked before any call to the cluster. Shared
//! by the server and the browser, so a bad name can be told apart before anything is sent.

/// A DNS-1123 label: namespaces and container names.
pub fn validate_label(name: &str) -> Result<(), String> {
    if name.len() > 63 {
        return Err(format!(
            "must be no more than 63 characters (has {})",
            name.len()
        ));
    }
    check_label(name)
}

/// A DNS-1123 subdomain: pod names.
pub fn validate_subdomain(name: &str) -> Result<(), String> {
    if name.len() > 253 {
        return Err(format!(
            "must be no more than 253 characters (has {})",
            name.len()
        ));
    }
    name.split('.').try_for_each(check_label)
}

/// A container's place (namespace, pod, container), each name checked; the error says
/// which, as a sentence.
pub fn validate_place(namespace: &str, pod: &str, container: &str) -> Result<(), String> {
    let invalid =
        |what: &str, name: &str, e: String| format!("{what} {name:?} is not a valid name: {e}");
    validate_label(namespace).map_err(|e| invalid("namespace", namespace, e))?;
    validate_subdomain(pod).map_err(|e| invalid("pod", pod, e))?;
    validate_label(container).map_err(|e| invalid("container", container, e))
}

fn check_label(part: &str) -> Result<(), String> {
    let ok_inner = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-';
    let ok_edge = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit();
    let valid = !part.is_empty()
        && part.chars().all(ok_inner)
        && part.chars().next().is_some_and(ok_edge)
        && part.chars().last().is_some_and(ok_edge);
    if valid {
        Ok(())
    } else {
        Err("must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_and_subdomains() {
        for good in ["a", "web-0", "0abc", &"a".repeat(63)] {
            assert!(validate_label(good).is_ok(), "{good}");
        }
        for bad in ["", "-a", "a-", "A", "a_b", "a.b", &"a".repeat(64), "ü"] {
            assert!(validate_label(bad).is_err(), "{bad}");
        }
        assert!(validate_subdomain("a.b-c.d").is_ok());
        assert!(validate_subdomain("a..b").is_err());
        assert!(validate_subdomain(".a").is_err());
        assert!(validate_subdomain(&"a".repeat(254)).is_err());
    }
}
