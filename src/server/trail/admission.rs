//! Admission of terminal sessions: per-person limits, a maximum length, and an
//! administrator's view to list the admitted sessions and end one.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::Serialize;
use tokio_util::sync::CancellationToken;

use crate::model::Target;

#[derive(Debug, Clone)]
pub struct Limits {
    pub sessions_per_user: usize,
    pub starts_per_minute: usize,
    pub max_duration: Option<Duration>,
}

/// A session as an administrator sees it.
#[derive(Debug, Clone, Serialize)]
pub struct SessionInfo {
    pub id: String,
    pub user: String,
    pub from: String,
    /// With its context named; its fields are the record's own in JSON.
    #[serde(flatten)]
    pub target: Target,
    pub start: String,
}

#[derive(Debug)]
struct Entry {
    info: SessionInfo,
    end: CancellationToken,
}

#[derive(Debug, Default)]
struct State {
    sessions: HashMap<String, Entry>,
    starts: HashMap<String, VecDeque<Instant>>,
}

#[derive(Debug)]
pub struct Admissions {
    limits: Limits,
    state: Mutex<State>,
}

/// Held for as long as a session runs; leaving removes it from the live list.
#[derive(Debug)]
pub struct Ticket {
    registry: Arc<Admissions>,
    id: String,
    /// Cancelled when an administrator ends the session.
    pub end: CancellationToken,
}

impl Drop for Ticket {
    fn drop(&mut self) {
        self.registry.lock().sessions.remove(&self.id);
    }
}

impl Admissions {
    pub fn new(limits: Limits) -> Self {
        Self {
            limits,
            state: Mutex::new(State::default()),
        }
    }

    pub fn max_duration(&self) -> Option<Duration> {
        self.limits.max_duration
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Admits a new session for `info.user`, or says which limit it would break.
    pub fn admit(self: &Arc<Self>, info: SessionInfo) -> Result<Ticket, String> {
        let mut state = self.lock();
        let user = info.user.clone();
        let running = state
            .sessions
            .values()
            .filter(|e| e.info.user == user)
            .count();
        if running >= self.limits.sessions_per_user {
            return Err(format!(
                "you already have {running} terminals open, the most allowed at once; close one first"
            ));
        }
        let now = Instant::now();
        let starts = state.starts.entry(user).or_default();
        while starts
            .front()
            .is_some_and(|t| now.duration_since(*t) > Duration::from_secs(60))
        {
            starts.pop_front();
        }
        if starts.len() >= self.limits.starts_per_minute {
            return Err(format!(
                "you opened {} terminals in the last minute, the most allowed; wait a little",
                starts.len()
            ));
        }
        starts.push_back(now);
        let id = info.id.clone();
        let end = CancellationToken::new();
        state.sessions.insert(
            id.clone(),
            Entry {
                info,
                end: end.clone(),
            },
        );
        Ok(Ticket {
            registry: self.clone(),
            id,
            end,
        })
    }

    pub fn list(&self) -> Vec<SessionInfo> {
        let mut list: Vec<SessionInfo> = self
            .lock()
            .sessions
            .values()
            .map(|e| e.info.clone())
            .collect();
        list.sort_by(|a, b| a.start.cmp(&b.start));
        list
    }

    /// Ends a session; false if there is none with that id.
    pub fn end(&self, id: &str) -> bool {
        match self.lock().sessions.get(id) {
            Some(entry) => {
                entry.end.cancel();
                true
            }
            None => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(id: &str, user: &str) -> SessionInfo {
        SessionInfo {
            id: id.into(),
            user: user.into(),
            from: String::new(),
            target: Target::default(),
            start: id.into(),
        }
    }

    #[test]
    fn limits_per_person() {
        let live = Arc::new(Admissions::new(Limits {
            sessions_per_user: 2,
            starts_per_minute: 3,
            max_duration: None,
        }));
        let a = live.admit(info("1", "ann")).unwrap();
        let _b = live.admit(info("2", "ann")).unwrap();
        assert!(
            live.admit(info("3", "ann"))
                .unwrap_err()
                .contains("close one first")
        );
        let _c = live.admit(info("4", "bo")).unwrap();
        drop(a);
        let _d = live.admit(info("5", "ann")).unwrap();
        drop(_d);
        assert!(
            live.admit(info("6", "ann"))
                .unwrap_err()
                .contains("in the last minute")
        );
        assert_eq!(live.list().len(), 2);
        assert!(live.end("4"));
        assert!(!live.end("nope"));
    }
}
