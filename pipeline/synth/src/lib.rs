//! Synthetic multi-agency West Sussex data with ground truth.
//!
//! [`generate`] builds a synthetic population of households in the six districts of West Sussex
//! (small areas with IMD deciles, real outward codes, streets, UPRNs), gives each family a need
//! propensity that rises with deprivation, draws correlated events from it for 2023-2025, and
//! writes what each of the seven partners would hold, with the errors partners make (typos,
//! nicknames, part surnames, swapped day and month, missing NHS numbers and dates of birth, old
//! addresses, postcode slips, duplicate people) and a few deliberately invalid rows. Beside the
//! feeds it writes the ground truth (the true person and family of every record, and the errors
//! injected into it) and a postcode lookup.
//!
//! Output is a pure function of the seed and the number of children: the generator is a small
//! xoshiro256** written here, and no floating-point function whose last bits may vary between
//! platforms is used. Every identifier is synthetic: NHS numbers come from the 999 range said
//! never to be issued, small areas are `SYN-E01-…` codes, names are drawn from lists.
//!
//! ```no_run
//! use tellonce_synth::{generate, SynthOptions};
//! let summary = generate(&SynthOptions { out: "demo-out".into(), children: 3_000, seed: 7 })?;
//! println!("{} records in {} feeds", summary.records, summary.feeds.len());
//! # Ok::<(), tellonce_synth::SynthError>(())
//! ```

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

mod bench;
mod emit;
mod errors;
mod feeds;
mod geo;
mod harsh;
mod months;
mod names;
mod out;
mod population;
mod rng;
mod specs;
mod substance;
#[cfg(test)]
mod tests;
mod typos;

use emit::{Emitter, FEEDS};
use geo::{DISTRICTS, Geo};
pub use harsh::ErrorModel;
pub use months::{MAX_MONTHS, MonthsSummary, holding, write_months};
use out::{TruthSink, io_err};
use population::Population;
use rng::Rng;

/// What to generate, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SynthOptions {
    /// The output directory (created if missing; files in it are overwritten).
    pub out: PathBuf,
    /// How many children the population has (at most [`MAX_CHILDREN`]).
    pub children: usize,
    /// The seed: the same seed and size give byte-identical files.
    pub seed: u64,
}

/// What [`generate`] wrote.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SynthSummary {
    /// The seven feed files, in the order of the data dictionary.
    pub feeds: Vec<FeedFile>,
    /// `truth/records.csv`.
    pub truth: PathBuf,
    /// `reference/postcode_lookup.csv`.
    pub postcode_lookup: PathBuf,
    /// `reference/family_hub_localities.csv`.
    pub localities: PathBuf,
    /// People in the population (children, resident parents, absent parents).
    pub persons: usize,
    /// Households.
    pub families: usize,
    /// Records in all feeds together (the rows of the truth file).
    pub records: usize,
}

/// One feed file written.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FeedFile {
    /// The feed's stable name (`health_visiting`, …).
    pub feed: &'static str,
    /// Where it was written.
    pub path: PathBuf,
    /// `csv` or `jsonl`.
    pub format: &'static str,
    /// Records in it (excluding the CSV header).
    pub rows: usize,
}

/// Why synthetic data could not be written.
#[derive(thiserror::Error, Debug)]
pub enum SynthError {
    /// A file or directory could not be written (or the request could not be met: an unknown
    /// feed, too many children; the path then names what was asked for).
    #[error("{}: {source}", path.display())]
    Io {
        /// The file, directory or feed concerned.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
}

/// The largest population [`generate`] makes: the 999 NHS number range runs out beyond it.
pub const MAX_CHILDREN: usize = 400_000;

/// Writes the synthetic population's feeds, ground truth and postcode lookup under opts.out.
///
/// Files, all UTF-8 with `\n` line endings:
/// - `inputs/<feed>.csv` (health_visiting, youth_justice, housing, district, education) and
///   `inputs/<feed>.jsonl` (police, camhs): schema columns in schema order;
/// - `truth/records.csv`: `feed,record_id,person_id,family_id,error` for every record;
/// - `reference/postcode_lookup.csv`: `postcode,small_area,district,imd_decile`;
/// - `README.txt`.
pub fn generate(opts: &SynthOptions) -> Result<SynthSummary, SynthError> {
    generate_with_errors(opts, ErrorModel::Default)
}

/// [`generate`] with the errors of `model` (see [`ErrorModel`]); the truth file names every
/// error injected into each record.
pub fn generate_with_errors(opts: &SynthOptions, model: ErrorModel) -> Result<SynthSummary, SynthError> {
    if opts.children > MAX_CHILDREN {
        return Err(io_err(
            &opts.out,
            std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("synth: at most {MAX_CHILDREN} children (asked for {})", opts.children),
            ),
        ));
    }
    let inputs = opts.out.join("inputs");
    let truth_dir = opts.out.join("truth");
    let reference = opts.out.join("reference");
    for dir in [&inputs, &truth_dir, &reference] {
        std::fs::create_dir_all(dir).map_err(|e| io_err(dir, e))?;
    }
    let mut rng = Rng::derive(opts.seed, &[0x0047_454F]);
    let geo = Geo::build((opts.children / 300).max(30), &mut rng);
    let pop = Population::build(&geo, opts.children, opts.seed).ok_or_else(|| {
        io_err(&opts.out, std::io::Error::new(std::io::ErrorKind::InvalidInput, "synth: NHS number range exhausted"))
    })?;

    let truth_path = truth_dir.join("records.csv");
    let mut truth = TruthSink::create(&truth_path)?;
    let mut extra_postcodes = BTreeMap::new();
    let mut feeds = Vec::with_capacity(FEEDS.len());
    for spec in &FEEDS {
        let mut em =
            Emitter::new(opts.seed, spec, &pop, &geo, &inputs, &mut truth, &mut extra_postcodes)?.with_errors(model);
        feeds::write(&mut em)?;
        let (path, rows) = em.finish()?;
        feeds.push(FeedFile { feed: spec.name, path, format: spec.format.as_str(), rows });
    }
    let records = truth.finish()?;
    let lookup = reference.join("postcode_lookup.csv");
    write_lookup(&geo, &extra_postcodes, &lookup)?;
    let localities = reference.join("family_hub_localities.csv");
    write_localities(&geo, &localities)?;
    write_readme(opts, model, &pop, &feeds, records)?;
    Ok(SynthSummary {
        feeds,
        truth: truth_path,
        postcode_lookup: lookup,
        localities,
        persons: pop.persons.len(),
        families: pop.families.len(),
        records,
    })
}

/// Streams `rows` valid records of one feed (CSV with header, schema column order) to `path`,
/// fast (well above 1 M rows/s in release), deterministic for the seed; for benchmarks. Returns
/// rows written.
///
/// The rows come from the feed's schema alone (no population, no ground truth): every value
/// passes its column's check, required columns are always filled and about a quarter of the
/// optional ones are left empty.
pub fn write_bench_feed(feed: &str, rows: u64, seed: u64, path: &Path) -> Result<u64, SynthError> {
    bench::write(feed, rows, seed, path)
}

/// Writes `postcode,small_area,district,imd_decile` for every postcode in use, sorted.
fn write_lookup(geo: &Geo, extra: &BTreeMap<String, u32>, path: &Path) -> Result<(), SynthError> {
    let mut rows: Vec<(&str, u32)> = geo.postcodes.iter().map(|p| (p.text.as_str(), p.area)).collect();
    rows.extend(extra.iter().map(|(p, &a)| (p.as_str(), a)));
    rows.sort_unstable();
    let file = File::create(path).map_err(|e| io_err(path, e))?;
    let mut out = BufWriter::new(file);
    let mut text = String::from("postcode,small_area,district,imd_decile\n");
    for (pc, area) in rows {
        let a = &geo.areas[area as usize];
        text.push_str(pc);
        text.push(',');
        text.push_str(&a.code);
        text.push(',');
        text.push_str(DISTRICTS[a.district as usize].code);
        text.push(',');
        out::push_uint(&mut text, u64::from(a.decile));
        text.push('\n');
    }
    out.write_all(text.as_bytes()).and_then(|()| out.flush()).map_err(|e| io_err(path, e))
}

/// Writes `small_area,locality` for every small area: each district's small areas, in the order
/// they were made, split between two family hub localities (one where the district has a single
/// small area).
fn write_localities(geo: &Geo, path: &Path) -> Result<(), SynthError> {
    let mut text = String::from("small_area,locality\n");
    for (d, district) in DISTRICTS.iter().enumerate() {
        let mine: Vec<&geo::Area> = geo.areas.iter().filter(|a| usize::from(a.district) == d).collect();
        let half = mine.len().div_ceil(2);
        for (k, a) in mine.iter().enumerate() {
            text.push_str(&a.code);
            text.push(',');
            text.push_str(district.code);
            text.push_str(if k < half { "_HUB_1" } else { "_HUB_2" });
            text.push('\n');
        }
    }
    std::fs::write(path, text).map_err(|e| io_err(path, e))
}

/// The file that marks a directory as holding synthetic data.
pub const README_NAME: &str = "README.txt";

/// Writes `README.txt`: what the data is and what each file holds.
fn write_readme(
    opts: &SynthOptions,
    model: ErrorModel,
    pop: &Population,
    feeds: &[FeedFile],
    records: usize,
) -> Result<(), SynthError> {
    let path = opts.out.join(README_NAME);
    let mut s = String::new();
    s.push_str("SYNTHETIC DATA - NOT REAL PEOPLE\n================================\n\n");
    s.push_str(&format!(
        "Generated by `tellonce synth` with seed {} for {} children ({} people in {} households).\n\
         Every name, date, address and identifier here is invented. NHS numbers come from the\n\
         999 range said never to be issued; small areas are SYN-E01-... codes, not real LSOAs;\n\
         postcodes use real West Sussex outward codes with random inward codes. The same seed and\n\
         size give byte-identical files.\n\n",
        opts.seed,
        opts.children,
        pop.persons.len(),
        pop.families.len()
    ));
    s.push_str("inputs/ - what each partner would send (columns and codes as in the tellonce schemas):\n");
    for f in feeds {
        s.push_str(&format!("  {}.{}: {} records\n", f.feed, f.format, f.rows));
    }
    s.push_str(
        "  CSV files have a header row and RFC 4180 quoting; JSON Lines files hold one object per\n  \
         line keyed by column name (camhs leaves empty values out, police writes them as null).\n\n",
    );
    s.push_str(&format!(
        "truth/records.csv - the ground truth, one line per record ({records} lines):\n  \
         feed,record_id,person_id,family_id,error\n  \
         person_id (P000001...) and family_id (F000001...) are the true person and household.\n  \
         error lists the errors injected into the record, joined by ';':\n    \
         typo_surname, typo_forename   one edit in the name\n    \
         nickname                      a short form (Bill for William)\n    \
         surname_part                  one part of a hyphenated or double-barrelled surname\n    \
         dob_day_month_swapped         day and month of birth swapped\n    \
         dob_missing                   no date of birth (police, housing, district)\n    \
         nhs_missing                   no NHS number (health_visiting, camhs)\n    \
         moved_address                 the family's previous address\n    \
         typo_postcode                 a one-character slip in the postcode\n    \
         duplicate                     a second record of the same person in the same source\n    \
         invalid:<rule>                the record breaks that validation rule on purpose and\n                                  \
         should be quarantined (e.g. invalid:date.calendar)\n    \
         nulled:<column>:<rule>        the record breaks that rule in an identifier on purpose:\n                                  \
         the field should be nulled and the record kept, its _dq\n                                  \
         naming the column and rule (e.g. nulled:nhs_number:nhs_number.check_digit)\n"
    ));
    if model == ErrorModel::Harsh {
        s.push_str(
            "  This data was made with the harsh error model (--errors harsh), which adds:\n    \
             dob_digit                     one digit of the date of birth mistyped\n    \
             dob_transposed                two adjacent digits of the date of birth swapped\n    \
             dob_year_off_by_one           the year of birth one too many or too few\n    \
             postcode_missing              no postcode\n    \
             forename_initial_only         the forename's initial only\n    \
             names_swapped                 forename and surname in each other's place\n    \
             surname_changed               a new surname (marriage) or a double-barrelled one\n    \
             ocr                           an OCR-like confusion in a name (rn/m, cl/d, 0/O, 1/l)\n    \
             new_postcode                  a postcode in the same district (a move others do not know of)\n",
        );
    }
    s.push('\n');
    s.push_str(
        "reference/postcode_lookup.csv - postcode,small_area,district,imd_decile for every postcode\n  \
         used (imd_decile 1 = most deprived; the deciles are synthetic, not the real IMD).\n\
         reference/family_hub_localities.csv - small_area,locality: the family hub locality of every\n  \
         small area (two per district, synthetic).\n",
    );
    std::fs::write(&path, s).map_err(|e| io_err(&path, e))
}
