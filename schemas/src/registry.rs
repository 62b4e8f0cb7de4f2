//! The feeds this process knows: the built-in definitions, and a deployment's own once its
//! configuration names them.
//!
//! Schemas are shared by every stage as `&'static FeedSchema`, so a loaded definition lives for
//! the process, like the built-in ones; a process loads one deployment's feeds once, at start.
//! [`install`] replaces what [`current`] answers from then on; what was handed out before stays
//! valid.

use std::sync::RwLock;

use crate::definition::{self, FeedProblem, FeedRule, FeedsError, Loaded};
use crate::feed::FeedSchema;

/// A set of feed schemas with no feed defined twice at one version.
#[derive(Debug, Clone)]
pub struct Registry {
    feeds: Vec<&'static FeedSchema>,
}

impl Registry {
    /// The built-in feeds only.
    pub fn builtin() -> Result<Registry, Vec<FeedProblem>> {
        Ok(Registry { feeds: definition::builtin()?.into_iter().map(|l| l.schema).collect() })
    }

    /// The built-in feeds and a deployment's, in that order. A deployment file identical to a
    /// built-in feed at the same version (as `tellonce feeds write` makes) adds nothing; one that
    /// differs from it, or from another file, is refused: two meanings for one name and version
    /// would make staged data ambiguous.
    pub fn with_deployment(loaded: &[Loaded]) -> Result<Registry, FeedsError> {
        let mut registry = Registry::builtin().map_err(|problems| FeedsError::Invalid { problems })?;
        let builtin = registry.feeds.len();
        let mut problems = Vec::new();
        for l in loaded {
            let s = l.schema;
            let Some(i) = registry.feeds.iter().position(|f| f.name == s.name && f.version == s.version) else {
                registry.feeds.push(s);
                continue;
            };
            if i < builtin && *registry.feeds[i] == *s {
                continue;
            }
            let whose = if i < builtin { "a built-in feed".to_owned() } else { "another file".to_owned() };
            problems.push(FeedProblem {
                path: l.path.clone(),
                line: l.version_at.line,
                column: l.version_at.column,
                rule: FeedRule::Duplicate,
                message: format!(
                    "feed {} version {} is already defined by {whose}, differently; give this definition a new version",
                    s.name, s.version
                ),
            });
        }
        if problems.is_empty() { Ok(registry) } else { Err(FeedsError::Invalid { problems }) }
    }

    /// The feeds, built-in first.
    pub fn feeds(&self) -> &[&'static FeedSchema] {
        &self.feeds
    }
}

static CURRENT: RwLock<Option<&'static [&'static FeedSchema]>> = RwLock::new(None);

/// The feeds in use: those last [`install`]ed, else the built-in ones. Were the built-in
/// definitions broken (a defect the tests exclude), no feed is known and every input is held:
/// fail closed.
pub fn current() -> &'static [&'static FeedSchema] {
    if let Some(feeds) = CURRENT.read().ok().and_then(|g| *g) {
        return feeds;
    }
    let feeds: &'static [&'static FeedSchema] =
        Box::leak(Registry::builtin().map(|r| r.feeds).unwrap_or_default().into_boxed_slice());
    match CURRENT.write() {
        Ok(mut g) => g.get_or_insert(feeds),
        Err(_) => feeds,
    }
}

/// Makes `registry` the feeds in use for the rest of the process.
pub fn install(registry: Registry) {
    let feeds: &'static [&'static FeedSchema] = Box::leak(registry.feeds.into_boxed_slice());
    match CURRENT.write() {
        Ok(mut g) => *g = Some(feeds),
        Err(poisoned) => *poisoned.into_inner() = Some(feeds),
    }
}
