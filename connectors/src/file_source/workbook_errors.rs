//! What a workbook reader's error says, in words that hold nothing from the file.
//!
//! calamine's own messages quote what they could not read: the first bytes of a file that is not
//! an OLE document (a headerless text export saved as `.xls` starts with a surname), the text of
//! an error cell it does not know, an attribute's value, an XML parser's view of the content.
//! Such a message reaches the run's summary, `sources check`, `sources infer` and the audit log,
//! which cannot be cleaned afterwards. So each error is named by its kind only, with the file's
//! structure (a sheet, an XML part's name) where that is all it carries.

use calamine::{OdsError, XlsError, XlsxError};

/// A message naming what kind of fault stopped a workbook's reader, never its content.
pub(super) trait SafeMessage {
    /// The message.
    fn safe_message(&self) -> String;
}

const NOT_ZIP: &str = "the file is not a readable zip archive, as an .xlsx or .ods workbook is \
                       (a text or HTML export saved under a workbook's name, or a damaged file)";
const XML: &str = "a part of the workbook is not well-formed XML (a damaged file, or one written by a faulty tool)";
const PASSWORD: &str = "the workbook is protected by a password: ask for it without one";

impl SafeMessage for XlsxError {
    fn safe_message(&self) -> String {
        match self {
            XlsxError::Io(e) => format!("reading the file: {}", e.kind()),
            XlsxError::Zip(_) => NOT_ZIP.to_owned(),
            XlsxError::Xml(_) | XlsxError::XmlAttr(_) | XlsxError::Encoding(_) => XML.to_owned(),
            XlsxError::XmlEof(part) => format!("the workbook's XML ends inside <{part}> (a truncated file)"),
            XlsxError::Password => PASSWORD.to_owned(),
            XlsxError::FileNotFound(_) | XlsxError::RelationshipNotFound => {
                "a part the workbook refers to is missing from it (a damaged file)".to_owned()
            }
            XlsxError::WorksheetNotFound(_) | XlsxError::NotAWorksheet(_) => {
                "the sheet is not a worksheet the file holds (a chart sheet, or a damaged file)".to_owned()
            }
            XlsxError::CellError(_) => "a cell holds an error value this reader does not know".to_owned(),
            _ => "the workbook's structure is not one this reader understands (a cell, a reference \
                  or an attribute it cannot read)"
                .to_owned(),
        }
    }
}

impl SafeMessage for XlsError {
    fn safe_message(&self) -> String {
        match self {
            XlsError::Io(e) => format!("reading the file: {}", e.kind()),
            // calamine does not export the container's error to tell "not OLE" from "damaged".
            XlsError::Cfb(_) => "the file is not a readable Excel 97-2003 (OLE) workbook: a text or HTML \
                 export saved under an .xls name is a common cause (ask for CSV or .xlsx), else a damaged file"
                .to_owned(),
            XlsError::Password => PASSWORD.to_owned(),
            XlsError::WorksheetNotFound(_) => "the sheet is not in the workbook".to_owned(),
            _ => "the workbook's structure is not one this reader understands (a damaged file, or a \
                  record this reader cannot read)"
                .to_owned(),
        }
    }
}

impl SafeMessage for OdsError {
    fn safe_message(&self) -> String {
        match self {
            OdsError::Io(e) => format!("reading the file: {}", e.kind()),
            OdsError::Zip(_) => NOT_ZIP.to_owned(),
            OdsError::Xml(_) | OdsError::XmlAttr(_) | OdsError::AttrError(_) | OdsError::EncodingError(_) => {
                XML.to_owned()
            }
            OdsError::InvalidMime(_) => "the file is a zip archive but not an OpenDocument spreadsheet".to_owned(),
            OdsError::Password => PASSWORD.to_owned(),
            OdsError::WorksheetNotFound(_) => "the sheet is not in the workbook".to_owned(),
            _ => "the workbook's structure is not one this reader understands (a cell or an attribute \
                  it cannot read)"
                .to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_message_quotes_what_it_could_not_read() {
        let secret = "9990533245";
        let messages = [
            XlsxError::CellError(secret.to_owned()).safe_message(),
            XlsxError::CellTAttribute(secret.to_owned()).safe_message(),
            XlsxError::FileNotFound(secret.to_owned()).safe_message(),
            OdsError::InvalidMime(secret.as_bytes().to_vec()).safe_message(),
            OdsError::WorksheetNotFound(secret.to_owned()).safe_message(),
        ];
        for m in &messages {
            assert!(!m.contains(secret), "{m}");
            assert!(!m.is_empty());
        }
        // calamine's own words would have quoted them.
        assert!(XlsxError::CellError(secret.to_owned()).to_string().contains(secret));
    }
}
