//! A workbook sheet's rows, read by a thread that owns the workbook and sends rows in chunks over
//! a bounded channel, so that the sheet is parsed while the pipeline works on the rows before.
//!
//! An `.xlsx` sheet is streamed: its XML is parsed cell by cell (calamine's cell reader), and
//! memory holds the shared strings and a few chunks, not the sheet. calamine has no such reader
//! for `.xls` and `.ods`, so their sheet is read whole first; an `.xls` sheet has at most
//! 65 536 rows, and an `.ods` file is a partner's spreadsheet, not a bulk export.
//!
//! Cells become text as Excel's General format shows them (see [`super::workbook_file`]).
//!
//! A merged region's value is filled into every cell the region covers ([`Merges`]): the file
//! holds it in the region's top-left cell only, but the person reading the sheet sees it in
//! each row and column the region spans (one address merged over the rows of a family's
//! children). calamine gives an `.xlsx` sheet's regions from its `<mergeCells>`, which follows
//! the cells in the sheet's XML, so they are read by a first pass over the XML (inflated and
//! parsed as it goes, nothing kept but the regions) before the cells are streamed; an `.xls`
//! sheet's come with the sheet. calamine reads none for `.ods`.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

use calamine::{Data, DataRef, Dimensions, Ods, Reader, Sheet, SheetVisible, Xls, Xlsx, XlsxError, open_workbook};

use super::formulas::FormulaCells;
use super::number_formats::{NumberStyle, write_styled};
use super::workbook_errors::SafeMessage;
use super::workbook_file::cell_text;
use super::{FileFormat, SourceError};

/// Rows sent at a time.
const CHUNK_ROWS: usize = 1024;
/// Chunks in flight: the reader runs at most this far ahead.
const CHUNKS_AHEAD: usize = 4;
/// Columns a sheet can have (`XFD`): more regions open across one row than this overlap, which
/// no spreadsheet writes, and filling them would cost rows times regions.
const MAX_OPEN_REGIONS: usize = 16_384;

/// One row of a sheet: its cells' text in one buffer (one allocation a row, not a cell).
#[derive(Debug, Clone)]
pub(super) struct SheetRow {
    /// The sheet row, 0-based (Excel shows `at + 1`).
    pub(super) at: u32,
    text: String,
    /// Each column's cell as a range of `text`, `None` where empty.
    cells: Vec<Option<(u32, u32)>>,
    /// Columns whose cell was empty and holds a merged region's value ([`Merges`]).
    merged: Vec<u32>,
    /// Columns whose cell holds a number (written with a decimal point, whatever the
    /// workbook's locale showed).
    numbers: Vec<u32>,
}

impl SheetRow {
    /// An empty row at sheet row `at`.
    fn new(at: u32) -> Self {
        SheetRow { at, text: String::new(), cells: Vec::new(), merged: Vec::new(), numbers: Vec::new() }
    }

    /// Whether the cell in column `j` holds a number of its own.
    pub(super) fn is_number(&self, j: usize) -> bool {
        self.numbers.iter().any(|&n| n as usize == j)
    }

    /// The text of the cell in column `j`, if it has any: its own, or that of a merged region
    /// covering it.
    pub(super) fn cell(&self, j: usize) -> Option<&str> {
        let (a, b) = (*self.cells.get(j)?)?;
        self.text.get(a as usize..b as usize)
    }

    /// The text of the cell in column `j` if the cell holds it itself.
    fn own_cell(&self, j: usize) -> Option<&str> {
        if self.merged.iter().any(|&m| m as usize == j) {
            return None;
        }
        self.cell(j)
    }

    /// Columns up to the last cell with text of its own.
    pub(super) fn width(&self) -> usize {
        (0..self.cells.len()).rev().find(|&j| self.own_cell(j).is_some()).map_or(0, |j| j + 1)
    }

    /// Cells with text of their own.
    pub(super) fn filled(&self) -> usize {
        self.cells.iter().filter(|c| c.is_some()).count() - self.merged.len()
    }

    /// The cells' own text, by column, without merged regions' values: a heading merged over
    /// several columns names the first only (filled across, it would name them all alike), and
    /// a title merged across the top is one cell, not a row as wide as the header.
    pub(super) fn to_cells(&self) -> Vec<Option<String>> {
        (0..self.width()).map(|j| self.own_cell(j).map(str::to_owned)).collect()
    }

    /// Appends text to the cell in column `c` with `push`, which returns false (and appends
    /// nothing) when there is none; true when the cell was set.
    fn set(&mut self, c: usize, push: impl FnOnce(&mut String) -> bool) -> bool {
        let start = self.text.len();
        if !push(&mut self.text) {
            return false;
        }
        let (Ok(a), Ok(b)) = (u32::try_from(start), u32::try_from(self.text.len())) else { return false };
        if self.cells.len() <= c {
            self.cells.resize(c + 1, None);
        }
        self.cells[c] = Some((a, b));
        true
    }

    /// Gives the empty cell in column `c` a merged region's `value`; a cell with a value of its
    /// own keeps it (Excel drops those on merging, but other writers may leave them).
    fn fill(&mut self, c: u32, value: &str) {
        let j = c as usize;
        if self.cells.get(j).is_some_and(Option::is_some) {
            return;
        }
        if self.set(j, |t| {
            t.push_str(value);
            true
        }) {
            self.merged.push(c);
        }
    }
}

/// A sheet's merged regions, filled into the rows they cover as the rows pass by, top to
/// bottom: each empty cell a region covers takes the text of the region's top-left cell.
///
/// Only regions a row has reached are held with their value, so memory holds the regions, not
/// the sheet. A region reaches across no further than the widest row seen so far: a column no
/// row has reached has no heading above it, so nothing reads it, and a region spanning the
/// whole sheet's width must not make every row 16 384 cells wide.
struct Merges {
    /// Regions no row has reached yet, the topmost last.
    pending: Vec<Dimensions>,
    /// Regions reached and not passed, with their top-left cell's text (`None`: it has none).
    open: Vec<(Dimensions, Option<String>)>,
    /// The widest row's width so far (its cells of its own).
    width: u32,
}

impl Merges {
    fn new(mut regions: Vec<Dimensions>) -> Self {
        // A "region" of one cell merges nothing.
        regions.retain(|d| d.start != d.end);
        regions.sort_unstable_by_key(|d| std::cmp::Reverse(d.start));
        Merges { pending: regions, open: Vec::new(), width: 0 }
    }

    /// Fills `row`'s cells covered by a region; `Err` when regions overlap beyond what any
    /// sheet holds.
    fn fill(&mut self, row: &mut SheetRow) -> Result<(), Stop> {
        if self.pending.is_empty() && self.open.is_empty() {
            return Ok(());
        }
        let r = row.at;
        self.width = self.width.max(u32::try_from(row.width()).unwrap_or(u32::MAX));
        self.open.retain(|(d, _)| d.end.0 >= r);
        while let Some(d) = self.pending.pop_if(|d| d.start.0 <= r) {
            // A region whose rows hold no cell at all is passed without a row to fill.
            if d.end.0 >= r {
                let value = if d.start.0 == r { row.cell(d.start.1 as usize).map(str::to_owned) } else { None };
                self.open.push((d, value));
            }
        }
        if self.open.len() > MAX_OPEN_REGIONS {
            return Err(Stop::Workbook(format!(
                "more than {MAX_OPEN_REGIONS} merged regions cover sheet row {}: they overlap",
                u64::from(r) + 1
            )));
        }
        let Some(last) = self.width.checked_sub(1) else { return Ok(()) };
        for (d, value) in &self.open {
            let Some(value) = value else { continue };
            for c in d.start.1..=d.end.1.min(last) {
                if (r, c) != d.start {
                    row.fill(c, value);
                }
            }
        }
        Ok(())
    }
}

/// Why the reader thread stopped, sent to the reading side.
#[derive(Debug)]
enum Stop {
    Workbook(String),
    SheetMissing(String, Vec<String>),
    Empty,
}

/// The rows of one sheet, in order; rows with no cell are not sent.
pub(super) struct SheetRows {
    path: PathBuf,
    rx: Receiver<Result<Vec<SheetRow>, Stop>>,
    ready: VecDeque<SheetRow>,
    /// The workbook's sheets, in order.
    sheets: Vec<String>,
    /// With no sheet named: the other sheets shown, which are not read.
    unread: Vec<String>,
    /// In a workbook whose formulas were never calculated, the formula cells scanned
    /// ([`super::formulas`]).
    formulas: FormulaCells,
    /// Rows with a cell at the end of the sheet that are its footer (`[file] footer_lines`):
    /// this many are held back, and those still held at the end are handed out only where they
    /// read as records ([`super::footer::reads_as_record`]).
    footer: usize,
    held: VecDeque<SheetRow>,
    /// The header's columns (0 until it is read), for judging the rows held at the end.
    width: usize,
    /// Whether the sheet has no more rows than those held.
    ended: bool,
}

impl SheetRows {
    /// Opens `sheet` of the workbook at `path`, a workbook of `format` (its first sheet when
    /// `None`), and starts reading it; also returns the sheet as written
    /// ([`super::sheet_names`]). Its header is looked for from row `skip_rows` (0-based), where
    /// an `.xlsx` sheet's formulas are scanned from.
    pub(super) fn open(
        path: &Path,
        format: FileFormat,
        (sheet, skip_rows): (Option<&str>, u64),
    ) -> Result<(SheetRows, String), SourceError> {
        let from_row = u32::try_from(skip_rows).unwrap_or(u32::MAX);
        let (tx, rx) = sync_channel(CHUNKS_AHEAD);
        let (name_tx, name_rx) = sync_channel(1);
        let (owned, wanted) = (path.to_owned(), sheet.map(str::to_owned));
        std::thread::Builder::new()
            .name("sheet-reader".into())
            .spawn(move || match format {
                FileFormat::Xls => read_whole::<Xls<_>>(&owned, wanted.as_deref(), &name_tx, &tx),
                FileFormat::Ods => read_whole::<Ods<_>>(&owned, wanted.as_deref(), &name_tx, &tx),
                _ => read_streamed(&owned, (wanted.as_deref(), from_row), &name_tx, &tx),
            })
            .map_err(|e| SourceError::Workbook {
                path: path.to_owned(),
                message: format!("starting its reader: {}", e.kind()),
            })?;
        let mut rows = SheetRows {
            path: path.to_owned(),
            rx,
            ready: VecDeque::new(),
            sheets: Vec::new(),
            unread: Vec::new(),
            formulas: FormulaCells::new(),
            footer: 0,
            held: VecDeque::new(),
            width: 0,
            ended: false,
        };
        match name_rx.recv() {
            Ok(Ok(opened)) => {
                rows.sheets = opened.sheets;
                rows.unread = opened.unread;
                rows.formulas = opened.formulas;
                Ok((rows, opened.label))
            }
            Ok(Err(stop)) => Err(rows.error(stop)),
            Err(_) => Err(rows.error(Stop::Workbook("the reader stopped".into()))),
        }
    }

    fn error(&self, stop: Stop) -> SourceError {
        let path = self.path.clone();
        match stop {
            Stop::Workbook(message) => SourceError::Workbook { path, message },
            Stop::SheetMissing(sheet, sheets) => SourceError::SheetMissing { path, sheet, sheets },
            Stop::Empty => SourceError::EmptyFile { path },
        }
    }

    /// The workbook's sheets, in order: named when the one read turns out empty.
    pub(super) fn sheets(&self) -> &[String] {
        &self.sheets
    }

    /// With no sheet named, the workbook's other sheets shown: not read, and perhaps holding
    /// more of the partner's records (a sheet per term).
    pub(super) fn unread(&self) -> &[String] {
        &self.unread
    }

    /// In an `.xlsx` workbook whose formulas were never calculated, the formula cells of the rows
    /// scanned; empty otherwise.
    pub(super) fn formula_cells(&self) -> &FormulaCells {
        &self.formulas
    }

    /// Leaves the last `rows` rows with a cell unread: the sheet's footer.
    pub(super) fn hold_back(&mut self, rows: u64) {
        self.footer = usize::try_from(rows).unwrap_or(usize::MAX);
    }

    /// The header's number of columns, once read: rows held back as the footer that fill half
    /// of them are records.
    pub(super) fn set_width(&mut self, width: usize) {
        self.width = width;
    }

    /// The next row, or `None` at the end of the sheet (its footer, if any, left unread).
    pub(super) fn next_row(&mut self) -> Result<Option<SheetRow>, SourceError> {
        if self.footer == 0 {
            return self.next_sheet_row();
        }
        while self.held.len() <= self.footer && !self.ended {
            match self.next_sheet_row()? {
                Some(row) => self.held.push_back(row),
                None => self.ended = true,
            }
        }
        if !self.ended {
            return Ok(self.held.pop_front());
        }
        // The rows held are where the footer was expected.
        while let Some(row) = self.held.pop_front() {
            let filled: Vec<&str> =
                (0..row.width()).filter_map(|j| row.own_cell(j)).filter(|c| !c.trim().is_empty()).collect();
            if super::footer::reads_as_record(filled.first().copied().unwrap_or(""), filled.len(), self.width) {
                return Ok(Some(row));
            }
        }
        Ok(None)
    }

    /// The next row the reader sent, or `None` at the end of the sheet.
    fn next_sheet_row(&mut self) -> Result<Option<SheetRow>, SourceError> {
        loop {
            if let Some(row) = self.ready.pop_front() {
                return Ok(Some(row));
            }
            match self.rx.recv() {
                Ok(Ok(chunk)) => self.ready.extend(chunk),
                Ok(Err(stop)) => return Err(self.error(stop)),
                // The reader has sent everything and ended.
                Err(_) => return Ok(None),
            }
        }
    }
}

/// Appends a cell's text to `out`, a number as its `style` shows it; false when it is empty or
/// an error.
fn push_text(cell: &DataRef<'_>, style: NumberStyle, scratch: &mut String, out: &mut String) -> bool {
    let text = match cell {
        DataRef::SharedString(s) => *s,
        DataRef::String(s) => s.as_str(),
        DataRef::Empty | DataRef::Error(_) => return false,
        DataRef::Float(f) if write_styled(*f, style, out) => return true,
        #[allow(clippy::cast_precision_loss)]
        DataRef::Int(i) if write_styled(*i as f64, style, out) => return true,
        other => return push_data(&Data::from(other.clone()), scratch, out),
    };
    out.push_str(text);
    true
}

/// Appends an owned cell's text to `out`; false when it is empty or an error.
fn push_data(cell: &Data, scratch: &mut String, out: &mut String) -> bool {
    match cell_text(cell, scratch) {
        Some(t) => {
            out.push_str(t);
            true
        }
        None => false,
    }
}

/// The sheet to read: the one `wanted`, else the first one shown. A partner who keeps last
/// month's sheet, hidden, in front of this month's sees only this month's: reading the first
/// in the file would stage last month's records, silently. A workbook whose every sheet is
/// hidden is read from its first.
fn choose_sheet(sheets: &[Sheet], wanted: Option<&str>) -> Result<String, Stop> {
    let names = || labels(sheets);
    match wanted {
        // A place (`#2`) first: a sheet whose name is not written is named so, and a name of
        // that shape is never written, so one read from a message is always a place. Then the
        // name: Excel holds no two sheets whose names differ only in case, and shows no trailing
        // space, so `Data` names the sheet `DATA ` as a person reading the tabs would take it.
        Some(s) => super::sheet_names::position_named(s)
            .and_then(|p| sheets.get(p - 1))
            .or_else(|| sheets.iter().find(|n| n.name == s))
            .or_else(|| sheets.iter().find(|n| n.name.trim().to_lowercase() == s.trim().to_lowercase()))
            .map(|n| n.name.clone())
            .ok_or_else(|| Stop::SheetMissing(super::sheet_names::configured(s), names())),
        None => sheets
            .iter()
            .find(|s| s.visible == SheetVisible::Visible)
            .or_else(|| sheets.first())
            .map(|s| s.name.clone())
            .ok_or(Stop::Empty),
    }
}

/// How each of a workbook's sheets is written ([`super::sheet_names`]), in order.
fn labels(sheets: &[Sheet]) -> Vec<String> {
    sheets.iter().enumerate().map(|(i, s)| super::sheet_names::label(&s.name, i + 1)).collect()
}

/// Gathers cells, given in row order, into rows (their merged regions filled) and the rows
/// into chunks, sending each chunk when full. A send fails only when the reading side has gone.
struct Chunker<'a> {
    tx: &'a SyncSender<Result<Vec<SheetRow>, Stop>>,
    chunk: Vec<SheetRow>,
    row: Option<SheetRow>,
    scratch: String,
    merges: Merges,
    /// Sheet rows (0-based) that are no record: an Excel table's totals row.
    skipped: Vec<u32>,
}

impl<'a> Chunker<'a> {
    fn new(tx: &'a SyncSender<Result<Vec<SheetRow>, Stop>>, merges: Vec<Dimensions>) -> Self {
        Chunker {
            tx,
            chunk: Vec::with_capacity(CHUNK_ROWS),
            row: None,
            scratch: String::new(),
            merges: Merges::new(merges),
            skipped: Vec::new(),
        }
    }

    /// Leaves sheet rows `rows` (0-based) out.
    fn skipping(mut self, rows: Vec<u32>) -> Self {
        self.skipped = rows;
        self
    }

    /// Adds the cell at (`r`, `c`), its text appended by `push`; false when reading stops
    /// (the reading side has gone, or was sent why).
    fn cell(&mut self, (r, c): (u32, u32), number: bool, push: impl FnOnce(&mut String, &mut String) -> bool) -> bool {
        if self.row.as_ref().is_some_and(|x| x.at != r) {
            if !self.end_row() {
                return false;
            }
            if self.chunk.len() >= CHUNK_ROWS && self.tx.send(Ok(std::mem::take(&mut self.chunk))).is_err() {
                return false;
            }
        }
        let current = self.row.get_or_insert_with(|| SheetRow::new(r));
        let scratch = &mut self.scratch;
        if current.set(c as usize, |text| push(scratch, text)) && number {
            current.numbers.push(c);
        }
        true
    }

    /// Fills the row just ended from the merged regions over it and keeps it if it has a cell
    /// of its own (a row of nothing but a region's value is not a record); false when reading
    /// stops.
    fn end_row(&mut self) -> bool {
        let Some(mut row) = self.row.take() else { return true };
        if self.skipped.contains(&row.at) {
            return true;
        }
        if let Err(stop) = self.merges.fill(&mut row) {
            let _ = self.tx.send(Err(stop));
            return false;
        }
        if row.filled() > 0 {
            self.chunk.push(row);
        }
        true
    }

    /// Sends the last rows.
    fn finish(mut self) {
        if self.end_row() && !self.chunk.is_empty() {
            let _ = self.tx.send(Ok(self.chunk));
        }
    }
}

/// What the reader thread tells first, once it has opened a sheet. Sheets are as written
/// ([`super::sheet_names`]).
struct OpenedSheet {
    /// The sheet opened, as written.
    label: String,
    /// The workbook's sheets, in order.
    sheets: Vec<String>,
    /// With no sheet named, the other sheets shown.
    unread: Vec<String>,
    /// See [`SheetRows::formula_cells`].
    formulas: FormulaCells,
}

impl OpenedSheet {
    fn new(name: &str, metadata: &[Sheet], wanted: Option<&str>) -> OpenedSheet {
        let sheets = labels(metadata);
        let at = metadata.iter().position(|s| s.name == name).unwrap_or(0);
        let unread = match wanted {
            Some(_) => Vec::new(),
            None => (0..metadata.len())
                .filter(|&i| i != at && metadata[i].visible == SheetVisible::Visible)
                .map(|i| sheets[i].clone())
                .collect(),
        };
        let label = sheets.get(at).cloned().unwrap_or_default();
        OpenedSheet { sheets, unread, label, formulas: FormulaCells::new() }
    }
}

/// What the reader thread tells first: the sheet it opened, or why it could not.
type Opened = Result<OpenedSheet, Stop>;

/// The reader thread for an `.xlsx` workbook: names the sheet it opened (or why it could not),
/// reads its merged regions, then streams its rows.
fn read_streamed(
    path: &Path,
    (wanted, from_row): (Option<&str>, u32),
    name_tx: &SyncSender<Opened>,
    tx: &SyncSender<Result<Vec<SheetRow>, Stop>>,
) {
    let mut workbook: Xlsx<_> = match open_workbook(path) {
        Ok(w) => w,
        Err(e) => {
            let e: XlsxError = e;
            let _ = name_tx.send(Err(Stop::Workbook(e.safe_message())));
            return;
        }
    };
    let name = match choose_sheet(workbook.sheets_metadata(), wanted) {
        Ok(n) => n,
        Err(stop) => {
            let _ = name_tx.send(Err(stop));
            return;
        }
    };
    let mut opened = OpenedSheet::new(&name, workbook.sheets_metadata(), wanted);
    if super::formulas::calculation_pending(path) {
        opened.formulas = match super::formulas::formula_cells(&mut workbook, &name, from_row) {
            Ok(f) => f,
            Err(e) => {
                let _ = name_tx.send(Err(Stop::Workbook(e.safe_message())));
                return;
            }
        };
    }
    // A pass over the sheet's XML ahead of its cells: the regions are listed after them.
    let merges = match workbook.merge_cells_by_sheet_name(&name) {
        Ok(m) => m,
        Err(e) => {
            let _ = name_tx.send(Err(Stop::Workbook(e.safe_message())));
            return;
        }
    };
    let totals = super::table_totals::totals_rows(&mut workbook, path, &name);
    let mut cells = match workbook.worksheet_cells_reader(&name) {
        Ok(r) => r,
        Err(e) => {
            let _ = name_tx.send(Err(Stop::Workbook(e.safe_message())));
            return;
        }
    };
    let styles: Vec<NumberStyle> = cells
        .styles()
        .iter()
        .map(|s| NumberStyle::of(s.number_format.as_ref().map(|f| f.format_code.as_str())))
        .collect();
    if name_tx.send(Ok(opened)).is_err() {
        return;
    }
    let mut chunker = Chunker::new(tx, merges).skipping(totals);
    loop {
        let (cell, style) = match cells.next_cell_with_style_id() {
            Ok(Some(cell)) => cell,
            Ok(None) => break,
            // An error value calamine does not know (Excel 365's `#SPILL!`, `#CALC!`): read as
            // empty, as the errors it knows are. The reader has left the cell's element and goes
            // on with the next (whose position its `r` attribute gives, as every writer sets).
            Err(XlsxError::CellError(_)) => continue,
            Err(e) => {
                let _ = tx.send(Err(Stop::Workbook(e.safe_message())));
                return;
            }
        };
        let (r, c) = cell.get_position();
        let style = styles.get(style).copied().unwrap_or(NumberStyle::General);
        let number = matches!(cell.get_value(), DataRef::Float(_) | DataRef::Int(_));
        if !chunker.cell((r, c), number, |scratch, out| push_text(cell.get_value(), style, scratch, out)) {
            return;
        }
    }
    chunker.finish();
}

/// A sheet's merged regions, from a workbook calamine reads whole.
trait MergedRegions {
    fn merged_regions(&mut self, sheet: &str) -> Result<Vec<Dimensions>, String>;
}

impl<RS: std::io::Read + std::io::Seek> MergedRegions for Xls<RS> {
    fn merged_regions(&mut self, sheet: &str) -> Result<Vec<Dimensions>, String> {
        self.merge_cells_by_sheet_name(sheet).map_err(|e| e.safe_message())
    }
}

impl<RS> MergedRegions for Ods<RS> {
    /// None: calamine reads an OpenDocument cell's `number-rows-spanned` and
    /// `number-columns-spanned` as nothing, so a merged region's value stays in its first cell.
    fn merged_regions(&mut self, _: &str) -> Result<Vec<Dimensions>, String> {
        Ok(Vec::new())
    }
}

/// The reader thread for a workbook calamine reads a sheet of only whole (`.xls`, `.ods`): names
/// the sheet it opened (or why it could not), reads it, then sends its rows.
fn read_whole<W>(
    path: &Path,
    wanted: Option<&str>,
    name_tx: &SyncSender<Opened>,
    tx: &SyncSender<Result<Vec<SheetRow>, Stop>>,
) where
    W: Reader<std::io::BufReader<std::fs::File>> + MergedRegions,
    W::Error: SafeMessage,
{
    let mut workbook: W = match open_workbook(path) {
        Ok(w) => w,
        Err(e) => {
            let e: W::Error = e;
            let _ = name_tx.send(Err(Stop::Workbook(e.safe_message())));
            return;
        }
    };
    let name = match choose_sheet(workbook.sheets_metadata(), wanted) {
        Ok(n) => n,
        Err(stop) => {
            let _ = name_tx.send(Err(stop));
            return;
        }
    };
    let opened = OpenedSheet::new(&name, workbook.sheets_metadata(), wanted);
    let read = workbook.worksheet_range(&name).map_err(|e| e.safe_message());
    let (range, merges) = match read.and_then(|r| Ok((r, workbook.merged_regions(&name)?))) {
        Ok(read) => read,
        Err(message) => {
            let _ = name_tx.send(Err(Stop::Workbook(message)));
            return;
        }
    };
    drop(workbook);
    if name_tx.send(Ok(opened)).is_err() {
        return;
    }
    let Some((top, left)) = range.start() else { return };
    let mut chunker = Chunker::new(tx, merges);
    for (r, row) in (top..).zip(range.rows()) {
        for (c, cell) in (left..).zip(row) {
            if matches!(cell, Data::Empty) {
                continue;
            }
            let number = matches!(cell, Data::Float(_) | Data::Int(_));
            if !chunker.cell((r, c), number, |scratch, out| push_data(cell, scratch, out)) {
                return;
            }
        }
    }
    chunker.finish();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(at: u32, cells: &[(usize, &str)]) -> SheetRow {
        let mut row = SheetRow::new(at);
        for &(c, text) in cells {
            row.set(c, |t| {
                t.push_str(text);
                true
            });
        }
        row
    }

    #[test]
    fn regions_reach_only_rows_seen_and_columns_a_row_has_reached() {
        let region = |r0, c0, r1, c1| Dimensions::new((r0, c0), (r1, c1));
        // Rows 1-2 never seen: the first region is passed; the second reaches past the widest row.
        let mut merges = Merges::new(vec![region(1, 0, 2, 0), region(3, 0, 4, 9), region(5, 5, 5, 5)]);
        let mut header = row(0, &[(0, "a"), (1, "b"), (2, "c")]);
        merges.fill(&mut header).unwrap();
        let mut top = row(3, &[(0, "x")]);
        merges.fill(&mut top).unwrap();
        assert_eq!(top.to_cells(), [Some("x".to_owned())], "filled cells are not its own");
        assert_eq!((top.cell(1), top.cell(2), top.cell(3)), (Some("x"), Some("x"), None));
        let mut next = row(4, &[(1, "own")]);
        merges.fill(&mut next).unwrap();
        assert_eq!((next.cell(0), next.cell(1), next.cell(2), next.filled()), (Some("x"), Some("own"), Some("x"), 1));
    }

    #[test]
    fn overlapping_regions_beyond_any_sheets_are_refused() {
        let many = vec![Dimensions::new((0, 0), (9, 1)); MAX_OPEN_REGIONS + 1];
        let mut merges = Merges::new(many);
        assert!(matches!(merges.fill(&mut row(0, &[(0, "v")])), Err(Stop::Workbook(_))));
    }
}
