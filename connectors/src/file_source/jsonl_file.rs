//! JSON Lines input: one JSON object per line, its values taken as text.

use std::collections::BTreeSet;
use std::fmt;
use std::fs::File;
use std::io::{self, BufRead, BufReader};
use std::path::Path;

use serde::Deserializer as _;
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, Visitor};
use serde_json::value::RawValue;
use tellonce_schemas::Rule;

use super::batch::BatchBuilder;
use super::columns::ColumnLookup;
use super::{FileSourceOptions, MAX_UNKNOWN_KEYS, SourceError};

/// Bytes read from the file at a time.
const CHUNK_BYTES: usize = 256 * 1024;

/// What a schema column holds on the current line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slot {
    Absent,
    Null,
    /// `scratch[a..b]`.
    Text(usize, usize),
}

/// Why a well-formed line is rejected.
#[derive(Debug, Clone, Copy)]
enum Problem {
    /// Column `i` holds an array or an object.
    Nested(usize),
    /// Column `i` appears twice (possibly under two spellings).
    Duplicate(usize),
}

/// Parses JSON objects, one record each, into a batch of a feed's columns; shared by JSON Lines
/// files and message sources.
pub(super) struct JsonObjects {
    lookup: ColumnLookup,
    unknown: BTreeSet<String>,
    slots: Vec<Slot>,
    scratch: String,
    /// The column each key (by its place in the object) stood for in the previous object.
    key_order: Vec<Option<usize>>,
}

impl JsonObjects {
    pub(super) fn with_lookup(lookup: ColumnLookup) -> JsonObjects {
        let width = lookup.width();
        JsonObjects {
            lookup,
            unknown: BTreeSet::new(),
            slots: vec![Slot::Absent; width],
            scratch: String::new(),
            key_order: Vec::new(),
        }
    }

    /// Keys that match no schema column (deduplicated, sorted; at most [`MAX_UNKNOWN_KEYS`]).
    pub(super) fn unknown_columns(&self) -> Vec<String> {
        self.unknown.iter().cloned().collect()
    }

    /// Parses one record's object and appends it to `batch` at `position`, or rejects it.
    pub(super) fn parse(&mut self, bytes: &[u8], position: u64, batch: &mut BatchBuilder) {
        let Ok(text) = std::str::from_utf8(bytes) else {
            batch.reject(position, Rule::InvalidUtf8, None, bytes);
            return;
        };
        self.slots.fill(Slot::Absent);
        self.scratch.clear();
        let mut sink = RowSink {
            lookup: &self.lookup,
            slots: &mut self.slots,
            scratch: &mut self.scratch,
            unknown: &mut self.unknown,
            key_order: &mut self.key_order,
            keys_seen: 0,
            problem: None,
        };
        let mut de = serde_json::Deserializer::from_str(text);
        let parsed = (&mut de).deserialize_map(&mut sink).and_then(|()| de.end());
        let problem = sink.problem;
        match (parsed, problem) {
            (Err(_), _) => batch.reject(position, Rule::JsonMalformed, None, bytes),
            (Ok(()), Some(Problem::Nested(i))) => {
                batch.reject(position, Rule::JsonValueType, Some(self.lookup.name_of(i)), bytes);
            }
            (Ok(()), Some(Problem::Duplicate(i))) => {
                batch.reject(position, Rule::JsonMalformed, Some(self.lookup.name_of(i)), bytes);
            }
            (Ok(()), None) => {
                for (i, slot) in self.slots.iter().enumerate() {
                    match *slot {
                        Slot::Text(a, b) => batch.append(i, &self.scratch[a..b]),
                        Slot::Absent | Slot::Null => batch.append_null(i),
                    }
                }
                batch.end_row(position);
            }
        }
    }
}

/// An open JSON Lines file.
pub(super) struct JsonlInput {
    reader: BufReader<File>,
    max_line: usize,
    /// The current line, at most `max_line + 1` bytes of it.
    line: Vec<u8>,
    line_no: u64,
    consumed: u64,
    objects: JsonObjects,
}

impl JsonlInput {
    pub(super) fn open(file: File, lookup: ColumnLookup, opts: &FileSourceOptions) -> JsonlInput {
        JsonlInput {
            reader: BufReader::with_capacity(CHUNK_BYTES, file),
            max_line: opts.max_line_bytes.max(1),
            line: Vec::new(),
            line_no: 0,
            consumed: 0,
            objects: JsonObjects::with_lookup(lookup),
        }
    }

    /// Keys that match no schema column (deduplicated, sorted; at most [`MAX_UNKNOWN_KEYS`]).
    pub(super) fn unknown_columns(&self) -> Vec<String> {
        self.objects.unknown_columns()
    }

    /// The line last read.
    pub(super) fn line(&self) -> u64 {
        self.line_no
    }

    /// File bytes read so far.
    pub(super) fn bytes_consumed(&self) -> u64 {
        self.consumed
    }

    /// Reads lines into `batch` until it is full (returns true) or the file ends (false).
    pub(super) fn fill(&mut self, path: &Path, batch: &mut BatchBuilder) -> Result<bool, SourceError> {
        while !batch.is_full() {
            let too_long = self.read_line().map_err(|source| SourceError::Read {
                path: path.to_owned(),
                line: self.line_no + 1,
                source,
            })?;
            let Some(too_long) = too_long else { return Ok(false) };
            let line_no = self.line_no;
            if too_long {
                batch.reject(line_no, Rule::LineTooLong, None, &self.line[..self.max_line.min(self.line.len())]);
                continue;
            }
            if self.line.trim_ascii().is_empty() {
                continue;
            }
            self.objects.parse(&self.line, self.line_no, batch);
        }
        Ok(true)
    }

    /// Reads the next line into `self.line` (without its `\n` or `\r\n`, and without a BOM on
    /// the first line), holding at most `max_line + 1` bytes of it and skipping the rest.
    /// `Some(true)` if the line is longer than `max_line`; `None` at the end of the file.
    fn read_line(&mut self) -> io::Result<Option<bool>> {
        self.line.clear();
        let cap = self.max_line + 1;
        let mut total = 0usize;
        let mut started = false;
        loop {
            let avail = match self.reader.fill_buf() {
                Ok(b) => b,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if avail.is_empty() {
                if !started {
                    return Ok(None);
                }
                break;
            }
            started = true;
            let (take, done) = match avail.iter().position(|&b| b == b'\n') {
                Some(i) => (i, true),
                None => (avail.len(), false),
            };
            let room = cap.saturating_sub(self.line.len());
            self.line.extend_from_slice(&avail[..take.min(room)]);
            total += take;
            let used = if done { take + 1 } else { take };
            self.reader.consume(used);
            self.consumed += used as u64;
            if done {
                break;
            }
        }
        self.line_no += 1;
        if self.line_no == 1 && self.line.starts_with(b"\xEF\xBB\xBF") {
            self.line.drain(..3);
            total -= 3;
        }
        if total == self.line.len() && self.line.last() == Some(&b'\r') {
            self.line.pop();
            total -= 1;
        }
        Ok(Some(total > self.max_line))
    }
}

/// Receives one line's object: schema values into `slots` (their text in `scratch`), unknown
/// keys into `unknown`.
struct RowSink<'a> {
    lookup: &'a ColumnLookup,
    slots: &'a mut [Slot],
    scratch: &'a mut String,
    unknown: &'a mut BTreeSet<String>,
    key_order: &'a mut Vec<Option<usize>>,
    keys_seen: usize,
    problem: Option<Problem>,
}

impl RowSink<'_> {
    fn key(&mut self, key: &str) -> Option<usize> {
        let k = self.keys_seen;
        self.keys_seen += 1;
        let guess = self.key_order.get(k).copied().flatten();
        let found = self.lookup.find_with_guess(key, guess);
        if k < self.key_order.len() {
            self.key_order[k] = found;
        } else if k < self.slots.len() * 2 {
            self.key_order.push(found);
        }
        if found.is_none()
            && self.unknown.len() < MAX_UNKNOWN_KEYS
            && !self.unknown.contains(key.trim())
            && !self.lookup.is_ignored(key)
        {
            self.unknown.insert(key.trim().to_owned());
        }
        found
    }

    fn value<E: de::Error>(&mut self, i: usize, raw: &RawValue) -> Result<(), E> {
        if self.slots[i] != Slot::Absent {
            self.problem.get_or_insert(Problem::Duplicate(i));
            return Ok(());
        }
        let text = raw.get();
        let start = self.scratch.len();
        match text.as_bytes().first() {
            Some(b'"') => {
                let inner = text.get(1..text.len() - 1).unwrap_or_default();
                if inner.contains('\\') {
                    let s: String = serde_json::from_str(text).map_err(|_| E::custom("invalid string"))?;
                    self.scratch.push_str(&s);
                } else {
                    self.scratch.push_str(inner);
                }
            }
            Some(b'n') => {
                self.slots[i] = Slot::Null;
                return Ok(());
            }
            Some(b'{' | b'[') => {
                self.slots[i] = Slot::Null;
                self.problem.get_or_insert(Problem::Nested(i));
                return Ok(());
            }
            // true, false, or a number: its JSON text as it is.
            _ => self.scratch.push_str(text),
        }
        self.slots[i] = Slot::Text(start, self.scratch.len());
        Ok(())
    }
}

impl<'de> Visitor<'de> for &mut RowSink<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(col) = map.next_key_seed(KeySeed(&mut *self))? {
            match col {
                Some(i) => {
                    let raw: &'de RawValue = map.next_value()?;
                    self.value(i, raw)?;
                }
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }
}

/// Reads a key and says which schema column it stands for.
struct KeySeed<'s, 'a>(&'s mut RowSink<'a>);

impl<'de> DeserializeSeed<'de> for KeySeed<'_, '_> {
    type Value = Option<usize>;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Option<usize>, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed<'_, '_> {
    type Value = Option<usize>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a key")
    }

    fn visit_str<E: de::Error>(self, key: &str) -> Result<Option<usize>, E> {
        Ok(self.0.key(key))
    }
}
