//! What a log view asks podterm for: the options the person chose, and the address of
//! `GET /api/logs/NS/POD/CONTAINER` that reads them. Timestamps are always asked for: they
//! let a read carry on after a dropped connection (`lines::Resume`); the view shows them
//! only when the person wants them.

use crate::model::Target;
use crate::protocol::encode;

/// How many of the last lines to read first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tail {
    Lines(u32),
    All,
}

impl Tail {
    pub const CHOICES: [Tail; 4] = [
        Tail::Lines(100),
        Tail::Lines(1000),
        Tail::Lines(10_000),
        Tail::All,
    ];

    /// The form's value and label.
    pub fn value(self) -> String {
        match self {
            Tail::Lines(n) => n.to_string(),
            Tail::All => "all".into(),
        }
    }

    pub fn label(self) -> String {
        match self {
            Tail::Lines(n) => format!("last {}", crate::app::pod_list::count(n as usize)),
            Tail::All => "all".into(),
        }
    }

    pub fn from_value(value: &str) -> Tail {
        Self::CHOICES
            .into_iter()
            .find(|t| t.value() == value)
            .unwrap_or(Tail::DEFAULT)
    }

    pub const DEFAULT: Tail = Tail::Lines(1000);
}

/// Only lines from this long ago on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Since {
    All,
    Minutes(u32),
}

impl Since {
    pub const CHOICES: [Since; 5] = [
        Since::All,
        Since::Minutes(5),
        Since::Minutes(60),
        Since::Minutes(6 * 60),
        Since::Minutes(24 * 60),
    ];

    pub fn value(self) -> String {
        match self {
            Since::All => "all".into(),
            Since::Minutes(m) => m.to_string(),
        }
    }

    pub fn label(self) -> String {
        match self {
            Since::All => "any time".into(),
            Since::Minutes(m) if m % 60 == 0 => format!("last {} h", m / 60),
            Since::Minutes(m) => format!("last {m} min"),
        }
    }

    pub fn from_value(value: &str) -> Since {
        Self::CHOICES
            .into_iter()
            .find(|s| s.value() == value)
            .unwrap_or(Since::All)
    }

    /// `since_time` for a read that starts at `now_millis` (the browser's clock).
    pub fn since_time(self, now_millis: f64) -> Option<String> {
        match self {
            Since::All => None,
            Since::Minutes(m) => Some(
                super::stamp::Stamp::from_millis(now_millis - f64::from(m) * 60_000.0).to_second(),
            ),
        }
    }
}

/// What the person chose in the view's controls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    pub follow: bool,
    pub previous: bool,
    pub tail: Tail,
    pub since: Since,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            follow: true,
            previous: false,
            tail: Tail::DEFAULT,
            since: Since::All,
        }
    }
}

impl Options {
    /// A previous instance has ended: there is nothing to follow.
    pub fn follows(&self) -> bool {
        self.follow && !self.previous
    }

    /// The first read, at `now_millis`.
    pub fn first_read(&self, now_millis: f64) -> Read {
        Read {
            follow: self.follows(),
            previous: self.previous,
            tail: match self.tail {
                Tail::Lines(n) => Some(n),
                Tail::All => None,
            },
            since_time: self.since.since_time(now_millis),
        }
    }

    /// A read that carries on from `since_time` (see `lines::Resume`): every line from then.
    pub fn read_from(&self, since_time: String) -> Read {
        Read {
            follow: self.follows(),
            previous: self.previous,
            tail: None,
            since_time: Some(since_time),
        }
    }
}

/// One read of a log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Read {
    pub follow: bool,
    pub previous: bool,
    pub tail: Option<u32>,
    pub since_time: Option<String>,
}

impl Read {
    /// The read's address, under the site's base.
    pub fn path(&self, target: &Target) -> String {
        let mut query = Vec::new();
        if let Some(context) = &target.context {
            query.push(format!("context={}", encode(context)));
        }
        if self.follow {
            query.push("follow=true".into());
        }
        if self.previous {
            query.push("previous=true".into());
        }
        if let Some(tail) = self.tail {
            query.push(format!("tail={tail}"));
        }
        if let Some(since) = &self.since_time {
            query.push(format!("since_time={}", encode(since)));
        }
        query.push("timestamps=true".into());
        format!(
            "/api/logs/{}/{}/{}?{}",
            encode(&target.namespace),
            encode(&target.pod),
            encode(&target.container),
            query.join("&")
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_address_names_every_option() {
        let target = Target {
            context: Some("admin@demo".into()),
            namespace: "shop".into(),
            pod: "web-7d4b9c6f5-abcde".into(),
            container: "log-shipper".into(),
        };
        let read = Read {
            follow: true,
            previous: false,
            tail: Some(1000),
            since_time: Some("2026-12-02T10:00:07Z".into()),
        };
        assert_eq!(
            read.path(&target),
            "/api/logs/shop/web-7d4b9c6f5-abcde/log-shipper?context=admin%40demo&follow=true\
             &tail=1000&since_time=2026-12-02T10%3A00%3A07Z&timestamps=true"
        );
        let read = Read {
            follow: false,
            previous: true,
            tail: None,
            since_time: None,
        };
        let target = Target {
            context: None,
            ..target
        };
        assert_eq!(
            read.path(&target),
            "/api/logs/shop/web-7d4b9c6f5-abcde/log-shipper?previous=true&timestamps=true"
        );
    }

    #[test]
    fn reads_from_the_options() {
        let options = Options {
            since: Since::Minutes(60),
            ..Options::default()
        };
        let first = options.first_read(1_796_205_607_250.0);
        assert_eq!(
            first,
            Read {
                follow: true,
                previous: false,
                tail: Some(1000),
                since_time: Some("2026-12-02T09:00:07Z".into()),
            }
        );
        // Carrying on takes every line since the view's last one, whatever the tail.
        let on = options.read_from("2026-12-02T10:00:07Z".into());
        assert_eq!(
            (on.tail, on.since_time.as_deref()),
            (None, Some("2026-12-02T10:00:07Z"))
        );
        // A previous instance is read, not followed.
        let previous = Options {
            previous: true,
            tail: Tail::All,
            ..Options::default()
        };
        assert_eq!(
            previous.first_read(0.0),
            Read {
                follow: false,
                previous: true,
                tail: None,
                since_time: None,
            }
        );
        assert!(!previous.read_from(String::new()).follow);
    }

    #[test]
    fn choices_go_there_and_back() {
        for tail in Tail::CHOICES {
            assert_eq!(Tail::from_value(&tail.value()), tail);
        }
        for since in Since::CHOICES {
            assert_eq!(Since::from_value(&since.value()), since);
        }
        assert_eq!(Tail::from_value("junk"), Tail::DEFAULT);
        assert_eq!(Tail::Lines(10_000).label(), "last 10,000");
        assert_eq!(Since::Minutes(5).label(), "last 5 min");
        assert_eq!(Since::Minutes(1440).label(), "last 24 h");
        assert_eq!(
            Since::Minutes(5).since_time(1_796_205_607_250.0).as_deref(),
            Some("2026-12-02T09:55:07Z")
        );
        assert_eq!(Since::All.since_time(0.0), None);
    }
}
