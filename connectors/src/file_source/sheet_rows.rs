//! A workbook sheet's rows, read by a thread that owns the workbook and sends rows in chunks over
//! a bounded channel, so that the sheet is parsed while the pipeline works on the rows before.
//!
//! An `.xlsx` sheet is streamed: its XML is parsed cell by cell (calamine's cell reader), and
//! memory holds the shared strings and a few chunks, not the sheet. calamine has no such reader
//! for `.xls` and `.ods`, so their sheet is read whole first; an `.xls` sheet has at most
//! 65 536 rows, and an `.ods` file is a partner's spreadsheet, not a bulk export.
//!
//! Cells become text as Excel's General format shows them (see [`super::workbook_file`]).

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

use calamine::{Data, DataRef, Ods, Reader, Xls, Xlsx, open_workbook};

use super::workbook_file::cell_text;
use super::{FileFormat, SourceError};

/// Rows sent at a time.
const CHUNK_ROWS: usize = 1024;
/// Chunks in flight: the reader runs at most this far ahead.
const CHUNKS_AHEAD: usize = 4;

/// One row of a sheet: its cells' text in one buffer (one allocation a row, not a cell).
#[derive(Debug, Clone)]
pub(super) struct SheetRow {
    /// The sheet row, 0-based (Excel shows `at + 1`).
    pub(super) at: u32,
    text: String,
    /// Each column's cell as a range of `text`, `None` where empty.
    cells: Vec<Option<(u32, u32)>>,
}

impl SheetRow {
    /// The text of the cell in column `j`, if it has any.
    pub(super) fn cell(&self, j: usize) -> Option<&str> {
        let (a, b) = (*self.cells.get(j)?)?;
        self.text.get(a as usize..b as usize)
    }

    /// Columns up to the last cell with text.
    pub(super) fn width(&self) -> usize {
        self.cells.len()
    }

    /// Cells with text.
    pub(super) fn filled(&self) -> usize {
        self.cells.iter().filter(|c| c.is_some()).count()
    }

    /// The cells as owned text, by column.
    pub(super) fn to_cells(&self) -> Vec<Option<String>> {
        (0..self.width()).map(|j| self.cell(j).map(str::to_owned)).collect()
    }
}

/// Why the reader thread stopped, sent to the reading side.
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
}

impl SheetRows {
    /// Opens `sheet` of the workbook at `path`, a workbook of `format` (its first sheet when
    /// `None`), and starts reading it; also returns the sheet's name.
    pub(super) fn open(
        path: &Path,
        format: FileFormat,
        sheet: Option<&str>,
    ) -> Result<(SheetRows, String), SourceError> {
        let (tx, rx) = sync_channel(CHUNKS_AHEAD);
        let (name_tx, name_rx) = sync_channel(1);
        let (owned, wanted) = (path.to_owned(), sheet.map(str::to_owned));
        std::thread::Builder::new()
            .name("sheet-reader".into())
            .spawn(move || match format {
                FileFormat::Xls => read_whole::<Xls<_>>(&owned, wanted.as_deref(), &name_tx, &tx),
                FileFormat::Ods => read_whole::<Ods<_>>(&owned, wanted.as_deref(), &name_tx, &tx),
                _ => read_streamed(&owned, wanted.as_deref(), &name_tx, &tx),
            })
            .map_err(|e| SourceError::Workbook { path: path.to_owned(), message: e.to_string() })?;
        let rows = SheetRows { path: path.to_owned(), rx, ready: VecDeque::new() };
        match name_rx.recv() {
            Ok(Ok(name)) => Ok((rows, name)),
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

    /// The next row, or `None` at the end of the sheet.
    pub(super) fn next_row(&mut self) -> Result<Option<SheetRow>, SourceError> {
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

/// Appends a cell's text to `out`; false when it is empty or an error.
fn push_text(cell: &DataRef<'_>, scratch: &mut String, out: &mut String) -> bool {
    let text = match cell {
        DataRef::SharedString(s) => *s,
        DataRef::String(s) => s.as_str(),
        DataRef::Empty | DataRef::Error(_) => return false,
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

/// The sheet to read: the one `wanted`, else the first.
fn choose_sheet(names: &[String], wanted: Option<&str>) -> Result<String, Stop> {
    match wanted {
        Some(s) => names
            .iter()
            .find(|n| n.as_str() == s)
            .cloned()
            .ok_or_else(|| Stop::SheetMissing(s.to_owned(), names.to_vec())),
        None => names.first().cloned().ok_or(Stop::Empty),
    }
}

/// Gathers cells, given in row order, into rows and the rows into chunks, sending each chunk
/// when full. A send fails only when the reading side has gone.
struct Chunker<'a> {
    tx: &'a SyncSender<Result<Vec<SheetRow>, Stop>>,
    chunk: Vec<SheetRow>,
    row: Option<SheetRow>,
    scratch: String,
}

impl<'a> Chunker<'a> {
    fn new(tx: &'a SyncSender<Result<Vec<SheetRow>, Stop>>) -> Self {
        Chunker { tx, chunk: Vec::with_capacity(CHUNK_ROWS), row: None, scratch: String::new() }
    }

    /// Adds the cell at (`r`, `c`), its text appended by `push`; false when the reading side
    /// has gone.
    fn cell(&mut self, r: u32, c: u32, push: impl FnOnce(&mut String, &mut String) -> bool) -> bool {
        if self.row.as_ref().is_some_and(|x| x.at != r) {
            self.chunk.extend(self.row.take().filter(|x| x.filled() > 0));
            if self.chunk.len() >= CHUNK_ROWS && self.tx.send(Ok(std::mem::take(&mut self.chunk))).is_err() {
                return false;
            }
        }
        let current = self.row.get_or_insert_with(|| SheetRow { at: r, text: String::new(), cells: Vec::new() });
        let start = current.text.len();
        if !push(&mut self.scratch, &mut current.text) {
            return true;
        }
        let (Ok(a), Ok(b)) = (u32::try_from(start), u32::try_from(current.text.len())) else { return true };
        let c = c as usize;
        if current.cells.len() <= c {
            current.cells.resize(c + 1, None);
        }
        current.cells[c] = Some((a, b));
        true
    }

    /// Sends the last rows.
    fn finish(mut self) {
        self.chunk.extend(self.row.take().filter(|x| x.filled() > 0));
        if !self.chunk.is_empty() {
            let _ = self.tx.send(Ok(self.chunk));
        }
    }
}

/// The reader thread for an `.xlsx` workbook: names the sheet it opened (or why it could not),
/// then streams its rows.
fn read_streamed(
    path: &Path,
    wanted: Option<&str>,
    name_tx: &SyncSender<Result<String, Stop>>,
    tx: &SyncSender<Result<Vec<SheetRow>, Stop>>,
) {
    let mut workbook: Xlsx<_> = match open_workbook(path) {
        Ok(w) => w,
        Err(e) => {
            let e: calamine::XlsxError = e;
            let _ = name_tx.send(Err(Stop::Workbook(e.to_string())));
            return;
        }
    };
    let name = match choose_sheet(&workbook.sheet_names(), wanted) {
        Ok(n) => n,
        Err(stop) => {
            let _ = name_tx.send(Err(stop));
            return;
        }
    };
    let mut cells = match workbook.worksheet_cells_reader(&name) {
        Ok(r) => r,
        Err(e) => {
            let _ = name_tx.send(Err(Stop::Workbook(e.to_string())));
            return;
        }
    };
    if name_tx.send(Ok(name)).is_err() {
        return;
    }
    let mut chunker = Chunker::new(tx);
    loop {
        let cell = match cells.next_cell() {
            Ok(Some(cell)) => cell,
            Ok(None) => break,
            Err(e) => {
                let _ = tx.send(Err(Stop::Workbook(e.to_string())));
                return;
            }
        };
        let (r, c) = cell.get_position();
        if !chunker.cell(r, c, |scratch, out| push_text(cell.get_value(), scratch, out)) {
            return;
        }
    }
    chunker.finish();
}

/// The reader thread for a workbook calamine reads a sheet of only whole (`.xls`, `.ods`): names
/// the sheet it opened (or why it could not), reads it, then sends its rows.
fn read_whole<W>(
    path: &Path,
    wanted: Option<&str>,
    name_tx: &SyncSender<Result<String, Stop>>,
    tx: &SyncSender<Result<Vec<SheetRow>, Stop>>,
) where
    W: Reader<std::io::BufReader<std::fs::File>>,
    W::Error: std::fmt::Display,
{
    let mut workbook: W = match open_workbook(path) {
        Ok(w) => w,
        Err(e) => {
            let e: W::Error = e;
            let _ = name_tx.send(Err(Stop::Workbook(e.to_string())));
            return;
        }
    };
    let name = match choose_sheet(&workbook.sheet_names(), wanted) {
        Ok(n) => n,
        Err(stop) => {
            let _ = name_tx.send(Err(stop));
            return;
        }
    };
    let range = match workbook.worksheet_range(&name) {
        Ok(r) => r,
        Err(e) => {
            let _ = name_tx.send(Err(Stop::Workbook(e.to_string())));
            return;
        }
    };
    drop(workbook);
    if name_tx.send(Ok(name)).is_err() {
        return;
    }
    let Some((top, left)) = range.start() else { return };
    let mut chunker = Chunker::new(tx);
    for (r, row) in (top..).zip(range.rows()) {
        for (c, cell) in (left..).zip(row) {
            if matches!(cell, Data::Empty) {
                continue;
            }
            if !chunker.cell(r, c, |scratch, out| push_data(cell, scratch, out)) {
                return;
            }
        }
    }
    chunker.finish();
}
