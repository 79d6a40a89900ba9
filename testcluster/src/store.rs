//! Objects, resource versions and the event history that watches replay.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, RwLock};

use jiff::Timestamp;
use serde_json::Value;
use tokio::sync::broadcast;

use crate::config::{NamespaceSpec, PodSpec};
use crate::objects;

/// How many events a watch can resume from before it gets 410 Gone.
const HISTORY: usize = 10_000;
const BROADCAST: usize = 4_096;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    Namespace,
    Pod,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventType {
    Added,
    Modified,
    Deleted,
}

#[derive(Debug)]
pub struct Event {
    pub kind: Kind,
    pub event: EventType,
    pub rv: u64,
    /// The object after the change (for DELETED: its last state, with the deletion's version).
    pub object: Arc<Value>,
    /// The object before the change, so a filtered watch can tell "left the selection".
    pub previous: Option<Arc<Value>>,
}

type Key = (Kind, String, String);

struct Inner {
    rv: u64,
    objects: BTreeMap<Key, Arc<Value>>,
    pod_specs: BTreeMap<(String, String), PodSpec>,
    history: VecDeque<Arc<Event>>,
    /// Versions at or below this one have been forgotten.
    compacted: u64,
}

pub struct Store {
    inner: RwLock<Inner>,
    events: broadcast::Sender<Arc<Event>>,
}

/// Where a watch starts: the events it must send first, then the live feed.
pub struct WatchStart {
    /// The version the watch starts at (the store's, when it was taken).
    pub rv: u64,
    pub backlog: Vec<Arc<Event>>,
    pub live: broadcast::Receiver<Arc<Event>>,
}

#[derive(Debug)]
pub enum StoreError {
    NotFound,
    AlreadyExists,
    NoNamespace(String),
}

impl Store {
    pub fn new() -> Self {
        let (events, _) = broadcast::channel(BROADCAST);
        Self {
            inner: RwLock::new(Inner {
                rv: 1000,
                objects: BTreeMap::new(),
                pod_specs: BTreeMap::new(),
                history: VecDeque::new(),
                compacted: 1000,
            }),
            events,
        }
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Inner> {
        self.inner.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Inner> {
        self.inner.write().unwrap_or_else(|e| e.into_inner())
    }

    /// Every object of a kind, in one namespace or all, ordered by namespace and name.
    pub fn list(&self, kind: Kind, namespace: Option<&str>) -> (u64, Vec<Arc<Value>>) {
        let inner = self.read();
        let items = inner
            .objects
            .iter()
            .filter(|((k, ns, _), _)| *k == kind && namespace.is_none_or(|n| n == ns))
            .map(|(_, v)| v.clone())
            .collect();
        (inner.rv, items)
    }

    pub fn get(&self, kind: Kind, namespace: &str, name: &str) -> Option<Arc<Value>> {
        self.read()
            .objects
            .get(&(kind, namespace.to_string(), name.to_string()))
            .cloned()
    }

    pub fn pod_spec(&self, namespace: &str, name: &str) -> Option<PodSpec> {
        self.read()
            .pod_specs
            .get(&(namespace.to_string(), name.to_string()))
            .cloned()
    }

    pub fn add_namespace(&self, spec: &NamespaceSpec) -> Result<(), StoreError> {
        let mut inner = self.write();
        let key = (Kind::Namespace, String::new(), spec.name.clone());
        if inner.objects.contains_key(&key) {
            return Err(StoreError::AlreadyExists);
        }
        let object =
            serde_json::to_value(objects::namespace(spec, Timestamp::now())).expect("serializable");
        self.commit(&mut inner, key, EventType::Added, object, None);
        Ok(())
    }

    /// Creates a pod, or replaces it keeping its uid and creation time (MODIFIED).
    pub fn put_pod(&self, spec: PodSpec) -> Result<EventType, StoreError> {
        let mut inner = self.write();
        if !inner
            .objects
            .contains_key(&(Kind::Namespace, String::new(), spec.namespace.clone()))
        {
            return Err(StoreError::NoNamespace(spec.namespace.clone()));
        }
        let key = (Kind::Pod, spec.namespace.clone(), spec.name.clone());
        let previous = inner.objects.get(&key).cloned();
        let object = render_pod(&spec, previous.as_deref());
        let event = if previous.is_some() {
            EventType::Modified
        } else {
            EventType::Added
        };
        inner
            .pod_specs
            .insert((spec.namespace.clone(), spec.name.clone()), spec);
        self.commit(&mut inner, key, event, object, previous);
        Ok(event)
    }

    /// Changes the spec of the pod with this uid in place (MODIFIED); false when that pod
    /// is gone.
    pub fn modify_pod(
        &self,
        namespace: &str,
        name: &str,
        uid: &str,
        change: impl FnOnce(&mut PodSpec),
    ) -> bool {
        let mut inner = self.write();
        let key = (Kind::Pod, namespace.to_string(), name.to_string());
        let Some(previous) = inner.objects.get(&key).cloned() else {
            return false;
        };
        if previous["metadata"]["uid"].as_str() != Some(uid) {
            return false;
        }
        let Some(spec) = inner
            .pod_specs
            .get_mut(&(namespace.to_string(), name.to_string()))
        else {
            return false;
        };
        change(spec);
        let object = render_pod(spec, Some(&previous));
        self.commit(&mut inner, key, EventType::Modified, object, Some(previous));
        true
    }

    pub fn delete_pod(&self, namespace: &str, name: &str) -> Result<Arc<Value>, StoreError> {
        let mut inner = self.write();
        let key = (Kind::Pod, namespace.to_string(), name.to_string());
        let previous = inner.objects.remove(&key).ok_or(StoreError::NotFound)?;
        inner
            .pod_specs
            .remove(&(namespace.to_string(), name.to_string()));
        let mut last = (*previous).clone();
        last["metadata"]["deletionTimestamp"] = Value::String(Timestamp::now().to_string());
        last["metadata"]["deletionGracePeriodSeconds"] = Value::from(0);
        Ok(self
            .commit(&mut inner, key, EventType::Deleted, last, Some(previous))
            .object
            .clone())
    }

    fn commit(
        &self,
        inner: &mut Inner,
        key: Key,
        event: EventType,
        mut object: Value,
        previous: Option<Arc<Value>>,
    ) -> Arc<Event> {
        inner.rv += 1;
        let rv = inner.rv;
        object["metadata"]["resourceVersion"] = Value::String(rv.to_string());
        let object = Arc::new(object);
        if event != EventType::Deleted {
            inner.objects.insert(key.clone(), object.clone());
        }
        let event = Arc::new(Event {
            kind: key.0,
            event,
            rv,
            object,
            previous,
        });
        if inner.history.len() == HISTORY
            && let Some(old) = inner.history.pop_front()
        {
            inner.compacted = old.rv;
        }
        inner.history.push_back(event.clone());
        // Sent under the write lock, so a watch that subscribes under the read lock misses nothing.
        let _ = self.events.send(event.clone());
        event
    }

    /// Starts a watch from a resource version: `None` sends the current objects as ADDED first;
    /// `Some(rv)` replays what happened after rv, or fails with the oldest version still known.
    pub fn watch(
        &self,
        kind: Kind,
        namespace: Option<&str>,
        from: Option<u64>,
    ) -> Result<WatchStart, u64> {
        let inner = self.read();
        let live = self.events.subscribe();
        let wanted = |ev: &Event| {
            ev.kind == kind
                && namespace
                    .is_none_or(|ns| ev.object["metadata"]["namespace"].as_str() == Some(ns))
        };
        let backlog = match from {
            None => inner
                .objects
                .iter()
                .filter(|((k, ns, _), _)| *k == kind && namespace.is_none_or(|n| n == ns))
                .map(|(_, object)| {
                    Arc::new(Event {
                        kind,
                        event: EventType::Added,
                        rv: inner.rv,
                        object: object.clone(),
                        previous: None,
                    })
                })
                .collect(),
            Some(rv) if rv < inner.compacted => return Err(inner.compacted + 1),
            Some(rv) => inner
                .history
                .iter()
                .filter(|ev| ev.rv > rv && wanted(ev))
                .cloned()
                .collect(),
        };
        Ok(WatchStart {
            rv: inner.rv,
            backlog,
            live,
        })
    }

    /// Forgets the event history, so every watch from an older version gets 410 Gone.
    pub fn compact(&self) {
        let mut inner = self.write();
        inner.compacted = inner.rv;
        inner.history.clear();
    }
}

/// A pod's object; one made again keeps its uid and creation time, and the times derived
/// from them, so only what changed changes.
fn render_pod(spec: &PodSpec, previous: Option<&Value>) -> Value {
    let created = previous.and_then(|p| {
        p["metadata"]["creationTimestamp"]
            .as_str()?
            .parse::<Timestamp>()
            .ok()
    });
    let now = match created {
        Some(created) => created + jiff::SignedDuration::try_from(spec.age).unwrap_or_default(),
        None => Timestamp::now(),
    };
    let mut object = serde_json::to_value(objects::pod(spec, now)).expect("serializable");
    if let Some(previous) = previous {
        for field in ["uid", "creationTimestamp"] {
            object["metadata"][field] = previous["metadata"][field].clone();
        }
    }
    object
}

impl Default for Store {
    fn default() -> Self {
        Self::new()
    }
}
