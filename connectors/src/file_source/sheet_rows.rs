//! A workbook sheet's rows, streamed: a reader thread owns the workbook and parses the sheet's
//! XML cell by cell (calamine's cell reader), sending rows in chunks over a bounded channel.
//! Memory holds the shared strings and a few chunks, not the sheet, and the XML is parsed while
//! the pipeline works on the rows before.
//!
//! Cells become text as Excel's General format shows them (see [`super::xlsx_file`]).

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

use calamine::{Data, DataRef, Reader, Xlsx, open_workbook};

use super::SourceError;
use super::xlsx_file::cell_text;

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
    /// Opens `sheet` of the workbook at `path` (its first sheet when `None`) and starts reading
    /// it; also returns the sheet's name.
    pub(super) fn open(path: &Path, sheet: Option<&str>) -> Result<(SheetRows, String), SourceError> {
        let (tx, rx) = sync_channel(CHUNKS_AHEAD);
        let (name_tx, name_rx) = sync_channel(1);
        let (owned, wanted) = (path.to_owned(), sheet.map(str::to_owned));
        std::thread::Builder::new()
            .name("xlsx-reader".into())
            .spawn(move || read_sheet(&owned, wanted.as_deref(), &name_tx, &tx))
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
        other => {
            let data = Data::from(other.clone());
            match cell_text(&data, scratch) {
                Some(t) => {
                    out.push_str(t);
                    return true;
                }
                None => return false,
            }
        }
    };
    out.push_str(text);
    true
}

/// The reader thread: names the sheet it opened (or why it could not), then sends its rows. A
/// send fails only when the reading side has gone: the thread then ends.
fn read_sheet(
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
    let names = workbook.sheet_names();
    let name = match wanted {
        Some(s) => match names.iter().find(|n| n.as_str() == s) {
            Some(n) => n.clone(),
            None => {
                let _ = name_tx.send(Err(Stop::SheetMissing(s.to_owned(), names.clone())));
                return;
            }
        },
        None => match names.first() {
            Some(n) => n.clone(),
            None => {
                let _ = name_tx.send(Err(Stop::Empty));
                return;
            }
        },
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
    let mut chunk: Vec<SheetRow> = Vec::with_capacity(CHUNK_ROWS);
    let mut row: Option<SheetRow> = None;
    let mut scratch = String::new();
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
        if row.as_ref().is_some_and(|x| x.at != r) {
            chunk.extend(row.take().filter(|x| x.filled() > 0));
            if chunk.len() >= CHUNK_ROWS && tx.send(Ok(std::mem::take(&mut chunk))).is_err() {
                return;
            }
        }
        let current = row.get_or_insert_with(|| SheetRow { at: r, text: String::new(), cells: Vec::new() });
        let start = current.text.len();
        if !push_text(cell.get_value(), &mut scratch, &mut current.text) {
            continue;
        }
        let (Ok(a), Ok(b)) = (u32::try_from(start), u32::try_from(current.text.len())) else { continue };
        let c = c as usize;
        if current.cells.len() <= c {
            current.cells.resize(c + 1, None);
        }
        current.cells[c] = Some((a, b));
    }
    chunk.extend(row.filter(|x| x.filled() > 0));
    if !chunk.is_empty() {
        let _ = tx.send(Ok(chunk));
    }
}
