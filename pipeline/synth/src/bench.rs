//! Fast benchmark feeds: rows that pass every check of a feed's schema, generated column by
//! column from the schema itself, with no population behind them.

use std::fs::File;
use std::io::Write;
use std::path::Path;

use tellonce_schemas::identifiers::dates::days_from_civil;
use tellonce_schemas::identifiers::{nhs, pnc, upn};
use tellonce_schemas::{FeedSchema, Kind};

use super::SynthError;
use super::geo::DISTRICTS;
use super::names::{self, HOUSE_NAMES, STREETS};
use super::out::{csv_field, io_err};
use super::rng::Rng;

/// How one column's values are made.
enum Gen {
    RecordId,
    Reference,
    Forename,
    Surname,
    Address,
    Nhs,
    Upn,
    Pnc,
    Postcode,
    Uprn,
    Date,
    BirthDate,
    Int { min: i64, span: u64 },
    Money { min: i64, span: u64 },
    Bool,
    Code(&'static [&'static str]),
}

impl Gen {
    fn for_column(name: &str, kind: Kind) -> Gen {
        match kind {
            Kind::Reference { .. } if name == "record_id" => Gen::RecordId,
            Kind::Reference { .. } => Gen::Reference,
            Kind::PersonName if name == "forename" => Gen::Forename,
            Kind::PersonName => Gen::Surname,
            Kind::AddressLine => Gen::Address,
            Kind::NhsNumber => Gen::Nhs,
            Kind::Upn => Gen::Upn,
            Kind::PncId => Gen::Pnc,
            Kind::Postcode => Gen::Postcode,
            Kind::Uprn => Gen::Uprn,
            Kind::Date => Gen::Date,
            Kind::BirthDate => Gen::BirthDate,
            Kind::Integer { min, max } => {
                // A narrow, plausible range even where the schema allows a wide one.
                let max = max.min(min.saturating_add(99));
                Gen::Int { min, span: (max - min) as u64 + 1 }
            }
            Kind::Decimal { min, max } => {
                let lo = (min * 100.0).ceil() as i64;
                let hi = (max * 100.0).floor().min(lo as f64 + 500_000.0) as i64;
                Gen::Money { min: lo, span: (hi - lo).max(0) as u64 + 1 }
            }
            Kind::Boolean => Gen::Bool,
            Kind::Code(codes) => Gen::Code(codes),
        }
    }
}

/// Longest pre-rendered value, in bytes.
const FRAG: usize = 64;

/// A pre-rendered, CSV-escaped value in a fixed-size array, so that copying it is a fixed-size
/// move rather than a call to `memmove`.
struct Frag {
    bytes: [u8; FRAG],
    len: usize,
}

impl Frag {
    /// The value escaped for CSV, or `None` if it is too long for a fragment.
    fn new(s: &str) -> Option<Frag> {
        let mut out = Vec::with_capacity(s.len() + 2);
        csv_field(&mut out, s);
        let mut bytes = [0u8; FRAG];
        bytes.get_mut(..out.len())?.copy_from_slice(&out);
        Some(Frag { bytes, len: out.len() })
    }
}

/// Pre-rendered values the rows draw from; small, so that random picks stay in cache.
struct Pools {
    forenames: Vec<Frag>,
    surnames: Vec<Frag>,
    addresses: Vec<Frag>,
    postcodes: Vec<Frag>,
    dates: Vec<[u8; 10]>,
}

fn date_table(from: i32, to: i32) -> Vec<[u8; 10]> {
    (from..=to)
        .map(|d| {
            let mut s = String::with_capacity(10);
            super::out::push_date(&mut s, d);
            let mut b = [b'0'; 10];
            b.copy_from_slice(s.as_bytes());
            b
        })
        .collect()
}

impl Pools {
    fn new(rng: &mut Rng) -> Pools {
        let mut forenames = Vec::new();
        let mut surnames = Vec::new();
        for (eth, polish) in [(0, false), (0, true), (2, false), (3, false), (4, false)] {
            let p = names::pool(eth, polish);
            forenames.extend(p.boys.iter().chain(p.girls).chain(p.men).chain(p.women).filter_map(|n| Frag::new(n)));
            surnames.extend(p.surnames.iter().filter_map(|n| Frag::new(n)));
        }
        let addresses = (0..512)
            .filter_map(|i| {
                let street = rng.pick(STREETS);
                let n = 1 + rng.below(150);
                let line = match i % 10 {
                    0 => format!("Flat {}, {n} {street}", 1 + rng.below(12)),
                    1 => format!("{}, {n} {street}", rng.pick(HOUSE_NAMES)),
                    _ => format!("{n} {street}"),
                };
                Frag::new(&line)
            })
            .collect();
        const INWARD: &[u8] = b"ABDEFGHJLNPQRSTUWXYZ";
        let outwards: Vec<&str> = DISTRICTS.iter().flat_map(|d| d.outwards.iter().copied()).collect();
        let postcodes = (0..512)
            .filter_map(|_| {
                let o = rng.pick(&outwards);
                Frag::new(&format!(
                    "{o} {}{}{}",
                    rng.below(10),
                    char::from(*rng.pick(INWARD)),
                    char::from(*rng.pick(INWARD))
                ))
            })
            .collect();
        Pools {
            forenames,
            surnames,
            addresses,
            postcodes,
            dates: date_table(days_from_civil(2023, 1, 1), days_from_civil(2025, 12, 31)),
        }
    }
}

/// One row being rendered into a buffer with room for [`FRAG`] + 16 bytes per column.
struct Row {
    buf: Vec<u8>,
    pos: usize,
}

impl Row {
    fn byte(&mut self, b: u8) {
        self.buf[self.pos] = b;
        self.pos += 1;
    }

    fn frag(&mut self, f: &Frag) {
        self.buf[self.pos..self.pos + FRAG].copy_from_slice(&f.bytes);
        self.pos += f.len;
    }

    fn ten(&mut self, b: &[u8; 10]) {
        self.buf[self.pos..self.pos + 10].copy_from_slice(b);
        self.pos += 10;
    }

    /// A whole number, zero-padded to at least `width` digits.
    fn uint(&mut self, v: u64, width: usize) {
        self.digits(v, (v.checked_ilog10().unwrap_or(0) as usize + 1).max(width));
    }

    /// Exactly `n` digits of `v` (the caller knows `v < 10^n`), written in place two at a time.
    fn digits(&mut self, v: u64, n: usize) {
        let mut end = self.pos + n;
        let mut x = v;
        while x >= 10 {
            let r = (x % 100) as usize * 2;
            x /= 100;
            end -= 2;
            self.buf[end..end + 2].copy_from_slice(&DIGIT_PAIRS[r..r + 2]);
        }
        if end > self.pos {
            // The last digit when the count is odd (or 0), then zeros up to the width.
            end -= 1;
            self.buf[end] = b'0' + x as u8;
            self.buf[self.pos..end].fill(b'0');
        }
        self.pos += n;
    }
}

/// `00`, `01`, … `99`.
const DIGIT_PAIRS: &[u8; 200] = b"\
0001020304050607080910111213141516171819\
2021222324252627282930313233343536373839\
4041424344454647484950515253545556575859\
6061626364656667686970717273747576777879\
8081828384858687888990919293949596979899";

/// Streams `rows` valid records of `feed` as CSV with a header. See [`super::write_bench_feed`].
pub(crate) fn write(feed: &str, rows: u64, seed: u64, path: &Path) -> Result<u64, SynthError> {
    let schema: &FeedSchema = tellonce_schemas::feed::latest(feed).ok_or_else(|| {
        io_err(path, std::io::Error::new(std::io::ErrorKind::InvalidInput, format!("synth: unknown feed `{feed}`")))
    })?;
    let prefix = super::emit::FEEDS.iter().find(|f| f.name == feed).map_or("R", |f| f.prefix);
    let name_key = feed.bytes().fold(0u64, |h, b| super::rng::mix(h, u64::from(b)));
    let mut rng = Rng::derive(seed, &[0x4245_4E43, name_key]);
    let pools = Pools::new(&mut rng);
    let gens: Vec<(Gen, bool)> = schema.columns.iter().map(|c| (Gen::for_column(c.name, c.kind), c.required)).collect();
    let mut file = File::create(path).map_err(|e| io_err(path, e))?;
    let mut chunk: Vec<u8> = Vec::with_capacity(1 << 18);
    chunk.extend_from_slice(schema.columns.iter().map(|c| c.name).collect::<Vec<_>>().join(",").as_bytes());
    chunk.push(b'\n');
    let prefix = Frag::new(prefix).unwrap_or(Frag { bytes: [b'R'; FRAG], len: 1 });
    let mut row = Row { buf: vec![0u8; (FRAG + 16) * (gens.len() + 1)], pos: 0 };
    for i in 0..rows {
        row.pos = 0;
        // Two bits per optional column: about one in four is left empty.
        let empties = rng.next_u64();
        for (ci, (g, required)) in gens.iter().enumerate() {
            if ci > 0 {
                row.byte(b',');
            }
            if !required && (empties >> ((2 * ci) % 64)) & 3 == 0 {
                continue;
            }
            render(&mut row, g, i, &prefix, &pools, &mut rng);
        }
        row.byte(b'\n');
        chunk.extend_from_slice(&row.buf[..row.pos]);
        if chunk.len() > (1 << 18) - row.buf.len() {
            file.write_all(&chunk).map_err(|e| io_err(path, e))?;
            chunk.clear();
        }
    }
    file.write_all(&chunk).and_then(|()| file.flush()).map_err(|e| io_err(path, e))?;
    Ok(rows)
}

/// Renders one value.
fn render(row: &mut Row, g: &Gen, i: u64, prefix: &Frag, pools: &Pools, rng: &mut Rng) {
    match g {
        Gen::RecordId => {
            row.frag(prefix);
            row.byte(b'-');
            row.uint(i + 1, 8);
        }
        Gen::Reference => {
            row.byte(b'R');
            row.digits(rng.below(1_000_000_000), 9);
        }
        Gen::Forename => row.frag(rng.pick(&pools.forenames)),
        Gen::Surname => row.frag(rng.pick(&pools.surnames)),
        Gen::Address => row.frag(rng.pick(&pools.addresses)),
        Gen::Postcode => row.frag(rng.pick(&pools.postcodes)),
        Gen::Nhs => {
            let mut body = 999_000_000 + rng.below(1_000_000);
            let mut digits = [0u8; 10];
            loop {
                let mut v = body;
                for d in digits[..9].iter_mut().rev() {
                    *d = b'0' + (v % 10) as u8;
                    v /= 10;
                }
                if let Some(c) = nhs::check_digit(&digits) {
                    digits[9] = b'0' + c;
                    break;
                }
                body = 999_000_000 + (body + 1) % 1_000_000;
            }
            row.ten(&digits);
        }
        Gen::Upn => {
            let start = row.pos;
            row.byte(b'A');
            row.digits(938, 3);
            row.digits(2000 + rng.below(1000), 4);
            row.digits(10 + rng.below(16), 2);
            row.digits(rng.below(1000), 3);
            row.buf[start] = upn::check_letter(&row.buf[start + 1..start + 13]).unwrap_or(b'A');
        }
        Gen::Pnc => {
            let year = 2000 + rng.below(26) as u32;
            // 0000000, 1111111 … are placeholders the checks refuse (`pnc_id.placeholder`).
            let serial = match rng.below(10_000_000) {
                s if s.is_multiple_of(1_111_111) => s + 1,
                s => s,
            };
            row.digits(u64::from(year), 4);
            row.byte(b'/');
            row.digits(serial, 7);
            row.byte(pnc::check_character(year, serial));
        }
        Gen::Uprn => row.uint(1 + rng.below(999_999_999_999), 1),
        Gen::Date => row.ten(rng.pick(&pools.dates)),
        Gen::BirthDate => {
            // Year 1960-2025, month, day 1-28: always a real date, never in the future. Computed
            // rather than looked up, so that no large table is read at random.
            let r = rng.next_u64();
            let part = |shift: u32, n: u64| (((r >> shift) & 0xFFFF) * n) >> 16;
            row.digits(1960 + part(0, 66), 4);
            row.byte(b'-');
            row.digits(1 + part(16, 12), 2);
            row.byte(b'-');
            row.digits(1 + part(32, 28), 2);
        }
        Gen::Int { min, span } => {
            let v = min + rng.below(*span) as i64;
            if v < 0 {
                row.byte(b'-');
            }
            row.uint(v.unsigned_abs(), 1);
        }
        Gen::Money { min, span } => {
            let v = min + rng.below(*span) as i64;
            if v < 0 {
                row.byte(b'-');
            }
            let v = v.unsigned_abs();
            row.uint(v / 100, 1);
            row.byte(b'.');
            row.digits(v % 100, 2);
        }
        Gen::Bool => {
            let f = if rng.next_u64() & 1 == 0 { &FALSE } else { &TRUE };
            row.frag(f);
        }
        Gen::Code(codes) => {
            let c = rng.pick(codes).as_bytes();
            let n = c.len().min(FRAG);
            row.buf[row.pos..row.pos + n].copy_from_slice(&c[..n]);
            row.pos += n;
        }
    }
}

const fn frag_of(s: &[u8]) -> Frag {
    let mut bytes = [0u8; FRAG];
    let mut i = 0;
    while i < s.len() {
        bytes[i] = s[i];
        i += 1;
    }
    Frag { bytes, len: s.len() }
}

const TRUE: Frag = frag_of(b"true");
const FALSE: Frag = frag_of(b"false");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_written_in_place_with_their_padding() {
        let mut row = Row { buf: vec![0; 256], pos: 0 };
        for (v, width) in [(0u64, 1usize), (0, 8), (5, 2), (12, 8), (123, 1), (1234, 8), (999_999_999_999, 1)] {
            let start = row.pos;
            row.uint(v, width);
            let text = std::str::from_utf8(&row.buf[start..row.pos]).unwrap();
            assert_eq!(text, format!("{v:0width$}"));
        }
    }
}
