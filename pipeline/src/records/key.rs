//! How a feed's partner records are known across inputs: by `record_id` where the agreement
//! shares it, else by its keyed token, as staging holds it (see
//! [`tellonce_build::link::input::RecordRefs::key`]). A reference that arrives in clear (a
//! withdrawals file's line, a row marked withdrawn, a quarantined record a snapshot sent, the
//! first pass of a snapshot) is turned into that key before it is compared with anything held.

use std::borrow::Cow;

use tellonce_build::link::input::token_ref;
use tellonce_governance::Tokeniser;
use tellonce_governance::agreement::policy::Policy;
use tellonce_schemas::FeedSchema;
use tellonce_schemas::staging;

use super::held::RECORD_ID;

/// The staging column of `record_id`'s token.
pub(crate) const TOKEN_COLUMN: &str = "record_id_token";

/// The column the records of a staging schema are known by: `record_id` where it holds it,
/// else its token.
pub fn key_column(schema: &arrow_schema::Schema) -> &'static str {
    if schema.field_with_name(RECORD_ID).is_ok() { RECORD_ID } else { TOKEN_COLUMN }
}

/// The key of a feed's records under one agreement.
#[derive(Clone)]
pub enum RecordKey {
    /// The agreement shares `record_id`: the key is the reference itself.
    Clear,
    /// The agreement shares only `record_id`'s token: the key is the token in hex.
    Token(Tokeniser),
}

impl RecordKey {
    /// The key of `feed`'s records under `policy`, tokenising with `tokeniser` (the one the
    /// pseudonymise stage uses).
    pub fn under(feed: &'static FeedSchema, policy: &Policy, tokeniser: Tokeniser) -> RecordKey {
        let columns = staging::columns_under(feed, |c| policy.treatment(feed, c));
        if columns.iter().any(|c| c.name == RECORD_ID) { RecordKey::Clear } else { RecordKey::Token(tokeniser) }
    }

    /// The staging column the key is read from.
    pub fn column(&self) -> &'static str {
        match self {
            RecordKey::Clear => RECORD_ID,
            RecordKey::Token(_) => TOKEN_COLUMN,
        }
    }

    /// The key of a reference given in clear (read first as validation reads it:
    /// [`tellonce_schemas::check::as_shown`]).
    pub fn of<'a>(&self, clear: &'a str) -> Cow<'a, str> {
        let id = tellonce_schemas::check::as_shown(clear);
        match self {
            RecordKey::Clear => id,
            RecordKey::Token(t) => Cow::Owned(token_ref(&t.token(RECORD_ID, id.as_bytes()))),
        }
    }
}
