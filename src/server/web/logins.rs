//! The live logins: a random id (the cookie's value) for each person logged in, until
//! it expires or they log out.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::server::web::identity::Identity;

struct Login {
    identity: Identity,
    expires: Instant,
}

#[derive(Default)]
pub(super) struct Logins(Mutex<HashMap<String, Login>>);

impl Logins {
    fn lock(&self) -> MutexGuard<'_, HashMap<String, Login>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A new login for `lifetime`; its id. Expired ones are dropped on the way.
    pub(super) fn start(&self, identity: Identity, lifetime: Duration) -> String {
        let id = random_hex(32);
        let mut logins = self.lock();
        let now = Instant::now();
        logins.retain(|_, l| l.expires > now);
        logins.insert(
            id.clone(),
            Login {
                identity,
                expires: now + lifetime,
            },
        );
        id
    }

    /// Whom the login `id` is for, while it lasts.
    pub(super) fn find(&self, id: &str) -> Option<Identity> {
        let mut logins = self.lock();
        match logins.get(id) {
            Some(l) if l.expires > Instant::now() => Some(l.identity.clone()),
            Some(_) => {
                logins.remove(id);
                None
            }
            None => None,
        }
    }

    pub(super) fn end(&self, id: &str) {
        self.lock().remove(id);
    }
}

pub fn random_hex(bytes: usize) -> String {
    use rand::RngCore;
    let mut buf = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut buf);
    buf.iter().map(|b| format!("{b:02x}")).collect()
}
